#!/bin/sh
set -eu
export PATH=$PATH:/opt/tools/bin
export KUBECONFIG=/etc/kube/config
REV=3b51110a96db5e4ca426d14e44a372fe1a72ae0b
COMMIT=$(git rev-parse HEAD)
TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
DB_PASSWORD="${DB_PASSWORD:?set DB_PASSWORD}"
IMAGE_TAG=v1.2.3 # the release being deployed
if [ "$IMAGE_TAG" = "latest" ]; then exit 1; fi
kubectl set image deployment/app app="ghcr.io/example/app:$IMAGE_TAG"

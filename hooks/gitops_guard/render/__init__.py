"""Rendering what the cluster gets (kustomize, helm) and validating it against schemas."""

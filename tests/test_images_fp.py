"""check-images on the shapes real repositories use that earlier corpora did not: Kargo
promotion steps, Flux postBuild substitution, operator image fields.

Each test names the upstream behaviour it follows; each shape has a positive and a negative."""

from __future__ import annotations

import pytest
from gitops_guard.checks.images import check as images
from gitops_guard.core.documents import load_text
from gitops_guard.core.policy import DEFAULTS, Policy, deep_merge


def policy(**images_section: object) -> Policy:
    return Policy(deep_merge(DEFAULTS, {"images": images_section}))


def check(text: str, path: str = "manifest.yaml", pol: Policy | None = None) -> list[tuple]:
    source = load_text(path, text)
    found = images.check(source, pol or policy())
    return sorted((f.rule, f.line, f.column) for f in found)


# -- Kargo (kargo.akuity.io): docs promotion-steps/kustomize-set-image ------------------------

KARGO_TASK = """\
apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: promote
spec:
  vars:
  - name: image
    value: {image}
  steps:
  - uses: kustomize-set-image
    as: update-image
    config:
      path: ./src/env/${{{{ ctx.stage }}}}
      images:
      - image: ${{{{ vars.image }}}}
        {tag}
"""


def kargo_task(image: str, tag: str = "tag: ${{ imageFrom(vars.image).Tag }}") -> str:
    return KARGO_TASK.format(image=image, tag=tag)


def test_kargo_step_image_is_a_name_its_tag_comes_from_the_freight():
    # akuity/kargo-advanced kargo/promotiontasks.yaml: the name is a promotion variable, the
    # tag the Freight's; neither "templated" nor "no tag"
    assert check(kargo_task("ghcr.io/akuity/guestbook")) == []
    assert check(kargo_task("ghcr.io/akuity/guestbook", tag="useDigest: true")) == []


def test_kargo_step_image_literal_tag_and_registry_are_checked():
    assert check(kargo_task("ghcr.io/akuity/guestbook", tag="tag: latest")) == [
        ("image/tag-latest", 16, 14)
    ]
    assert check(kargo_task("ghcr.io/akuity/guestbook", tag="tag: '1.2'")) == [
        ("image/tag-not-allowed", 16, 14)
    ]
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(kargo_task("ghcr.io/akuity/guestbook"), pol=pol) == [
        ("image/registry-not-allowed", 15, 16)
    ]
    assert check(kargo_task("registry.example.com/guestbook"), pol=pol) == []


def test_kargo_step_image_with_an_unknown_expression_stays_unresolvable():
    text = kargo_task("x").replace("${{ vars.image }}", "${{ vars.other }}")
    assert check(text) == [("image/unresolvable", 15, 16)]


def test_kargo_stage_promotion_template_steps_and_warehouse_subscription():
    stage = """\
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:
  promotionTemplate:
    spec:
      steps:
      - uses: kustomize-set-image
        config:
          images:
          - image: ghcr.io/akuity/guestbook
            tag: stable
"""
    assert check(stage) == [("image/tag-not-allowed", 13, 18)]
    assert check(stage.replace("tag: stable", "tag: v1.2.3")) == []
    warehouse = """\
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: guestbook
spec:
  subscriptions:
  - image:
      repoURL: ghcr.io/akuity/guestbook
      tagSelectionStrategy: SemVer
"""
    assert check(warehouse) == []  # a repository to watch: no tag by design
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(warehouse, pol=pol) == [("image/registry-not-allowed", 8, 16)]


# -- Kargo argocd-update over an ApplicationSet: kargo argocd_updater.go applyArgoCDSourceUpdate,
# argo-cd applicationset/utils/createOrUpdate.go applyIgnoreDifferences --------------------------

KARGO_APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: demo
spec:
  generators:
  - list:
      elements:
      - stage: test
  template:
    metadata:
      name: demo-{{stage}}
      annotations:
        kargo.akuity.io/authorized-stage: demo:{{stage}}
    spec:
      project: default
      source:
        repoURL: https://charts.example.com
        chart: nginx
        targetRevision: 14.1.0
        kustomize:
          images:
          - public.ecr.aws/nginx/nginx=public.ecr.aws/nginx/nginx:placeholder
        helm:
          parameters:
          - name: image.tag
            value: placeholder
          - name: sidecar.image.repository
            value: docker.io/library/busybox
          - name: sidecar.image.tag
            value: latest
      destination:
        server: https://kubernetes.default.svc
  ignoreApplicationDifferences:
  - jqPathExpressions:
    - .spec.source.kustomize.images
    - .spec.source.helm.parameters
"""


def test_kargo_seeded_applicationset_fields_have_kargo_tags_not_the_written_ones():
    # krancour/kargo-examples 01-argocd-driven: Kargo rewrites the live Application's
    # kustomize.images / helm.parameters; the ApplicationSet only seeds them
    assert check(KARGO_APPSET) == []
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(KARGO_APPSET, pol=pol) == [
        ("image/registry-not-allowed", 23, 13),
        ("image/registry-not-allowed", 29, 20),
    ]  # the names are still what is deployed
    jsonpointers = KARGO_APPSET.replace(
        "  - jqPathExpressions:\n    - .spec.source.kustomize.images\n"
        "    - .spec.source.helm.parameters\n",
        "  - jsonPointers:\n    - /spec/source\n",
    )
    assert check(jsonpointers) == []


def test_kargo_tags_are_checked_as_written_when_the_appset_resets_them():
    found = [
        ("image/tag-latest", 31, 20),
        ("image/tag-not-allowed", 23, 13),
        ("image/tag-not-allowed", 27, 20),
    ]
    # no annotation: Kargo may not update the Application
    assert check(KARGO_APPSET.replace("kargo.akuity.io/authorized-stage", "x")) == found
    # no ignoreApplicationDifferences: the ApplicationSet controller resets the fields
    no_ignore = KARGO_APPSET.split("  ignoreApplicationDifferences:")[0]
    assert check(no_ignore) == found
    # a rule for one named Application, or for another field, does not hold for these
    named = KARGO_APPSET.replace(
        "  - jqPathExpressions:", "  - name: demo-test\n    jqPathExpressions:"
    )
    assert check(named) == found
    other = KARGO_APPSET.replace(".spec.source.kustomize.images", ".spec.source.targetRevision")
    assert check(other) == [("image/tag-not-allowed", 23, 13)]
    # a plain Application with the annotation: its parent syncs what is written
    app = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: demo-test
  annotations:
    kargo.akuity.io/authorized-stage: demo:test
spec:
  source:
    repoURL: https://example.com/repo.git
    kustomize:
      images:
      - nginx=nginx:placeholder
"""
    assert check(app) == [("image/tag-not-allowed", 12, 9)]


def test_kargo_seeded_multi_source_index_and_wildcard():
    multi = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: demo
spec:
  template:
    metadata:
      annotations:
        kargo.akuity.io/authorized-stage: demo:{{stage}}
    spec:
      sources:
      - repoURL: https://example.com/values.git
        ref: values
      - repoURL: https://example.com/app.git
        path: app
        kustomize:
          images:
          - nginx=nginx:placeholder
  ignoreApplicationDifferences:
  - jqPathExpressions:
    - PATH
"""
    assert check(multi.replace("PATH", ".spec.sources[].kustomize.images")) == []
    assert check(multi.replace("PATH", ".spec.sources[1].kustomize")) == []
    assert check(multi.replace("PATH", ".spec.sources[0].kustomize.images")) == [
        ("image/tag-not-allowed", 18, 13)
    ]
    # a jq program that is more than a path is not read: the tag is checked as written
    assert check(multi.replace("PATH", ".spec.sources[] | select(.path)")) == [
        ("image/tag-not-allowed", 18, 13)
    ]


# -- Flux postBuild substitution: fluxcd/pkg kustomize/kustomize_varsub.go ---------------------

FLUX_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
{post}"""

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
{meta}spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:${{WEB_TAG}}
"""

SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-settings
  namespace: flux-system
data:
  WEB_TAG: {tag}
"""


def flux_repo(make_repo, post: str, meta: str = "", **extra: str):
    files = {
        "clusters/main/apps.yaml": FLUX_KS.format(post=post),
        "apps/kustomization.yaml": "resources: [web.yaml]\n",
        "apps/web.yaml": APP.format(meta=meta),
    }
    # keyword names stand for paths: clusters__main__vars_yaml is clusters/main/vars.yaml
    files.update({k.replace("__", "/").replace("_yaml", ".yaml"): v for k, v in extra.items()})
    return make_repo(files)


def run(cli, repo, *files: str, under: str = "apps/") -> tuple[int, list[str]]:
    """check-images run in ``repo``: (exit code, the output lines of files below ``under``)."""
    import os

    old = os.getcwd()
    os.chdir(repo)
    try:
        code, out, err = cli("check-images", *files)
    finally:
        os.chdir(old)
    assert "Traceback" not in err, err
    return code, [line for line in out.splitlines() if line.startswith(under)]


ALL = ("clusters/main/apps.yaml", "apps/kustomization.yaml", "apps/web.yaml")


def test_inline_substitute_is_checked_as_the_value_flux_applies(make_repo, cli):
    good = flux_repo(make_repo, "  postBuild:\n    substitute:\n      WEB_TAG: v1.2.3\n")
    for given in (ALL, ("apps/web.yaml",)):  # a one-file run reads the Kustomization too
        assert run(cli, good, *given) == (0, [])
    bad = flux_repo(make_repo, "  postBuild:\n    substitute:\n      WEB_TAG: latest\n")
    code, lines = run(cli, bad, "apps/web.yaml")
    assert code == 1
    assert len(lines) == 1 and "image/tag-latest" in lines[0], lines
    assert "Flux Kustomization 'apps' substitutes for 'ghcr.io/example/web:${WEB_TAG}'" in lines[0]


def test_substitute_from_a_configmap_written_in_the_repository(make_repo, cli):
    post = (
        "  postBuild:\n    substituteFrom:\n"
        "      - kind: ConfigMap\n        name: cluster-settings\n"
    )
    good = flux_repo(make_repo, post, clusters__main__settings_yaml=SETTINGS.format(tag="v2.0.0"))
    assert run(cli, good, "apps/web.yaml") == (0, [])
    bad = flux_repo(make_repo, post, clusters__main__settings_yaml=SETTINGS.format(tag="'2.0'"))
    code, lines = run(cli, bad, "apps/web.yaml")
    assert code == 1 and len(lines) == 1 and "image/tag-not-allowed" in lines[0], lines
    # inline substitute wins over substituteFrom (kustomize_varsub.go: "overrides")
    both = post + "    substitute:\n      WEB_TAG: v3.0.0\n"
    repo = flux_repo(make_repo, both, clusters__main__settings_yaml=SETTINGS.format(tag="'2.0'"))
    assert run(cli, repo, "apps/web.yaml") == (0, [])


def test_a_value_the_repository_cannot_tell_stays_unresolvable(make_repo, cli):
    from_cluster = "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: vars\n"
    sops_secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vars\n  namespace: flux-system\n"
        "stringData:\n  WEB_TAG: ENC[AES256_GCM,data:abc=,type:str]\n"
        "sops:\n  mac: ENC[AES256_GCM,data:x=,type:str]\n  version: 3.8.1\n"
    )
    cases = [
        flux_repo(make_repo, ""),  # no postBuild: applied as written
        flux_repo(make_repo, from_cluster),  # the Secret lives in the cluster only
        flux_repo(make_repo, from_cluster, clusters__main__vars_yaml=sops_secret),
        flux_repo(
            make_repo,
            "  postBuild:\n    substitute:\n      WEB_TAG: v1.2.3\n",
            meta="  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        ),
    ]
    for repo in cases:
        code, lines = run(cli, repo, *ALL)
        assert code == 0 and len(lines) == 1 and "image/unresolvable" in lines[0], lines


def test_a_file_no_flux_kustomization_applies_stays_unresolvable(make_repo, cli):
    repo = make_repo({"apps/web.yaml": APP.format(meta="")})
    code, lines = run(cli, repo, "apps/web.yaml")
    assert code == 0 and len(lines) == 1 and "image/unresolvable" in lines[0], lines


def test_envsubst_defaults_and_unset_variables(make_repo, cli):
    # drone/envsubst: ${X:=d} falls back when X is unset or empty; an unset X is "" when
    # every source is known (here: inline only)
    repo = flux_repo(make_repo, "  postBuild:\n    substitute:\n      OTHER: x\n")
    web = repo / "apps/web.yaml"
    web.write_text(web.read_text().replace("${WEB_TAG}", "${WEB_TAG:=v1.0.0}"))
    assert run(cli, repo, "apps/web.yaml") == (0, [])
    web.write_text(web.read_text().replace("${WEB_TAG:=v1.0.0}", "${WEB_TAG}"))
    code, lines = run(cli, repo, "apps/web.yaml")
    assert code == 1 and len(lines) == 1 and "image/invalid-reference" in lines[0], lines


# -- operators' image fields ----------------------------------------------------------------

CNPG = """\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: db
spec:
  instances: 3
  imageName: {image}
  storage:
    size: 1Gi
"""


def test_cnpg_cluster_image_name_is_an_image():
    # cloudnative-pg api/v1/cluster_types.go: spec.imageName is the instances' image
    assert check(CNPG.format(image="ghcr.io/cloudnative-pg/postgresql:latest")) == [
        ("image/tag-latest", 7, 14)
    ]
    assert check(CNPG.format(image="ghcr.io/cloudnative-pg/postgresql")) == [
        ("image/tag-missing", 7, 14)
    ]
    assert check(CNPG.format(image="ghcr.io/cloudnative-pg/postgresql:v17.2.0")) == []
    # the same key in another kind is nobody's image
    other = CNPG.format(image="x:latest").replace("postgresql.cnpg.io/v1", "example.com/v1")
    assert check(other) == []


def test_image_volume_reference_is_an_image():
    # core/v1 ImageVolumeSource {reference, pullPolicy} (a pod's volumes, CNPG extensions)
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "    - name: c\n      image: busybox:v1.36.1\n  volumes:\n    - name: v\n"
        "      image:\n        reference: {ref}\n        pullPolicy: IfNotPresent\n"
    )
    assert check(text.format(ref="quay.io/crio/artifact:latest")) == [("image/tag-latest", 12, 20)]
    assert check(text.format(ref="quay.io/crio/artifact:v1.0.0")) == []


# -- Argo CD parameter overrides files: argo-cd reposerver/repository/repository.go -----------

OVERRIDE_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: nginx=nginx:1.16.x
    argocd-image-updater.argoproj.io/write-back-method: git
spec:
  project: default
  destination: {name: in-cluster, namespace: web}
  source:
    repoURL: https://example.com/repo.git
    path: source
"""

OVERRIDE_DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: nginx
        image: nginx:1.16.0
"""


def override_repo(make_repo, overrides: dict[str, str], app: bool = True):
    files = {
        "source/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        "source/deployment.yaml": OVERRIDE_DEPLOY,
    }
    if app:
        files["app/web.yaml"] = OVERRIDE_APP
    files.update({f"source/{name}": text for name, text in overrides.items()})
    return make_repo(files)


def images_run(cli, repo, *files: str) -> tuple[int, list[str]]:
    import os

    old = os.getcwd()
    os.chdir(repo)
    try:
        code, out, err = cli("check-images", *files)
    finally:
        os.chdir(old)
    assert "Traceback" not in err, err
    return code, out.splitlines()


def test_an_image_updater_override_rewrites_the_base_image(make_repo, cli):
    # dkarpele/image-updater-examples image-list-kustomize: .argocd-source-<app>.yaml sets
    # the Application's kustomize.images; what deploys is the override's image
    repo = override_repo(
        make_repo, {".argocd-source-web.yaml": "kustomize:\n  images:\n  - nginx:v1.17.0\n"}
    )
    files = ("source/deployment.yaml", "source/.argocd-source-web.yaml", "app/web.yaml")
    code, lines = images_run(cli, repo, *files)
    assert code == 0, lines
    assert [x.split(" ")[1] for x in lines] == ["image/overridden"], lines
    assert "Application web" in lines[0] and "with source/.argocd-source-web.yaml" in lines[0]
    # for every Application of the folder: .argocd-source.yaml
    repo = override_repo(
        make_repo, {".argocd-source.yaml": "kustomize:\n  images:\n  - nginx:v1.17.0\n"}
    )
    code, lines = images_run(cli, repo, "source/deployment.yaml")
    assert code == 0 and [x.split(" ")[1] for x in lines] == ["image/overridden"], lines


def test_the_override_file_itself_is_checked(make_repo, cli):
    digest = "sha256:" + "0123456789abcdef" * 4
    repo = override_repo(
        make_repo,
        {
            ".argocd-source-web.yaml": f"kustomize:\n  images:\n  - nginx:latest@{digest}\n",
            ".argocd-source.yaml": "helm:\n  parameters:\n  - name: image.tag\n    value: '0.2'\n",
        },
    )
    code, lines = images_run(cli, repo, "source/.argocd-source-web.yaml")
    assert code == 0 and len(lines) == 1, lines
    assert "image/tag-latest" in lines[0] and lines[0].endswith("[warning]"), lines
    code, lines = images_run(cli, repo, "source/.argocd-source.yaml")
    assert code == 1 and len(lines) == 1 and "image/tag-not-allowed" in lines[0], lines


def test_an_override_names_an_application_the_repository_does_not_hold(make_repo, cli):
    # image-updater-examples 001-simple-kustomize-app: only the overrides file tells
    override = {".argocd-source-dev_web.yaml": "kustomize:\n  images:\n  - nginx:v1.17.0\n"}
    repo = override_repo(make_repo, override, app=False)
    code, lines = images_run(cli, repo, "source/deployment.yaml")
    assert code == 0 and [x.split(" ")[1] for x in lines] == ["image/overridden"], lines


def test_without_an_override_or_for_another_application_the_base_deploys(make_repo, cli):
    for overrides in (
        {},
        # another Application's file: the repository's own Application deploys it as written
        {".argocd-source-other.yaml": "kustomize:\n  images:\n  - nginx:v1.17.0\n"},
        # an override without kustomize images changes no image
        {".argocd-source-web.yaml": "kustomize:\n  namePrefix: x-\n"},
    ):
        repo = override_repo(make_repo, overrides)
        code, lines = images_run(cli, repo, "source/deployment.yaml")
        assert code == 1 and len(lines) == 1 and "image/tag-not-allowed" in lines[0], lines


# -- Flux Operator ResourceSet: flux-operator internal/builder/resourceset.go ------------------

RESOURCE_SET = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: apps
spec:
  inputs:
    - tag: v1.2.3
  resources:
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: frontend
      spec:
        chartRef:
          kind: OCIRepository
          name: chart
        values:
          image:
            tag: {tag}
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        template:
          spec:
            containers:
              - name: web
                image: {image}
"""


def test_resourceset_templates_are_templated_not_invalid():
    # the operator renders << >> (text/template, Delims("<<", ">>")) per input
    text = RESOURCE_SET.format(tag="<< inputs.tag | quote >>", image="ghcr.io/x/y:<< inputs.tag >>")
    assert check(text) == [("image/unresolvable", 19, 18), ("image/unresolvable", 29, 24)]


def test_resourceset_literal_images_are_still_checked():
    text = RESOURCE_SET.format(tag="latest", image="ghcr.io/x/y:latest")
    assert check(text) == [("image/tag-latest", 19, 18), ("image/tag-latest", 29, 24)]
    text = RESOURCE_SET.format(tag="v1.2.3", image="ghcr.io/x/y:<< inputs.tag")  # not closed
    assert check(text) == [("image/invalid-reference", 29, 24)]


# -- Helm values: a values file is data, the chart's template decides ------------------------
# Helm renders the chart's templates with the values as .Values (helm pkg/engine/engine.go,
# Go text/template): an untagged name whose tag the template writes after it is no untagged
# image. metersphere/helm-chart: {{ .Values.common.imagePrefix }}{{ .Values.server.image }}:
# {{ .Values.common.imageTag }}; dkarpele/image-updater-examples: containers.fakewebserver
# {image, tag}, the keys Argo CD Image Updater's helm.image-name / helm.image-tag name.


def test_helm_values_image_name_takes_the_tag_of_its_sibling_key():
    for sibling in ("tag: v5.7.25", 'imageTag: "v5.7.25"', "image_tag: v5.7.25"):
        assert check(f"mysql:\n  image: mysql\n  {sibling}\n", "values.yaml") == []
    digest = "sha256:" + "a" * 64
    assert check(f"db:\n  image: mysql\n  imageDigest: {digest}\n", "values.yaml") == []
    # HelmRelease spec.values and Argo CD valuesObject are values too
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: db}\n"
        "spec:\n  values:\n    mysql:\n      image: mysql\n      imageTag: v5.7.25\n"
    )
    assert check(release) == []


def test_helm_values_sibling_tag_is_checked_as_name_colon_tag_where_it_is_written():
    assert check("mysql:\n  image: mysql\n  imageTag: latest\n", "values.yaml") == [
        ("image/tag-latest", 3, 13)
    ]
    assert check('mysql:\n  image: mysql\n  imageTag: "5.7.25"\n', "values.yaml") == [
        ("image/tag-not-allowed", 3, 13)
    ]
    pol = policy(require_digest=True)
    assert check("mysql:\n  image: mysql\n  tag: v5.7.25\n", "values.yaml", pol) == [
        ("image/digest-required", 3, 8)
    ]
    # a name with a tag of its own keeps it; no sibling: untagged as before
    assert check("mysql:\n  image: mysql:latest\n  tag: v1.0.0\n", "values.yaml") == [
        ("image/tag-latest", 2, 10)
    ]
    assert check("mysql:\n  image: mysql\n", "values.yaml") == [("image/tag-missing", 2, 10)]


def test_a_tag_key_beside_an_image_outside_helm_values_is_not_joined():
    # prometheus-operator PrometheusSpec: "image, if specified, has precedence over baseImage,
    # tag and sha combinations": an operator CR's image is deployed as written
    cr = (
        "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: p}\n"
        "spec:\n  image: quay.io/prometheus/prometheus\n  tag: v2.45.0\n"
    )
    assert check(cr) == [("image/tag-missing", 5, 10)]


def test_helm_values_image_mapping_version_or_image_tag_is_its_tag():
    assert check("image:\n  repository: nginx\n  version: v1.27.1\n", "values.yaml") == []
    assert check("image:\n  repository: nginx\n  imageTag: '1.27'\n", "values.yaml") == [
        ("image/tag-not-allowed", 3, 13)
    ]
    # ``tag`` wins over ``version`` when both are set
    text = "image:\n  repository: nginx\n  tag: v1.27.1\n  version: latest\n"
    assert check(text, "values.yaml") == []


CHART_FILES = {
    "charts/ms/Chart.yaml": "apiVersion: v2\nname: ms\nversion: 1.0.0\nappVersion: 1.20.1\n",
    "charts/ms/values.yaml": (
        "common:\n  imagePrefix: registry.example.com/ms/\n  imageTag: {tag}\n"
        "server:\n  image: metersphere\n"
        "worker:\n  image: ms-worker\n"
    ),
    "charts/ms/templates/server.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: server}}\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: server\n"
        "          image: {{{{.Values.common.imagePrefix}}}}{{{{.Values.server.image}}}}:"
        "{{{{.Values.common.imageTag}}}}\n"
    ),
    "charts/ms/templates/_helpers.tpl": (
        '{{{{- define "ms.worker" -}}}}\n'
        '{{{{- printf "%s:%s" .Values.worker.image (.Values.common.imageTag | default '
        ".Chart.AppVersion) -}}}}\n{{{{- end }}}}\n"
    ),
}


def chart_repo(make_repo, tag: str = "v1.20.2", **changes: str):
    files = {path: text.format(tag=tag) for path, text in CHART_FILES.items()}
    files.update({k.replace("__", "/").replace("_yaml", ".yaml"): v for k, v in changes.items()})
    return make_repo(files, name=f"chart{len(changes)}{tag.strip(chr(39))}")


def run_chart(cli, repo, *files: str) -> tuple[int, list[str]]:
    return run(cli, repo, *files, under="charts/")


def test_a_chart_template_that_writes_the_tag_after_the_name_supplies_it(make_repo, cli):
    repo = chart_repo(make_repo)
    assert run_chart(cli, repo, "charts/ms/values.yaml") == (0, [])
    # the tag the template takes is checked where it is written: once, for both images
    code, lines = run_chart(cli, chart_repo(make_repo, tag="master"), "charts/ms/values.yaml")
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("charts/ms/values.yaml:3:13: image/tag-not-allowed"), lines


def test_a_tag_from_the_chart_itself_is_not_the_values_files_to_pin(make_repo, cli):
    # helm pkg/chart/v2/util/create.go scaffolds "{{ .Values.image.repository }}:{{
    # .Values.image.tag | default .Chart.AppVersion }}": unset, the tag is the chart's
    values = "image: metersphere\n"
    template = "image: {{ .Values.image }}:{{ .Chart.AppVersion }}\n"
    repo = chart_repo(
        make_repo, charts__ms__values_yaml=values, charts__ms__templates__x_yaml=template
    )
    assert run_chart(cli, repo, "charts/ms/values.yaml") == (0, [])


def test_a_value_some_template_uses_whole_is_judged_as_written(make_repo, cli):
    # {{ .Values.server.image }} alone is the whole reference: untagged it means latest
    whole = "image: {{ .Values.server.image }}\n"
    repo = chart_repo(make_repo, charts__ms__templates__job_yaml=whole)
    code, lines = run_chart(cli, repo, "charts/ms/values.yaml")
    assert code == 1 and len(lines) == 1 and ":5:10: image/tag-missing" in lines[0], lines
    # a values file outside any chart folder: no template to ask, judged as written
    loose = make_repo({"env/values.yaml": "server:\n  image: metersphere\n"}, name="loose")
    code, out, _ = cli("check-images", str(loose / "env/values.yaml"))
    assert code == 1 and "image/tag-missing" in out


def test_template_uses_reads_plain_values_actions():
    from gitops_guard.checks.images.chart_templates import SUPPLIED, WHOLE, template_uses

    text = (
        'image: "{{ .Values.image.repository }}:'
        '{{ .Values.image.tag | default .Chart.AppVersion }}"\n'
        "image: {{ $.Values.a.image }}@{{ .Values.a.digest }}\n"
        "image: {{ .Values.b.image | quote }}:{{ .Values.b.tag }}\n"
        "image: {{ .Values.c.image }}:1.2\n"
        "{{- if .Values.d.image }}\nimage: {{ .Values.d.image }}\n{{- end }}\n"
        "image: {{ .Values.e.image }}:{{ .Values.e.tag | upper }}\n"
    )
    uses = template_uses(text)
    assert uses[("image", "repository")] == [(SUPPLIED, ":", ("image", "tag"), True, "", True)]
    assert uses[("a", "image")] == [(SUPPLIED, "@", ("a", "digest"), False, "", True)]
    assert uses[("b", "image")] == [(WHOLE, "", None, False, "", True)]  # quoted: not a name
    assert uses[("c", "image")] == [(SUPPLIED, ":", None, False, "", True)]
    assert uses[("d", "image")] == [(WHOLE, "", None, False, "", True)]  # the `if` is no use
    assert uses[("e", "image")] == [(SUPPLIED, ":", None, False, "", True)]  # upper changes it


def test_template_uses_reads_what_is_written_before_the_name():
    from gitops_guard.checks.images.chart_templates import template_uses

    text = (
        "image: {{.Values.common.imagePrefix}}{{.Values.server.image}}:{{.Values.tag}}\n"
        "image: registry.example.com/{{ .Values.r.image }}:{{ .Values.r.tag }}\n"
        "image: localhost:5000/{{ .Values.v.image }}:v1\n"
        "image:{{ .Values.s.image }}\n"
        "image: {{ .Values.t.registry }}/{{ .Values.t.image }}:v1\n"
        'image: {{ .Values.u.registry | default "x" }}{{ .Values.u.image }}:v1\n'
    )
    uses = template_uses(text)
    assert uses[("server", "image")][0][4] == ("common", "imagePrefix")
    assert uses[("r", "image")][0][4] == "registry.example.com/"
    assert uses[("v", "image")][0][4] == "localhost:5000/"
    assert uses[("s", "image")][0][4] == ""
    assert uses[("t", "image")][0][4] is None  # a value, then "/": not one value
    assert uses[("u", "image")][0][4] is None  # a default: which one renders is unknown


def test_a_consumer_that_sets_the_templates_tag_value_makes_the_default_moot(make_repo, cli):
    # argo-cd passes parameters as --set over the chart's values.yaml: common.imageTag is the
    # tag both images get, so a master default every consumer replaces is image/overridden
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: ms}\nspec:\n"
        "  source:\n    repoURL: https://example.com/r.git\n    path: charts/ms\n"
        "    helm:\n      parameters: [{name: common.imageTag, value: v1.20.2}]\n"
    )
    other = app.replace("common.imageTag", "server.replicas").replace("{name: ms}", "{name: b}")
    for extra, moot in (({"apps/ms.yaml": app}, True), ({"apps/b.yaml": other}, False)):
        repo = chart_repo(
            make_repo, tag="master", **{k.replace("/", "__"): v for k, v in extra.items()}
        )
        code, lines = run_chart(cli, repo, "charts/ms/values.yaml")
        assert len(lines) == 1, lines
        if moot:
            assert code == 0 and ":3:13: image/overridden" in lines[0], lines
        else:
            assert code == 1 and ":3:13: image/tag-not-allowed" in lines[0], lines


def test_the_name_a_template_writes_before_the_value_is_part_of_it(make_repo, cli):
    # {{ .Values.common.imagePrefix }}{{ .Values.server.image }}: the registry is the prefix's
    pol = "version: 1\nimages:\n  allowed_registries: [registry.example.com]\n"
    policy_file = {"policies/gitops-guard.yaml": pol}
    repo = chart_repo(make_repo, **policy_file)
    code, lines = run_chart(cli, repo, "charts/ms/values.yaml")
    # the worker's helper writes printf "%s:%s" with no registry: Docker Hub, truly refused
    assert code == 1 and len(lines) == 1, lines
    assert ":7:10: image/registry-not-allowed" in lines[0] and "ms-worker" in lines[0], lines
    values = CHART_FILES["charts/ms/values.yaml"].format(tag="v1.20.2")
    other = values.replace("registry.example.com/ms/", "quay.io/ms/")
    repo = chart_repo(make_repo, **policy_file, charts__ms__values_yaml=other)
    code, lines = run_chart(cli, repo, "charts/ms/values.yaml")
    assert code == 1 and len(lines) == 2, lines
    assert ":2:16: image/registry-not-allowed" in lines[0] and "quay.io" in lines[0], lines


def test_a_sibling_tag_the_template_does_not_read_is_not_the_tag(make_repo, cli):
    # the template writes {{ .Values.server.image }} whole: the imageTag beside it is unused
    values = "server:\n  image: metersphere\n  imageTag: v1.2.3\n"
    whole = "image: {{ .Values.server.image }}\n"
    repo = chart_repo(
        make_repo,
        charts__ms__values_yaml=values,
        charts__ms__templates__server_yaml=whole,
        **{"charts/ms/templates/_helpers.tpl": ""},
    )
    code, lines = run_chart(cli, repo, "charts/ms/values.yaml")
    assert code == 1 and len(lines) == 1 and ":2:10: image/tag-missing" in lines[0], lines
    # without the chart's word (a values file of no chart folder) the sibling is the tag
    assert check(values, "values.yaml") == []


def test_values_a_template_renders_with_tpl_say_how_their_images_are_completed(make_repo, cli):
    # metersphere's ConfigMap: {{ tpl .Values.server.properties . }} renders the values text
    # jmeter.image={{ .Values.common.imagePrefix }}{{ .Values.jmeter.image }}:{{ ... }}
    pol = "version: 1\nimages:\n  allowed_registries: [registry.example.com]\n"
    values = (
        "common:\n  imagePrefix: registry.example.com/ms/\n"
        "server:\n  properties: |-\n"
        "    jmeter.image={{ .Values.common.imagePrefix }}{{ .Values.jmeter.image }}:"
        "{{ .Values.jmeter.imageTag }}\n"
        "jmeter:\n  image: jmeter-master\n  imageTag: v5.4.3\n"
    )
    config = "data:\n  server.properties: |-\n    {{ tpl .Values.server.properties . }}\n"
    files = {
        "policies/gitops-guard.yaml": pol,
        "charts/ms/values.yaml": values,
        "charts/ms/templates/server.yaml": "",
        "charts/ms/templates/_helpers.tpl": "",
    }
    repo = chart_repo(make_repo, **files, charts__ms__templates__config_yaml=config)
    assert run_chart(cli, repo, "charts/ms/values.yaml") == (0, [])
    # without the tpl the values text is only text: the name is judged as written
    repo = chart_repo(make_repo, **files)
    code, lines = run_chart(cli, repo, "charts/ms/values.yaml")
    assert code == 1 and len(lines) == 1 and ":7:10: image/registry-not-allowed" in lines[0]


# -- repo/flux_vars.py: the substitution both check-images and check-sync-waves use -----------


def test_envsubst_evaluates_what_drone_envsubst_does_and_refuses_what_it_cannot_tell():
    from gitops_guard.repo.flux_vars import envsubst

    # drone/envsubst funcs.go toDefault: every default form (-, :-, =, :=) applies when the
    # value is empty, an unset one included
    values = {"TAG": "v1.2.3", "EMPTY": ""}
    known = values.get  # None: cannot be known here
    assert envsubst("web:${TAG}", known) == "web:v1.2.3"
    assert envsubst("web:${EMPTY:=v0.0.1}", known) == "web:v0.0.1"
    assert envsubst("web:${EMPTY-v0.0.1}", known) == "web:v0.0.1"
    assert envsubst("web:${TAG:-v0.0.1}", known) == "web:v1.2.3"
    assert envsubst("web:${OTHER}", known) is None  # unknown
    assert envsubst("web:${OTHER}", lambda name: values.get(name, "")) == "web:"
    assert envsubst("web:${TAG:0:2}", known) is None  # not evaluated here
    assert envsubst("web:${TAG}", lambda name: "$X") is None  # a $ left over


def test_flux_substitute_disabled_by_label_or_annotation_only_when_disabled():
    from gitops_guard.repo.flux_vars import disabled

    def doc(meta: str):
        text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n{meta}"
        return load_text("x.yaml", text).documents[0]

    key = "kustomize.toolkit.fluxcd.io/substitute"
    assert disabled(doc(f"  labels:\n    {key}: disabled\n"))
    assert disabled(doc(f"  annotations:\n    {key}: disabled\n"))
    assert not disabled(doc(f"  annotations:\n    {key}: enabled\n"))
    assert not disabled(doc(""))


# -- a values file a kustomization renders a remote chart with (helmCharts) --------------------
# kustomize runs generators (HelmChartInflationGenerator) before transformers (api/krusty/
# kusttarget.go), so the kustomization's images: rewrite what the chart renders: the "last
# mile" pattern of kustomize's examples/chart.md. Seen on a repository that adds the ksops
# init container to Argo CD's chart and pins its tag in the kustomization.

HELM_KUSTOMIZATION = """\
helmCharts:
  - name: argo-cd
    repo: https://argoproj.github.io/argo-helm
    version: 9.2.4
    releaseName: argocd
    valuesFile: values.yaml
{images}"""

HELM_VALUES = """\
repoServer:
  initContainers:
    - name: install-ksops
      image: viaductoss/ksops
    - name: copy-tools
      image: registry.example.com/tools
"""


def helm_values_repo(make_repo, images: str, overlay: str = ""):
    files = {
        "apps/argocd/kustomization.yaml": HELM_KUSTOMIZATION.format(images=images),
        "apps/argocd/values.yaml": HELM_VALUES,
    }
    if overlay:
        files["apps/prod/kustomization.yaml"] = overlay
    return make_repo(files, name=f"helmvalues{len(images)}{len(overlay)}")


def test_a_helm_values_image_the_kustomization_retags_is_overridden_not_untagged(make_repo, cli):
    images = "images:\n  - name: viaductoss/ksops\n    newTag: v4.3.3\n"
    repo = helm_values_repo(make_repo, images)
    code, lines = run(cli, repo, "apps/argocd/kustomization.yaml", "apps/argocd/values.yaml")
    assert lines[0].startswith("apps/argocd/values.yaml:4:14: image/overridden "), lines
    assert "(kustomization apps/argocd/kustomization.yaml)" in lines[0]
    # the image no entry names is still deployed as written: untagged
    assert lines[1].startswith("apps/argocd/values.yaml:6:14: image/tag-missing "), lines
    assert code == 1 and len(lines) == 2


def test_a_helm_values_image_no_kustomization_retags_is_untagged(make_repo, cli):
    other = "images:\n  - name: viaductoss/other\n    newTag: v4.3.3\n"
    repo = helm_values_repo(make_repo, other)
    _, lines = run(cli, repo, "apps/argocd/values.yaml")
    assert [line.split(" ")[1] for line in lines] == ["image/tag-missing", "image/tag-missing"]


def test_an_overlay_above_the_helm_kustomization_retags_it_too(make_repo, cli):
    overlay = "resources: [../argocd]\nimages:\n  - name: viaductoss/ksops\n    newTag: v4.3.3\n"
    repo = helm_values_repo(make_repo, "", overlay)
    _, lines = run(cli, repo, "apps/argocd/values.yaml")
    assert lines[0].startswith("apps/argocd/values.yaml:4:14: image/overridden "), lines
    assert "(kustomization apps/prod/kustomization.yaml)" in lines[0]


def _mention_chart(make_repo, deployment: str, name: str):
    return make_repo(
        {
            "policies/gitops-guard.yaml": (
                "version: 1\nimages:\n  allowed_registries: [ghcr.io/acme]\n"
            ),
            "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
            "charts/app/values.yaml": "image: docker.io/evil/miner\ntag: v1.2.3\n",
            "charts/app/templates/deploy.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n"
                "  template:\n    spec:\n      containers:\n        - name: app\n"
                f"          image: {deployment}\n"
            ),
            # a label that mentions the image with something written before it
            "charts/app/templates/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels:\n"
                '    built-from: "mirror-{{ .Values.image }}:{{ .Values.tag }}"\n'
            ),
        },
        name=name,
    )


def test_a_label_that_mentions_the_image_does_not_hide_its_registry(make_repo, cli):
    """The pod spec's image: key decides the name; a template that writes mirror- before
    the value elsewhere made the templates disagree, and the registry check was dropped."""
    repo = _mention_chart(make_repo, "{{ .Values.image }}:{{ .Values.tag }}", "mention")
    code, lines = run_chart(cli, repo, "charts/app/values.yaml")
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("charts/app/values.yaml:1:8: image/registry-not-allowed"), lines
    assert "docker.io" in lines[0]


def test_the_image_key_s_own_prefix_still_names_the_registry(make_repo, cli):
    repo = _mention_chart(make_repo, "ghcr.io/acme/{{ .Values.image }}:{{ .Values.tag }}", "pre")
    code, lines = run_chart(cli, repo, "charts/app/values.yaml")
    assert (code, lines) == (0, []), lines  # ghcr.io/acme/docker.io/evil/miner: allowed


# -- the helm test pod of every `helm create` chart ---------------------------------------------
# gitops-engine pkg/sync/hook/helm/type.go maps only pre/post-install and pre/post-upgrade to a
# sync phase: Argo CD never applies a test hook (repo/argo.py HELM_PHASES); helm-controller runs
# it only with spec.test.enable. Its image is still checked, as a warning.

TEST_CONNECTION = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{{{ include "app.fullname" . }}}}-test-connection"
  annotations:
    {hook}
spec:
  containers:
    - name: wget
      image: busybox
      command: ['wget']
  restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  containers:
    - name: c
      image: busybox
"""


@pytest.mark.parametrize(
    ("hook", "first"),
    [
        ('"helm.sh/hook": test', "warning"),
        ("helm.sh/hook: test-success", "warning"),
        ("helm.sh/hook: post-install", "error"),  # an install hook is applied
        ("team: web", "error"),
    ],
)
def test_the_image_of_a_helm_test_hook_is_a_warning(tmp_path, cli, hook, first):
    chart = tmp_path / "app"
    (chart / "templates" / "tests").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    path = chart / "templates" / "tests" / "test-connection.yaml"
    path.write_text(TEST_CONNECTION.format(hook=hook))
    code, out, _ = cli("check-images", str(path))
    found = [line for line in out.splitlines() if "image/tag-missing" in line]
    assert [":10:14:" in found[0], ":21:14:" in found[1]] == [True, True], out
    assert found[0].endswith("[warning]") is (first == "warning"), out
    assert not found[1].endswith("]"), out  # the plain pod in the same file: an error
    assert code == 1


# -- Helm values that set global.imageRegistry ------------------------------------------------
# bitnami/charts bitnami/common/templates/_images.tpl (common.images.image): the global
# registry replaces the image's own; charts copying that interface may let the image's win.

BITNAMI_VALUES = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: pg
spec:
  chart:
    spec:
      chart: postgresql
      sourceRef: {{kind: HelmRepository, name: bitnami}}
  values:
{global_}    image:
      registry: docker.io
      repository: bitnami/postgresql
      tag: {tag}
    metrics:
      image:
        registry: docker.io
        repository: bitnami/postgres-exporter
        tag: v0.15.0
"""
GLOBAL_REGISTRY = "    global:\n      imageRegistry: registry.example.com\n"


def severities(text: str, pol: Policy) -> list[tuple]:
    source = load_text("manifest.yaml", text)
    return sorted((f.rule, f.line, f.severity) for f in images.check(source, pol))


def test_global_image_registry_leaves_the_registry_to_the_chart_bitnami_common_images_tpl():
    """Bitnami's charts pull from the global registry, others from the image's own: a
    disallowed own registry is a warning that says so, not an error, and not silence."""
    pol = policy(allowed_registries=["registry.example.com"])
    text = BITNAMI_VALUES.format(global_=GLOBAL_REGISTRY, tag="v16.1.0")
    assert severities(text, pol) == [
        ("image/registry-not-allowed", 14, "warning"),
        ("image/registry-not-allowed", 19, "warning"),
    ]
    source = load_text("manifest.yaml", text)
    assert all(
        "global.imageRegistry replaces it only" in f.message for f in images.check(source, pol)
    )


def test_global_image_registry_still_checks_the_tag():
    pol = policy(allowed_registries=["registry.example.com"])
    text = BITNAMI_VALUES.format(global_=GLOBAL_REGISTRY, tag="latest")
    assert ("image/tag-latest", 16, None) in severities(text, pol)


def test_without_global_image_registry_the_image_s_own_registry_is_checked():
    pol = policy(allowed_registries=["registry.example.com"])
    text = BITNAMI_VALUES.format(global_="", tag="v16.1.0")
    assert check(text, pol=pol) == [
        ("image/registry-not-allowed", 12, 17),
        ("image/registry-not-allowed", 17, 19),
    ]


def test_a_global_image_registry_that_is_not_allowed_is_reported_at_its_key():
    """The key that hands the registry to the chart must name an allowed one: otherwise
    ``global.imageRegistry: evil.example.org`` lifted the registry check for every image."""
    pol = policy(allowed_registries=["registry.example.com"])
    evil = GLOBAL_REGISTRY.replace("registry.example.com", "evil.example.org")
    text = BITNAMI_VALUES.format(global_=evil, tag="v16.1.0")
    assert [f for f in severities(text, pol) if f[2] is None] == [
        ("image/registry-not-allowed", 12, None)
    ]


# -- OpenShift image triggers: the cluster sets the container's image -------------------------
# DeploymentConfig ImageChange trigger (openshift/api apps/v1/types.go, containerNames) and the
# image.openshift.io/triggers annotation (openshift/origin
# pkg/image/apis/image/v1/trigger/trigger.go, TriggerAnnotationKey, fieldPath, paused)

DEPLOYMENT_CONFIG = """\
apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: app
        image: ' '
      - name: sidecar
        image: quay.io/team/sidecar
  triggers:
  - type: ConfigChange
  - type: ImageChange
    imageChangeParams:
      automatic: true
      containerNames: [{names}]
      from:
        kind: ImageStreamTag
        name: app:latest
"""


def test_a_deploymentconfig_image_change_trigger_sets_the_named_container_s_image():
    # the triggered placeholder ' ' is not checked; the untriggered sidecar still is
    assert check(DEPLOYMENT_CONFIG.format(names="app")) == [("image/tag-missing", 12, 16)]


def test_a_deploymentconfig_container_no_trigger_names_is_checked():
    assert check(DEPLOYMENT_CONFIG.format(names="other")) == [
        ("image/invalid-reference", 10, 16),
        ("image/tag-missing", 12, 16),
    ]


TRIGGERED_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    image.openshift.io/triggers: >-
      [{{"from": {{"kind": "ImageStreamTag", "name": "web:prod"}},
      "fieldPath": "spec.template.spec.containers[?(@.name==\\"web\\")].image"{paused}}}]
spec:
  template:
    spec:
      containers:
      - name: web
        image: web
"""


def test_the_image_trigger_annotation_sets_the_container_s_image():
    assert check(TRIGGERED_DEPLOYMENT.format(paused="")) == []


def test_a_paused_image_trigger_leaves_the_written_image_checked():
    text = TRIGGERED_DEPLOYMENT.format(paused=', "paused": true')
    assert check(text) == [("image/tag-missing", 14, 16)]


def test_an_image_trigger_annotation_does_not_hide_a_full_reference():
    """The annotation means nothing without OpenShift's trigger controller: a full
    reference written in the field is what such a cluster runs, so it is checked; only a
    placeholder (blank, a bare image stream name) is left to the trigger."""
    evil = TRIGGERED_DEPLOYMENT.format(paused="").replace(
        "        image: web\n", "        image: docker.io/evil/miner:latest\n"
    )
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(evil, pol=pol) == [
        ("image/registry-not-allowed", 14, 16),
        ("image/tag-latest", 14, 16),
    ]
    blank = TRIGGERED_DEPLOYMENT.format(paused="").replace("image: web", "image: ' '")
    assert check(blank, pol=pol) == []


def test_a_trigger_annotation_nested_too_deep_is_no_internal_error():
    deep = TRIGGERED_DEPLOYMENT.format(paused="").replace(
        "    image.openshift.io/triggers: >-\n",
        "    image.openshift.io/triggers: '" + "[" * 20_000 + "]" * 20_000 + "'\n    x: >-\n",
    )
    assert check(deep) == [("image/tag-missing", 15, 16)]  # no trigger read: checked as written


ARGO_PARAMETERS = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: pg
spec:
  source:
    repoURL: https://charts.example.com
    chart: postgresql
    targetRevision: 16.0.0
    helm:
      parameters:
{global_}      - name: image.registry
        value: docker.io
      - name: image.repository
        value: bitnami/postgresql
      - name: image.tag
        value: v16.1.0
"""


def test_an_argo_cd_global_image_registry_parameter_leaves_the_registry_to_the_chart():
    pol = policy(allowed_registries=["registry.example.com"])
    glob = "      - name: global.imageRegistry\n        value: registry.example.com\n"
    assert severities(ARGO_PARAMETERS.format(global_=glob), pol) == [
        ("image/registry-not-allowed", 15, "warning")
    ]


def test_argo_cd_image_parameters_without_a_global_registry_are_checked():
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(ARGO_PARAMETERS.format(global_=""), pol=pol) == [
        ("image/registry-not-allowed", 13, 16)
    ]


OC_NEW_APP_LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: redis
    annotations:
      image.openshift.io/triggers: >-
        [{{"from": {{"kind": "ImageStreamTag", "name": "redis:latest"}},
        "fieldPath": "spec.template.spec.containers[?(@.name==\\"{name}\\")].image"}}]
  spec:
    template:
      spec:
        containers:
        - name: redis
          image: redis
"""


def test_an_image_trigger_of_an_oc_new_app_list_item_sets_its_container_s_image():
    assert check(OC_NEW_APP_LIST.format(name="redis")) == []


def test_a_list_item_trigger_naming_another_container_leaves_the_image_checked():
    assert check(OC_NEW_APP_LIST.format(name="other")) == [("image/tag-missing", 17, 18)]


# -- the Argo CD operator's ArgoCD object: image + version per component -----------------------
# argoproj-labs/argocd-operator controllers/argocd/util.go (getArgoContainerImage: an empty
# version is the operator's default; argoutil.CombineImageTag joins image and version)

ARGOCD_OPERATOR = """\
apiVersion: argoproj.io/v1beta1
kind: ArgoCD
metadata:
  name: openshift-gitops
spec:
  image: quay.io/argoproj/argocd
{version}  redis:
    image: registry.redhat.io/rhel8/redis-6
  repo:
    sidecarContainers:
    - name: cmp
      image: quay.io/team/cmp-plugin
"""


def test_the_argocd_operator_joins_image_and_version_and_defaults_an_empty_version():
    # spec.image + spec.version is one reference; redis without version: the operator's
    # default tag; the sidecar container is a container: its image is checked as written
    text = ARGOCD_OPERATOR.format(version="  version: v2.10.1\n")
    assert check(text) == [("image/tag-missing", 13, 14)]


def test_the_argocd_operator_version_is_the_tag_checked():
    text = ARGOCD_OPERATOR.format(version="  version: latest\n")
    assert check(text) == [("image/tag-latest", 7, 12), ("image/tag-missing", 13, 14)]


def test_an_argocd_operator_image_with_its_own_tag_is_checked_as_written():
    text = ARGOCD_OPERATOR.format(version="").replace("argocd\n", "argocd:latest\n", 1)
    assert check(text) == [("image/tag-latest", 6, 10), ("image/tag-missing", 12, 14)]


# -- Flux HelmRelease post-renderers: kustomize images over the rendered chart ----------------
# fluxcd/helm-controller internal/postrender/kustomize.go (spec.postRenderers[].kustomize.images)

POST_RENDERED = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      sourceRef: {{kind: HelmRepository, name: podinfo}}
  values:
    image:
      repository: ghcr.io/stefanprodan/podinfo
      tag: latest
  postRenderers:
  - kustomize:
      images:
      - name: {name}
        newTag: {tag}
"""


def test_a_post_renderer_retag_replaces_the_values_tag_and_is_checked_itself():
    assert check(POST_RENDERED.format(name="ghcr.io/stefanprodan/podinfo", tag="v6.5.0")) == []
    text = POST_RENDERED.format(name="ghcr.io/stefanprodan/podinfo", tag="latest")
    assert check(text) == [("image/tag-latest", 18, 17)]


def test_a_post_renderer_entry_for_another_image_leaves_the_values_tag_checked():
    text = POST_RENDERED.format(name="ghcr.io/other/image", tag="v6.5.0")
    assert check(text) == [("image/tag-latest", 13, 12)]


def test_an_argo_cd_global_image_registry_parameter_must_name_an_allowed_registry():
    pol = policy(allowed_registries=["registry.example.com"])
    glob = "      - name: global.imageRegistry\n        value: evil.example.org\n"
    assert [f for f in severities(ARGO_PARAMETERS.format(global_=glob), pol) if not f[2]] == [
        ("image/registry-not-allowed", 13, None)
    ]

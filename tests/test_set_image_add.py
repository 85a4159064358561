"""set-image adds the image where an overlay's Helm values have none (golden bytes)."""

from __future__ import annotations

import pytest

DIGEST = "sha256:" + "c" * 64

VALUES = """\
# staging values
replicaCount: 2
service:
    port: 80   # the file indents by four
"""

HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  chart:
    spec:
      chart: web
      version: 1.2.0
  values:
    replicaCount: 2
    ingress:
      enabled: true
  interval: 10m
"""

APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: staging-web
spec:
  source:
    chart: web
    repoURL: https://charts.example.com
    targetRevision: 1.2.0
    helm:
      parameters:
        - name: replicaCount
          value: "2"   # kept
"""

CASES = {
    "values file": (
        "clusters/staging/web/values.yaml",
        VALUES,
        VALUES + "image:\n    repository: registry.example.com/web\n    tag: v1.4.0\n",
    ),
    "HelmRelease spec.values": (
        "clusters/staging/web/release.yaml",
        HELMRELEASE,
        HELMRELEASE.replace(
            "      enabled: true\n",
            "      enabled: true\n    image:\n      repository: registry.example.com/web\n"
            "      tag: v1.4.0\n",
        ),
    ),
    "Argo CD helm parameters": (
        "clusters/staging/web/app.yaml",
        APPLICATION,
        APPLICATION
        + "        - name: image.repository\n          value: registry.example.com/web\n"
        "        - name: image.tag\n          value: v1.4.0\n",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_set_image_adds_the_image_to_helm_values_that_have_none(chdir, cli, case):
    rel, before, after = CASES[case]
    (chdir / rel).parent.mkdir(parents=True)
    (chdir / rel).write_text(before)
    code, out, err = cli("set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0")
    assert code == 0 and out.startswith(f"--- a/{rel}\n"), err
    assert (chdir / rel).read_text() == before  # a dry run
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 0, err
    assert (chdir / rel).read_bytes() == after.encode()
    # now the entry exists: the next image is set in place
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.5.0", "--write"
    )
    assert code == 0, err
    assert (chdir / rel).read_bytes() == after.replace("v1.4.0", "v1.5.0").encode()


def test_a_digest_is_added_with_the_tag(chdir, cli):
    rel = "clusters/staging/web/values-staging.yaml"
    (chdir / rel).parent.mkdir(parents=True)
    (chdir / rel).write_text("replicaCount: 1")  # no line break at the end: none added
    image = f"registry.example.com/web:v1.4.0@{DIGEST}"
    code, _, err = cli("set-image", "web", "--env", "staging", image, "--write")
    assert code == 0, err
    assert (chdir / rel).read_bytes() == (
        "replicaCount: 1\nimage:\n  repository: registry.example.com/web\n  tag: v1.4.0\n"
        f"  digest: {DIGEST}"
    ).encode()


def test_values_with_another_image_are_refused_naming_the_file(chdir, cli):
    rel = "clusters/staging/web/values.yaml"
    (chdir / rel).parent.mkdir(parents=True)
    (chdir / rel).write_text("image:\n  repository: registry.example.com/api\n  tag: v1.0.0\n")
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 1 and f"{rel}:1: the values set another image" in err, err


def test_an_overlay_with_nothing_to_add_to_is_refused_naming_its_folder(chdir, cli):
    rel = "clusters/staging/web/deployment.yaml"
    (chdir / rel).parent.mkdir(parents=True)
    (chdir / rel).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 1 and "has nothing to add it to in clusters/staging/web/" in err, err
    assert (chdir / rel).read_text().endswith("name: web\n")


def test_a_flux_overlay_gets_the_image_in_its_helmrelease_not_in_its_kustomization(chdir, cli):
    """apps/staging/ (Flux's reference layout): a kustomization patching the base's
    HelmRelease; kustomize's images: would change no container there."""
    (chdir / "apps/base/web").mkdir(parents=True)
    (chdir / "apps/base/web/kustomization.yaml").write_text("resources:\n  - release.yaml\n")
    (chdir / "apps/base/web/release.yaml").write_text(HELMRELEASE)
    kustomization = "resources:\n  - ../base/web\npatches:\n  - path: release.yaml\n"
    patch = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
        "spec:\n  values:\n    replicaCount: 1\n"
    )
    for env in ("staging", "production"):
        (chdir / f"apps/{env}").mkdir(parents=True)
        (chdir / f"apps/{env}/kustomization.yaml").write_text(kustomization)
        (chdir / f"apps/{env}/release.yaml").write_text(patch)
    code, _, err = cli(
        "set-image", "apps", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 0, err
    assert (chdir / "apps/staging/kustomization.yaml").read_text() == kustomization
    assert (chdir / "apps/staging/release.yaml").read_text() == patch + (
        "    image:\n      repository: registry.example.com/web\n      tag: v1.4.0\n"
    )


# -- a HelmRelease with no spec.values, an Argo CD Helm source with no parameters ---------------

RELEASE_NO_VALUES = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  interval: 10m   # how often Flux reconciles
  chart:
    spec:
      chart: web
      version: 1.2.0
  # upgrades retry
  upgrade:
    remediation:
      retries: 3
"""

APP_HEAD = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: staging-web
spec:
  project: default
"""

APP_DESTINATION = """\
  destination:
    server: https://kubernetes.default.svc
    namespace: web
  syncPolicy:
    syncOptions:
    - CreateNamespace=true   # an indentless list: the file's style
"""

ADDED_CASES = {
    # Flux reads spec.values (helm.toolkit.fluxcd.io/v2 HelmReleaseSpec.Values): added to spec
    "HelmRelease without values": (
        RELEASE_NO_VALUES,
        RELEASE_NO_VALUES + "  values:\n    image:\n      repository: registry.example.com/web\n"
        "      tag: v1.4.0\n",
    ),
    "HelmRelease without values, flow spec": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\n"
        "spec: {interval: 10m, chart: {spec: {chart: web, version: 1.2.0}}}  # one line\n",
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\n"
        "spec: {interval: 10m, chart: {spec: {chart: web, version: 1.2.0}}, values: {image: "
        "{repository: registry.example.com/web, tag: v1.4.0}}}  # one line\n",
    ),
    "HelmRelease without values, empty flow spec": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
        "spec: {}\n",
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
        "spec: {values: {image: {repository: registry.example.com/web, tag: v1.4.0}}}\n",
    ),
    # Argo CD: spec.source.helm.parameters (application/v1alpha1 types.go ApplicationSourceHelm)
    "Argo CD helm without parameters": (
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      releaseName: web   # kept\n" + APP_DESTINATION,
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      releaseName: web   # kept\n"
        "      parameters:\n      - name: image.repository\n"
        "        value: registry.example.com/web\n      - name: image.tag\n"
        "        value: v1.4.0\n" + APP_DESTINATION,
    ),
    "Argo CD Helm source without helm": (
        APP_HEAD + "  source:\n    repoURL: https://charts.example.com\n    chart: web\n"
        "    targetRevision: 1.2.0  # the chart version\n" + APP_DESTINATION,
        APP_HEAD + "  source:\n    repoURL: https://charts.example.com\n    chart: web\n"
        "    targetRevision: 1.2.0  # the chart version\n    helm:\n      parameters:\n"
        "      - name: image.repository\n        value: registry.example.com/web\n"
        "      - name: image.tag\n        value: v1.4.0\n" + APP_DESTINATION,
    ),
    "Argo CD sources[0] without helm, indented lists": (
        APP_HEAD + "  sources:\n    - repoURL: https://charts.example.com\n      chart: web\n"
        "      targetRevision: 1.2.0\n    - repoURL: https://git.example.com/config.git\n"
        "      targetRevision: main\n      ref: values   # a values source, not Helm\n",
        APP_HEAD + "  sources:\n    - repoURL: https://charts.example.com\n      chart: web\n"
        "      targetRevision: 1.2.0\n      helm:\n        parameters:\n"
        "          - name: image.repository\n            value: registry.example.com/web\n"
        "          - name: image.tag\n            value: v1.4.0\n"
        "    - repoURL: https://git.example.com/config.git\n"
        "      targetRevision: main\n      ref: values   # a values source, not Helm\n",
    ),
    "Argo CD flow helm": (
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm: {releaseName: web}  # flow\n",
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm: {releaseName: web, parameters: [{name: "
        "image.repository, value: registry.example.com/web}, {name: image.tag, value: "
        "v1.4.0}]}  # flow\n",
    ),
    "Argo CD flow source without helm": (
        APP_HEAD + "  source: {chart: web, repoURL: https://charts.example.com, "
        "targetRevision: 1.2.0}\n",
        APP_HEAD + "  source: {chart: web, repoURL: https://charts.example.com, "
        "targetRevision: 1.2.0, helm: {parameters: [{name: image.repository, value: "
        "registry.example.com/web}, {name: image.tag, value: v1.4.0}]}}\n",
    ),
    "Argo CD empty parameters": (
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      parameters: []   # none yet\n",
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      parameters: [{name: image.repository, "
        "value: registry.example.com/web}, {name: image.tag, value: v1.4.0}]   # none yet\n",
    ),
    "Argo CD flow parameters": (
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        '    targetRevision: 1.2.0\n    helm:\n      parameters: [{name: replicas, value: "2"}]\n',
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        '    targetRevision: 1.2.0\n    helm:\n      parameters: [{name: replicas, value: "2"}, '
        "{name: image.repository, value: registry.example.com/web}, {name: image.tag, value: "
        "v1.4.0}]\n",
    ),
    "Argo CD parameters written as flow items": (
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      parameters:\n"
        '        - {name: replicas, value: "2"}\n',
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      parameters:\n"
        '        - {name: replicas, value: "2"}\n'
        "        - {name: image.repository, value: registry.example.com/web}\n"
        "        - {name: image.tag, value: v1.4.0}\n",
    ),
}
_FOUR = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\r\nkind: HelmRelease\r\nmetadata:\r\n"
    "    name: web\r\nspec:\r\n    interval: 10m\r\n    chart:\r\n        spec:\r\n"
    "            chart: web   # four spaces a step\r\n"
)
ADDED_CASES["HelmRelease without values, indented by four, CRLF"] = (
    _FOUR,
    _FOUR + "    values:\r\n        image:\r\n            repository: registry.example.com/web\r\n"
    "            tag: v1.4.0\r\n",
)


@pytest.mark.parametrize("case", list(ADDED_CASES))
def test_the_image_is_added_where_the_release_or_application_has_no_values(chdir, cli, case):
    before, after = ADDED_CASES[case]
    rel = "clusters/staging/web/release.yaml"
    (chdir / rel).parent.mkdir(parents=True)
    (chdir / rel).write_bytes(before.encode())
    image = "registry.example.com/web:v1.4.0"
    code, _, err = cli("set-image", "web", "--env", "staging", image, "--write")
    assert code == 0, err
    assert (chdir / rel).read_bytes().decode() == after
    # the entry now exists: the next image is set in place, and the file passes the hook
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.5.0", "--write"
    )
    assert code == 0, err
    assert (chdir / rel).read_bytes().decode() == after.replace("v1.4.0", "v1.5.0")
    assert cli("check-images", rel)[0] == 0


STAGING_DIGEST_POLICY = (
    "version: 1\nenvironments:\n  staging:\n    images:\n      require_digest: true\n"
)

PRODUCTION_RELEASE = RELEASE_NO_VALUES + (
    "  values:\n    image:\n      repository: registry.example.com/web\n      tag: v1.0.0\n"
)

PRODUCTION_APP = (
    APP_HEAD.replace("staging-web", "production-web")
    + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
    "    targetRevision: 1.2.0\n    helm:\n      parameters:\n"
    "      - name: image.repository\n        value: registry.example.com/web\n"
    "      - name: image.tag\n        value: v1.0.0\n"
    f"      - name: image.digest\n        value: sha256:{'a' * 64}\n"
)


@pytest.mark.parametrize(
    "staging, production",
    [
        (RELEASE_NO_VALUES, PRODUCTION_RELEASE),
        (ADDED_CASES["Argo CD Helm source without helm"][0], PRODUCTION_APP),
    ],
    ids=["HelmRelease", "Argo CD Application"],
)
def test_an_added_image_passes_the_environments_policy_and_promote_sees_it(
    chdir, cli, staging, production
):
    (chdir / "policies").mkdir()
    (chdir / "policies/gitops-guard.yaml").write_text(STAGING_DIGEST_POLICY)
    for env, text in (("staging", staging), ("production", production)):
        (chdir / f"clusters/{env}/web").mkdir(parents=True)
        (chdir / f"clusters/{env}/web/release.yaml").write_text(text)
    rel = "clusters/staging/web/release.yaml"
    # staging requires a digest: a tag alone is refused before anything is written
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 1 and "image/digest-required" in err, err
    assert (chdir / rel).read_text() == staging
    image = f"registry.example.com/web:v1.4.0@{DIGEST}"
    code, _, err = cli("set-image", "web", "--env", "staging", image, "--write")
    assert code == 0, err
    written = (chdir / rel).read_text()
    assert written.startswith(staging.split("  destination:")[0]) and DIGEST in written
    code, out, _ = cli("check-images", rel)
    assert code == 0, out
    # promote reads the added entry: production moves to staging's tag and digest
    code, out, err = cli("promote", "web", "--from", "staging", "--to", "production")
    assert code == 0, err
    assert "-        value: v1.0.0\n" in out or "-      tag: v1.0.0\n" in out, out
    assert "+        value: v1.4.0\n" in out or "+      tag: v1.4.0\n" in out, out
    assert DIGEST in out
    # the check above is real: the file without its digest fails it under staging's policy
    lines = [line for line in written.splitlines(keepends=True) if "digest" not in line]
    lines = [line for line in lines if DIGEST not in line]
    (chdir / rel).write_text("".join(lines))
    code, out, _ = cli("check-images", rel)
    assert code == 1 and "image/digest-required" in out, out


def _overlay(chdir, text: str) -> str:
    rel = "clusters/staging/web/release.yaml"
    (chdir / rel).parent.mkdir(parents=True)
    (chdir / rel).write_text(text)
    return rel


def _release(name: str) -> str:
    return RELEASE_NO_VALUES.replace("name: web", f"name: {name}")


def test_of_several_releases_the_one_named_after_the_app_gets_the_image(chdir, cli):
    text = _release("redis") + "---\n" + _release("staging-web")
    rel = _overlay(chdir, text)
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 0, err
    assert (chdir / rel).read_text() == text + (
        "  values:\n    image:\n      repository: registry.example.com/web\n      tag: v1.4.0\n"
    )


REFUSALS = {
    "several releases, none named after the image": (
        _release("api") + "---\n" + _release("worker"),
        "release.yaml: several HelmReleases ('api', 'worker') and not one named after "
        "registry.example.com/web; add the image by hand",
    ),
    "a release whose spec is not a mapping": (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
        "spec: []\n",
        "release.yaml:5: the HelmRelease's spec is not a mapping",
    ),
    "an Application of a directory": (
        APP_HEAD + "  source:\n    repoURL: https://git.example.com/web.git\n"
        "    path: deploy\n    targetRevision: main\n",
        "release.yaml:1: Application 'staging-web' has no Helm source (no chart, no helm:)",
    ),
    "two Helm sources, neither the image's chart": (
        APP_HEAD + "  sources:\n  - chart: api\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.0.0\n  - chart: worker\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.0.0\n",
        "several Helm sources ('api', 'worker') and not one named after registry.example.com/web",
    ),
    "valuesObject with another image": (
        APP_HEAD + "  source:\n    chart: web\n    repoURL: https://charts.example.com\n"
        "    targetRevision: 1.2.0\n    helm:\n      valuesObject:\n        image: nginx:1.25\n",
        "release.yaml:13: spec.source.helm.valuesObject sets another image; name that one",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_where_the_image_cannot_be_placed_set_image_refuses_saying_why(chdir, cli, case):
    text, why = REFUSALS[case]
    rel = _overlay(chdir, text)
    code, out, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.4.0", "--write"
    )
    assert code == 1 and why in err and err.count("\n") == 1, err
    assert (chdir / rel).read_text() == text and not out

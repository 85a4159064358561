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

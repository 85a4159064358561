"""set-image: golden bytes for every YAML style promote handles (setting staging's references
in production must give exactly promote's golden file), the added entry, refusals, dry run."""

from __future__ import annotations

import pytest
from conftest import DATA
from gitops_guard.core.policy import load_policy
from gitops_guard.repo import environments, overlays
from test_promote import CASE_NAMES, VARIANTS, _variant, build_case

CASES = DATA / "promotion" / "promote"
DIGEST = "sha256:" + "c" * 64


def staging_references(root) -> list[str]:
    model = environments.load(root, load_policy())
    overlay = overlays.load_app(model, model.app("staging", "web"))
    refs = [s.reference for f in overlay.files for s in f.slots if s.kind != "chart"]
    return list(dict.fromkeys(refs))


@pytest.mark.parametrize("crlf,bom", VARIANTS, ids=["lf", "crlf", "bom", "crlf-bom"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_set_image_writes_exactly_promotes_golden_file(case, crlf, bom, chdir, cli):
    build_case(chdir, case, crlf, bom)
    for ref in staging_references(chdir):
        code, _, err = cli("set-image", "web", "--env", "production", ref, "--write")
        assert code == 0, err
    for expected in sorted((CASES / case / "expected").iterdir()):
        written = (chdir / "clusters" / "production" / "web" / expected.name).read_bytes()
        assert written == _variant(expected.read_bytes(), crlf, bom), expected.name
    for ref in staging_references(chdir):
        code, out, _ = cli("set-image", "web", "--env", "production", ref, "--write")
        assert (code, out.split(":")[0]) == (0, "nothing to change")


def test_dry_run_prints_the_diff_and_writes_nothing(chdir, cli):
    build_case(chdir, "kustomize-comments")
    path = chdir / "clusters/production/web/kustomization.yaml"
    before = path.read_bytes()
    code, out, err = cli(
        "set-image",
        "web",
        "--env",
        "production",
        f"registry.example.com/web:v9.0.0@{DIGEST}",
        "--dry-run",
    )
    assert code == 0, err
    assert path.read_bytes() == before
    assert '+    -   newTag: "v9.0.0"     # keep quoted' in out
    assert f'+        digest: "{DIGEST}"' in out
    assert "dry run" in err
    assert (
        cli(
            "set-image",
            "web",
            "--env",
            "production",
            "r.example.com/web:v1.0.0",
            "--write",
            "--dry-run",
        )[0]
        == 2
    )


KUSTOMIZATION_NO_IMAGES = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../../apps/web  # base
"""

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: web
"""


def test_an_entry_is_added_where_there_is_none(chdir, cli):
    (chdir / "apps/web").mkdir(parents=True)
    (chdir / "apps/web/kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (chdir / "apps/web/deployment.yaml").write_text(BASE)
    for env in ("staging", "production"):
        (chdir / f"clusters/{env}/web").mkdir(parents=True)
        (chdir / f"clusters/{env}/web/kustomization.yaml").write_text(KUSTOMIZATION_NO_IMAGES)
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v1.0.0", "--write"
    )
    assert code == 0, err
    assert (chdir / "clusters/staging/web/kustomization.yaml").read_text() == (
        KUSTOMIZATION_NO_IMAGES
        + "images:\n- name: web\n  newName: registry.example.com/web\n  newTag: v1.0.0\n"
    )
    # a second image is appended to the list, indented like its entries
    code, _, err = cli(
        "set-image", "web", "--env", "staging", f"registry.example.com/sidecar@{DIGEST}", "--write"
    )
    assert code == 0, err
    assert (
        (chdir / "clusters/staging/web/kustomization.yaml")
        .read_text()
        .endswith(f"  newTag: v1.0.0\n- name: registry.example.com/sidecar\n  digest: {DIGEST}\n")
    )
    # production was not touched
    assert (
        chdir / "clusters/production/web/kustomization.yaml"
    ).read_text() == KUSTOMIZATION_NO_IMAGES


def test_set_image_refuses_what_the_environment_policy_forbids(chdir, cli):
    build_case(chdir, "kustomize-comments")
    (chdir / "policies").mkdir()
    (chdir / "policies/gitops-guard.yaml").write_text(
        "version: 1\nenvironments:\n  production:\n    images:\n      require_digest: true\n"
    )
    path = chdir / "clusters/production/web/kustomization.yaml"
    before = path.read_bytes()
    code, _, err = cli(
        "set-image", "web", "--env", "production", "registry.example.com/web:v2.0.0", "--write"
    )
    assert code == 1
    assert "refused" in err and "image/digest-required" in err and "production" in err
    assert path.read_bytes() == before
    # staging has no such override
    code, _, err = cli(
        "set-image", "web", "--env", "staging", "registry.example.com/web:v2.0.0", "--write"
    )
    assert code == 0, err


def test_set_image_usage_and_refusals(chdir, cli):
    build_case(chdir, "kustomize-comments")
    assert cli("set-image", "web", "--env", "qa", "registry.example.com/web:v1.0.0")[0] == 2
    code, _, err = cli("set-image", "web", "--env", "staging", "Not A Ref")
    assert code == 2 and "IMAGE" in err
    code, _, err = cli("set-image", "nope", "--env", "staging", "registry.example.com/web:v1.0.0")
    assert code == 1 and "app 'nope' has no overlay in staging (its apps: web)" in err
    assert cli("set-image", "web", "registry.example.com/web:v1.0.0")[0] == 2  # --env is required


def test_argo_cd_helm_parameters_are_set_in_place(chdir, cli):
    app = """\
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
      - name: image.repository
        value: registry.example.com/web
      - name: image.tag
        value: "v1.0.0"   # set by CI
"""
    (chdir / "clusters/staging/argocd").mkdir(parents=True)
    (chdir / "clusters/staging/argocd/web.yaml").write_text(app)
    code, _, err = cli(
        "set-image", "argocd", "--env", "staging", "registry.example.com/web:v1.1.0", "--write"
    )
    assert code == 0, err
    assert (chdir / "clusters/staging/argocd/web.yaml").read_text() == app.replace(
        '"v1.0.0"', '"v1.1.0"'
    )
    # a parameter that does not exist is not invented
    code, _, err = cli(
        "set-image",
        "argocd",
        "--env",
        "staging",
        f"registry.example.com/web:v1.1.0@{DIGEST}",
        "--write",
    )
    assert code == 1 and "by hand" in err

"""appofapps: waved child Applications need the Application health check in argocd-cm."""

from __future__ import annotations

import pytest
from gitops_guard.checks.syncwaves import appofapps
from gitops_guard.core.documents import load_file
from gitops_guard.repo.repository import Repository

CHILD = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: child
  annotations:
    argocd.argoproj.io/sync-wave: "2"
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n"


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _check(tmp_path, cm: str | None):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "child.yaml").write_text(CHILD)
    if cm is not None:
        (root / "argocd-cm.yaml").write_text(cm)
    sources = [load_file(str(root / "child.yaml"))]
    return appofapps.check(Repository(root, sources), sources)


def test_no_argocd_cm_in_the_repository_says_nothing(tmp_path):
    assert _check(tmp_path, None) == []


def test_argocd_cm_without_the_health_check(tmp_path):
    (finding,) = _check(tmp_path, CM + '  url: "https://argocd.example.com"\n')
    assert (finding.rule, finding.line, finding.column) == ("sync/app-health-missing", 4, 9)
    assert finding.path.endswith("argocd-cm.yaml")
    assert finding.message.startswith("1 child Application carries a sync-wave (child)")


def test_one_finding_per_argocd_cm_with_the_count_not_one_per_child(tmp_path):
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    children = "".join("---\n" + CHILD.replace("name: child", f"name: child-{i}") for i in range(7))
    (root / "apps" / "children.yaml").write_text(children)
    (root / "argocd-cm.yaml").write_text(CM + '  url: "https://argocd.example.com"\n')
    sources = [load_file(str(root / "apps" / "children.yaml"))]
    (finding,) = appofapps.check(Repository(root, sources), sources)
    assert finding.message.startswith(
        "7 child Applications carry a sync-wave (child-0, child-1, child-2, child-3, "
        "child-4 and 2 more)"
    )


@pytest.mark.parametrize(
    "data",
    [
        "  resource.customizations.health.argoproj.io_Application: |\n    return {}\n",
        "  resource.customizations: |\n    argoproj.io/Application:\n      health.lua: |\n"
        "        return {}\n",
    ],
)
def test_either_form_of_the_health_check(tmp_path, data):
    assert _check(tmp_path, CM + data) == []


def _check_with(tmp_path, extra: dict[str, str]):
    """A vendored argocd-cm without the check, and files that may add it as argocd-cm is built."""
    root = tmp_path / "repo"
    for rel, text in {"argocd-cm.yaml": CM + '  url: "https://a.example.com"\n', **extra}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "child.yaml").write_text(CHILD)
    sources = [load_file(str(root / "child.yaml"))]
    return appofapps.check(Repository(root, sources), sources)


KUSTOMIZATION = "resources:\n  - argocd-cm.yaml\n"
GENERATOR = KUSTOMIZATION + (
    "configMapGenerator:\n  - name: argocd-cm\n    behavior: merge\n    files:\n"
    "      - resource.customizations.health.{}=health.lua\n"
)
INLINE_PATCH = KUSTOMIZATION + (
    "patches:\n  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n      metadata:\n"
    "        name: argocd-cm\n      data:\n        resource.customizations: |\n"
    "          {}:\n            health.lua: |\n              return {{}}\n"
)
OPERATOR = (
    "apiVersion: argoproj.io/v1beta1\nkind: ArgoCD\nmetadata:\n  name: argocd\nspec:\n"
    "  resourceHealthChecks:\n    - group: {}\n      kind: {}\n      check: |\n"
    "        return {{}}\n  server:\n    insecure: true\n"
)
HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"
LITERALS = KUSTOMIZATION + (
    "configMapGenerator:\n  - name: argocd-cm\n    behavior: merge\n    literals:\n"
    f"      - {HEALTH_KEY}=hs = {{}} return hs\n"
)
GENERATOR_FILE = KUSTOMIZATION + (
    "configMapGenerator:\n  - name: argocd-cm\n    behavior: merge\n    files:\n"
    f"      - health/{HEALTH_KEY}\n"
)
JSON_PATCH = f"- op: add\n  path: /data/{HEALTH_KEY}\n  value: return {{}}\n"
#: the operator's ArgoCD resource as Helm values of a chart that makes it (a string)
OPERATOR_IN_VALUES = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: argocd\n"
    "spec:\n  source:\n    chart: gitops-operator\n    helm:\n      values: |\n"
    "        argocd_cr:\n          resourceHealthChecks:\n            - group: argoproj.io\n"
    "              kind: Application\n              check: |\n                return {}\n"
)


@pytest.mark.parametrize(
    "extra",
    [
        {"kustomization.yaml": GENERATOR.format("argoproj.io_Application")},
        {"kustomization.yaml": INLINE_PATCH.format("argoproj.io/Application")},
        {"argocd.yaml": OPERATOR.format("argoproj.io", "Application")},
        {"bootstrap/argocd.yaml": OPERATOR_IN_VALUES},
        {
            "values.yaml": "configs:\n  cm:\n    resource.customizations.health.argoproj.io_"
            "Application: |\n      return {}\n"
        },
        # kustomize api/kv: a literals entry is KEY=VALUE, a files entry's key its base name
        {"kustomization.yaml": LITERALS},
        {"kustomization.yaml": f"# {HEALTH_KEY}: Applications get a health\n" + LITERALS},
        {"kustomization.yaml": GENERATOR_FILE},
        {"patch.yaml": JSON_PATCH},
    ],
    ids=[
        "generator",
        "inline-patch",
        "operator",
        "operator-in-values",
        "helm-values",
        "literals",
        "literals-after-comment",
        "generator-file",
        "json-patch",
    ],
)
def test_the_check_added_as_argocd_cm_is_built_is_no_finding(tmp_path, extra):
    # kustomize merges a configMapGenerator (behavior: merge) or a patch into the vendored
    # argocd-cm; argocd-operator writes spec.resourceHealthChecks into argocd-cm
    assert _check_with(tmp_path, extra) == []


@pytest.mark.parametrize(
    "extra",
    [
        {"kustomization.yaml": GENERATOR.format("cert-manager.io_Certificate")},
        {"kustomization.yaml": INLINE_PATCH.format("cert-manager.io/Certificate")},
        {"argocd.yaml": OPERATOR.format("cert-manager.io", "Certificate")},
        {"notes.yaml": "data:\n  health.lua: x\nkind: Application\n"},
        # the key in a comment or a sentence writes nothing into argocd-cm
        {"NOTES.yaml": f"# TODO: add {HEALTH_KEY}\n"},
        {"kustomization.yaml": LITERALS.replace("  - resource", "  # - resource")},
        {"values.yaml": f"configs:\n  cm:\n    url: https://a.example.com  # {HEALTH_KEY}: x\n"},
        {"values.yaml": f"description: add {HEALTH_KEY} to argocd-cm\n"},
    ],
    ids=[
        "generator",
        "inline-patch",
        "operator",
        "unrelated",
        "todo-comment",
        "commented-literal",
        "trailing-comment",
        "sentence",
    ],
)
def test_a_check_for_another_kind_still_leaves_applications_unjudged(tmp_path, extra):
    (finding,) = _check_with(tmp_path, extra)
    assert finding.rule == "sync/app-health-missing"

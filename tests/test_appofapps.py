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

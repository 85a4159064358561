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
    assert (finding.rule, finding.line, finding.column) == ("sync/app-health-missing", 6, 35)
    assert "argocd-cm.yaml" in finding.message


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

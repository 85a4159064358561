"""check-manifests over the real repositories, run the way CI runs it: every finding reviewed.

Each repository of the corpus is copied, committed, and checked on ``git ls-files`` with the
default policy. Every error and warning is pinned in ``tests/data/corpus/check-manifests.txt``
(reviewed there, one comment per group); info findings (kinds without a schema, charts from
Helm repositories, remote bases) are counted, not pinned. Renders are cached by their inputs
relative to the repository, so only the first run of the suite renders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CORPUS_REPOS, DATA, commit_copy, git
from gitops_guard.render import engines

REPOS = CORPUS_REPOS
REVIEWED = DATA / "corpus" / "check-manifests.txt"

pytestmark = [
    pytest.mark.skipif(not REPOS, reason="real-world corpus not present"),
    pytest.mark.skipif(engines.kustomize() is None, reason="neither kustomize nor kubectl"),
    pytest.mark.skipif(engines.helm() is None, reason="helm is not installed (.ci/install-helm)"),
]


def reviewed() -> set[tuple[str, int, str]]:
    found = set()
    for line in REVIEWED.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            where, rule = line.split(" ")[:2]
            path, number = where.rsplit(":", 1)
            found.add((path, int(number), rule))
    return found


def test_the_corpus_reports_exactly_the_reviewed_findings(cli, monkeypatch, tmp_path):
    got: set[tuple[str, int, str]] = set()
    infos = 0
    for repo in REPOS:
        copy = commit_copy(repo, tmp_path / repo.name)
        monkeypatch.chdir(copy)
        files = git(copy, "ls-files").stdout.splitlines()
        code, out, err = cli("check-manifests", "--format", "json", *files)
        assert err == "", repo.name
        findings = json.loads(out)["findings"]
        errors = [f for f in findings if f["severity"] == "error"]
        assert code == (1 if errors else 0), repo.name
        for f in findings:
            if f["severity"] == "info":
                infos += 1
                continue
            got.add((f"{repo.name}/{f['path']}".replace(os.sep, "/"), f["line"], f["rule"]))
    assert got == reviewed()
    assert infos > 100  # the kinds without a schema are said, not silently skipped


def test_every_corpus_object_a_render_produced_is_attributed_to_a_file(monkeypatch):
    """Each rendered object of a kustomize render knows the file it came from (the origin
    annotation of the wrapper kustomization), and that file exists in the repository."""
    from gitops_guard.render.build import Renderer
    from gitops_guard.render.units import KUSTOMIZE, Plan
    from gitops_guard.repo.repository import Repository

    repo_root = next(p for p in REPOS if p.name == "gitops-istio")
    monkeypatch.chdir(repo_root)
    plan = Plan(Repository(str(repo_root))).build()
    units = [u for u in plan.units if u.kind == KUSTOMIZE][:3]
    assert units
    for result in Renderer(lambda _u: "1.33", str(repo_root)).render_all(units):
        assert result.error is None, result.error
        assert result.objects
        for obj in result.objects:
            assert obj.origin is not None and Path(obj.origin).is_file(), obj.label()

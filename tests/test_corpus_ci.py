"""check-images and check-sync-waves over every corpus repository, run the way CI runs them.

Each repository of ``../shared/corpus/repos/`` and ``realworld/`` is copied, committed and
checked on ``git ls-files`` (what ``pre-commit run --all-files`` passes), with the default
policy. The findings are pinned in ``tests/data/corpus/ci-check-images.txt`` and
``ci-check-sync-waves.txt``, each reviewed there: a new one (noise) or a lost one fails, and so
does a crash, a usage error or anything on stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CORPUS_REPOS, DATA, commit_copy, git

REPOS = CORPUS_REPOS

pytestmark = pytest.mark.skipif(not REPOS, reason="real-world corpus not present")


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ci-corpus")
    copies = {}
    for repo in REPOS:
        copy = commit_copy(repo, out / repo.name, symlinks=True)
        copies[repo.name] = copy
    return copies


def _pinned(name: str) -> list[str]:
    text = (DATA / "corpus" / name).read_text(encoding="utf-8")
    return sorted(line for line in text.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize(
    ("command", "pin"),
    [("check-images", "ci-check-images.txt"), ("check-sync-waves", "ci-check-sync-waves.txt")],
)
def test_every_corpus_repository_reports_exactly_the_reviewed_findings(
    cli, monkeypatch, committed, command, pin
):
    got = []
    for name, copy in committed.items():
        monkeypatch.chdir(copy)
        monkeypatch.setenv("XDG_CACHE_HOME", str(copy.parent / ".cache"))
        files = git(copy, "ls-files").stdout.splitlines()
        code, out, err = cli(command, "--format", "json", *files)
        assert err == "", name
        findings = json.loads(out)["findings"]
        assert code == (1 if any(f["severity"] == "error" for f in findings) else 0), name
        got.extend(
            f"{name}/{f['path']}:{f['line']} {f['rule']} {f['severity']}".replace(os.sep, "/")
            for f in findings
        )
    assert sorted(got) == _pinned(pin)

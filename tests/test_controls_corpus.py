"""check-controls over the real repositories, run the way CI runs it: every finding reviewed.

Each repository of the corpus is copied, committed, and checked on ``git ls-files``, once with
the default policy (no ``controls:`` section) and once with every control enforced everywhere
(``enforce: true, telemetry: true``). The default reports nothing on any of them: none has a
production-like environment folder with a missing control, and the default holds only those
to the controls. The strict run's findings are pinned in
``tests/data/corpus/check-controls-strict.txt`` (reviewed there).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CORPUS_REPOS, DATA, commit_copy, git

REPOS = CORPUS_REPOS
REVIEWED = DATA / "corpus" / "check-controls-strict.txt"
STRICT = "version: 1\ncontrols:\n  enforce: true\n  telemetry: true\n"

pytestmark = pytest.mark.skipif(not REPOS, reason="real-world corpus not present")


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("controls-corpus")
    copies = {}
    for repo in REPOS:
        copy = commit_copy(repo, out / repo.name)
        copies[repo.name] = copy
    return copies


def run(cli, monkeypatch, copy: Path, *options: str) -> tuple[int, list[dict]]:
    monkeypatch.chdir(copy)
    files = git(copy, "ls-files").stdout.splitlines()
    code, out, err = cli(*options, "check-controls", "--format", "json", *files)
    assert err == ""
    return code, json.loads(out)["findings"]


def test_the_default_policy_reports_nothing_on_the_corpus(cli, monkeypatch, committed):
    for name, copy in committed.items():
        code, findings = run(cli, monkeypatch, copy)
        controls = [f for f in findings if f["rule"].startswith("control/")]
        assert controls == [], name
        assert code == (1 if any(f["severity"] == "error" for f in findings) else 0)


def reviewed() -> set[tuple[str, int, str]]:
    found = set()
    for line in REVIEWED.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            where, rule = line.split(" ")[:2]
            path, number = where.rsplit(":", 1)
            found.add((path, int(number), rule))
    return found


def test_every_control_enforced_reports_exactly_the_reviewed_findings(
    cli, monkeypatch, committed, tmp_path
):
    policy = tmp_path / "strict.yaml"
    policy.write_text(STRICT)
    got: set[tuple[str, int, str]] = set()
    count = 0
    for name, copy in committed.items():
        _, findings = run(cli, monkeypatch, copy, "--policy", str(policy))
        for f in findings:
            if f["rule"].startswith("control/"):
                path = f"{name}/{f['path']}".replace(os.sep, "/")
                got.add((path, f["line"], f["rule"]))
                count += 1
    assert got == reviewed()
    # one finding per object, rule and environment: the message names the environment
    assert count >= len(got)

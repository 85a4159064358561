"""check-secrets over the three whole real repositories, run the way CI runs it.

Each repository of ``corpus/repos`` (a Flux home-lab with 1Password references through
External Secrets, Istio + Flagger, Flux multi-tenancy) is copied, committed, and checked on
``git ls-files``. None of them commits a credential: every error or warning would be a false
alarm their maintainers would reject (issue 10 counted them by class: secret-store
references, credential words in names, ExternalSecret keys, lists of ids, a JSONC namespace
map, PyYAML's duplicate-anchor error). Info findings (binary images, not scanned) are allowed.
The realworld corpus, which does commit example Secrets, is pinned in tests/test_corpus.py.
"""

from __future__ import annotations

import json

import pytest
from conftest import SHARED_CORPUS, commit_copy, git

REPOS = sorted(p for p in (SHARED_CORPUS / "repos").glob("*") if p.is_dir())

pytestmark = pytest.mark.skipif(not REPOS, reason="real-world corpus not present")


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_a_real_repository_without_credentials_gets_no_finding(repo, cli, monkeypatch, tmp_path):
    copy = commit_copy(repo, tmp_path / repo.name)
    monkeypatch.chdir(copy)
    files = git(copy, "ls-files").stdout.splitlines()
    assert len(files) > 20
    code, out, err = cli("check-secrets", "--format", "json", "--", *files)
    assert err == ""
    findings = json.loads(out)["findings"]
    loud = [f"{f['path']}:{f['line']} {f['rule']}" for f in findings if f["severity"] != "info"]
    assert loud == []
    assert code == 0

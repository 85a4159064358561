"""The baseline file: detect-secrets' format, audit marks kept, other files' entries kept."""

from __future__ import annotations

import json

import pytest
from gitops_guard.checks.secrets import baseline as sb


def entry(name: str, digest: str, line: int = 1) -> dict:
    return {
        "type": "Secret Keyword",
        "filename": name,
        "hashed_secret": digest,
        "is_verified": False,
        "line_number": line,
    }


def test_update_keeps_audit_marks_and_unscanned_files(tmp_path):
    old = sb.Baseline(
        "b",
        {
            "results": {
                "a.yaml": [{**entry("a.yaml", "h1"), "is_secret": False}, entry("a.yaml", "h2")],
                "other.yaml": [entry("other.yaml", "h9")],
            }
        },
    )
    new = sb.updated(
        old,
        ["a.yaml"],
        {"a.yaml": [entry("a.yaml", "h1", 5), entry("a.yaml", "h3", 2)]},
        {"plugins_used": [{"name": "KeywordDetector"}], "filters_used": []},
    )
    assert new["results"]["a.yaml"] == [
        entry("a.yaml", "h3", 2),
        {**entry("a.yaml", "h1", 5), "is_secret": False},
    ]
    assert new["results"]["other.yaml"] == [entry("other.yaml", "h9")]
    assert new["version"] and new["generated_at"].endswith("Z")


def test_a_scanned_file_without_secrets_leaves_the_baseline():
    old = sb.Baseline("b", {"results": {"a.yaml": [entry("a.yaml", "h1")]}})
    new = sb.updated(old, ["./a.yaml"], {}, {})
    assert new["results"] == {}


def test_hashes_are_looked_up_by_normalised_path():
    base = sb.Baseline("b", {"results": {"apps/a.yaml": [entry("apps/a.yaml", "h1")]}})
    assert base.hashes("./apps/a.yaml") == {"h1"}
    assert base.hashes("apps/b.yaml") == set()


@pytest.mark.parametrize(
    ("text", "reason"),
    [("{not json", "invalid JSON"), ('{"results": []}', "no 'results' mapping"), ("[]", "no")],
)
def test_bad_baselines_are_refused(tmp_path, text, reason):
    path = tmp_path / ".secrets.baseline"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sb.BaselineError, match=reason):
        sb.load(str(path))


def test_write_is_atomic_json(tmp_path):
    path = tmp_path / ".secrets.baseline"
    sb.write(str(path), {"results": {}})
    assert json.loads(path.read_text(encoding="utf-8")) == {"results": {}}
    assert [p.name for p in tmp_path.iterdir()] == [".secrets.baseline"]

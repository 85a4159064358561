"""check-images over the real-world corpus: no crash, and exactly the findings we reviewed.

Every finding listed in ``tests/data/corpus/check-images.txt`` was read and is a real
violation of the default policy (seed rule: ``vX.Y.Z`` tags, no ``latest``, any registry):
``:latest`` tags, untagged images, tags like ``1.7.2`` / ``8.3`` / ``5.0.0.Final`` that are
not ``vX.Y.Z``, and templated references (a Tekton ``$(params.X)``, a ``__REPLACE__``
placeholder) that cannot be checked. A new finding (a false positive) or a lost one fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CORPUS, DATA
from gitops_guard.checks.images.check import sites
from gitops_guard.core.documents import load_file
from gitops_guard.core.rules import RULES

SEVERITY = {rule_id: rule.severity for rule_id, rule in RULES.items()}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="real-world corpus not present")

REVIEWED = DATA / "corpus" / "check-images.txt"
REVIEWED_SECRETS = DATA / "corpus" / "check-secrets.txt"


def reviewed(listing: Path = REVIEWED) -> set[tuple[str, int, str]]:
    found = set()
    for line in listing.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            where, rule = line.split(" ")
            path, number = where.rsplit(":", 1)
            found.add((path, int(number), rule))
    return found


@pytest.mark.parametrize(
    ("command", "listing"),
    [
        ("check-images", REVIEWED),
        # plain Secrets, literal passwords in env vars and CRs, two secretGenerator literals
        ("check-secrets", REVIEWED_SECRETS),
    ],
)
def test_the_corpus_reports_exactly_the_reviewed_findings(cli, chdir, command, listing):
    """A lost finding or a new one (noise) fails: each listing was reviewed line by line."""
    code, out, err = cli(command, "--format", "json", str(CORPUS))
    assert err == ""
    assert code == 1
    findings = json.loads(out)["findings"]
    got = {
        (os.path.relpath(f["path"], CORPUS).replace(os.sep, "/"), f["line"], f["rule"])
        for f in findings
    }
    assert got == reviewed(listing)
    assert len(findings) == len(got)  # nothing reported twice
    # each at its rule's own severity (image/unresolvable is a warning: a templated image)
    assert {(f["rule"], f["severity"]) for f in findings} == {
        (f["rule"], SEVERITY[f["rule"]]) for f in findings
    }


def test_every_corpus_file_loads_without_a_problem_or_crash():
    paths = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(paths) > 1000
    problems = []
    count = 0
    for path in paths:
        source = load_file(path)
        problems.extend(p for p in source.problems if p.rule not in ("yaml/empty",))
        count += sum(1 for _ in sites(source))
    assert problems == []
    assert count >= 50  # the corpus really holds images, and we really find them

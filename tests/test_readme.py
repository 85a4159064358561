"""The README's rule table and the code's rule table cannot drift apart."""

from __future__ import annotations

import re

from conftest import ROOT
from gitops_guard.core.rules import RULES

ROW = re.compile(r"^\| `([a-z]+/[a-z0-9-]+)` \| (\w+) \| (.+) \|$", re.MULTILINE)


def readme_rules() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(text)}


def test_every_rule_is_in_the_readme_with_its_severity_and_summary():
    documented = readme_rules()
    for rule in RULES.values():
        assert rule.id in documented, f"{rule.id} missing from the README rule table"
        assert documented[rule.id] == (rule.severity, rule.summary), rule.id


def test_the_readme_documents_no_rule_the_code_lacks():
    assert set(readme_rules()) - set(RULES) == set()


def test_rules_have_area_ids_and_docs():
    areas = {"image", "secret", "sync", "promotion", "policy", "yaml"}
    for rule in RULES.values():
        assert rule.id.split("/")[0] in areas, rule.id
        assert rule.summary.endswith("."), rule.id
        assert rule.severity in ("error", "warning", "info"), rule.id


def test_quickstart_shows_the_two_commands_and_ci_runs_the_test_one():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "gitops-guard demo" in text
    test_command = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
    )
    assert test_command in text
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_and_option_is_documented():
    """A README section lost in a merge (it happened once) fails here, not in a user's hands."""
    from gitops_guard.cli import COMMANDS, build_parser

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"`{command}" in text or f"gitops-guard {command}" in text, command
        parser, _ = build_parser(command)
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in text, f"{command} {option} is not in the README"

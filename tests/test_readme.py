"""The README (for adopters) and the reference pages under docs/ cannot drift from the code:
the rule table, every command and option, the quickstart, and the links between them."""

from __future__ import annotations

import re

from conftest import DOCS, ROOT, docs_text
from gitops_guard.core.rules import RULES

ROW = re.compile(r"^\| `([a-z]+/[a-z0-9-]+)` \| (\w+) \| (.+) \|$", re.MULTILINE)
README = ROOT / "README.md"


def documented_rules() -> dict[str, tuple[str, str]]:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    return {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(text)}


def test_every_rule_is_in_the_rule_table_with_its_severity_and_summary():
    documented = documented_rules()
    for rule in RULES.values():
        assert rule.id in documented, f"{rule.id} missing from the rule table in docs/rules.md"
        assert documented[rule.id] == (rule.severity, rule.summary), rule.id


def test_the_rule_table_documents_no_rule_the_code_lacks():
    assert set(documented_rules()) - set(RULES) == set()


def test_a_rule_row_missing_from_the_table_is_noticed(tmp_path):
    """The table parser sees a real row, and a removed row is one rule fewer (the check bites)."""
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    some = next(iter(RULES.values()))
    row = f"| `{some.id}` | {some.severity} | {some.summary} |\n"
    assert row in text
    assert some.id not in {m.group(1) for m in ROW.finditer(text.replace(row, ""))}


def test_rules_have_area_ids_and_docs():
    areas = {"image", "secret", "sync", "promotion", "policy", "yaml", "render", "control"}
    for rule in RULES.values():
        assert rule.id.split("/")[0] in areas, rule.id
        assert rule.summary.endswith("."), rule.id
        assert rule.severity in ("error", "warning", "info"), rule.id


def test_quickstart_shows_the_two_commands_and_ci_runs_the_test_one():
    text = README.read_text(encoding="utf-8")
    assert "gitops-guard demo" in text
    test_command = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
    )
    assert test_command in text
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_and_option_is_documented():
    """A section lost in a merge (it happened once) fails here, not in a user's hands."""
    from gitops_guard.cli import COMMANDS, build_parser

    text = docs_text()
    for command in COMMANDS:
        assert f"`{command}" in text or f"gitops-guard {command}" in text, command
        parser, _ = build_parser(command)
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in text, f"{command} {option} is not documented"


def test_the_readme_is_for_adopters_install_and_new_come_first():
    """A screen of what and why, then install (not a contributor's clone), then `new`."""
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) < 200, "reference belongs in docs/, the README is for adopters"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[0] == "## Install", headings
    assert "pipx install git+https://" in text and 'pip install "gitops-guard @ git+' in text
    first_new = next(i for i, line in enumerate(lines) if "gitops-guard new" in line)
    assert first_new < 80, f"`gitops-guard new` first appears at line {first_new + 1}"
    assert "repos:\n  - repo: " in text  # the pre-commit configuration to copy


def test_every_link_to_a_page_of_the_repository_resolves():
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_every_reference_page_is_linked_from_the_readme():
    text = README.read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        assert f"(docs/{page.name})" in text, f"docs/{page.name} is not linked from the README"

"""The Finding record, suppression comments, and the exit code the CLI derives from findings.

Checks return findings and never print or exit; the CLI turns them into a report and an exit
code. Keeping that split is what lets every hook share one reporter and one suppression rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

#: ``# gitops-guard: ignore`` or ``# gitops-guard: ignore[rule/a, rule/b]``
SUPPRESS = re.compile(r"#\s*gitops-guard:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    rule: str
    message: str = field(compare=False)
    #: None means "the rule's default severity" (resolved by :func:`resolve_severity`)
    severity: str | None = field(default=None, compare=False)

    def with_severity(self, severity: str) -> Finding:
        return Finding(self.path, self.line, self.column, self.rule, self.message, severity)


def _suppressed_rules(line: str) -> set[str] | None:
    """Rules a line's comment suppresses: None (no comment), empty set (all), or ids."""
    if "gitops-guard" not in line:
        return None
    match = SUPPRESS.search(line)
    if match is None:
        return None
    if match.group(1) is None:
        return set()
    return {part.strip() for part in match.group(1).split(",") if part.strip()}


def is_suppressed(finding: Finding, lines: list[str]) -> bool:
    """A comment on the finding's line or the line directly above it silences it."""
    for number in (finding.line, finding.line - 1):
        if 1 <= number <= len(lines):
            rules = _suppressed_rules(lines[number - 1])
            if rules is not None and (not rules or finding.rule in rules):
                return True
    return False


def filter_suppressed(findings: Iterable[Finding], lines: list[str]) -> list[Finding]:
    if not any("gitops-guard" in line for line in lines):
        return list(findings)
    return [f for f in findings if not is_suppressed(f, lines)]


def exit_code(findings: Iterable[Finding]) -> int:
    """0 when nothing is at error severity, 1 otherwise (2 is for usage errors, in the CLI)."""
    return 1 if any(f.severity == ERROR for f in findings) else 0

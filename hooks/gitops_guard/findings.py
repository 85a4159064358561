"""The Finding record, suppression comments, and the exit code the CLI derives from findings.

Checks return findings and never print or exit; the CLI turns them into a report and an exit
code. Keeping that split is what lets every hook share one reporter and one suppression rule.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing costs a commit hook ~4 ms of start-up
if TYPE_CHECKING:
    from collections.abc import Iterable

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

#: ``# gitops-guard: ignore`` or ``# gitops-guard: ignore[rule/a, rule/b]``
SUPPRESS = re.compile(r"#\s*gitops-guard:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


class Finding:
    """One problem at one place. Immutable, ordered by (path, line, column, rule).

    A plain class rather than a dataclass: importing dataclasses costs a commit hook ~10 ms.
    """

    __slots__ = ("column", "line", "message", "path", "rule", "severity")

    def __init__(
        self,
        path: str,
        line: int,
        column: int,
        rule: str,
        message: str = "",
        severity: str | None = None,
    ) -> None:
        #: severity None means "the rule's default" (resolved by the CLI)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "severity", severity)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Finding is immutable")

    def _key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self._key() == other._key() and self.message == other.message

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Finding) -> bool:
        return self._key() < other._key()

    def __repr__(self) -> str:
        return (
            f"Finding({self.path!r}, {self.line}, {self.column}, {self.rule!r}, "
            f"{self.message!r}, {self.severity!r})"
        )

    def with_severity(self, severity: str) -> Finding:
        return Finding(self.path, self.line, self.column, self.rule, self.message, severity)


def _suppressed_rules(line: str) -> set[str] | None:
    """Rules a line's comment suppresses: None (no comment), empty set (all), or ids."""
    if "gitops-guard" not in line.lower():
        return None
    match = SUPPRESS.search(line)
    if match is None:
        return None
    if match.group(1) is None:
        return set()
    return {part.strip() for part in match.group(1).split(",") if part.strip()}


def is_suppressed(finding: Finding, lines: list[str]) -> bool:
    """A comment on the finding's line, or a comment line directly above it, silences it.

    The line above counts only when it is nothing but a comment: a trailing comment that
    silences its own line must not silence the next one too.
    """
    for number in (finding.line, finding.line - 1):
        if 1 <= number <= len(lines):
            text = lines[number - 1]
            if number != finding.line and not text.lstrip().startswith("#"):
                continue
            rules = _suppressed_rules(text)
            if rules is not None and (not rules or finding.rule in rules):
                return True
    return False


def filter_suppressed(findings: Iterable[Finding], lines: list[str]) -> list[Finding]:
    if not any("gitops-guard" in line.lower() for line in lines):
        return list(findings)
    return [f for f in findings if not is_suppressed(f, lines)]


def exit_code(findings: Iterable[Finding]) -> int:
    """0 when nothing is at error severity, 1 otherwise (2 is for usage errors, in the CLI)."""
    return 1 if any(f.severity == ERROR for f in findings) else 0

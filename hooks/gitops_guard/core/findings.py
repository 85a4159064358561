"""The Finding record, suppression comments, and the exit code the CLI derives from findings.

Checks return findings and never print or exit; the CLI turns them into a report and an exit
code. Keeping that split is what lets every hook share one reporter and one suppression rule.
"""

from __future__ import annotations

import re

# how messages quote inputs lives in core/quoting.py (also for output that is no finding)
from gitops_guard.core.quoting import (  # noqa: F401 (re-exported)
    LIST_ITEMS,
    MESSAGE_CHARS,
    QUOTE_CHARS,
    bounded,
    one_line,
    quote,
    quote_list,
    shown,
)

TYPE_CHECKING = False  # typing costs a commit hook ~4 ms of start-up
if TYPE_CHECKING:
    from collections.abc import Iterable

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

#: ``# gitops-guard: ignore`` or ``# gitops-guard: ignore[rule/a, rule/b]``
SUPPRESS = re.compile(r"#\s*gitops-guard:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


#: a file name as a text line shows it (a newline in the name escaped)
printable_path = one_line


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
        # one input can be megabytes: every message is bounded, whoever built it
        if len(message) > MESSAGE_CHARS:
            message = bounded(message)
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


#: files read as YAML (JSON is YAML): there only a real comment suppresses, not text inside
#: a string or a block scalar; in any other text file every ``#`` comment counts
_PARSED_SUFFIXES = (".yaml", ".yml", ".json")


def suppressions(lines: list[str], path: str = "") -> dict[int, set[str]]:
    """Line number -> the rules its suppression comment silences (empty set: every rule).

    Only real comments count: in a YAML file, ``# gitops-guard: ignore`` inside a quoted
    string or a block scalar (a script in ``args: |``) is data, not a comment.
    """
    table: dict[int, set[str]] = {}
    scalars: list[tuple[int, int, int, int]] | None = None
    for number, line in enumerate(lines, 1):
        if "gitops-guard" not in line.lower():
            continue
        for match in SUPPRESS.finditer(line):
            if scalars is None:
                scalars = _scalar_spans(lines, path)
            if _inside(scalars, number - 1, match.start()):
                continue
            ids = match.group(1)
            table[number] = (
                set() if ids is None else {p.strip() for p in ids.split(",") if p.strip()}
            )
            break
    return table


def _scalar_spans(lines: list[str], path: str) -> list[tuple[int, int, int, int]]:
    """(line, column) start and end, 0-based, of every scalar of a YAML file; [] otherwise.

    Scanned only for files that mention gitops-guard. A block scalar's first line holds
    its indicator and may hold a real comment; its text starts on the next line. Past a
    syntax error nothing is known, and every comment there counts.
    """
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if not name.endswith(_PARSED_SUFFIXES) and name != "Kustomization":
        return []
    import yaml

    spans: list[tuple[int, int, int, int]] = []
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class("\n".join(lines) + "\n")
    try:
        while True:
            token = loader.get_token()
            if token is None:
                break
            if isinstance(token, yaml.ScalarToken):
                start, end = token.start_mark, token.end_mark
                if token.style in ("|", ">"):
                    spans.append((start.line + 1, 0, end.line, end.column))
                else:
                    spans.append((start.line, start.column, end.line, end.column))
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return spans


def _inside(spans: list[tuple[int, int, int, int]], line: int, column: int) -> bool:
    return any((sl, sc) <= (line, column) < (el, ec) for sl, sc, el, ec in spans)


def is_suppressed(
    finding: Finding, lines: list[str], table: dict[int, set[str]] | None = None
) -> bool:
    """A comment on the finding's line, or a comment line directly above it, silences it.

    The line above counts only when it is nothing but a comment: a trailing comment that
    silences its own line must not silence the next one too.
    """
    if table is None:
        table = suppressions(lines, finding.path)
    for number in (finding.line, finding.line - 1):
        rules = table.get(number)
        if rules is None:
            continue
        if number != finding.line and not lines[number - 1].lstrip().startswith("#"):
            continue
        if not rules or finding.rule in rules:
            return True
    return False


def filter_suppressed(findings: Iterable[Finding], lines: list[str]) -> list[Finding]:
    """The findings no suppression comment silences (the findings of one file)."""
    findings = list(findings)
    if not findings or not any("gitops-guard" in line.lower() for line in lines):
        return findings
    table = suppressions(lines, findings[0].path)
    return [f for f in findings if not is_suppressed(f, lines, table)]


def suppressing_comment(
    finding: Finding, lines: list[str], table: dict[int, set[str]]
) -> tuple[int, str] | None:
    """The comment that silences a finding, as (line, rule id or "" for a bare ignore)."""
    for number in (finding.line, finding.line - 1):
        rules = table.get(number)
        if rules is None:
            continue
        if number != finding.line and not lines[number - 1].lstrip().startswith("#"):
            continue
        if not rules:
            return number, ""
        if finding.rule in rules:
            return number, finding.rule
    return None


def comment_column(lines: list[str], number: int) -> int:
    match = SUPPRESS.search(lines[number - 1]) if 0 < number <= len(lines) else None
    return match.start() + 1 if match else 1


def exit_code(findings: Iterable[Finding]) -> int:
    """0 when nothing is at error severity, 1 otherwise (2 is for usage errors, in the CLI)."""
    return 1 if any(f.severity == ERROR for f in findings) else 0

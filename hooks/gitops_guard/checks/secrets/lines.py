"""The line scanner: text files, comments, long lines and files embedded in YAML values.

detect-secrets reads a file line by line; check-secrets does the same for every file that is
not YAML (and for YAML it cannot parse), adding ``KEY=value`` lines read with their key.
"""

from __future__ import annotations

from gitops_guard.checks.secrets.engine import MAX_SCAN_CHARS
from gitops_guard.checks.secrets.values import (
    RUNTIME_ADVICE,
    Candidate,
    assignment,
    describe,
    not_config,
    rule_for,
    sensitive_kind,
)
from gitops_guard.core.documents import (
    Pos,
)
from gitops_guard.core.findings import WARNING, Finding

#: A longer line (minified JSON or JS) is scanned up to here; the rest is reported unscanned.
MAX_LINE_CHARS = 1_000_000


class LineRules:
    """Line-by-line scanning, mixed into the scanner (it calls ``add`` and ``value``)."""

    # -- plain text -------------------------------------------------------------------------
    def lines(self, lines: list[str], start: int = 1) -> None:
        for number, line in enumerate(lines, start):
            # a minified file is one huge line: scan it in overlapping windows, up to a bound
            step = MAX_SCAN_CHARS - 1000
            if len(line) > MAX_LINE_CHARS:
                note = Finding(
                    self.path,
                    number,
                    MAX_LINE_CHARS + 1,
                    "secret/not-scanned",
                    f"line of {len(line)} characters: only the first {MAX_LINE_CHARS} scanned",
                )
                self.out.append(Candidate(note.with_severity(WARNING), (), ""))
            found = False
            for offset in range(0, max(min(len(line), MAX_LINE_CHARS) - 1000, 1), step):
                window = line[offset : offset + MAX_SCAN_CHARS]
                for hit in self.engine.scan_line(self.path, window, number):
                    col = offset + (window.find(hit.secret) + 1 or 1)
                    self.add((number, col), rule_for(hit), describe(hit), (hit.secret,), hit.type)
                    found = True
            if not found and self.assignments:
                self.config_line(line, number)

    def config_line(self, line: str, number: int) -> None:
        """``KEY=value``: detect-secrets' keyword and entropy rules want quotes outside config
        files (its hook only finds ``password=s3cret`` in a .env or .sh file by re-reading a
        file that parses whole as ini). The value goes through the YAML value rules instead:
        provider tokens, the key's name (dummies and references pass), entropy (not under an
        id or digest key)."""
        if len(line) > MAX_SCAN_CHARS or "=" not in line:
            return
        parsed = assignment(line)
        if parsed is not None:
            key, value, col = parsed
            kind = sensitive_kind(key)
            self.value(value, (number, col), key, kind, (key,), None, RUNTIME_ADVICE)

    def comments(self, lines: list[str]) -> None:
        """Tokens pasted into YAML comments (values are covered by the structure)."""
        for number, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith("#") and len(stripped) > 12:
                for hit in self.engine.scan_value(stripped[1:], entropy=False):
                    col = line.find(hit.secret) + 1 or 1
                    self.add((number, col), rule_for(hit), describe(hit), (hit.secret,), hit.type)

    def embedded(self, text: str, pos: Pos, label: str) -> bool:
        """A file inside a value (``application.properties: |``): its lines are scanned as
        detect-secrets scans that file type; True when something was found."""
        name = label if "." in label else "embedded.txt"
        first = pos[0] + 1  # a block scalar's content starts below its ``|``
        found = False
        before = len(self.out)
        for i, line in enumerate(text.splitlines()):
            number = self._pos((first + i, 1))[0]
            source = self.file_lines[number - 1] if number <= len(self.file_lines) else line
            hits = self.engine.scan_line(name, line, i + 1)
            if not hits and "=" in line and not not_config(name):
                parsed = assignment(line)  # ``.env: |`` or ``entrypoint.sh: |``: KEY=value
                if parsed is not None:
                    key, value, col = parsed
                    col = source.find(value) + 1 or col
                    kind = sensitive_kind(key)
                    self.value(value, (first + i, col), key, kind, (key,), None)
            for hit in hits:
                col = source.find(hit.secret) + 1 or 1
                self.add(
                    (number, col),
                    rule_for(hit),
                    f"{label}: {describe(hit)}",
                    (hit.secret,),
                    hit.type,
                )
                found = True
        return found or len(self.out) > before

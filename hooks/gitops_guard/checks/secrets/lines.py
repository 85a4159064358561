"""The line scanner: text files, comments, long lines and files embedded in YAML values.

detect-secrets reads a file line by line; check-secrets does the same for every file that is
not YAML (and for YAML it cannot parse), adding ``KEY=value`` lines read with their key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from gitops_guard.checks.secrets.embedded import (
    file_type,
    is_lockfile,
    is_reference,
)
from gitops_guard.checks.secrets.engine import MAX_SCAN_CHARS, Hit, header_only, key_body_follows
from gitops_guard.checks.secrets.values import (
    HASH_LIKE,
    KEYWORD_TYPE,
    RUNTIME_ADVICE,
    Candidate,
    assignment,
    credential_word,
    describe,
    dummy_credential,
    embedded_kept,
    encoded_media,
    is_placeholder,
    mask,
    names_a_key,
    not_config,
    pgp_ciphertext,
    rule_for,
    sensitive_kind,
    stand_in_hit,
)
from gitops_guard.core.documents import (
    Pos,
)
from gitops_guard.core.findings import WARNING, Finding

#: A longer line (minified JSON or JS) is scanned up to here; the rest is reported unscanned.
MAX_LINE_CHARS = 1_000_000


#: ``key = "value"`` / ``"key": "value"`` / ``key: value`` before a secret on a line
_KEY_BEFORE = re.compile(r"""([A-Za-z_][\w.-]*)["'\]]?\s*(?::=|=>|[:=]|\s)\s*["'`]?$""")
#: ``KEY: value`` in a text or env-like file (YAML files are read with their structure)
_COLON_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*:\s+(\S+)\s*$")
#: files whose ``KEY: value`` lines are configuration: text, env-like, extensionless, and Go
#: templates of YAML: helmfile renders a ``values.yaml.gotmpl`` and reads the result as YAML
#: (helmfile pkg/state/envvals_loader.go: ``tmpl.NewFileRenderer(...).RenderToBytes`` then
#: ``yaml.Unmarshal``), as Helm does with a chart's ``.tpl`` files; a line with a literal
#: value is that value in the rendered YAML (``{{ ... }}`` values are placeholders)
COLON_SUFFIXES = frozenset({
    "", ".txt", ".env", ".ini", ".cfg", ".conf", ".properties", ".gotmpl", ".tpl",
})  # fmt: skip
#: words that make a line worth the embedded-credential rules
_INSIDE_HINT = re.compile(
    r"://|assword|passwd|pwd=|secret|token|key=|authorization|-u |--user|--set|login",
    re.IGNORECASE,
)


def _external_secret_item(following: list[str]) -> bool:
    """``- secretKey: db_uri`` followed by ``remoteRef:``: an ExternalSecret's (or
    PushSecret's) ``data`` item, where ``secretKey`` names the key of the Secret it writes
    (external-secrets ``apis/externalsecrets/v1/externalsecret_types.go``), in a Helm template
    the YAML reader could not parse."""
    return any(line.strip().startswith(("remoteRef:", "sourceRef:")) for line in following[:3])


class LineRules:
    """Line-by-line scanning, mixed into the scanner (it calls ``add`` and ``value``)."""

    def typed(self, first_line: str) -> None:
        """How this file's lines are read: by its suffix, or by its shebang when it has
        none (``#!/usr/bin/env python3``: source code, no ``KEY=value`` config lines);
        a lockfile's hashes get no entropy or keyword rule."""
        suffix = file_type(self.path, first_line)
        self.type_name = self.path if os.path.splitext(self.path)[1] else self.path + suffix
        self.assignments = not not_config(self.type_name)
        self.colon_lines = suffix in COLON_SUFFIXES or os.path.basename(self.path).startswith(
            ".env"
        )
        self.lockfile = is_lockfile(self.path)

    def line_hits(self, name: str, line: str, number: int, following: Iterator[str]) -> list[Hit]:
        """detect-secrets' hits on one line, less the ones that are not credentials: a
        keyword hit whose key says nothing of a credential (``"external-secrets": "secure"``,
        ``secret_type = "..."``) or holds a dummy or a reference, an entropy hit on a hash
        under a key that is not a credential's, an empty private-key block."""
        entropy = not getattr(self, "lockfile", False)
        following = list(following)  # a few lines: each rule below may look at them
        kept = []
        for hit in self.engine.scan_line(name, line, number, entropy=entropy):
            if hit.plugin == "KeywordDetector":
                key = _key_before(line, hit.secret)
                if (
                    key is None
                    or sensitive_kind(key) is None
                    or dummy_credential(hit.secret, key)
                    or is_placeholder(hit.secret)
                    or names_a_key(key, hit.secret, ())
                    or pgp_ciphertext(hit.secret)
                    or (key == "secretKey" and _external_secret_item(following))
                ):
                    continue
            elif hit.type in ENTROPY_TYPES:
                key = _key_before(line, hit.secret) or ""
                if (
                    (HASH_LIKE.match(hit.secret) and not credential_word(key))
                    or is_reference(hit.secret)
                    or encoded_media(hit.secret)
                    or pgp_ciphertext(hit.secret)
                ):
                    continue
            elif hit.type == "Basic Auth Credentials":
                # ``# Example: mysql://user:secret@host:port/database`` (Grafana's sample.ini):
                # the same dummy words the URL rules of a value pass (embedded.py)
                password = hit.secret.rstrip("@").rpartition(":")[2]
                if (
                    dummy_credential(password)
                    or is_placeholder(password)
                    or stand_in_hit(hit, line)
                ):
                    continue
            elif hit.type == "Private Key":
                nxt = next((x for x in following if x.strip()), "")
                if nxt.lstrip().startswith("-----END"):
                    continue  # an empty key block (a template's armour)
                if header_only(line) and not key_body_follows(following):
                    continue  # ``# TLS_KEY=-----BEGIN ...-----\n...``: the marker, no key
            kept.append(hit)
        return kept

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
                following = iter(lines[number - start + 1 : number - start + 4])
                for hit in self.line_hits(self.type_name, window, number, following):
                    col = offset + (window.find(hit.secret) + 1 or 1)
                    self.add((number, col), rule_for(hit), describe(hit), (hit.secret,), hit.type)
                    found = True
            if not found and len(line) <= MAX_SCAN_CHARS and _INSIDE_HINT.search(line):
                found = self.inside_line(line, number)
            if not found and self.assignments:
                self.config_line(line, number)

    def inside_line(self, line: str, number: int) -> bool:
        """Credentials inside a line of a script or text file: ``curl -u user:pass``, a
        connection string, an ``Authorization`` header, ``helm --set x.password=...``."""
        found = embedded_kept(line)
        if not found:
            return False
        first = found[0]
        rule = "secret/url-credentials" if first.what.endswith("URL") else (
            "secret/literal-credential"
        )  # fmt: skip
        self.add(
            (number, first.start + 1),
            rule,
            f"{first.what} {mask(first.secret)}; {RUNTIME_ADVICE}",
            tuple(e.secret for e in found),
            "Basic Auth Credentials" if rule == "secret/url-credentials" else KEYWORD_TYPE,
        )
        return True

    def config_line(self, line: str, number: int) -> None:
        """``KEY=value``: detect-secrets' keyword and entropy rules want quotes outside config
        files (its hook only finds ``password=s3cret`` in a .env or .sh file by re-reading a
        file that parses whole as ini). The value goes through the YAML value rules instead:
        provider tokens, the key's name (dummies and references pass), entropy (not under an
        id or digest key)."""
        if len(line) > MAX_SCAN_CHARS:
            return
        parsed = assignment(line) if "=" in line else None
        if parsed is None and ":" in line and getattr(self, "colon_lines", False):
            found = _COLON_LINE.match(line)
            if found is not None and sensitive_kind(found.group(1)) is not None:
                value = found.group(2).strip("\"'")
                col = line.find(value) + 1
                parsed = (found.group(1), value, col)
        if parsed is not None:
            key, value, col = parsed
            kind = sensitive_kind(key)
            self.value(value, (number, col), key, kind, (key,), None, RUNTIME_ADVICE)

    def comments(self, lines: list[str]) -> None:
        """Tokens pasted into YAML comments (values are covered by the structure)."""
        for number, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith("#") and len(stripped) > 12:
                text = stripped[1:]
                for hit in self.engine.scan_value(text, entropy=False, complete=False):
                    if (
                        hit.type == "Private Key"
                        and header_only(text)
                        and not key_body_follows(lines[number : number + 3])
                    ):
                        continue  # a commented example naming the marker, no key after it
                    if stand_in_hit(hit, text):
                        continue  # ``# mysql://user:pass@host:3306/db``: a documented example
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
            hits = self.line_hits(name, line, i + 1, iter(text.splitlines()[i + 1 : i + 4]))
            if not hits and _INSIDE_HINT.search(line):
                inner = embedded_kept(line)
                if inner:
                    col = source.find(inner[0].secret) + 1 or 1
                    self.add(
                        (number, col),
                        "secret/url-credentials"
                        if inner[0].what.endswith("URL")
                        else "secret/literal-credential",
                        f"{label}: {inner[0].what} {mask(inner[0].secret)}",
                        tuple(e.secret for e in inner),
                        KEYWORD_TYPE,
                    )
                    continue
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


ENTROPY_TYPES = ("Base64 High Entropy String", "Hex High Entropy String")


def _key_before(line: str, secret: str) -> str | None:
    """The key a value is assigned to on its line (``password = "..."``), or None."""
    at = line.find(secret)
    if at <= 0:
        return None
    found = _KEY_BEFORE.search(line[:at])
    return found.group(1) if found else None

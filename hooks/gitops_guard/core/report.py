"""Write findings as text, JSON, SARIF 2.1.0 or GitHub workflow annotations.

Messages are built by checks and never contain a full secret; the reporter adds nothing but
positions and rule metadata.
"""

from __future__ import annotations

from gitops_guard import __version__
from gitops_guard.core.findings import ERROR, WARNING, Finding, printable_path
from gitops_guard.core.rules import RULES

TYPE_CHECKING = False  # start-up time: typing and json are imported only when needed
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TextIO

FORMATS = ("text", "json", "sarif", "github")


def write(findings: Iterable[Finding], fmt: str, out: TextIO) -> None:
    items = sorted(findings)
    {"text": _text, "json": _json, "sarif": _sarif, "github": _github}[fmt](items, out)


def _text(findings: list[Finding], out: TextIO) -> None:
    for f in findings:
        suffix = "" if f.severity == ERROR else f" [{f.severity}]"
        message = " ".join(f.message.splitlines())  # one finding, one line
        path = printable_path(f.path)  # a newline in a file name must not split the line
        out.write(f"{path}:{f.line}:{f.column}: {f.rule} {message}{suffix}\n")


def _json(findings: list[Finding], out: TextIO) -> None:
    import json

    payload = {
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
            }
            for f in findings
        ]
    }
    json.dump(payload, out, indent=2)
    out.write("\n")


_SARIF_LEVEL = {ERROR: "error", WARNING: "warning"}


def _sarif(findings: list[Finding], out: TextIO) -> None:
    import json

    used = sorted({f.rule for f in findings})
    index = {rule: i for i, rule in enumerate(used)}
    rules = []
    for rule_id in used:
        rule = RULES.get(rule_id)
        entry = {"id": rule_id, "name": rule_id.replace("/", "-")}
        if rule is not None:
            entry["shortDescription"] = {"text": rule.summary}
            entry["fullDescription"] = {"text": rule.doc or rule.summary}
            entry["defaultConfiguration"] = {"level": _SARIF_LEVEL.get(rule.severity, "note")}
        rules.append(entry)
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _SARIF_LEVEL.get(f.severity or ERROR, "note"),
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path)},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
        }
        for f in findings
    ]
    payload = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gitops-guard",
                        "version": __version__,
                        "informationUri": "https://github.com/gitops-guard/gitops-guard",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    json.dump(payload, out, indent=2)
    out.write("\n")


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative to the working directory and percent-encoded (a space
    or ``#`` in a file name would otherwise change the URI); ``file://`` when outside it."""
    import os
    from urllib.parse import quote

    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive (Windows)
            relative = os.pardir
        if relative.split(os.sep, 1)[0] == os.pardir:
            absolute = path.replace("\\", "/")
            return "file://" + ("" if absolute.startswith("/") else "/") + quote(absolute)
        path = relative
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return quote(path, safe="/")


def _escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


_GITHUB_LEVEL = {ERROR: "error", WARNING: "warning"}


def _github(findings: list[Finding], out: TextIO) -> None:
    for f in findings:
        level = _GITHUB_LEVEL.get(f.severity or ERROR, "notice")
        out.write(
            f"::{level} file={_escape(f.path, prop=True)},line={f.line},col={f.column},"
            f"title={_escape(f.rule, prop=True)}::{_escape(f.message)}\n"
        )

"""``.secrets.baseline``: detect-secrets' JSON file of known, audited secrets.

The hook reads it (a finding whose secret values are all in the baseline for that file is not
reported) and never writes it; ``gitops-guard check-secrets --update-baseline`` writes it on
request. The format is detect-secrets' own (``version``, ``plugins_used``, ``filters_used``,
``results: {path: [{type, filename, hashed_secret, is_verified, line_number}]}``,
``generated_at``), so ``detect-secrets audit`` and ``detect-secrets-hook --baseline`` read
what we write and we read what they write. Matching is by file and SHA-1 of the secret, not by
line number, so moving a line does not resurrect an accepted finding.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PATH = ".secrets.baseline"


class BaselineError(Exception):
    """The baseline file is unreadable or not a detect-secrets baseline (exit code 2)."""


def normalise(path: str) -> str:
    """The form a baseline uses: relative to the working directory, forward slashes."""
    rel = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    return rel.replace(os.sep, "/")


@dataclass
class Baseline:
    path: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def plugins_used(self) -> list[dict[str, Any]] | None:
        plugins = self.data.get("plugins_used")
        return plugins if isinstance(plugins, list) and plugins else None

    def hashes(self, filename: str) -> set[str]:
        entries = (self.data.get("results") or {}).get(normalise(filename)) or []
        return {e.get("hashed_secret") for e in entries if isinstance(e, dict)}


def load(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(
            f"{path}: not a detect-secrets baseline (invalid JSON: {exc})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("results", {}), dict):
        raise BaselineError(f"{path}: not a detect-secrets baseline (no 'results' mapping)")
    return Baseline(path, data)


def load_if_present(path: str) -> Baseline | None:
    return load(path) if os.path.exists(path) else None


def updated(
    old: Baseline | None,
    scanned: list[str],
    results: dict[str, list[dict[str, Any]]],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The new baseline: results of the scanned files replaced, audit marks kept."""
    from datetime import datetime, timezone

    from detect_secrets.__version__ import VERSION as ds_version

    previous = dict((old.data.get("results") or {}) if old else {})
    scanned_names = {normalise(p) for p in scanned}
    merged: dict[str, list[dict[str, Any]]] = {
        name: entries for name, entries in previous.items() if name not in scanned_names
    }
    for name, entries in results.items():
        audited = {e.get("hashed_secret"): e for e in previous.get(name, []) if isinstance(e, dict)}
        fresh = []
        for entry in entries:
            before = audited.get(entry["hashed_secret"], {})
            if "is_secret" in before:
                entry = {**entry, "is_secret": before["is_secret"]}
            fresh.append(entry)
        merged[name] = sorted(fresh, key=lambda e: (e["line_number"], e["hashed_secret"]))
    return {
        "version": ds_version,
        "plugins_used": settings.get("plugins_used", []),
        "filters_used": settings.get("filters_used", []),
        "results": {name: merged[name] for name in sorted(merged) if merged[name]},
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write(path: str, payload: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)

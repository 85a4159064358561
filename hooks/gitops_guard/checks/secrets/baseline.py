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
        return {e.get("hashed_secret") for e in self.entries(filename)}

    def entries(self, filename: str) -> list[dict[str, Any]]:
        found = (self.data.get("results") or {}).get(normalise(filename)) or []
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


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


#: findings of the structural rules: a baseline entry accepts one only with the same type
#: (a plaintext core Secret is never accepted by a "Secret Keyword" entry for its values)
STRUCTURAL_TYPES = frozenset({
    "Kubernetes Secret", "Kustomize Secret Generator", "Secret Template Literal",
    "SOPS Unencrypted Value",
})  # fmt: skip


def accepts(entries: list[dict[str, Any]], type_: str, digests: list[str]) -> bool:
    """Every one of ``digests`` is in the file's entries; a structural finding needs
    entries of its own type, any other finding entries that are not structural."""
    if not digests:
        return False
    if type_ in STRUCTURAL_TYPES:
        known = {e.get("hashed_secret") for e in entries if e.get("type") == type_}
    else:
        known = {e.get("hashed_secret") for e in entries if e.get("type") not in STRUCTURAL_TYPES}
    return all(d in known for d in digests)


def updated(
    old: Baseline | None,
    scanned: list[str],
    results: dict[str, list[dict[str, Any]]],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The new baseline: results of the scanned files replaced, audit marks kept. Nothing
    churns when nothing changed: a file whose entries are the same keeps them in the order
    it has (``detect-secrets audit`` writes its own), the plugin list keeps its order, and
    ``generated_at`` stays."""
    from datetime import datetime, timezone

    from detect_secrets.__version__ import VERSION as ds_version

    data = old.data if old else {}
    previous = dict(data.get("results") or {})
    scanned_names = {normalise(p) for p in scanned}
    merged: dict[str, list[dict[str, Any]]] = {
        name: entries for name, entries in previous.items() if name not in scanned_names
    }
    for name, entries in results.items():
        before = [e for e in previous.get(name, []) if isinstance(e, dict)]
        merged[name] = _merge_file(before, entries)
    plugins = settings.get("plugins_used", [])
    old_plugins = data.get("plugins_used")
    if isinstance(old_plugins, list) and _same_items(old_plugins, plugins):
        plugins = old_plugins
    filters = settings.get("filters_used", [])
    old_filters = data.get("filters_used")
    if isinstance(old_filters, list) and _same_items(old_filters, filters):
        filters = old_filters
    payload = {
        "version": ds_version,
        "plugins_used": plugins,
        "filters_used": filters,
        "results": {name: merged[name] for name in sorted(merged) if merged[name]},
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if old is not None and isinstance(data.get("generated_at"), str):
        same = all(payload[k] == data.get(k) for k in ("plugins_used", "filters_used", "results"))
        if same:
            payload["version"] = data.get("version", ds_version)
            payload["generated_at"] = data["generated_at"]
    return payload


def _same_items(a: list[Any], b: list[Any]) -> bool:
    key = lambda item: json.dumps(item, sort_keys=True)  # noqa: E731
    return sorted(map(key, a)) == sorted(map(key, b))


def _merge_file(
    before: list[dict[str, Any]], entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One file's new entries, with the audit marks (``is_secret``) of the old ones; in the
    old order when the same secrets are there (only line numbers refreshed)."""
    old_by = {(e.get("hashed_secret"), e.get("type")): e for e in before}
    fresh = []
    for entry in entries:
        prior = old_by.get((entry["hashed_secret"], entry["type"]))
        if prior is None:  # a type renamed by a new version: the mark still belongs to it
            prior = next(
                (e for e in before if e.get("hashed_secret") == entry["hashed_secret"]), {}
            )
        if "is_secret" in prior:
            entry = {**entry, "is_secret": prior["is_secret"]}
        fresh.append(entry)
    if before and set(old_by) == {(e["hashed_secret"], e["type"]) for e in fresh}:
        now = {(e["hashed_secret"], e["type"]): e for e in fresh}
        return [{**old, **now[key]} for key, old in old_by.items()]
    return sorted(fresh, key=lambda e: (e["line_number"], e["hashed_secret"]))


def write(path: str, payload: dict[str, Any]) -> None:
    """Write atomically (core/atomic.py: a temporary file of a unique name beside it, then a
    rename; through a symlink): two runs at once never write into each other's file, and an
    interrupted run leaves the old baseline whole."""
    from gitops_guard.core.atomic import write_one

    write_one(path, json.dumps(payload, indent=2) + "\n")

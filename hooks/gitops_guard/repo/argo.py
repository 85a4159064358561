"""Argo CD's annotation vocabulary, and how Argo CD itself reads each value.

The names (sync-wave, hook, sync-options and Helm's hook annotations) and the lenient parsing
Argo CD applies (a wave is read with Go's strconv.Atoi, an unknown hook is dropped) are facts
about the engine that the application model and several checks share.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container
    from typing import Any

WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
HELM_HOOK = "helm.sh/hook"
HELM_WEIGHT = "helm.sh/hook-weight"
HELM_DELETE_POLICY = "helm.sh/hook-delete-policy"

#: what Go's strconv.Atoi (Argo CD reads waves with it) accepts: an optional sign, ASCII
#: digits, nothing around them (``fullmatch``: ``$`` would also match before a final newline)
WAVE_PATTERN = re.compile(r"[+-]?[0-9]+")
#: Atoi fails outside a 64-bit int, and Argo CD then uses wave 0
_WAVE_MIN, _WAVE_MAX = -(2**63), 2**63 - 1
HOOKS = ("PreSync", "Sync", "PostSync", "SyncFail", "Skip", "PreDelete", "PostDelete")
DELETE_POLICIES = ("HookSucceeded", "HookFailed", "BeforeHookCreation")
_BOOL = ("true", "false")
#: sync options an object may carry in its annotation, with the values Argo CD knows
RESOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "Prune": ("true", "false", "confirm"),
    "Delete": ("true", "false", "confirm"),
    "Validate": _BOOL,
    "SkipDryRunOnMissingResource": _BOOL,
    "PruneLast": _BOOL,
    "Replace": _BOOL,
    "Force": _BOOL,
    "ServerSideApply": _BOOL,
    "RespectIgnoreDifferences": _BOOL,
}
#: sync options that only mean something in an Application's spec.syncPolicy.syncOptions
APPLICATION_OPTIONS: dict[str, tuple[str, ...]] = {
    "CreateNamespace": _BOOL,
    "PrunePropagationPolicy": ("background", "foreground", "orphan"),
    "ApplyOutOfSyncOnly": _BOOL,
    "FailOnSharedResource": _BOOL,
    "ClientSideApplyMigration": _BOOL,
}
#: Helm hook names and the Argo CD phase Argo CD maps them to (gitops-engine
#: ``pkg/sync/hook/helm/type.go``: only these four; any other ``helm.sh/hook`` value, such as
#: ``test``, ``pre-delete`` or a misspelling, makes a hook of no phase, which no sync applies)
HELM_PHASES = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}


def split_list(value: str) -> list[str]:
    """Argo CD's comma-separated annotation values, whitespace trimmed."""
    return [part.strip() for part in value.split(",")]


def parse_wave(value: Any) -> int | None:
    """The wave Argo CD reads from an annotation value (None: Atoi fails, so wave 0)."""
    if isinstance(value, str) and WAVE_PATTERN.fullmatch(value):
        # a 64-bit value has at most 19 digits: longer ones (past leading zeros) are out of
        # range without int(), which refuses strings over 4,300 digits (Python's limit)
        digits = value.lstrip("+-").lstrip("0") or "0"
        if len(digits) > 19:
            return None
        number = -int(digits) if value.startswith("-") else int(digits)
        if _WAVE_MIN <= number <= _WAVE_MAX:
            return number
    return None


def hook_phases(annotations: dict[str, Any]) -> list[str] | None:
    """The phases a hook runs in (None: not a hook). Argo CD's annotation wins over Helm's."""
    value = annotations.get(HOOK)
    if isinstance(value, str):
        return [p for p in split_list(value) if p in HOOKS]
    value = annotations.get(HELM_HOOK)
    if isinstance(value, str):
        # gitops-engine pkg/sync/hook/helm/hook.go IsHook: any helm.sh/hook but
        # "crd-install" (Helm 2's CRD marker) makes a hook; pkg/sync/hook/hook.go Types maps
        # only the four HELM_PHASES names, so a hook of no phase is never applied
        if value.strip() == "crd-install":
            return None
        return [HELM_PHASES[p] for p in split_list(value) if p in HELM_PHASES]
    return None


def sync_options(value: Any) -> dict[str, str]:
    if not isinstance(value, str):
        return {}
    options: dict[str, str] = {}
    for token in split_list(value):
        key, _, val = token.partition("=")
        options[key.strip()] = val.strip()
    return options


def directory_filter(directory: Any) -> Any:
    """Which files of a directory application Argo CD reads, given its ``spec.source.directory``:
    a function of a file's path relative to the application's folder (``/``-separated), or
    None when it reads every manifest. Argo CD (reposerver/repository/repository.go
    findManifests) drops a file ``exclude`` matches, then keeps one ``include`` matches, each a
    glob of util/glob (gobwas/glob without separators: ``*`` also crosses ``/``, ``{a,b}``
    alternatives, ``[...]`` classes); a pattern that does not compile matches nothing."""
    if not isinstance(directory, dict):
        return None
    include, exclude = directory.get("include"), directory.get("exclude")
    include = include if isinstance(include, str) and include else None
    exclude = exclude if isinstance(exclude, str) and exclude else None
    if include is None and exclude is None:
        return None
    keep = _glob(include) if include is not None else None
    drop = _glob(exclude) if exclude is not None else None

    def wanted(rel: str) -> bool:
        if exclude is not None and drop is not None and drop.fullmatch(rel):
            return False
        return include is None or (keep is not None and keep.fullmatch(rel) is not None)

    return wanted


def _glob(pattern: str) -> re.Pattern[str] | None:
    """A gobwas/glob pattern (no separators) as a regular expression; None: it does not
    compile (an unclosed ``[`` or ``{``)."""
    out: list[str] = []
    depth = i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                return None
            body = pattern[i + 1 : end]
            negated = body.startswith("!")
            body = body[1:] if negated else body
            if not body:
                return None
            out.append(
                "["
                + ("^" if negated else "")
                + body.replace("\\", "\\\\").replace("^", "\\^")
                + "]"
            )
            i = end + 1
            continue
        if c == "?":
            out.append(".")
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        return None
    try:
        return re.compile("".join(out), re.S)
    except re.error:
        return None


def source_path(source: Any, ours: Container[str]) -> str | None:
    """The folder of this repository an Argo CD Application source renders, as Argo CD reads
    the source's ``path`` (None: no folder of this repository).

    The path is a Go string (argo-cd pkg/apis/application/v1alpha1/types.go,
    ApplicationSource ``Path string `json:"path,omitempty"```): ``path:`` written with no
    value, or left out, decodes to "", the root of the repository the source names. That is
    a folder of this one only when ``repoURL`` is one of ``ours`` (normal_url spellings) and
    the source renders a folder at all: not a Helm repository's ``chart:``, not a multi-source
    ``ref:`` entry without a path (reposerver/repository/repository.go GenerateManifest skips
    a ref-only source). A written path is returned as it is (the caller judges it)."""
    if not isinstance(source, dict):
        return None
    path = source.get("path")
    if isinstance(path, str):
        return path
    if path is not None or source.get("chart") or source.get("ref"):
        return None
    url = source.get("repoURL")
    return "" if isinstance(url, str) and url and normal_url(url) in ours else None


def normal_url(url: str) -> str:
    """``git@github.com:org/repo.git``, ``https://github.com/org/repo/`` -> one spelling."""
    text = url.strip().lower()
    for prefix in ("https://", "http://", "ssh://", "git://", "git+ssh://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if "@" in text.split("/", 1)[0]:
        text = text.split("@", 1)[1]
    if ":" in text.split("/", 1)[0]:
        host, _, rest = text.partition(":")
        text = f"{host}/{rest}" if not rest[:1].isdigit() else f"{host}/{rest.split('/', 1)[-1]}"
    text = text.rstrip("/")
    return text[: -len(".git")] if text.endswith(".git") else text


def origin_urls(root: str) -> list[str]:
    """The repository's own remote URLs, as ``.git/config`` names them (no git process)."""
    config = os.path.join(root, ".git", "config")
    try:
        with open(config, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    urls = []
    for line in lines:
        text = line.strip()
        if text.startswith("url") and "=" in text:
            urls.append(normal_url(text.split("=", 1)[1]))
    return urls

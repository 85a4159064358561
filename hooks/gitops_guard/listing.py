"""The YAML files of a repository, listed incrementally and remembered between runs.

Reasoning over whole applications needs every kustomization of the repository, and walking a
5,000-file tree costs more than checking one changed file. A folder's modification time changes
whenever an entry is added, removed or renamed in it, so the listing is kept per folder in a
cache file (``~/.cache/gitops-guard/listing/``) and a run only stats the folders, re-reading
the few that changed. A folder modified in the last two seconds is not trusted next time
(timestamps can be coarse), the way git treats "racy" index entries. Hidden folders and
vendored ones are skipped. ``GITOPS_GUARD_NO_CACHE=1`` walks the tree every time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time

YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {"node_modules", "vendor", "__pycache__", "venv"}
_VERSION = 1
_RACY_NS = 2_000_000_000


def wanted(name: str) -> bool:
    return name.endswith(YAML_SUFFIXES) or name == "Kustomization"


def _cache_file(root: str) -> str | None:
    if os.environ.get("GITOPS_GUARD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(base, "gitops-guard", "listing", f"{digest}.marshal")


def _load(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            loaded = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if isinstance(loaded, dict) and loaded.get("version") == _VERSION:
        return loaded.get("dirs") or {}
    return {}


def _scan(folder: str) -> tuple[list[str], list[str]]:
    subdirs: list[str] = []
    files: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith(".") and name not in SKIP_DIRS:
                            subdirs.append(name)
                    elif wanted(name):
                        files.append(name)
                except OSError:
                    continue
    except OSError:
        pass
    return sorted(subdirs), sorted(files)


def yaml_files(root: str) -> tuple[list[str], bool]:
    """(every YAML file below ``root`` as an absolute path, whether the tree changed)."""
    root = os.path.abspath(root)
    cache_path = _cache_file(root)
    cached = _load(cache_path)
    now = time.time_ns()
    seen: dict[str, tuple[int, list[str], list[str]]] = {}
    result: list[str] = []
    changed = not cached
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            changed = True
            continue
        hit = cached.get(folder)
        if hit is not None and hit[0] == mtime:
            subdirs, files = hit[1], hit[2]
        else:
            changed = True
            subdirs, files = _scan(folder)
        # a folder changed just now may change again within the same timestamp: re-read it
        seen[folder] = (mtime if now - mtime > _RACY_NS else -1, subdirs, files)
        prefix = folder + os.sep
        result.extend(prefix + name for name in files)
        stack.extend(prefix + name for name in reversed(subdirs))
    if cache_path is not None and (changed or len(seen) != len(cached)):
        _save(cache_path, seen)
    result.sort()
    return result, changed or len(seen) != len(cached)


def _save(path: str, dirs: dict) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            marshal.dump({"version": _VERSION, "dirs": dirs}, handle)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the next run a walk

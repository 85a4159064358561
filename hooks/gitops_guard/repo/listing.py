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

import os
import time

from gitops_guard.core import cache
from gitops_guard.core.cache import repository_cache_file
from gitops_guard.core.documents import is_yaml_name as wanted

SKIP_DIRS = {"node_modules", "vendor", "__pycache__", "venv"}
_VERSION = 3
_RACY_NS = 2_000_000_000


def _load(path: str | None) -> dict:
    loaded = cache.load(path)
    if isinstance(loaded, dict) and loaded.get("version") == _VERSION:
        return loaded
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
    cache_path = repository_cache_file("listing", root)
    cached = _load(cache_path)
    mtimes: dict[str, int] = cached.get("mtimes") or {}
    if mtimes and _unchanged(mtimes):
        return list(cached["files"]), False
    # what each folder holds is only needed when something changed: kept in a second file
    dirs: dict[str, tuple[list[str], list[str]]] = {}
    if cache_path is not None and mtimes:
        dirs = _load(cache_path + ".dirs").get("dirs") or {}
    now = time.time_ns()
    seen_mtimes: dict[str, int] = {}
    seen_dirs: dict[str, tuple[list[str], list[str]]] = {}
    result: list[str] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            continue
        hit = dirs.get(folder)
        if hit is not None and mtimes.get(folder) == mtime:
            subdirs, files = hit
        else:
            subdirs, files = _scan(folder)
        # a folder changed just now may change again within the same timestamp: re-read it
        seen_mtimes[folder] = mtime if now - mtime > _RACY_NS else -1
        seen_dirs[folder] = (subdirs, files)
        prefix = folder + os.sep
        result.extend(prefix + name for name in files)
        stack.extend(prefix + name for name in reversed(subdirs))
    result.sort()
    if cache_path is not None:
        _save(cache_path + ".dirs", {"dirs": seen_dirs})
        _save(cache_path, {"mtimes": seen_mtimes, "files": result})
    return result, True


def _unchanged(mtimes: dict[str, int]) -> bool:
    """Every folder still has its recorded modification time (nothing added or removed)."""
    stat = os.stat
    try:
        for folder, mtime in mtimes.items():
            if stat(folder).st_mtime_ns != mtime:
                return False
    except OSError:
        return False
    return True


def _save(path: str, data: dict) -> None:
    cache.save(path, {"version": _VERSION, **data})

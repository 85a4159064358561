"""Where gitops-guard remembers things between runs: ``$XDG_CACHE_HOME/gitops-guard/`` (or
``~/.cache/gitops-guard/``), one folder per kind of memory.

A commit hook runs on every commit, so what is expensive to recompute (a validated policy,
a repository's file listing, its kustomization graph) is kept there, keyed by what it
depends on. ``GITOPS_GUARD_NO_CACHE=1`` turns every cache off. No hashlib: start-up time.
"""

from __future__ import annotations

import os
import zlib


def cache_dir(area: str) -> str | None:
    """The folder of one kind of memory (``listing``, ...); None when caching is off."""
    if os.environ.get("GITOPS_GUARD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gitops-guard", area)


def repository_cache_file(area: str, root: str) -> str | None:
    """The cache file of one repository (by its root folder); None when caching is off.

    The name is two checksums of the path plus its readable last part, so two checkouts
    never share a file and a person can still tell which file is which.
    """
    folder = cache_dir(area)
    if folder is None:
        return None
    raw = root.encode("utf-8", "surrogateescape")
    tail = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(root))[:40]
    return os.path.join(folder, f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}-{tail}.marshal")

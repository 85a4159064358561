"""Where gitops-guard remembers things between runs: ``$XDG_CACHE_HOME/gitops-guard/`` (or
``~/.cache/gitops-guard/``), one folder per kind of memory.

A commit hook runs on every commit, so what is expensive to recompute (a validated policy,
a repository's file listing, its kustomization graph) is kept there, keyed by what it
depends on. ``GITOPS_GUARD_NO_CACHE=1`` turns every cache off. No hashlib: start-up time.

A cache is trusted only as far as it proves itself: every file written by :func:`save`
carries a CRC-32 of its content, and :func:`load` rebuilds (returns None) on any mismatch.
One flipped bit in a listing would otherwise drop a kustomization, and with it a real
ordering error.
"""

from __future__ import annotations

import os
import sys
import zlib


def _stamp(path: str | None) -> str:
    """A file's path, change time and size: all three move on an install, an upgrade or an
    edit (a store that fixes every time, as Nix does, still gives a new path)."""
    if not path:
        return "-"
    try:
        info = os.stat(path)
    except OSError:
        return f"{path}:-"
    return f"{path}:{info.st_mtime_ns}.{info.st_size}"


_PARSER: list[str] = []


def code_identity(*files: str | None) -> str:
    """What a cache of derived data depends on besides its input: this release, the source
    files that derive it (``module.__file__``) and the installed PyYAML, found without
    importing it (a remembered run imports no parser: start-up time). A cache saved under
    another identity is not used, so an upgrade, an edit of an editable install or another
    PyYAML (its C parser included: another wheel) never serves an older run's answer."""
    from gitops_guard import __version__

    if not _PARSER:
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec("yaml")
        _PARSER.append(_stamp(spec.origin if spec is not None else None))
    return "|".join([__version__, *map(_stamp, files), *_PARSER])


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


#: what every cache file starts with: a name, and the Python version (marshal's format may
#: change between versions)
_MAGIC = b"gitops-guard-cache\x01" + bytes(sys.version_info[:2])


def save(path: str, data: object) -> None:
    """Write one cache file: a header with a CRC-32 and the length of the content, then the
    content (marshal). Written to a temporary file and renamed: a reader never sees half a
    file. A read-only home only costs the next run the work."""
    import marshal

    payload = marshal.dumps(data)
    header = _MAGIC + zlib.crc32(payload).to_bytes(4, "big") + len(payload).to_bytes(8, "big")
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(header + payload)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            return


def load(path: str | None) -> object | None:
    """The content of one cache file, or None when it is missing, from another version, or
    does not prove its integrity: a flipped bit, a truncated or foreign file is rebuilt,
    never trusted."""
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            raw = handle.read()  # one read: marshal.load(file) reads piecemeal
    except OSError:
        return None
    start = len(_MAGIC) + 12
    if not raw.startswith(_MAGIC) or len(raw) < start:
        return None
    crc = int.from_bytes(raw[len(_MAGIC) : len(_MAGIC) + 4], "big")
    size = int.from_bytes(raw[len(_MAGIC) + 4 : start], "big")
    payload = raw[start:]
    if len(payload) != size or zlib.crc32(payload) != crc:
        return None
    import marshal

    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None

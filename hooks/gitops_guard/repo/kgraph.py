"""The kustomization graph of a repository (who lists whom), remembered between runs.

To know which applications hold a changed file, the hook needs what every kustomization of the
repository lists (``resources``, ``bases``, ``components``, ``crds``), and a repository has
hundreds. Parsing them all on every commit would cost more than the check itself, so the graph
is kept in a cache file per repository (``~/.cache/gitops-guard/kustomizations/``): each
kustomization's list is valid while its size and modification time are unchanged, and the
resolved graph while, in addition, no file was added, removed or renamed (``listing.py``).
``GITOPS_GUARD_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import os
import time

from gitops_guard.core import cache
from gitops_guard.core.cache import repository_cache_file
from gitops_guard.core.documents import KUSTOMIZATION_FILES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gitops_guard.core.documents import SourceFile
    from gitops_guard.repo.repository import Repository

LISTS = ("resources", "bases", "components", "crds")
_ENDINGS = tuple(os.sep + n for n in KUSTOMIZATION_FILES)
_VERSION = 3
#: a file changed this recently may change again within its timestamp: do not trust it
_RACY_NS = 2_000_000_000

#: an edge: (the target is a kustomization, target key)
Edge = tuple[bool, str]


def listed(data: object) -> list[str]:
    """The paths a kustomization lists, in order."""
    result: list[str] = []
    if not isinstance(data, dict):
        return result
    for name in LISTS:
        items = data.get(name)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str):
                    result.append(item)
                elif isinstance(item, dict) and isinstance(item.get("path"), str):
                    result.append(item["path"])
    return result


def is_remote(entry: str) -> bool:
    """An entry kustomize fetches instead of reading from disk. kustomize
    (``api/internal/git/repospec.go``, ``extractHost``) takes a URL with a scheme, an SCP-style
    ``user@host:path``, and, with neither, only ``github.com/`` or ``github.com:`` (any case);
    ``gitlab.com/`` is kept too (older kustomize fetched it, and an info finding is the safe
    side of a miss)."""
    lowered = entry.lower()
    if "://" in entry or lowered.startswith(("github.com/", "github.com:", "gitlab.com/")):
        return True
    user, at, rest = entry.partition("@")
    return bool(at) and "/" not in user and ":" in rest.split("/", 1)[0]


def _parse(key: str) -> list[str]:
    try:
        with open(key, "rb") as handle:
            text = handle.read()
    except OSError:
        return []
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # broken YAML is reported where the file itself is checked
        return []
    return listed(data)


def _loaded(source: SourceFile | None) -> list[str] | None:
    """What an already-parsed kustomization lists (a full run has every file parsed), when
    that is certainly what ``_parse`` would find; None to parse the file again.

    The hook's loader keeps some plain scalars as text that PyYAML's resolves (``.inf``, a
    date), so every listed string must be a string to PyYAML as well.
    """
    if source is None or source.skipped or source.problems or len(source.documents) != 1:
        return None
    data = source.documents[0].data
    if not isinstance(data, dict):
        return None
    from yaml import ScalarNode
    from yaml.resolver import Resolver

    resolver = Resolver()
    for name in LISTS:
        items = data.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            return None
        for item in items:
            value = item.get("path") if isinstance(item, dict) else item
            if value is None and isinstance(item, dict):
                continue
            if not isinstance(value, str):
                return None
            if resolver.resolve(ScalarNode, value, (True, False)) != _STR:
                return None
    return listed(data)


_STR = "tag:yaml.org,2002:str"


class Graph:
    """``edges[k]``: what kustomization ``k`` lists; ``parents[x]``: kustomizations listing x."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        files = repo.files()
        self.kustomizations = [k for k in files if k.endswith(_ENDINGS)]
        self.edges: dict[str, tuple[Edge, ...]] = {}
        #: what each kustomization lists, as written
        self.entries: dict[str, list[str]] = {}
        self.parents: dict[str, list[str]] = {}
        self._build(files)
        for kfile, edges in self.edges.items():
            for _, target in edges:
                self.parents.setdefault(target, []).append(kfile)

    def roots(self) -> list[str]:
        return [k for k in self.kustomizations if k not in self.parents]

    def roots_of(self, key: str) -> set[str]:
        """The root kustomizations whose applications hold ``key``."""
        found: set[str] = set()
        stack = [key]
        seen = {key}
        while stack:
            item = stack.pop()
            ups = self.parents.get(item)
            if not ups:
                if item.endswith(_ENDINGS):
                    found.add(item)
                continue
            for up in ups:
                if up not in seen:
                    seen.add(up)
                    stack.append(up)
        return found

    def closure(self, kfile: str) -> set[str]:
        """Every file an application rooted at ``kfile`` reads (kustomizations included)."""
        result = {kfile}
        stack = [kfile]
        while stack:
            for is_kust, target in self.edges.get(stack.pop(), ()):
                if target not in result:
                    result.add(target)
                    if is_kust:
                        stack.append(target)
        return result

    def fetches(self, files: set[str]) -> bool:
        """Whether a kustomization among ``files`` lists a remote base or resource, one that
        kustomize fetches from another repository: what it holds (a CRD, a Namespace) is
        not in this one."""
        return any(is_remote(e) for key in files for e in self.entries.get(key, ()))

    def outside(self, kfile: str) -> list[str]:
        """The local entries of a kustomization that resolve outside the repository root:
        what a run rooted there cannot read (said aloud, never dropped in silence)."""
        # the root as given may run through a symlink while a file's key holds the resolved
        # working directory (os.getcwd() is always resolved): inside by either spelling
        roots = {self.repo.root.rstrip(os.sep), os.path.realpath(self.repo.root).rstrip(os.sep)}
        folder = os.path.dirname(kfile)
        found = []
        for entry in self.entries.get(kfile, ()):
            if is_remote(entry):
                continue
            target = os.path.normpath(os.path.join(folder, entry))
            spellings = {target, os.path.realpath(target)}
            if not any(t == r or t.startswith(r + os.sep) for t in spellings for r in roots):
                found.append(entry)
        return found

    def _build(self, files: list[str]) -> None:
        cache_path = repository_cache_file("kustomizations", str(self.repo.root))
        cached: dict = {}
        loaded = cache.load(cache_path)  # None unless its checksum proves it intact
        if isinstance(loaded, dict) and loaded.get("version") == _VERSION:
            cached = loaded.get("files") or {}
        changed = self.repo.tree_changed or len(cached) != len(self.kustomizations)
        stamps: dict[str, tuple[int, int]] = {}
        for key in self.kustomizations:
            try:
                stat = os.stat(key)
            except OSError:
                stamps[key] = (-1, -1)
                changed = True
                continue
            stamps[key] = (stat.st_mtime_ns, stat.st_size)
            hit = cached.get(key)
            if hit is None or (hit[0], hit[1]) != stamps[key]:
                changed = True
        if not changed:
            self.edges = {key: cached[key][3] for key in self.kustomizations}
            self.entries = {key: cached[key][2] for key in self.kustomizations}
            return
        known = set(files)
        now = time.time_ns()
        fresh: dict[str, tuple] = {}
        for key in self.kustomizations:
            hit = cached.get(key)
            fresh_hit = hit is not None and (hit[0], hit[1]) == stamps[key]
            entries = hit[2] if fresh_hit else _loaded(self.repo.parsed(key))
            if entries is None:
                entries = _parse(key)
            edges = self._resolve(key, entries, known)
            self.edges[key] = edges
            self.entries[key] = entries
            mtime, size = stamps[key]
            fresh[key] = (mtime if now - mtime > _RACY_NS else -1, size, entries, edges)
        if changed and cache_path is not None:
            _save(cache_path, fresh)

    def _resolve(self, kfile: str, entries: list[str], known: set[str]) -> tuple[Edge, ...]:
        folder = os.path.dirname(kfile)
        result: list[Edge] = []
        for entry in entries:
            if is_remote(entry):
                continue
            target = os.path.normpath(os.path.join(folder, entry))
            if target in known:
                result.append((False, target))
                continue
            sub = next((target + e for e in _ENDINGS if target + e in known), None)
            if sub is not None:
                result.append((True, sub))
            elif os.path.isfile(target):  # a non-YAML resource, or one the listing skips
                result.append((False, target))
        return tuple(result)


def _save(path: str, files: dict) -> None:
    cache.save(path, {"version": _VERSION, "files": files})


def reach(kustomizations: list[str], limit: int = 2_000) -> list[str]:
    """Every local path the given kustomizations list, and what the kustomizations they list
    in turn list (at most ``limit`` kustomizations read): where a run outside a git work tree
    must look to see every file the given ones build on."""
    found: list[str] = []
    seen: set[str] = set()
    stack = [os.path.abspath(k) for k in kustomizations]
    while stack and len(seen) < limit:
        kfile = stack.pop()
        if kfile in seen:
            continue
        seen.add(kfile)
        folder = os.path.dirname(kfile)
        for entry in _parse(kfile):
            if is_remote(entry):
                continue
            target = os.path.normpath(os.path.join(folder, entry))
            found.append(target)
            if os.path.isdir(target):
                sub = next(
                    (os.path.join(target, n) for n in KUSTOMIZATION_FILES
                     if os.path.isfile(os.path.join(target, n))),
                    None,
                )  # fmt: skip
                if sub is not None:
                    stack.append(sub)
    return found


def widen_root(root: str, paths: list[str]) -> str:
    """Outside a git work tree the root is the folder holding the given files; widened here
    to hold what their kustomizations build on (``../../../apps/x``), so a one-overlay run
    reads its bases. Never to the filesystem's root: what stays outside is noted instead
    (``Graph.outside``)."""
    kfiles: dict[str, None] = {}
    for path in paths:
        absolute = os.path.abspath(path)
        if absolute.endswith(_ENDINGS):
            kfiles[absolute] = None
        folder = os.path.dirname(absolute)
        for name in KUSTOMIZATION_FILES:  # the kustomization that lists a given file
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                kfiles[candidate] = None
    targets = reach(list(kfiles)) if kfiles else []
    if not targets:
        return root
    wide = os.path.commonpath([root, *targets])
    if os.path.dirname(wide) == wide:  # "/": not a repository
        return root
    return wide

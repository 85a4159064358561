"""The repository around the files a hook was given: where it is, and its other YAML files.

pre-commit hands a hook only the changed files, but some questions are about the whole
repository (which kustomization lists this file? does the Flux Kustomization this one depends
on exist?). This module answers them lazily: the file list is walked once, and a file is read
and parsed only when a question needs it, and only once. Files the hook was given are reused
as they are, so a full run (every file given) parses nothing twice.
"""

from __future__ import annotations

import os

from gitops_guard.core.documents import (
    KUSTOMIZATION_FILES,
    MANIFEST_SUFFIXES,
    MAX_FILE_BYTES,
    SourceFile,
    git_root_of,
    load_file,
    read_regular,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from gitops_guard.core.policy import Policy


def find_root(paths: Iterable[str]) -> str:
    """The git work tree holding the working directory, if the files are inside it.

    Otherwise (files outside any repository, or outside the current one) the deepest folder
    that holds every given file: a folder given on the command line is then its own repository.
    """
    absolute = [os.path.abspath(p) for p in paths]
    here = os.path.realpath(os.getcwd())
    top = git_root_of(here)
    if top is not None:
        prefix = top.rstrip(os.sep) + os.sep
        if all(p.startswith(prefix) or p == top for p in absolute):
            return top
    if not absolute:
        return here
    common = os.path.commonpath(absolute)
    return common if os.path.isdir(common) else os.path.dirname(common)


class Repository:
    """Lazy, cached access to the YAML files of one repository."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        given: Iterable[SourceFile] = (),
        policy: Policy | None = None,
    ) -> None:
        self.root = os.path.abspath(os.fspath(root))
        #: whose environments (``promotion.environments``, ``promotion.paths``) files are in
        self.policy = policy
        self._sources: dict[str, SourceFile] = {}
        self.given: set[str] = set()
        self._files: list[str] | None = None
        self.tree_changed = True
        #: (needle, pattern) -> what containing_raw found (one read of the files per question)
        self._raw: dict[tuple[bytes, bytes | None], list[tuple[str, bytes]]] = {}
        for source in given:
            key = self.key(source.path)
            self._sources[key] = source
            self.given.add(key)

    @staticmethod
    def key(path: str) -> str:
        """One spelling per file: absolute and normalised."""
        return os.path.normpath(os.path.abspath(path))

    def display(self, key: str) -> str:
        """How a file is named in findings: as given, else relative to the working directory."""
        source = self._sources.get(key)
        if source is not None and key in self.given:
            return source.path
        relative = os.path.relpath(key)
        return key if relative.startswith("..") else relative

    def environment_of(self, key: str) -> str | None:
        """The environment a file belongs to, as the per-environment policy reads it: one
        model for every check (``promotion.paths``, a folder named like an environment of the
        policy, ``clusters/<env>/``: ``repo/environments.environment_of_path``)."""
        from gitops_guard.core.policy import environment_of_path

        return environment_of_path(key, self.policy)

    def is_given(self, key: str) -> bool:
        return key in self.given

    def files(self) -> list[str]:
        """Every YAML file of the repository, as keys (given files always included).

        Listed incrementally (``listing.py``): only folders changed since the last run are
        read again. ``tree_changed`` says whether anything was added, removed or renamed.
        """
        if self._files is None:
            from gitops_guard.repo import listing

            keys, self.tree_changed = listing.yaml_files(str(self.root))
            listed = set(keys)
            keys.extend(sorted(k for k in self.given if k not in listed))
            self._files = keys
        return self._files

    def parsed(self, key: str) -> SourceFile | None:
        """The file if it is already parsed (never reads)."""
        return self._sources.get(key)

    def source(self, key: str) -> SourceFile | None:
        """The parsed file (None when it does not exist)."""
        cached = self._sources.get(key)
        if cached is not None:
            return cached
        if not os.path.isfile(key):
            return None
        source = load_file(key)
        self._sources[key] = source
        return source

    def containing(self, needle: bytes, pattern: bytes | None = None) -> list[SourceFile]:
        """Parsed files whose text contains ``needle`` (a cheap filter before parsing) and,
        when given, matches the regular expression ``pattern`` too: ``argoproj.io`` is in
        every file with a sync-wave annotation, ``kind: Application`` only in Applications,
        and a one-file run must not parse the whole repository to find them."""
        result: list[SourceFile] = []
        for key, _data in self.containing_raw(needle, pattern):
            source = self.source(key)
            if source is not None:
                result.append(source)
        return result

    def containing_raw(
        self, needle: bytes, pattern: bytes | None = None
    ) -> list[tuple[str, bytes]]:
        """The keys and bytes of the files :meth:`containing` would parse, none parsed (a
        caller that can tell from the bytes which of them matter parses only those)."""
        remembered = self._raw.get((needle, pattern))
        if remembered is not None:
            return remembered
        result: list[tuple[str, bytes]] = []
        self._raw[(needle, pattern)] = result
        text_needle = needle.decode()
        matcher = kind_matcher(pattern) if pattern is not None else None
        for key in self.files():
            cached = self._sources.get(key)
            if cached is not None:
                if text_needle in cached.text and (
                    matcher is None or matcher[1].search(cached.text)
                ):
                    result.append((key, cached.text.encode("utf-8", "surrogateescape")))
                continue
            # only a regular file, bounded: a FIFO sibling would block, /dev/zero never ends
            data, _ = read_regular(key, MAX_FILE_BYTES)
            if data is None:
                continue
            if needle in data and (matcher is None or matcher[0].search(data)):
                result.append((key, data))
        return result

    def inside(self, path: str) -> bool:
        """Whether ``path`` (symlinks resolved) is the root or below it."""
        real = os.path.realpath(path)
        top = os.path.realpath(self.root)
        return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

    def app_path_inside(self, path: str) -> bool:
        """Whether an Argo CD Application's ``spec.source.path`` stays in the repository, as
        Argo CD requires (argo-cd ``util/app/path/path.go``, ``Path``: an absolute path is
        refused, and so is one that resolves outside the root; symlinks are resolved here
        too, so a link out of the repository is outside)."""
        if os.path.isabs(path) or path.startswith(("\\", "/")) or ":" in path[:2]:
            return False
        return self.inside(os.path.join(self.root, path))

    def kustomization_in(self, folder: str) -> str | None:
        """The kustomization file of a folder (key), if it has one."""
        for name in KUSTOMIZATION_FILES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return self.key(candidate)
        return None

    def yaml_in(self, folder: str, recurse: bool = False) -> list[str]:
        """YAML files of a folder (an Argo CD directory application), as keys; none of a
        folder outside the repository (it is never walked)."""
        if not self.inside(folder):
            return []
        found: list[str] = []
        if recurse:
            for sub, dirs, names in os.walk(folder):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(
                    os.path.join(sub, n) for n in sorted(names) if n.endswith(MANIFEST_SUFFIXES)
                )
        else:  # one folder per application of a full run: the entry types, no stat per file
            try:
                with os.scandir(folder) as entries:
                    files = sorted(
                        e.name
                        for e in entries
                        if e.name.endswith(MANIFEST_SUFFIXES) and e.is_file()
                    )
            except OSError:
                return []
            return [self.key(os.path.join(folder, n)) for n in files]
        return [self.key(f) for f in found if os.path.isfile(f)]


_MATCHERS: dict[bytes, tuple[Any, Any]] = {}


def flux_path_folder(root: str, key: str, path: str) -> str | None:
    """The folder a Flux Kustomization's ``spec.path`` names, or None. The path is relative to
    its source's root: the repository's for a GitRepository, but the pushed folder for an
    OCIRepository (``flux push artifact --path=./kubernetes``) or a repository whose GitOps
    tree sits in a subfolder. That root holds the Kustomization's own file (``key``), so
    after the repository's root each ancestor of that file is tried, outermost first."""
    relative = path.lstrip("/")
    first = os.path.normpath(os.path.join(root, relative))
    if os.path.isdir(first):
        return first
    ancestors: list[str] = []
    folder = os.path.dirname(key)
    while folder.startswith(root + os.sep):
        ancestors.append(folder)
        folder = os.path.dirname(folder)
    for ancestor in reversed(ancestors):
        candidate = os.path.normpath(os.path.join(ancestor, relative))
        if candidate.startswith(root + os.sep) and os.path.isdir(candidate):
            return candidate
    return None


def kind_matcher(pattern: bytes) -> tuple[Any, Any]:
    """A pattern compiled once, for bytes (files not yet read) and for text (parsed files)."""
    import re

    found = _MATCHERS.get(pattern)
    if found is None:
        found = _MATCHERS[pattern] = (re.compile(pattern), re.compile(pattern.decode()))
    return found


def kind_line(kind: str) -> bytes:
    """A ``kind:`` line of that kind, in YAML or JSON, quoted or not (``kind: Application``
    and not ``kind: ApplicationSet``)."""
    return rb"""(?m)["']?kind["']?[ \t]*:[ \t]*["']?""" + kind.encode() + rb"""(?![\w-])"""

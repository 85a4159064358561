"""The YAML problems of the files a check is given, remembered by their content.

Why: a check that reads the repository itself (check-promotion: its overlays, remembered by
git's blob ids) is still given every file by ``pre-commit run --all-files``, and must report
the given files' YAML problems (a syntax error, a duplicate key) as every hook does. Parsing
1,500 files for that on every run cost more than the check. A file is parsed only when its
content is new: what parsing said (its problems, whether it was skipped) is kept by the
SHA-1 of its bytes, its name (a ``.json`` file and a ``kustomization.yaml`` are read
differently) and whether it is a chart template (which depends on a ``Chart.yaml`` above it,
not on its bytes). Its text is read every time: suppression comments are in it.

What parsing says also depends on the code that says it: the whole memory is dropped when
gitops-guard's version, the modules that read and word them (core/documents.py,
findings.py, quoting.py) or the installed PyYAML is not the one that filled it
(``cache.code_identity``), so a reworded message or a parser that reads a file differently
is never served stale.
"""

from __future__ import annotations

import os

from gitops_guard.core import cache, documents
from gitops_guard.core.documents import (
    MAX_FILE_BYTES,
    SourceFile,
    _in_chart_templates,
    decode,
    git_root_of,
    load_file,
    load_text,
    read_regular,
)
from gitops_guard.core.findings import Finding

#: entries kept per repository (a version of every file of a large repository, and more)
MAX_ENTRIES = 100_000
_VERSION = 2


def _parser_identity() -> str:
    """What the remembered results depend on besides a file's bytes (core/cache.py)."""
    from gitops_guard.core import findings, quoting

    return f"{_VERSION}|" + cache.code_identity(
        documents.__file__, findings.__file__, quoting.__file__, __file__
    )


def _sha1(data: bytes) -> str:
    try:  # the built-in module: hashlib would load OpenSSL (start-up time)
        from _sha1 import sha1  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha1
    return sha1(data).hexdigest()


class KnownProblems:
    """One run's memory of parse results, loaded from and saved to the cache folder."""

    def __init__(self, anchor: str) -> None:
        root = git_root_of(anchor) or os.path.abspath(anchor)
        self._file = cache.repository_cache_file("yaml-problems", root)
        loaded = cache.load(self._file) if self._file is not None else None
        ok = isinstance(loaded, dict) and loaded.get("version") == _parser_identity()
        self.entries: dict[str, tuple] = loaded["entries"] if ok else {}  # type: ignore[index]
        self.changed = False

    def source(self, path: str) -> SourceFile:
        """``path`` as load_file reads it, without its documents."""
        data, problem = read_regular(path, MAX_FILE_BYTES)
        if problem is not None or data is None:
            return load_file(path)  # not regular, too large, unreadable: said at once
        text, problem = decode(path, data)
        if problem is not None or text is None:
            return load_file(path)
        template = _in_chart_templates(path, text)
        key = f"{_sha1(data)}:{os.path.basename(path)}:{int(template)}"
        known = self.entries.get(key)
        if known is not None:
            skipped, problems = known
            return SourceFile(
                path=path,
                text=text,
                problems=[Finding(path, *p) for p in problems],
                skipped=skipped,
            )
        source = load_text(path, text)
        source.documents = []
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        self.entries[key] = (
            source.skipped,
            [(p.line, p.column, p.rule, p.message, p.severity) for p in source.problems],
        )
        self.changed = True
        return source

    def save(self) -> None:
        if self.changed and self._file is not None:
            cache.save(self._file, {"version": _parser_identity(), "entries": self.entries})
            self.changed = False


def load_unparsed(paths: list[str]) -> list[SourceFile]:
    """Every given file's text and YAML problems (documents dropped), each parsed only when
    its content is new to this repository."""
    if not paths:
        return []
    memory = KnownProblems(os.path.dirname(os.path.abspath(paths[0])))
    sources = [memory.source(path) for path in paths]
    memory.save()
    return sources

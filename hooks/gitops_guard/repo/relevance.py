"""Which files of an application can take part in the ordering findings of the changed files.

A one-file run reports an ordering finding only when a given file is involved: it holds the
object that syncs too early, or what that object needs. An object of another file can only be
involved when that file names something a given object names: the object's name or namespace
(what needs it refers to it by name), what it needs (a Namespace, ServiceAccount, ConfigMap,
Secret, PVC, PriorityClass by name), its API group (its CRD) or a CRD's group (its custom
resources), its generateName (a hook clash), a kind of a ``sync_waves.order`` rule it is in,
or a kustomization's namespace. So before a file that was not given is parsed, its bytes are
searched for those words as whole tokens, and a file naming none of them is not parsed: an
8 MB manifest next to a one-line change costs a read and a search, not a parse.

A file that does name one but is larger than ``SIZE_CAP`` is not parsed either (parsing with
positions runs at about 1 MB a second): the run says so in a ``sync/context-not-read`` note,
and a full run (every file given, as CI runs it) still reads and checks it.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from gitops_guard.core.documents import SourceFile

#: bytes; a sibling above this that names something relevant is skipped with a note
SIZE_CAP = 1_000_000
#: bytes that continue a name: a word next to one is part of a longer name
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _has_token(data: bytes, word: bytes) -> bool:
    """``word`` in ``data`` with no name byte on either side.

    A plain ``find`` (fast, and no regular expression to compile: start-up time); a word found
    many times inside longer names switches to a pattern whose lookahead skips those.
    """
    size = len(word)
    at = data.find(word)
    for _ in range(32):
        if at < 0:
            return False
        end = at + size
        if (at == 0 or data[at - 1] not in _NAME_BYTES) and (
            end == len(data) or data[end] not in _NAME_BYTES
        ):
            return True
        at = data.find(word, at + 1)
    if at < 0:
        return False
    pattern = re.compile(re.escape(word) + rb"(?![\w.-])")
    match = pattern.search(data, at)
    while match is not None:
        start = match.start()
        if start == 0 or data[start - 1] not in _NAME_BYTES:
            return True
        match = pattern.search(data, start + 1)
    return False


def words_of(
    sources: Iterable[SourceFile], order_rules: Iterable[tuple[str, str]] = ()
) -> set[str]:
    """What another file must name to take part in an ordering finding with these files."""
    from gitops_guard.core.documents import Map
    from gitops_guard.repo.needs import needs, secret_made_by
    from gitops_guard.repo.objects import make_obj

    words: set[str] = set()
    kinds: set[str] = set()
    for source in sources:
        key = os.path.normpath(os.path.abspath(source.path))
        for doc in source.documents:
            obj = make_obj(key, doc)
            if obj is None:
                continue
            kinds.add(obj.kind)
            words.update(w for w in (obj.name, obj.namespace) if w)
            if "." in obj.group:  # a CRD's group has a dot; built-in ones (apps) have no CRD
                words.add(obj.group)
            made = secret_made_by(obj)
            if made:
                words.add(made)
            words.update(n.name for n in needs(obj))
            meta = obj.doc.metadata if obj.doc is not None else None
            if meta is not None and isinstance(meta.get("generateName"), str):
                words.add(meta["generateName"])
            spec = doc.data.get("spec") if obj.kind == "CustomResourceDefinition" else None
            if isinstance(spec, Map) and isinstance(spec.get("group"), str):
                words.add(spec["group"])
    for before, after in order_rules:
        if before in kinds or after in kinds:
            words.update((before, after))
    words.discard("")
    return words


class Context:
    """Decides, per file that was not given, whether the application needs it parsed."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words: set[str] = {w for w in words if w}
        self._encoded: list[bytes] | None = None
        #: relevant files over the size cap, with their size: reported as a note
        self.not_read: dict[str, int] = {}

    def add(self, word: str) -> None:
        if word and word not in self.words:
            self.words.add(word)
            self._encoded = None

    def names_a_word(self, data: bytes) -> bool:
        """Whether ``data`` holds a word as a whole token (not inside a longer name)."""
        if self._encoded is None:
            self._encoded = sorted({w.encode("utf-8", "surrogateescape") for w in self.words})
        return any(_has_token(data, word) for word in self._encoded)

    def wanted(self, key: str) -> bool:
        """Whether the file can take part (read, searched, its size checked; never parsed)."""
        try:
            with open(key, "rb") as handle:
                data = handle.read()
        except OSError:
            return False
        if not self.names_a_word(data):
            return False
        if len(data) > SIZE_CAP:
            self.not_read[key] = len(data)
            return False
        return True

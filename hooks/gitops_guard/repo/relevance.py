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

A file larger than ``SIZE_CAP`` is neither read nor searched (the cap bounds the search, not
only the parse: a 1 GB sibling must not cost 1 GB): the run says so in a
``sync/context-not-read`` note, and a full run (every file given, as CI runs it) still reads
and checks it.
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


#: every byte that is not a name byte becomes a space: ``data.translate(_SPLIT).split()`` is
#: the file's maximal runs of name bytes, its tokens, in one pass of C code
_SPLIT = bytes(b if b in _NAME_BYTES else 0x20 for b in range(256))
#: up to this many words are searched with ``find`` one by one (cheaper than a token set)
_FEW_WORDS = 8


def tokens(data: bytes) -> set[bytes]:
    """The file's tokens: its maximal runs of name bytes (what ``_has_token`` matches)."""
    return set(data.translate(_SPLIT).split())


class Context:
    """Decides, per file that was not given, whether the application needs it parsed.

    Each sibling is read once, at most ``SIZE_CAP`` bytes of it, and searched once: its
    tokens (one pass) against the words, so the cost is the sibling's bytes, not words times
    bytes (25,000 ConfigMap names against a few MB of siblings took 43 s). A word with a byte
    that is not a name byte (``system:auth``) cannot be a token and is searched on its own.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words: set[str] = {w for w in words if w}
        self._encoded: tuple[frozenset[bytes], list[bytes]] | None = None
        #: relevant or unsearched files over the size cap, with their size: reported as a note
        self.not_read: dict[str, int] = {}

    def add(self, word: str) -> None:
        if word and word not in self.words:
            self.words.add(word)
            self._encoded = None

    def _split_words(self) -> tuple[frozenset[bytes], list[bytes]]:
        if self._encoded is None:
            plain: set[bytes] = set()
            odd: list[bytes] = []
            for word in self.words:
                raw = word.encode("utf-8", "surrogateescape")
                if all(b in _NAME_BYTES for b in raw):
                    plain.add(raw)
                else:
                    odd.append(raw)
            self._encoded = (frozenset(plain), sorted(odd))
        return self._encoded

    def names_a_word(self, data: bytes) -> bool:
        """Whether ``data`` holds a word as a whole token (not inside a longer name)."""
        plain, odd = self._split_words()
        if len(plain) <= _FEW_WORDS:
            if any(_has_token(data, word) for word in plain):
                return True
        elif not plain.isdisjoint(tokens(data)):
            return True
        return any(_has_token(data, word) for word in odd)

    def wanted(self, key: str) -> bool:
        """Whether the file can take part (read and searched, never parsed here).

        Only a regular file is opened, and at most ``SIZE_CAP`` bytes of it: a larger one is
        neither read nor searched (a 1 GB sibling cost 1 GB) but noted as not read.
        """
        import stat

        try:
            info = os.stat(key)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        if info.st_size > SIZE_CAP:
            self.not_read[key] = info.st_size
            return False
        try:
            with open(key, "rb") as handle:
                data = handle.read(SIZE_CAP + 1)
        except OSError:
            return False
        if len(data) > SIZE_CAP:  # it grew since the stat
            self.not_read[key] = len(data)
            return False
        return self.names_a_word(data)

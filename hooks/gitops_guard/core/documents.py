"""Load YAML files into plain Python objects that remember where every value came from.

Every check reports at the exact line and column of the offending value, so the loader keeps
positions for each mapping value and sequence item. Parsing uses libyaml (PyYAML's C parser)
for the heavy lifting and builds the objects itself so that duplicate keys, alias bombs and
custom tags become findings instead of silent surprises or tracebacks.

Positions are 1-based (line, column), like every finding.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from array import array

from gitops_guard.core.findings import Finding, quote

TYPE_CHECKING = False  # start-up time: typing, dataclasses and pathlib are not imported
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

#: Files larger than this are not parsed (a GitOps manifest is never this big).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: An alias bomb expands a small file into billions of nodes; refuse past this many.
MAX_EXPANDED_NODES = 200_000
#: ... and to more than this many times its own size.
ALIAS_FACTOR = 10
#: Deeper than this is not a Kubernetes manifest and risks the parser's stack.
MAX_DEPTH = 256

Pos = "tuple[int, int]"

#: the files every hook reads as YAML (a folder argument expands to these)
YAML_SUFFIXES = (".yaml", ".yml")
#: what Argo CD's directory source deploys: YAML, and JSON (which is YAML); check-images and
#: check-sync-waves read these (``is_manifest_name``)
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: the file names kustomize looks for in a folder
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
#: a kustomize Component has the fields of a Kustomization (generators, images, resources)
KUSTOMIZE_KINDS = ("Kustomization", "Component")


_intern = sys.intern


def _short(value: str) -> str:
    """A short scalar, shared by every document that holds it (``v1``, ``ConfigMap``)."""
    return sys.intern(value) if len(value) <= 40 else value


def _pack(kl: int, kc: int, vl: int, vc: int) -> Any:
    """A key's and its value's positions in one small int (one object, not two tuples: a
    15,000-file repository holds about 400,000 of them); a tuple when out of range."""
    dl = vl - kl
    if kl < 1 << 20 and kc < 1 << 14 and 0 <= dl < 1 << 12 and vc < 1 << 14:
        return ((kl << 14 | kc) << 12 | dl) << 14 | vc
    return (kl, kc, vl, vc)


def _unpack(packed: Any) -> tuple[int, int, int, int]:
    if isinstance(packed, tuple):
        return packed
    vc = packed & 0x3FFF
    packed >>= 14
    dl = packed & 0xFFF
    packed >>= 12
    kc = packed & 0x3FFF
    kl = packed >> 14
    return kl, kc, kl + dl, vc


class _Positions:
    """``key_pos`` or ``value_pos`` of a Map: a dict-like view of its packed positions."""

    __slots__ = ("_map", "_value")

    def __init__(self, mapping: Map, value: bool) -> None:
        self._map = mapping
        self._value = value

    def __getitem__(self, key: Any) -> Pos:
        packed = self._map._packed(key)
        if packed is None:
            raise KeyError(key)
        kl, kc, vl, vc = _unpack(packed)
        return (vl, vc) if self._value else (kl, kc)

    def get(self, key: Any, default: Any = None) -> Any:
        packed = self._map._packed(key)
        if packed is None:
            return default
        kl, kc, vl, vc = _unpack(packed)
        return (vl, vc) if self._value else (kl, kc)

    def __setitem__(self, key: Any, pos: Pos) -> None:
        table = self._map._table()
        old = table.get(key)
        kl, kc, vl, vc = _unpack(old) if old is not None else (*pos, *pos)
        if self._value:
            vl, vc = pos
        else:
            kl, kc = pos
        table[key] = _pack(kl, kc, vl, vc)

    def __contains__(self, key: Any) -> bool:
        return self._map._packed(key) is not None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> Any:
        table = self._map._pos
        return self._map.keys() if type(table) is bytes else table.keys()

    def items(self) -> Iterator[tuple[Any, Pos]]:
        for key in list(self.keys()):
            yield key, self[key]


#: a Map or Seq's own position, packed (``line << 24 | column``)
def _pack_at(pos: Pos) -> Any:
    line, col = pos
    return line << 24 | col if col < 1 << 24 and line >= 0 and col >= 0 else (line, col)


def _unpack_at(packed: Any) -> Pos:
    if isinstance(packed, tuple):
        return packed
    return (packed >> 24, packed & 0xFFFFFF)


#: a built mapping of at most this many keys keeps its positions in one bytes object, in
#: key order (a lookup walks the keys); a larger one keeps a dict (key -> packed)
COMPACT_KEYS = 16
_Q = 8  # bytes per packed position

_dict_setitem = dict.__setitem__


class Map(dict):
    """A mapping that remembers the position of itself, its keys and its values.

    Compact: a repository's documents are held together for cross-file checks, so their
    size is the hooks' memory. A parsed mapping's own position and the two positions of each
    key live in one ``bytes`` object (``_pos``: 8 bytes each, its own first, then one per
    key in key order), read through ``at`` / ``key_at`` and the ``key_pos`` / ``value_pos``
    views; a large mapping, or one changed after parsing, keeps a dict (key -> packed int)
    and its own position in ``_at``. ``raw`` exists only once something is written to it.
    """

    __slots__ = ("_at", "_pos", "_raw")

    def __init__(self) -> None:
        super().__init__()
        self._at: Any = 1 << 24 | 1
        self._pos: Any = {}
        self._raw: dict[Any, tuple[str, str]] | None = None

    @property
    def pos(self) -> Pos:
        table = self._pos
        if type(table) is bytes:
            packed = _unpack_q(table, 0)[0]
            return (packed >> 24, packed & 0xFFFFFF)
        at = self._at
        return (at >> 24, at & 0xFFFFFF) if type(at) is int else at

    @pos.setter
    def pos(self, pos: Pos) -> None:
        self._table()
        self._at = _pack_at(pos)

    def _packed(self, key: Any) -> Any:
        """The packed positions of ``key`` (None when it has none)."""
        table = self._pos
        if type(table) is not bytes:
            return table.get(key)
        if key not in self:
            return None
        return _unpack_q(table, _Q * ([*self].index(key) + 1))[0]  # at most 16 keys

    def _table(self) -> dict[Any, Any]:
        """The positions as a dict (key -> packed), made from the compact form once."""
        table = self._pos
        if type(table) is bytes:
            self._at = _unpack_q(table, 0)[0]
            values = _unpack_many(table)
            self._pos = table = dict(zip(dict.__iter__(self), values[1:]))
        return table

    def _compact(self) -> None:
        """Once built: the positions as bytes when the mapping is small, in key order."""
        table = self._pos
        if (
            type(table) is dict
            and len(table) <= COMPACT_KEYS
            and len(table) == len(self)
            and type(self._at) is int
        ):
            values = [self._at]
            for key in dict.__iter__(self):
                packed = table.get(key)
                if type(packed) is not int:
                    return
                values.append(packed)
            self._pos = _pack_many(values)
            self._at = 0  # in _pos now (a small int is shared)

    # a change after parsing turns the compact positions into a dict first
    def __setitem__(self, key: Any, value: Any) -> None:
        if type(self._pos) is bytes and not dict.__contains__(self, key):
            self._table()
        _dict_setitem(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._table()
        dict.__delitem__(self, key)

    def pop(self, *args: Any) -> Any:
        self._table()
        return dict.pop(self, *args)

    def popitem(self) -> Any:
        self._table()
        return dict.popitem(self)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._table()
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._table()
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        self._table()
        dict.clear(self)

    def __ior__(self, other: Any) -> Map:
        self._table()
        dict.update(self, other)
        return self

    @property
    def key_pos(self) -> _Positions:
        return _Positions(self, False)

    @property
    def value_pos(self) -> _Positions:
        return _Positions(self, True)

    @property
    def raw(self) -> dict[Any, tuple[str, str]]:
        """The source text and style of non-string scalars (``1`` vs ``"1"`` matters)."""
        if self._raw is None:
            self._raw = {}
        return self._raw

    def at(self, key: Any) -> Pos:
        """Position of the value under ``key`` (or of the mapping when absent)."""
        packed = self._packed(key)
        if packed is None:
            return self.pos
        if type(packed) is tuple:
            return (packed[2], packed[3])
        return ((packed >> 40) + (packed >> 14 & 0xFFF), packed & 0x3FFF)  # see _pack

    def key_at(self, key: Any) -> Pos:
        packed = self._packed(key)
        if packed is None:
            return self.pos
        if type(packed) is tuple:
            return (packed[0], packed[1])
        return (packed >> 40, packed >> 26 & 0x3FFF)

    def text(self, key: Any) -> str | None:
        """The value as the user wrote it: ``1.10`` stays ``"1.10"``, not ``1.1``."""
        if key not in self:
            return None
        if self._raw and key in self._raw:
            return self._raw[key][0]
        value = self[key]
        return value if isinstance(value, str) else None


_unpack_q = struct.Struct("<q").unpack_from
_LITTLE = sys.byteorder == "little"


def _pack_many(values: list[int]) -> bytes:
    packed = array("q", values)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


def _unpack_many(data: bytes) -> list[int]:
    values = array("q")
    values.frombytes(data)
    if not _LITTLE:
        values.byteswap()
    return values.tolist()


class Seq(list):
    """A sequence that remembers the position of itself and of each item (``line << 24 |
    column``, or a tuple), and the source text of its non-string scalars. A parsed
    sequence keeps its items' positions in an ``array`` of packed ints when each fits."""

    __slots__ = ("_at", "_raw", "item_pos")

    def __init__(self) -> None:
        super().__init__()
        self._at: Any = 1 << 24 | 1
        self.item_pos: Any = []
        self._raw: dict[int, tuple[str, str]] | None = None

    @property
    def pos(self) -> Pos:
        return _unpack_at(self._at)

    @pos.setter
    def pos(self, pos: Pos) -> None:
        self._at = _pack_at(pos)

    @property
    def raw(self) -> dict[int, tuple[str, str]]:
        if self._raw is None:
            self._raw = {}
        return self._raw

    def at(self, index: int) -> Pos:
        if not 0 <= index < len(self.item_pos):
            return self.pos
        packed = self.item_pos[index]
        if isinstance(packed, tuple):
            return packed
        return (packed >> 24, packed & 0xFFFFFF)

    def text(self, index: int) -> str | None:
        if self._raw and index in self._raw:
            return self._raw[index][0]
        value = self[index]
        return value if isinstance(value, str) else None


class Document:
    """One YAML document of a file."""

    __slots__ = ("data", "index", "path", "pos")

    def __init__(self, path: str, index: int, data: Any, pos: Pos) -> None:
        self.path = path
        self.index = index
        self.data = data
        self.pos = pos

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind") if isinstance(self.data, dict) else None
        return kind if isinstance(kind, str) else None

    @property
    def api_version(self) -> str | None:
        api = self.data.get("apiVersion") if isinstance(self.data, dict) else None
        return api if isinstance(api, str) else None

    @property
    def is_kubernetes(self) -> bool:
        return self.kind is not None and self.api_version is not None

    @property
    def group(self) -> str:
        """API group of the object (``""`` for the core group)."""
        api = self.api_version or ""
        return api.rsplit("/", 1)[0] if "/" in api else ""

    @property
    def name(self) -> str | None:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else None

    @property
    def namespace(self) -> str | None:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        return ns if isinstance(ns, str) else None

    @property
    def metadata(self) -> Map | None:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        return meta if isinstance(meta, Map) else None


class SourceFile:
    """A file as the checks see it: its text, its documents, and what went wrong reading it."""

    def __init__(
        self,
        path: str,
        text: str = "",
        documents: list[Document] | None = None,
        problems: list[Finding] | None = None,
        skipped: str | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.documents: list[Document] = documents if documents is not None else []
        self.problems: list[Finding] = problems if problems is not None else []
        #: set when the file is deliberately not parsed (Helm template, binary, too big)
        self.skipped = skipped

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


#: evidence of Go templating where YAML failed to parse: a line that starts with an action,
#: trim markers, or an unquoted ``{{`` as a value or item
HELM_TEMPLATE = re.compile(r"^\s*\{\{-?|\{\{-|-\}\}|(?::|^\s*-)[ \t]+\{\{", re.MULTILINE)


def looks_like_helm_template(path: str, text: str) -> bool:
    """A chart template is Go text/template producing YAML, not YAML itself."""
    return load_text(path, text).skipped == "helm template"


def _in_chart_templates(path: str, text: str) -> bool:
    """A ``templates/`` folder with ``{{`` is a chart's only inside a chart: the folder that
    holds ``templates/`` has a ``Chart.yaml`` (Helm's layout). Elsewhere (an ExternalSecret
    template, an Argo Workflows template) a file that parses is YAML and is checked."""
    if "{{" not in text:
        return False
    parts = os.fspath(path).replace("\\", "/").split("/")[:-1]
    for i, part in enumerate(parts):
        if part == "templates" and _is_chart("/".join(parts[:i]) or "."):
            return True
    return False


_CHARTS: dict[str, bool] = {}


def _is_chart(folder: str) -> bool:
    found = _CHARTS.get(folder)
    if found is None:
        found = _CHARTS[folder] = os.path.isfile(os.path.join(folder, "Chart.yaml"))
    return found


#: Helm values files by name: values.yaml, values-prod.yaml, prod.values.yaml, ...
VALUES_FILE = re.compile(r"(^|[-_.])values([-_.].*)?\.ya?ml$")


def is_values_file(path: str) -> bool:
    """Whether a file is named like a Helm values file (image keys there are Helm's)."""
    return bool(VALUES_FILE.search(os.path.basename(path)))


def is_yaml_name(name: str) -> bool:
    """A file name the hooks read as YAML: ``*.yaml``, ``*.yml`` or kustomize's
    ``Kustomization``."""
    return name.endswith(YAML_SUFFIXES) or name == "Kustomization"


def is_manifest_name(name: str) -> bool:
    """A file name Argo CD's directory source deploys: YAML, ``Kustomization`` or ``*.json``."""
    return name.endswith(MANIFEST_SUFFIXES) or name == "Kustomization"


def is_kustomize_file(path: str, kind: Any, api_version: Any) -> bool:
    """Whether kustomize reads this file as a kustomization (or Component).

    A ``kustomize.config.k8s.io`` Kustomization or Component anywhere, or a file kustomize
    looks for by name (``kustomization.yaml``) with no other kind. A Flux ``Kustomization``
    (``kustomize.toolkit.fluxcd.io``) is a Kubernetes object, not one of these.
    """
    api = api_version if isinstance(api_version, str) else ""
    if kind in KUSTOMIZE_KINDS and api.startswith("kustomize.config.k8s.io/"):
        return True
    if kind in KUSTOMIZE_KINDS and api.startswith("kustomize.toolkit.fluxcd.io/"):
        return False
    name = os.path.basename(os.fspath(path).replace("\\", "/"))
    return (kind is None or kind in KUSTOMIZE_KINDS) and name in KUSTOMIZATION_FILES


def is_kustomization(path: str, doc: Document) -> bool:
    """Whether a document is a kustomization (or Component): see ``is_kustomize_file``."""
    return is_kustomize_file(path, doc.kind, doc.api_version)


_ROOTS: dict[tuple[str, bool], str | None] = {}


def git_root_of(folder: str | Path) -> str | None:
    """The git work tree a folder is in: the nearest folder at or above it holding ``.git``
    (a folder, or a file in a worktree or submodule). No ``git`` process: start-up time."""
    return _root_of(folder, False)


def repository_root_of(folder: str | Path) -> str | None:
    """The repository a folder belongs to: its git work tree, else (no git) the nearest
    folder at or above it holding ``clusters/``; None when there is neither.

    A git work tree is remembered per folder, and for the folders between it and the folder
    asked about: a check asks once per file or application, and a repository has few folders.
    Nothing else is (a test may ``git init`` a folder it asked about).
    """
    return _root_of(folder, True)


def _root_of(folder: str | Path, clusters: bool) -> str | None:
    folder = os.path.abspath(folder)
    key = (folder, clusters)
    if key in _ROOTS:
        return _ROOTS[key]
    found: str | None = None
    holder: str | None = None
    current = folder
    walked: list[str] = []  # folders without .git on the way up: in the same work tree
    while True:
        known = _ROOTS.get((current, False)) or _ROOTS.get((current, True))
        if known is not None:  # a folder above already led to a work tree (a sibling's walk)
            found = known
            break
        if os.path.exists(os.path.join(current, ".git")):
            found = current
            break
        walked.append(current)
        if clusters and holder is None and os.path.isdir(os.path.join(current, "clusters")):
            holder = current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if found is not None:
        _ROOTS[key] = found
        for below in walked:  # a full run asks about every folder of the repository
            _ROOTS[(below, False)] = _ROOTS[(below, True)] = found
    return found or holder


def _problem(path: str, line: int, col: int, rule: str, message: str) -> Finding:
    return Finding(path=path, line=line, column=col, rule=rule, message=message)


def decode(path: str, data: bytes) -> tuple[str | None, Finding | None]:
    """Bytes to text, or a finding that says why the file is not text."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, _problem(path, 1, 1, "yaml/not-text", "binary file (NUL byte), not YAML")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, _problem(path, 1, 1, "yaml/encoding", "invalid UTF-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, _problem(
            path,
            line,
            col,
            "yaml/encoding",
            f"not UTF-8 (byte 0x{data[exc.start]:02x}); YAML files must be UTF-8",
        )
    return text, None


def load_file(path: str | Path) -> SourceFile:
    """Read and parse one file; never raises for bad content, never blocks.

    Only a regular file is opened (``read_regular``): a FIFO, a device, a socket or a
    dangling symlink is skipped with an info finding naming what it is.
    """
    spath = str(path)
    source = SourceFile(path=spath)
    data, problem = read_regular(spath, MAX_FILE_BYTES)
    if problem is not None:
        source.skipped = _SKIPPED.get(problem.rule, "unreadable")
        source.problems.append(problem)
        return source
    assert data is not None
    return load_bytes(spath, data)


_SKIPPED = {"yaml/too-large": "too large", "yaml/not-regular-file": "not a regular file"}


def not_regular(path: str) -> str | None:
    """What a path is when it is not a regular file (None for a regular file or a symlink
    to one): ``a dangling symlink``, ``a FIFO``, ``a device``... Never opens it."""
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "a dangling symlink" if os.path.islink(path) else "missing"
    except OSError:
        return None  # unreadable: reported where it is opened
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_regular(path: str, limit: int) -> tuple[bytes | None, Finding | None]:
    """The bytes of a regular file of at most ``limit`` bytes, or the finding that says why not.

    The file is opened without blocking (a FIFO would wait for a writer forever) and checked
    on the open descriptor (no race with a swap between a check and the open); a device or
    FIFO has no size (``st_size`` 0), so at most ``limit + 1`` bytes are ever read.
    """
    import stat

    what = not_regular(path)
    if what is not None and what != "missing":
        return None, _problem(
            path, 1, 1, "yaml/not-regular-file", f"{what}, not a regular file; not checked"
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return None, _problem(path, 1, 1, "yaml/unreadable", f"cannot read: {exc.strerror}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, _problem(
                path, 1, 1, "yaml/not-regular-file", "not a regular file; not checked"
            )
        if info.st_size > limit:
            return None, _too_large(path, info.st_size, limit)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while read
            return None, _too_large(path, size, limit)
        return b"".join(chunks), None
    except OSError as exc:
        return None, _problem(path, 1, 1, "yaml/unreadable", f"cannot read: {exc.strerror}")
    finally:
        os.close(fd)


def _too_large(path: str, size: int, limit: int) -> Finding:
    return _problem(
        path, 1, 1, "yaml/too-large", f"{size} bytes is over the {limit} byte limit; not checked"
    )


def load_bytes(path: str, data: bytes) -> SourceFile:
    source = SourceFile(path=path)
    text, problem = decode(path, data)
    if problem is not None or text is None:
        source.skipped = "not text"
        source.problems.append(problem)  # type: ignore[arg-type]
        return source
    return load_text(path, text)


def embedded_data(text: str, path: str = "embedded.yaml") -> list[Any] | None:
    """The documents of YAML held in a string (an ApplicationSet's ``templatePatch``, a
    kustomize patch, a notification trigger list), read with a file's guards (nesting depth,
    alias bombs, recursion); None when it does not parse. ``yaml.safe_load`` has none of
    them: a 3,000-deep list raises RecursionError, shared aliases walk exponentially."""
    documents, problems = _Builder(path).build(text)
    if not documents and problems:
        return None
    return [d.data for d in documents]


def load_text(path: str, text: str) -> SourceFile:
    source = SourceFile(path=path, text=text)
    if not text.strip():
        source.problems.append(
            _problem(path, 1, 1, "yaml/empty", "empty file: no YAML document to check")
        )
        return source
    templated = _in_chart_templates(path, text)
    if not templated:
        builder = _Builder(path)
        source.documents, source.problems = builder.build(_yaml_text(path, text))
        if source.problems and path.endswith(".json") and not _json_manifest(text):
            # a JSON file that is no manifest (VS Code's settings.json is JSON with comments,
            # package.json, renovate.json): not ours to judge, whatever its dialect
            source.problems = []
            source.skipped = "not a manifest"  # a line scan still reads it (check-secrets)
        if "{{" not in text:
            return source
        # YAML that parses is YAML (Argo CD notification templates, quoted values), unless
        # it only parsed because an unquoted {{ x }} reads as a mapping used as a key;
        # broken YAML with template actions in it is a template, not a syntax error.
        syntax = any(p.rule in ("yaml/syntax", "yaml/tab") for p in source.problems)
        templated = builder.complex_keys > 0 or (syntax and bool(HELM_TEMPLATE.search(text)))
        if not templated:
            return source
        source.documents, source.problems = [], []
    if templated:
        source.skipped = "helm template"
        source.problems.append(
            _problem(
                path,
                1,
                1,
                "yaml/helm-template",
                "Helm chart template ({{ }}) is not YAML; skipped (check the rendered output)",
            )
        )
    return source


def _json_manifest(text: str) -> bool:
    """Whether a JSON file reads as a Kubernetes manifest (its keys name apiVersion and kind)."""
    return '"apiVersion"' in text and '"kind"' in text


#: Jinja's ``{% raw %}`` / ``{% endraw %}`` on a line of its own (``{%- raw -%}`` too): an
#: Ansible template that keeps the ``{{ }}`` of another tool (a Helm value, a GitHub Actions
#: expression) out of Jinja's hands. Jinja drops the marker; the lines between are the file.
_JINJA_RAW_LINE = re.compile(r"^[ \t]*\{%-?[ \t]*(?:end)?raw[ \t]*-?%\}[ \t]*$", re.MULTILINE)
#: names of files Jinja renders before anything reads them as YAML
_JINJA_SUFFIXES = (".j2", ".jinja", ".jinja2")


def _jinja_rendered(path: str) -> bool:
    """Whether Jinja renders the file first: an Ansible role's ``templates/`` (``template``
    module), or a ``.j2`` name. Elsewhere a marker line is read by a YAML parser as it is
    (Ansible parses a playbook as YAML before templating its strings; Argo CD decodes a
    manifest as written), so it is the syntax error they meet."""
    parts = path.replace("\\", "/").split("/")
    return "templates" in parts[:-1] or parts[-1].endswith(_JINJA_SUFFIXES)


def _yaml_text(path: str, text: str) -> str:
    """The text the YAML parser reads. JSON is YAML, except that JSON allows tabs between
    tokens where YAML forbids them in indentation: a ``.json`` file that is valid JSON has
    its tabs read as spaces (a tab inside a JSON string is always escaped, so none is data;
    lines and columns stay where they are). In a file Jinja renders first, a raw marker
    line reads as a blank line (the other lines keep their lines and columns)."""
    if "{%" in text and _jinja_rendered(path):
        text = _JINJA_RAW_LINE.sub("", text)
    if "\t" not in text or not path.endswith(".json"):
        return text
    import json

    try:
        json.loads(text)
    except ValueError:
        return text
    return text.replace("\t", " ")


def _yaml():  # imported on first parse only: start-up time matters for a commit hook
    import yaml

    return yaml


_LOADER: Any = None


def _loader_class() -> Any:
    """libyaml's CSafeLoader with a faster tag resolver (the parser's hot Python call).

    libyaml calls ``resolve`` for every node. A quoted scalar is a string, a collection is a
    map or a seq (SafeLoader has no path resolvers), and plain scalars repeat a lot across a
    repository (``name``, ``image``, ``true``...), so their resolution is remembered.
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    yaml = _yaml()
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    scalar_node, mapping_node = yaml.ScalarNode, yaml.MappingNode
    base_resolve = base.resolve
    cache: dict[str, str] = {}

    class Loader(base):  # type: ignore[misc, valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is scalar_node:
                if not implicit[0]:
                    return _STR  # quoted or block: always a string
                tag = cache.get(value)
                if tag is None:
                    tag = base_resolve(self, kind, value, implicit)
                    if len(value) <= 64:
                        if len(cache) > 100_000:
                            cache.clear()
                        cache[value] = tag
                return tag
            return _MAP if kind is mapping_node else _SEQ

        # SafeLoader has no path resolvers: libyaml's two calls per node need not look
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

    _LOADER = Loader
    return Loader


_RELAXED: Any = None


def _relaxed_loader_class() -> Any:
    """The loader for a document that redefines an anchor (``&a`` twice).

    YAML allows that: an alias refers to the most recent node with the anchor (libyaml's
    parser and Go's yaml.v3, which kubectl and Argo CD use, read it so). PyYAML's composer
    refuses it ("found duplicate anchor"), so such a file is composed again by PyYAML's
    Python composer on libyaml's events, with a redefinition replacing the anchor.
    Only files that redefine an anchor pay for the slower composer.
    """
    global _RELAXED
    if _RELAXED is not None:
        return _RELAXED
    yaml = _yaml()
    from yaml.composer import Composer

    fast = _loader_class()

    class Relaxed(Composer, fast):  # type: ignore[misc, valid-type]
        def __init__(self, stream: Any) -> None:
            fast.__init__(self, stream)
            Composer.__init__(self)

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if not isinstance(event, yaml.AliasEvent):
                anchor = getattr(event, "anchor", None)
                if anchor is not None:
                    self.anchors.pop(anchor, None)  # the latest definition wins
            return Composer.compose_node(self, parent, index)

    _RELAXED = Relaxed
    return Relaxed


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_FLOAT = "tag:yaml.org,2002:float"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_STANDARD_TAGS = {
    _STR,
    _INT,
    _BOOL,
    _NULL,
    _FLOAT,
    _MAP,
    _SEQ,
    _MERGE,
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:omap",
    "tag:yaml.org,2002:set",
    "tag:yaml.org,2002:pairs",
    "tag:yaml.org,2002:value",
}
_BOOLS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


class _TooBig(Exception):
    pass


class _Builder:
    """Turn libyaml's node graph into :class:`Map` / :class:`Seq` / scalars with positions."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Finding] = []
        self.memo: dict[int, Any] = {}
        #: mappings used as keys: never in a manifest, always in an unquoted ``{{ x }}``
        self.complex_keys = 0
        self.expanded = 0
        #: the yaml/custom-tag problems (dropped when the file holds no Kubernetes object)
        self.custom_tags: list[Finding] = []
        self.redefined_anchor = False

    def build(self, text: str) -> tuple[list[Document], list[Finding]]:
        documents, problems = self._build_all(text, _loader_class())
        if self.redefined_anchor:  # valid YAML the fast composer refuses: compose again
            self.problems, self.complex_keys, self.custom_tags = [], 0, []
            documents, problems = self._build_all(text, _relaxed_loader_class())
        if self.custom_tags and not any(
            d.is_kubernetes or is_kustomize_file(self.path, d.kind, d.api_version)
            for d in documents
        ):
            # a file that holds no Kubernetes object (mkdocs.yml, an app's own config read
            # by a tool that knows its tags) is not a manifest: its tags are not ours to judge
            dropped = {id(p) for p in self.custom_tags}
            problems = [p for p in problems if id(p) not in dropped]
            self.problems = problems
        return documents, problems

    def _build_all(self, text: str, loader_class: Any) -> tuple[list[Document], list[Finding]]:
        yaml = _yaml()
        documents: list[Document] = []
        self.redefined_anchor = False
        loader = loader_class(text)
        index = 0
        # only an alias can expand a document or make it cyclic: without one, the depth
        # bound in _build is all the protection a document needs (and costs no extra pass)
        aliases = "*" in text
        try:
            while loader.check_node():
                node = loader.get_node()
                self.memo = {}
                self.expanded = 0
                if node is None:
                    continue
                pos = (node.start_mark.line + 1, node.start_mark.column + 1)
                try:
                    if aliases:
                        self._check_shape(node)
                    data = self._build(node, 0)
                except _TooBig as exc:
                    self.problems.append(
                        _problem(self.path, pos[0], pos[1], "yaml/too-complex", str(exc))
                    )
                    data = None
                documents.append(Document(self.path, index, data, pos))
                index += 1
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            if mark is None and isinstance(getattr(exc, "position", None), int):
                # a reader error (control character) knows only its offset in the text
                before = text[: exc.position]
                line = before.count("\n") + 1
                col = exc.position - (before.rfind("\n") + 1) + 1
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            context = getattr(exc, "context", None)
            if "duplicate anchor" in str(context) and loader_class is _loader_class():
                self.redefined_anchor = True
                return documents, self.problems
            message = f"{context}: {problem}" if context else str(problem)
            token = _token_at(text, line, col)
            if token == "':'":  # "mapping values are not allowed": name the key before it
                before = text.splitlines()[line - 1][: col - 1].split()
                token = f"':' after {_quoted(before[-1])}" if before else token
            if token:
                message = f"{message} at {token}"
            started = getattr(exc, "context_mark", None)
            if started is not None and started is not mark:
                opened = _token_at(text, started.line + 1, started.column + 1)
                message += f" (opened at line {started.line + 1}, column {started.column + 1}"
                message += f": {opened})" if opened else ")"
            rule = "yaml/syntax"
            if _tab_at(text, line, col) or "'\\t'" in message:
                rule = "yaml/tab"
                message = "tab character used for indentation; YAML allows spaces only"
            elif "recursive" in message or "nest" in message:
                rule = "yaml/too-complex"
            self.problems.append(_problem(self.path, line, col, rule, message))
        except RecursionError:
            self.problems.append(
                _problem(self.path, 1, 1, "yaml/too-complex", "nesting too deep to parse")
            )
        finally:
            loader.dispose()
        return documents, self.problems

    def _check_shape(self, root: Any) -> None:
        """Bound depth and alias expansion before building anything (alias bombs)."""
        sizes: dict[int, int] = {}
        stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
        while stack:
            node, depth, done = stack.pop()
            key = id(node)
            if done:
                total = 1
                for child in _children(node):
                    total += sizes.get(id(child), 1)
                sizes[key] = total
                continue
            if key in sizes:
                continue
            if depth > MAX_DEPTH:
                raise _TooBig(f"nesting deeper than {MAX_DEPTH} levels; not checked")
            stack.append((node, depth, True))
            for child in _children(node):
                if id(child) not in sizes:
                    stack.append((child, depth + 1, False))
        # a big file is fine; a small one that aliases expand many times over is a bomb
        expanded = sizes.get(id(root), 1)
        if expanded > MAX_EXPANDED_NODES and expanded > ALIAS_FACTOR * len(sizes):
            raise _TooBig(
                f"document expands to over {MAX_EXPANDED_NODES} nodes through aliases "
                "(alias bomb?); not checked"
            )

    def _build(self, node: Any, depth: int) -> Any:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if depth > MAX_DEPTH:
            raise _TooBig(f"nesting deeper than {MAX_DEPTH} levels; not checked")
        tag = node.tag
        if tag not in _STANDARD_TAGS:
            problem = _problem(
                self.path,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "yaml/custom-tag",
                f"custom tag {_quoted(tag)} is not plain YAML; Kubernetes cannot read it",
            )
            self.problems.append(problem)
            self.custom_tags.append(problem)
        node_id = node.id
        if node_id == "scalar":
            return self._scalar(node)[0]
        # the loops below run for every node of every file: plain string scalars (most keys
        # and values) take the inline path, everything else the general one
        if node_id == "sequence":
            seq = Seq()
            seq.pos = (node.start_mark.line + 1, node.start_mark.column + 1)
            self.memo[key] = seq
            append, append_pos = seq.append, seq.item_pos.append
            wide = False
            for i, item in enumerate(node.value):
                if item.tag == _STR and item.id == "scalar":
                    append(_short(item.value))
                else:
                    append(self._child(item, depth, seq, i))
                mark = item.start_mark
                line, col = mark.line + 1, mark.column + 1
                if col < 1 << 24:
                    append_pos(line << 24 | col)
                else:  # too far out for one int: the list of ints and tuples stays
                    append_pos((line, col))
                    wide = True
            if not wide:  # one array of packed ints, not a list of int objects
                seq.item_pos = array("q", seq.item_pos)
            return seq
        mapping = Map()
        mapping.pos = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.memo[key] = mapping
        merges: list[Any] = []
        positions = mapping._pos
        setitem = _dict_setitem
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag == _STR and key_node.id == "scalar":
                k = _intern(key_node.value)
            elif key_tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                k = self._key(key_node)
            key_mark = key_node.start_mark
            if k in positions:
                first = _unpack(positions[k])
                self.problems.append(
                    _problem(
                        self.path,
                        key_mark.line + 1,
                        key_mark.column + 1,
                        "yaml/duplicate-key",
                        f"duplicate key {quote(k)} (first at line {first[0]}); "
                        "tools disagree on which value wins",
                    )
                )
            if value_node.tag == _STR and value_node.id == "scalar":
                setitem(mapping, k, _short(value_node.value))
            else:
                setitem(mapping, k, self._child(value_node, depth, mapping, k))
            value_mark = value_node.start_mark
            positions[k] = _pack(
                key_mark.line + 1, key_mark.column + 1, value_mark.line + 1, value_mark.column + 1
            )
        for merge in merges:  # explicit keys win over merged ones, as YAML 1.1 says
            sources = merge.value if merge.id == "sequence" else [merge]
            for source in sources:
                merged = self._build(source, depth + 1)
                if isinstance(merged, Map):
                    for k, v in merged.items():
                        if k not in mapping:
                            setitem(mapping, k, v)
                            packed = merged._packed(k)
                            positions[k] = (
                                packed if packed is not None else _pack(*merged.pos, *merged.pos)
                            )
                            if merged._raw and k in merged._raw:
                                mapping.raw[k] = merged._raw[k]
        mapping._compact()
        return mapping

    def _child(self, node: Any, depth: int, parent: Map | Seq, slot: Any) -> Any:
        if node.id == "scalar":
            if node.tag not in _STANDARD_TAGS:
                self._build(node, depth + 1)  # reports the tag
            value, is_plain_str = self._scalar(node)
            if not is_plain_str:
                parent.raw[slot] = (node.value, node.style or "plain")
            return value
        return self._build(node, depth + 1)

    def _key(self, node: Any) -> Any:
        if node.id != "scalar":
            self.complex_keys += 1
            return f"<complex key at line {node.start_mark.line + 1}>"
        value, _ = self._scalar(node)
        if value is None or isinstance(value, bool):
            return node.value  # `true: a` and `1: b` are two keys, though True == 1
        try:
            hash(value)
        except TypeError:
            return node.value
        return value

    @staticmethod
    def _scalar(node: Any) -> tuple[Any, bool]:
        """Return (value, is_str). Non-str scalars keep their source text via ``raw``."""
        tag = node.tag
        text = node.value
        if tag == _STR or tag not in _STANDARD_TAGS:
            return text, tag == _STR
        if tag == _NULL:
            return None, False
        if tag == _BOOL:
            return _BOOLS.get(text.lower(), bool(text)), False
        if tag == _INT:
            return _to_int(text), False
        if tag == _FLOAT:
            try:
                return float(text.replace("_", "")), False
            except ValueError:
                return text, False
        return text, False  # timestamps, binary...: keep the text


#: what a parser error names: an alias or anchor with its name, else the run of text there
_TOKEN = re.compile(r"[*&][^\s,\[\]{}]+|[^\s]{1,40}")


def _token_at(text: str, line: int, col: int) -> str:
    """The token the parser stopped at, quoted and bounded (``'*defaults'``, ``'key:'``),
    so the message names it; "" at the end of the text."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    match = _TOKEN.match(lines[line - 1], col - 1)
    return _quoted(match.group(0)) if match else ""


def _quoted(value: str, limit: int = 60) -> str:
    """A value quoted for a message, at most ``limit`` characters of it."""
    value = str(value)
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def _tab_at(text: str, line: int, col: int) -> bool:
    """Whether the parser stopped at (or just after) a tab: the usual cause of its error."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return False
    return "\t" in lines[line - 1][: col + 1]


def _to_int(text: str) -> Any:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    try:
        if t.startswith("0b"):
            return sign * int(t[2:], 2)
        if t.startswith("0x"):
            return sign * int(t[2:], 16)
        if t.startswith("0o"):
            return sign * int(t[2:], 8)
        if len(t) > 1 and t.startswith("0"):
            return sign * int(t, 8)
        if ":" in t:
            value = 0
            for part in t.split(":"):
                value = value * 60 + int(part)
            return sign * value
        return sign * int(t)
    except ValueError:
        return text


def _children(node: Any) -> Iterator[Any]:
    if node.id == "sequence":
        yield from node.value
    elif node.id == "mapping":
        for k, v in node.value:
            yield k
            yield v


def walk(data: Any) -> Iterator[Any]:
    """Every mapping and sequence under ``data``, depth first, each once."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            yield item
            stack.extend([v for v in item.values() if isinstance(v, (dict, list))])
        elif isinstance(item, list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            yield item
            stack.extend([v for v in item if isinstance(v, (dict, list))])


def get_path(data: Any, *keys: Any) -> Any:
    """``get_path(doc, "spec", "template", "spec")`` or None when any step is missing."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or key >= len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
    return data


POD_SPEC_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pod_specs(data: Any) -> Iterator[Map]:
    """Every pod spec wherever it sits: Pods, workloads, CronJobs, and any custom resource.

    Found generically (a mapping with a ``containers`` list of mappings) so Argo Rollouts,
    Knative Services, Tekton-free CRDs and future kinds are covered without a list of kinds.
    """
    # ``walk`` inlined (same order): a full check-sync-waves run calls this once per object
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, Map):
                for key in POD_SPEC_LISTS:
                    found = item.get(key)
                    if isinstance(found, list) and any(isinstance(c, dict) for c in found):
                        yield item
                        break
            stack.extend([v for v in item.values() if isinstance(v, (dict, list))])
        elif isinstance(item, list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend([v for v in item if isinstance(v, (dict, list))])


def containers(pod_spec: Map) -> Iterator[tuple[str, Map]]:
    for key in POD_SPEC_LISTS:
        items = pod_spec.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Map):
                    yield key, item


def iter_files(paths: list[str]) -> Iterator[SourceFile]:
    for path in paths:
        yield load_file(path)


def to_plain(data: Any) -> Any:
    """Plain dicts and lists (for JSON output and jsonschema), positions dropped."""
    if isinstance(data, dict):
        return {k: to_plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_plain(v) for v in data]
    return data

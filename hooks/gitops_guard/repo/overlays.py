"""Where an app's artifacts are set in an environment's overlay: the one place promote,
check-promotion, drift and set-image agree on.

Which folder is an app's overlay in an environment is :mod:`gitops_guard.repo.environments`'
answer. In it an image is set by kustomize ``images:`` entries (``name`` / ``newName`` /
``newTag`` / ``digest``; also Flux Kustomization ``spec.images``), by Helm values files
(``image.registry / repository / tag / digest`` or ``image: repo:tag``), by a HelmRelease's
``spec.values``, by a container's ``image`` in a patch, or by an Argo CD Application's Helm
``parameters`` (``image.repository`` / ``image.tag``...) or ``valuesObject``. A chart
version is an artifact too: a HelmRelease's ``spec.chart.spec.version`` when it is exact (not
a range), an Argo CD Helm source's ``targetRevision``, a Flux OCIRepository's ``spec.ref.tag``.

Each place is an :class:`ImageSlot` with a key that is the same in every environment
(``images[name=web]``, ``values:image``, ``values:worker.image``), so two environments'
references pair up by key. Slots keep the YAML nodes of their fields, which is what lets
promote edit exactly those scalars.
"""

from __future__ import annotations

import functools
import os
import re

from gitops_guard.core import yamledit
from gitops_guard.core.documents import (
    KUSTOMIZATION_FILES,
    is_kustomize_file,
    is_values_file,
    is_yaml_name,
    repository_root_of,
)
from gitops_guard.core.findings import Finding, quote

TYPE_CHECKING = False  # start-up time (a hook): typing, pathlib and dataclasses are not imported
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

#: the fields of each kind of slot, in the order they are written
FIELDS = {
    "kustomize": ("newName", "newTag", "digest"),
    "helm": ("registry", "repository", "tag", "digest"),
    "string": ("image",),
    "chart": ("version",),
}
#: a chart version that names one version (not a range: ``>=1.0``, ``1.x``, ``*``)
EXACT_VERSION = re.compile(r"^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$")
POD_SPEC_LISTS = ("containers", "initContainers", "ephemeralContainers")
MAX_DEPTH = 64
NULL_TAG = "tag:yaml.org,2002:null"


class NotYaml(yamledit.EditError):
    """A Helm chart template among the overlay's files: not YAML, not ours, skipped."""


class LayoutError(Exception):
    """Unknown environment, app without an overlay, unreadable file: a clear one-line reason."""


class ImageSlot:
    """One place that sets an app's image in one environment."""

    __slots__ = (
        "fields",
        "fixed",
        "inherited",
        "key",
        "kind",
        "mapping",
        "name",
        "path",
        "problem",
    )

    def __init__(
        self,
        key: str,
        kind: str,
        path: str,
        fields: dict[str, tuple[Any, Any]] | None = None,
        name: str = "",
        mapping: Any = None,
        inherited: set[str] | None = None,
        problem: str | None = None,
        fixed: bool = False,
    ) -> None:
        self.key = key
        self.kind = kind  # kustomize | helm | string | chart
        self.path = path  # as reported (relative to the working directory when below it)
        #: field name -> (key node, value node); only fields that are written as scalars
        self.fields: dict[str, tuple[Any, Any]] = fields if fields is not None else {}
        #: for kustomize: the ``name`` the entry matches in the base
        self.name = name
        self.mapping = mapping
        #: fields that come from a merge key (``<<: *base``): editable in place, not removable
        self.inherited: set[str] = inherited if inherited is not None else set()
        #: why the slot must not be edited (a field written twice), else None
        self.problem = problem
        #: fields can be changed but not added or removed (Argo CD Helm parameters)
        self.fixed = fixed

    def __repr__(self) -> str:
        return f"ImageSlot(key={self.key!r}, kind={self.kind!r}, path={self.path!r})"

    def value(self, name: str) -> str | None:
        """The field's text; None when absent or null (``tag: ~``)."""
        pair = self.fields.get(name)
        if pair is None or pair[1].tag == NULL_TAG:
            return None
        return pair[1].value

    def values(self) -> dict[str, str]:
        return {k: v for k in self.fields if (v := self.value(k)) is not None}

    @property
    def reference(self) -> str:
        """The image reference this slot makes the cluster run (a chart: ``name:version``)."""
        if self.kind == "chart":
            return f"{self.name}:{self.value('version') or ''}"
        if self.kind == "string":
            return self.value("image") or ""
        if self.kind == "kustomize":
            text = self.value("newName") or self.name
            tag = self.value("newTag")
        else:
            repository = self.value("repository") or ""
            registry = self.value("registry")
            text = f"{registry.rstrip('/')}/{repository}" if registry else repository
            tag = self.value("tag")
        digest = self.value("digest")
        if tag:
            text += f":{tag}"
        if digest:
            text += f"@{digest}"
        return text

    @property
    def pinned(self) -> bool:
        """Whether the slot names an artifact (a tag or a digest), not the base's default."""
        if self.kind == "string":
            return bool(self.value("image"))
        if self.kind == "chart":
            return bool(self.value("version"))
        tag = self.value("newTag" if self.kind == "kustomize" else "tag")
        return bool(tag or self.value("digest"))

    def position(self, *prefer: str) -> tuple[int, int]:
        """1-based line and column of the first preferred field present (else of the slot)."""
        for name in (*prefer, *FIELDS[self.kind]):
            pair = self.fields.get(name)
            if pair is not None:
                mark = pair[1].start_mark
                return mark.line + 1, mark.column + 1
        mark = self.mapping.start_mark if self.mapping is not None else None
        return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class OverlayFile:
    __slots__ = ("abspath", "bom", "data", "path", "roots", "slots", "text")

    def __init__(
        self,
        path: str,
        abspath: Path,
        text: str,
        data: bytes,
        roots: list[Any],
        slots: list[ImageSlot],
        bom: bool = False,
    ) -> None:
        self.path = path
        self.abspath = abspath
        self.text = text
        self.data = data
        self.roots = roots
        self.slots = slots
        self.bom = bom


class Overlay:
    """An app's overlay in one environment, parsed."""

    def __init__(
        self,
        app: str,
        env: str,
        folder: Path,
        files: list[OverlayFile] | None = None,
        problems: list[Finding] | None = None,
        app_ref: Any = None,
    ) -> None:
        self.app = app
        self.env = env
        self.folder = folder
        self.files: list[OverlayFile] = files if files is not None else []
        self.problems: list[Finding] = problems if problems is not None else []
        self.app_ref = app_ref
        #: the names the environment goes by in files (``Environments.words``)
        self.words: tuple[str, ...] = (env,)

    def slots(self) -> dict[str, list[ImageSlot]]:
        """key (the environment's own name in it taken out) -> the slots with that key."""
        from gitops_guard.repo.environments import neutral

        result: dict[str, list[ImageSlot]] = {}
        for f in self.files:
            for slot in f.slots:
                result.setdefault(neutral(slot.key, self.words), []).append(slot)
        return result


# -- the repository and its environments ----------------------------------------------------


def repo_root(policy: Any = None, start: Path | None = None) -> Path:
    """The policy file's repository, else git's top level, else the nearest folder above
    ``start`` holding ``clusters/``, else the working directory."""
    from pathlib import Path

    return Path(repo_top(policy, start))


def repo_top(policy: Any = None, start: str | Path | None = None) -> str:
    """:func:`repo_root` as a string (no pathlib: a hook's start-up)."""
    path = policy_file(policy)
    if path is not None:
        policies = os.path.dirname(os.path.realpath(path))
        if os.path.basename(policies) == "policies":
            return os.path.dirname(policies)
    here = os.path.realpath(start if start is not None else os.getcwd())
    found = repository_root_of(here)  # git's work tree, else the folder holding clusters/
    return found if found is not None else here


def policy_file(policy: Any) -> str | None:
    """The policy file's path as a string (None: none), without making a Path."""
    path = getattr(policy, "_path", None) if policy is not None else None
    if path is None and policy is not None:
        path = getattr(policy, "path", None)
    return os.fspath(path) if path is not None else None


def display_path(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def overlay_files(folder: Path) -> list[Path]:
    from pathlib import Path

    result = []
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if is_yaml_name(name):
                result.append(Path(dirpath) / name)
    return result


def load_app(model: Any, app: Any, exact: bool = False) -> Overlay:
    """Parse every YAML file of an app's overlay (an ``environments.App``); bad files
    become problems, files that are not regular files (a FIFO, a device) are not opened."""
    import stat

    folder = model.path(app.folder)
    overlay = Overlay(app=app.name, env=app.env, folder=folder, app_ref=app)
    if hasattr(model, "words"):
        overlay.words = model.words(app.env)
    for rel in model.files_of(app):
        path = model.path(rel)
        shown = display_path(path)
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                continue
            if info.st_size > MAX_BYTES:
                overlay.problems.append(
                    Finding(shown, 1, 1, "yaml/unreadable", f"larger than {MAX_BYTES} bytes")
                )
                continue
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # listed by git, deleted in the working tree
        except OSError as exc:
            overlay.problems.append(
                Finding(shown, 1, 1, "yaml/unreadable", f"cannot read: {exc.strerror}")
            )
            continue
        try:
            parsed = parse_file(shown, path.name, data, exact)
        except NotYaml:
            continue
        except yamledit.EditError:
            overlay.problems.extend(_problems(shown, data))
            continue
        text, roots, slots = parsed
        bom = yamledit.has_bom(data)
        overlay.files.append(OverlayFile(shown, path, text, data, roots, slots, bom))
    return overlay


MAX_BYTES = 1_000_000


def _problems(shown: str, data: bytes) -> list[Finding]:
    from gitops_guard.core.documents import load_bytes

    problems = [p for p in load_bytes(shown, data).problems if p.rule != "yaml/empty"]
    return problems or [Finding(shown, 1, 1, "yaml/syntax", "cannot be parsed as YAML")]


def parse_file(
    shown: str, filename: str, data: bytes, exact: bool = False
) -> tuple[str, list[Any], list[ImageSlot]]:
    """(text, document nodes, image slots) of one overlay file; EditError when it is bad."""
    text = yamledit.decode(data, shown)
    if "{{" in text and ("templates" in _parts(shown) or "{{-" in text):
        raise NotYaml(f"{shown}: a Helm template, not YAML")
    roots = yamledit.compose(text, shown, exact=exact)
    return text, roots, list(slots_of(shown, filename, roots))


def _parts(path: str) -> list[str]:
    return path.replace(os.sep, "/").split("/")


def _scalar(node: Any) -> str | None:
    return node.value if node is not None and node.id == "scalar" else None


def _get(mapping: Any, key: str) -> Any:
    if mapping is None or mapping.id != "mapping":
        return None
    for k, _, value, _ in yamledit.items(mapping):
        if k == key:
            return value
    return None


def slots_of(shown: str, filename: str, roots: list[Any]) -> Iterator[ImageSlot]:
    values_file = is_values_file(filename)
    for root in roots:
        if root.id != "mapping":
            continue
        kind = _scalar(_get(root, "kind"))
        api = _scalar(_get(root, "apiVersion")) or ""
        name = _scalar(_get(_get(root, "metadata"), "name")) or ""
        spec = _get(root, "spec")
        if is_kustomize_file(filename, kind, api):
            yield from _kustomize(shown, _get(root, "images"), "")
        elif kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
            yield from _kustomize(shown, _get(spec, "images"), f"flux:{name}:")
        elif kind == "HelmRelease":
            values = _get(spec, "values")
            if values is not None:
                yield from _helm(shown, values, "", 0, set())
            chart = _get(_get(spec, "chart"), "spec")
            # a patch often sets only the version: the release's name stands for the chart
            chart_name = _scalar(_get(chart, "chart")) or name
            slot = _chart_slot(shown, f"helmrelease:{name}:chart", chart_name, chart, "version")
            if slot is not None:
                yield slot
        elif kind == "OCIRepository" and api.startswith("source.toolkit.fluxcd.io/"):
            url = _scalar(_get(spec, "url")) or name
            ref = _get(spec, "ref")
            slot = _chart_slot(shown, f"ocirepository:{name}:tag", url, ref, "tag")
            if slot is not None:
                yield slot
        elif kind in ("Application", "ApplicationSet") and api.startswith("argoproj.io/"):
            if kind == "ApplicationSet":
                spec = _get(_get(spec, "template"), "spec")
            yield from _application(shown, name, spec)
        elif values_file and kind is None:
            yield from _helm(shown, root, "", 0, set())
        elif kind is not None:
            yield from _containers(shown, f"{kind}/{name}", root, 0, set())


def _chart_slot(shown: str, key: str, chart: str, mapping: Any, field: str) -> ImageSlot | None:
    """A chart version set exactly (a range picks the version at sync time: not an artifact
    this repository pins)."""
    if mapping is None or mapping.id != "mapping":
        return None
    for k, key_node, value, _ in yamledit.items(mapping):
        if k == field and value.id == "scalar" and EXACT_VERSION.match(value.value or ""):
            slot = ImageSlot(key, "chart", shown, name=chart, mapping=mapping, fixed=True)
            slot.fields["version"] = (key_node, value)
            return slot
    return None


def _application(shown: str, name: str, spec: Any) -> Iterator[ImageSlot]:
    """An Argo CD Application's Helm sources: the chart version and the images it sets."""
    sources = []
    source = _get(spec, "source")
    if source is not None:
        sources.append(("source", source))
    many = _get(spec, "sources")
    if many is not None and many.id == "sequence":
        sources.extend((f"sources[{i}]", s) for i, s in enumerate(many.value))
    for where, src in sources:
        if src.id != "mapping":
            continue
        prefix = f"argocd:{name}:{where}"
        chart = _scalar(_get(src, "chart"))
        if chart:
            slot = _chart_slot(shown, f"{prefix}:chart", chart, src, "targetRevision")
            if slot is not None:
                yield slot
        helm = _get(src, "helm")
        values = _get(helm, "valuesObject")
        if values is not None:
            for slot in _helm(shown, values, "", 0, set()):
                slot.key = f"{prefix}:{slot.key}"
                yield slot
        yield from _parameters(shown, prefix, _get(helm, "parameters"))


def _parameters(shown: str, prefix: str, params: Any) -> Iterator[ImageSlot]:
    """``helm.parameters`` (``- name: image.tag`` / ``value: v1``) grouped by the image they
    set: ``image.repository`` + ``image.tag`` is one slot; ``image`` alone a whole reference."""
    if params is None or params.id != "sequence":
        return
    groups: dict[str, ImageSlot] = {}
    for item in params.value:
        if item.id != "mapping":
            continue
        pname = _scalar(_get(item, "name")) or ""
        value_pair = next(((k, v) for key, k, v, _ in yamledit.items(item) if key == "value"), None)
        if value_pair is None or value_pair[1].id != "scalar":
            continue
        head, _, last = pname.rpartition(".")
        if last == "image" or pname == "image":
            slot = ImageSlot(f"{prefix}:parameters:{pname}", "string", shown, fixed=True)
            slot.mapping = item
            slot.fields["image"] = value_pair
            if slot.value("image"):
                yield slot
        elif last in FIELDS["helm"] and head:
            slot = groups.get(head)
            if slot is None:
                slot = ImageSlot(f"{prefix}:parameters:{head}", "helm", shown, fixed=True)
                slot.mapping = params
                groups[head] = slot
            if last in slot.fields and slot.problem is None:
                line = value_pair[0].start_mark.line + 1
                slot.problem = f"{shown}:{line}: parameter {pname} is written twice"
            slot.fields[last] = value_pair
    for slot in groups.values():
        if slot.value("repository"):
            yield slot


def _containers(
    shown: str, where: str, node: Any, depth: int, seen: set[int]
) -> Iterator[ImageSlot]:
    """Container images of a Kubernetes object in the overlay (a patch, a manifest)."""
    if depth > MAX_DEPTH or id(node) in seen:
        return
    seen.add(id(node))
    if node.id == "sequence":
        for item in node.value:
            yield from _containers(shown, where, item, depth + 1, seen)
        return
    if node.id != "mapping":
        return
    for key, _, value, _ in yamledit.items(node):
        if key in POD_SPEC_LISTS and value.id == "sequence":
            for item in value.value:
                if item.id != "mapping":
                    continue
                cname = _scalar(_get(item, "name")) or ""
                pair = next(
                    ((k, v) for name, k, v, _ in yamledit.items(item) if name == "image"), None
                )
                if pair is None or pair[1].id != "scalar" or pair[1].tag != yamledit.STR_TAG:
                    continue
                if not pair[1].value:
                    continue
                slot = ImageSlot(f"container:{where}/{key}/{cname}", "string", shown)
                slot.mapping = item
                slot.fields["image"] = pair
                yield slot
        elif value.id in ("mapping", "sequence"):
            yield from _containers(shown, where, value, depth + 1, seen)


def _kustomize(shown: str, entries: Any, prefix: str) -> Iterator[ImageSlot]:
    if entries is None or entries.id != "sequence":
        return
    for entry in entries.value:
        if entry.id != "mapping":
            continue
        name = _scalar(_get(entry, "name"))
        if not name:
            continue
        slot = ImageSlot(f"{prefix}images[name={name}]", "kustomize", shown, name=name)
        slot.mapping = entry
        _fill(slot, entry)
        yield slot


def _fill(slot: ImageSlot, mapping: Any) -> None:
    seen: set[str] = set()
    for key_node, _ in mapping.value:
        if key_node.id == "scalar" and key_node.value in FIELDS[slot.kind]:
            if key_node.value in seen and slot.problem is None:
                line = key_node.start_mark.line + 1
                slot.problem = f"{slot.path}:{line}: {key_node.value} is written twice"
            seen.add(key_node.value)
    for key, key_node, value_node, inherited in yamledit.items(mapping):
        if key in FIELDS[slot.kind] and value_node.id == "scalar":
            slot.fields[key] = (key_node, value_node)
            if inherited:
                slot.inherited.add(key)


def _helm(shown: str, node: Any, path: str, depth: int, seen: set[int]) -> Iterator[ImageSlot]:
    if depth > MAX_DEPTH or id(node) in seen:
        return
    seen.add(id(node))
    if node.id == "sequence":
        for i, item in enumerate(node.value):
            yield from _helm(shown, item, f"{path}[{i}]", depth + 1, seen)
        return
    if node.id != "mapping":
        return
    for key, _, value, _ in yamledit.items(node):
        here = f"{path}.{key}" if path else key
        if key == "image" and value.id == "mapping" and _scalar(_get(value, "repository")):
            slot = ImageSlot(f"values:{here}", "helm", shown)
            slot.mapping = value
            _fill(slot, value)
            yield slot
        elif key == "image" and value.id == "scalar" and value.tag == yamledit.STR_TAG:
            if value.value:
                slot = ImageSlot(f"values:{here}", "string", shown)
                slot.mapping = node
                slot.fields["image"] = (None, value)
                yield slot
        else:
            yield from _helm(shown, value, here, depth + 1, seen)


def environment_pair(policy: Any, source: str | None, target: str | None) -> tuple[Any, str, str]:
    """(the repository's environments, from-env, to-env) for promote and drift: ``--from`` /
    ``--to`` with the policy's defaults (the environment before / after). Raises
    LayoutError when an environment is unknown or has no folder."""
    from gitops_guard.repo import environments

    model = environments.load(repo_root(policy), policy)
    source, target = neighbours(model, source, target)
    for env in (source, target):
        if not model.folders.get(env):
            raise LayoutError(
                f"environment {quote(env)} has no folder under {display_path(model.root)} "
                f"(looked for {', '.join(model.looked)})"
            )
    return model, source, target


def neighbours(model: Any, source: str | None, target: str | None) -> tuple[str, str]:
    """``--from`` / ``--to`` with defaults from the order (the env before / after; with
    parallel environments, the one named must be unambiguous)."""
    order = model.names
    for env in (source, target):
        if env is not None and env not in order:
            raise LayoutError(
                f"unknown environment {quote(env)} (promotion.environments: {', '.join(order)})"
            )
    if source is None and target is None:
        if len(model.stages) < 2:
            raise LayoutError("promotion.environments names fewer than two stages")
        if len(model.stages[1]) > 1:
            raise LayoutError(
                f"{quote(model.stages[0][0])} promotes to {', '.join(model.stages[1])}; give --to"
            )
        return model.stages[0][0], model.stages[1][0]
    if source is None:
        preds = model.predecessors(target)
        if not preds:
            raise LayoutError(f"{quote(target)} is the first environment; give --from")
        if len(preds) > 1:
            raise LayoutError(f"{quote(target)} follows {', '.join(preds)}; give --from")
        return preds[0], target  # type: ignore[return-value]
    if target is None:
        succ = model.successors(source)
        if not succ:
            raise LayoutError(f"{quote(source)} is the last environment; give --to")
        if len(succ) > 1:
            raise LayoutError(f"{quote(source)} promotes to {', '.join(succ)}; give --to")
        return source, succ[0]
    if source == target:
        raise LayoutError(f"--from and --to are both {quote(source)}")
    return source, target


def base_images(model: Any, overlay: Overlay) -> list[str]:
    """The container images written in what the overlay's kustomization reaches (its
    bases): what a kustomize ``images:`` entry's ``name`` matches."""
    from gitops_guard.repo.environments import _bases, _direct_files

    app = overlay.app_ref
    if app is None:
        return []
    found: list[str] = []
    kusts = [
        f
        for f in _direct_files(app.folder, model.files)
        if f.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES
    ]
    folders = [app.folder]
    for kust in kusts:
        folders.extend(sorted(_bases(model.top, kust, model.files)))
    for folder in folders:
        for rel in _direct_files(folder, model.files):
            if not is_yaml_name(rel.rsplit("/", 1)[-1]):
                continue
            try:
                data = model.path(rel).read_bytes()
                _, _, slots = parse_file(rel, rel.rsplit("/", 1)[-1], data)
            except (OSError, yamledit.EditError):
                continue
            found.extend(s.reference for s in slots if s.kind == "string")
    return found


# -- what check-promotion needs of a file, remembered by content ---------------------------------


class SlotRecord:
    """An ImageSlot without its YAML nodes: what check-promotion reads (values, positions),
    small enough to remember between runs by the file's content."""

    __slots__ = ("at", "key", "kind", "name", "path", "pos", "problem", "vals")

    def __init__(self, data: tuple, path: str) -> None:
        self.key, self.kind, self.name, self.vals, self.pos, self.at, self.problem = data
        self.path = path

    def value(self, name: str) -> str | None:
        return self.vals.get(name)

    def values(self) -> dict[str, str]:
        return {k: v for k, v in self.vals.items() if v is not None}

    reference = ImageSlot.reference
    pinned = ImageSlot.pinned

    def position(self, *prefer: str) -> tuple[int, int]:
        for name in (*prefer, *FIELDS[self.kind]):
            if name in self.pos:
                return self.pos[name]
        return self.at


def record_of(slot: ImageSlot) -> tuple:
    """The marshal-able data of a SlotRecord."""
    mark = slot.mapping.start_mark if slot.mapping is not None else None
    at = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    vals = {name: slot.value(name) for name in slot.fields}
    pos = {}
    for name, (_key, node) in slot.fields.items():
        pos[name] = (node.start_mark.line + 1, node.start_mark.column + 1)
    return (slot.key, slot.kind, slot.name, vals, pos, at, slot.problem)


_CACHE_VERSION = 1
MAX_RECORDS = 200_000


def _cache_version(derived_by: tuple[str, ...]) -> str:
    """The records' format and the code that made them and what is kept beside them (this
    module, the YAML reader, the caller's deriving modules, the release, PyYAML): an upgrade
    or an edit that reads a file differently never uses an older run's records."""
    from gitops_guard.core import cache, documents

    return f"{_CACHE_VERSION}|" + cache.code_identity(__file__, documents.__file__, *derived_by)


class RecordCache:
    """Blob id (git's SHA-1 of the content) -> the file's slot records, kept per repository
    in the cache folder (``core/cache.py``: checksummed). A file's records depend on its
    bytes and its name's kind (kustomization, values file), both in the key."""

    def __init__(self, root: str | Path, derived_by: tuple[str, ...] = ()) -> None:
        """``derived_by``: the files of the modules that keep what they derive from the
        records here (:meth:`keep`): an edit of one of them drops the whole memory."""
        from gitops_guard.core import cache

        self._file = cache.repository_cache_file("promotion-slots", os.fspath(root))
        loaded = cache.load(self._file)
        self._version = _cache_version(derived_by)
        ok = isinstance(loaded, dict) and loaded.get("version") == self._version
        self.entries: dict[str, list] = loaded["entries"] if ok else {}  # type: ignore[index]
        #: (what a check derives from a version's records, by the check's name for it) ->
        #: version key -> that, kept beside the records (dropped with them)
        self._kept: dict[str, dict[str, Any]] = (
            loaded.get("kept", {}) if ok else {}  # type: ignore[union-attr]
        )
        self.changed = False
        #: what a caller derives from a version's records, by its key, for this run only
        self.derived: dict[str, Any] = {}

    @staticmethod
    def blob_id(data: bytes) -> str:
        import hashlib

        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    @staticmethod
    def key(shown: str, filename: str, blob: str) -> str:
        template = ""
        if "templates" in shown and "templates" in shown.replace(os.sep, "/").split("/"):
            template = "t"
        return f"{blob}:{_name_kind(filename)}{template}"

    def kept(self, kind: str, key: str) -> Any:
        """What a check kept of the version ``key`` under ``kind`` (None: nothing). ``kind``
        names the derivation and its version: a changed derivation takes a new name."""
        return self._kept.get(kind, {}).get(key) if key in self.entries else None

    def keep(self, kind: str, key: str, value: Any) -> None:
        """Remember ``value`` (marshal-able) for the version ``key`` of a remembered file."""
        if key in self.entries:
            self._kept.setdefault(kind, {})[key] = value
            self.changed = True

    def cached(self, shown: str, filename: str, blob: str) -> list[SlotRecord] | None:
        """The remembered SlotRecords of a version of a file, without its content (None:
        not remembered)."""
        return self.cached_key(self.key(shown, filename, blob), shown)

    def cached_key(self, key: str, shown: str) -> list[SlotRecord] | None:
        """:meth:`cached` by the version's :meth:`key`."""
        found = self.entries.get(key)
        return None if found is None else [SlotRecord(r, shown) for r in found]

    def records(self, shown: str, filename: str, data: bytes, blob: str | None = None) -> Any:
        """The file's SlotRecords; None when it is not valid YAML (the caller reports it)."""
        key = self.key(shown, filename, blob or self.blob_id(data))
        found = self.entries.get(key)
        if found is None:
            try:
                _, _, slots = parse_file(shown, filename, data)
            except NotYaml:
                slots = []
            except yamledit.EditError:
                return None
            found = [record_of(s) for s in slots]
            if len(self.entries) >= MAX_RECORDS:
                self.entries.clear()
                self._kept.clear()
            self.entries[key] = found
            self.changed = True
        return [SlotRecord(r, shown) for r in found]

    def save(self) -> None:
        if self.changed and self._file is not None:
            from gitops_guard.core import cache

            kept = {
                kind: {k: v for k, v in values.items() if k in self.entries}
                for kind, values in self._kept.items()
            }
            cache.save(
                self._file, {"version": self._version, "entries": self.entries, "kept": kept}
            )
            self.changed = False


@functools.lru_cache(maxsize=4096)
def _name_kind(filename: str) -> str:
    if is_values_file(filename):
        return "v"
    return "k" if filename in KUSTOMIZATION_FILES else "o"


def load_records(
    model: Any, app: Any, records: RecordCache, pieces: list[Any] | None = None
) -> tuple[list[Any], list[Finding]]:
    """(the SlotRecords of every YAML file of an app's overlay, the files' problems): what
    ``load_app`` finds, without keeping parsed YAML, remembered by content. ``pieces``
    collects (the file version's cache key, its records) per file: what is derived from a
    version (its artifacts) can then be derived once per run."""
    import stat

    found: list[Any] = []
    problems: list[Finding] = []
    root = model.top
    blobs = getattr(model, "blobs", None) or {}
    for rel in model.files_of(app):
        shown = model.shown(rel)
        blob = blobs.get(rel)
        name = rel.rsplit("/", 1)[-1]
        if blob is not None:  # unchanged since git's index: known without reading it
            key = records.key(shown, name, blob)
            remembered = records.cached_key(key, shown)
            if remembered is not None:
                found.extend(remembered)
                if pieces is not None:
                    pieces.append((key, remembered))
                continue
        path = os.path.join(root, rel)
        try:
            # O_NONBLOCK: a FIFO named *.yaml opens at once (and is skipped), never blocks
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with open(fd, "rb", closefd=True) as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    continue
                if info.st_size > MAX_BYTES:
                    problems.append(
                        Finding(shown, 1, 1, "yaml/unreadable", f"larger than {MAX_BYTES} bytes")
                    )
                    continue
                data = handle.read(MAX_BYTES + 1)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(Finding(shown, 1, 1, "yaml/unreadable", f"cannot read: {exc.strerror}"))
            continue
        blob = records.blob_id(data)
        got = records.records(shown, name, data, blob)
        if got is None:
            problems.extend(_problems(shown, data))
            continue
        found.extend(got)
        if pieces is not None:
            pieces.append((records.key(shown, name, blob), got))
    return found, problems

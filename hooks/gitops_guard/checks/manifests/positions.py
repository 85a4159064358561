"""Where a problem in a rendered object was written: the line a person has to change.

A rendered value comes from one of these, checked in the order the renderer applied them,
last writer first:

- kustomize: an ``images:`` entry (for an image), a patch of an overlay (outermost first:
  it is applied last), else the file the object was read from (its origin annotation);
- helm: a ``--set`` parameter, inline values, the values files (last first), the chart's
  ``values.yaml``, ``Chart.yaml``'s ``appVersion`` (an image tag's default), else the line of
  the template that writes the key;
- a directory application: the file itself.

Lists are followed by item ``name`` where items have one (a patch's containers need not be
in the base's order), else by index.
"""

from __future__ import annotations

import os

from gitops_guard.core.documents import Map, Seq, load_file
from gitops_guard.render.units import HELM, KUSTOMIZE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from gitops_guard.core.documents import SourceFile
    from gitops_guard.render.build import RenderedObject
    from gitops_guard.render.units import Plan, Unit

Where = "tuple[str, int, int]"


class Locator:
    """Finds source positions; every source file is parsed once per run."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.repo = plan.repo
        self._files: dict[str, SourceFile | None] = {}

    def source(self, key: str) -> SourceFile | None:
        if key not in self._files:
            cached = self.repo.parsed(key)
            if cached is None and os.path.isfile(key):
                cached = load_file(key)
            self._files[key] = cached
        return self._files[key]

    # -- the entry point ----------------------------------------------------------------
    def locate(
        self, unit: Unit, obj: RenderedObject, path: tuple, value: Any = None, key_only=False
    ) -> Where:
        """Where the value at ``path`` of a rendered object was written."""
        if unit.kind == KUSTOMIZE:
            for candidate in self._patch_docs(unit, obj):
                if isinstance(candidate[1], Seq):
                    found = _in_json_patch(candidate[1], obj.data, path, key_only)
                else:
                    found = walk(candidate[1], obj.data, path, key_only, exact=True)
                if found is not None:
                    return (candidate[0], *found)
        if unit.kind == HELM and value is not None and not isinstance(value, (dict, list)):
            found_value = self._in_values(unit, path, value)
            if found_value is not None:
                return found_value
        origin = obj.origin
        if origin is not None:
            source = self.source(origin)
            if source is not None and source.documents and unit.kind != HELM:
                doc = _matching_doc(source, obj)
                if doc is not None:
                    found = walk(doc.data, obj.data, path, key_only, exact=False)
                    if found is not None:
                        return (origin, *found)
            if source is not None and unit.kind == HELM:
                return (origin, *_template_line(source, path))
            return (origin, 1, 1)
        if obj.generator is not None:
            return self._generator(obj)
        return unit.at

    # -- kustomize ----------------------------------------------------------------------
    def kustomizations(self, unit: Unit) -> list[str]:
        """The unit's kustomization files, outermost (applied last) first."""
        graph = self.plan.graph
        order = [unit.root]
        seen = {unit.root}
        i = 0
        while i < len(order):
            for is_kust, target in graph.edges.get(order[i], ()):
                if is_kust and target not in seen:
                    seen.add(target)
                    order.append(target)
            i += 1
        return order

    def _patch_docs(self, unit: Unit, obj: RenderedObject) -> Iterator[tuple[str, Any]]:
        """(file key, patch data) of each patch that targets the object, last applied first."""
        for kfile in self.kustomizations(unit):
            source = self.source(kfile)
            data = source.documents[0].data if source and source.documents else None
            if not isinstance(data, Map):
                continue
            folder = os.path.dirname(kfile)
            entries: list[tuple[Any, Any]] = []
            patches = data.get("patches")
            if isinstance(patches, Seq):
                entries.extend(
                    (p, p.get("target") if isinstance(p, Map) else None) for p in patches
                )
            json6902 = data.get("patchesJson6902")
            if isinstance(json6902, Seq):
                entries.extend(
                    (p, p.get("target") if isinstance(p, Map) else None) for p in json6902
                )
            smp = data.get("patchesStrategicMerge")
            if isinstance(smp, Seq):
                entries.extend((p, None) for p in smp)
            for entry, target in reversed(entries):
                if target is not None and not _selects(target, obj):
                    continue
                for key, doc_data in self._patch_content(kfile, folder, entry):
                    if isinstance(doc_data, Seq) and target is None:
                        continue  # JSON 6902 operations need a target
                    if target is None and not _same_object(doc_data, obj):
                        continue
                    yield key, doc_data

    def _patch_content(self, kfile: str, folder: str, entry: Any) -> Iterator[tuple[str, Any]]:
        path = entry.get("path") if isinstance(entry, Map) else entry
        if isinstance(path, str) and "\n" not in path:
            key = os.path.normpath(os.path.join(folder, path))
            source = self.source(key)
            if source is not None:
                for doc in source.documents:
                    if isinstance(doc.data, (Map, Seq)):
                        yield key, doc.data
            return
        text = entry.get("patch") if isinstance(entry, Map) else entry
        if not isinstance(text, str):
            return
        # an inline patch: its text sits in the kustomization, positions shifted by the block
        from gitops_guard.core.documents import load_text

        holder = entry if isinstance(entry, Map) else None
        start = holder.at("patch") if holder is not None else (1, 1)
        inner = load_text(kfile, text)
        for doc in inner.documents:
            if isinstance(doc.data, (Map, Seq)):
                yield kfile, _shift_value(doc.data, start[0])

    def images_entry(self, unit: Unit, repository: str) -> tuple[str, Map] | None:
        """The outermost ``images:`` entry that sets an image of this repository."""
        for kfile in self.kustomizations(unit):
            source = self.source(kfile)
            data = source.documents[0].data if source and source.documents else None
            entries = data.get("images") if isinstance(data, Map) else None
            if not isinstance(entries, Seq):
                continue
            for entry in entries:
                if not isinstance(entry, Map):
                    continue
                name = entry.get("newName") or entry.get("name")
                if isinstance(name, str) and _same_repository(name, repository):
                    return kfile, entry
        return None

    def _generator(self, obj: RenderedObject) -> Where:
        kfile, kind = obj.generator
        source = self.source(kfile)
        data = source.documents[0].data if source and source.documents else None
        field = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}
        entries = data.get(field.get(kind, "")) if isinstance(data, Map) else None
        if isinstance(entries, Seq):
            for entry in entries:
                name = entry.get("name") if isinstance(entry, Map) else None
                if isinstance(name, str) and (obj.name == name or obj.name.startswith(name + "-")):
                    return (kfile, *entry.at("name"))
        return (kfile, 1, 1)

    # -- helm -----------------------------------------------------------------------------
    def values_sources(self, unit: Unit) -> Iterator[tuple[str, Any]]:
        """(file key, values mapping) from the last applied to the first."""
        for _flag, assignment, where in reversed(unit.sets):
            name, _, value = assignment.partition("=")
            yield where[0], _Param(name, value, where)
        for _text, where in reversed(unit.values):
            source = self.source(where[0])
            holder = _value_at(source, where) if source is not None else None
            if isinstance(holder, Map):
                yield where[0], holder
            elif isinstance(holder, str):
                from gitops_guard.core.documents import load_text

                inner = load_text(where[0], holder)
                for doc in inner.documents:
                    if isinstance(doc.data, Map):
                        yield where[0], _shift_value(doc.data, where[1])
        chart_values = os.path.join(unit.root, "values.yaml")
        for key in [*reversed(unit.value_files), chart_values]:
            source = self.source(key)
            if source is not None:
                for doc in source.documents:
                    if isinstance(doc.data, Map):
                        yield key, doc.data

    def _in_values(self, unit: Unit, path: tuple, value: Any) -> Where | None:
        last = next((p for p in reversed(path) if isinstance(p, str)), None)
        for key, values in self.values_sources(unit):
            if isinstance(values, _Param):
                if values.value == str(value) and values.name.rsplit(".", 1)[-1] == last:
                    return values.where
                continue
            found = _find_scalar(values, last, value)
            if found is not None:
                return (key, *found)
        # a value written under another name (``wave: "1.5"`` into an annotation): where it
        # is the one scalar of that text in the values applied last
        if len(str(value)) < 2 or str(value).lower() in ("true", "false", "null"):
            return None
        for key, values in self.values_sources(unit):
            if isinstance(values, _Param):
                if values.value == str(value):
                    return values.where
                continue
            hits = _all_scalars(values, str(value))
            if len(hits) == 1:
                return (key, *hits[0])
            if hits:
                return None
        return None

    def helm_tag(self, unit: Unit, tag: str) -> Where | None:
        """Where a chart's image tag was set: a ``tag:`` in values, else ``appVersion``."""
        for key, values in self.values_sources(unit):
            if isinstance(values, _Param):
                if values.value == tag and values.name.endswith("tag"):
                    return values.where
                continue
            found = _find_scalar(values, "tag", tag)
            if found is not None:
                return (key, *found)
        chart_file = os.path.join(unit.root, "Chart.yaml")
        source = self.source(chart_file)
        data = source.documents[0].data if source and source.documents else None
        if isinstance(data, Map) and str(data.get("appVersion")) == tag:
            return (chart_file, *data.at("appVersion"))
        return None


class _Param:
    """A ``--set name=value`` parameter of an Argo CD Application."""

    __slots__ = ("name", "value", "where")

    def __init__(self, name: str, value: str, where: Any) -> None:
        self.name = name
        self.value = value
        self.where = where


def _copy_shifted(src: Any, dst: Any, offset: int) -> None:
    dst.pos = (src.pos[0] + offset, src.pos[1])
    if isinstance(src, Map):
        for key, value in src.items():
            dst[key] = _shift_value(value, offset)
            line, col = src.at(key)
            dst.value_pos[key] = (line + offset, col)
            kline, kcol = src.key_at(key)
            dst.key_pos[key] = (kline + offset, kcol)
            if key in src.raw:
                dst.raw[key] = src.raw[key]


def _shift_value(value: Any, offset: int) -> Any:
    if isinstance(value, Map):
        out = Map()
        _copy_shifted(value, out, offset)
        return out
    if isinstance(value, Seq):
        out_seq = Seq()
        out_seq.pos = (value.pos[0] + offset, value.pos[1])
        for i, item in enumerate(value):
            out_seq.append(_shift_value(item, offset))
            line, col = value.at(i)
            out_seq.item_pos.append((line + offset, col))
        return out_seq
    return value


def _value_at(source: SourceFile, where: Any) -> Any:
    """The value written at (line, column) of a file: an Application's values block."""
    _key, line, col = where
    from gitops_guard.core.documents import walk as walk_all

    for doc in source.documents:
        for node in walk_all(doc.data):
            if isinstance(node, Map):
                for name in node:
                    if node.at(name) == (line, col):
                        return node[name]
    return None


def walk(src: Any, rendered: Any, path: tuple, key_only: bool, exact: bool) -> Any:
    """(line, column) of ``path`` in a source object; the deepest point reached when
    ``exact`` is False, None when nothing of it is there (or, exact, not all of it)."""
    node, other = src, rendered
    pos = None
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(step, int):
            if not isinstance(node, Seq) or not isinstance(other, list) or step >= len(other):
                return None if exact else pos
            item = other[step]
            index = _same_item(node, item, step)
            if index is None:
                return None if exact else pos
            pos = node.at(index)
            node, other = node[index], item
        else:
            if not isinstance(node, Map) or step not in node:
                return None if exact else pos
            pos = node.key_at(step) if (last and key_only) else node.at(step)
            node = node[step]
            other = other.get(step) if isinstance(other, dict) else None
    return pos


def _in_json_patch(ops: Seq, rendered: Any, path: tuple, key_only: bool) -> Any:
    """(line, column) in the JSON 6902 operation that wrote ``path`` (RFC 6902 pointers,
    ``~1`` for ``/``, ``-`` for the end of a list), the last such operation first."""
    for op in reversed(ops):
        if not isinstance(op, Map) or op.get("op") not in ("add", "replace", "copy"):
            continue
        pointer = op.get("path")
        if not isinstance(pointer, str) or not pointer.startswith("/") or "value" not in op:
            continue
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
        if len(parts) > len(path):
            continue
        matched = True
        for part, step in zip(parts, path):
            if isinstance(step, int):
                if part != "-" and part != str(step):
                    matched = False
                    break
            elif part != step:
                matched = False
                break
        if not matched:
            continue
        rest = path[len(parts) :]
        if not rest:
            return op.at("value")
        sub = rendered
        for step in path[: len(parts)]:
            try:
                sub = sub[step]
            except (KeyError, IndexError, TypeError):
                sub = None
                break
        found = walk(op["value"], sub, rest, key_only, exact=True)
        if found is not None:
            return found
    return None


def _same_item(seq: Seq, item: Any, index: int) -> int | None:
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        for i, candidate in enumerate(seq):
            if isinstance(candidate, Map) and candidate.get("name") == item["name"]:
                return i
        return None
    return index if index < len(seq) else None


def _matching_doc(source: SourceFile, obj: RenderedObject) -> Any:
    """The document of a file an object came from (its name may carry a prefix/suffix)."""
    same_kind = [d for d in source.documents if d.kind == obj.kind and isinstance(d.data, Map)]
    for doc in same_kind:
        if doc.name == obj.name:
            return doc
    for doc in same_kind:
        if doc.name and doc.name in obj.name:
            return doc
    if same_kind:
        return same_kind[0]
    docs = [d for d in source.documents if isinstance(d.data, Map)]
    return docs[0] if len(docs) == 1 else None


def _same_object(patch: Any, obj: RenderedObject) -> bool:
    if not isinstance(patch, Map):
        return False
    if patch.get("kind") not in (None, obj.kind):
        return False
    meta = patch.get("metadata")
    name = meta.get("name") if isinstance(meta, Map) else None
    return isinstance(name, str) and (name == obj.name or name in obj.name)


def _selects(target: Any, obj: RenderedObject) -> bool:
    """kustomize's patch target selector (kind, name, namespace; names are regexes)."""
    import re

    if not isinstance(target, Map):
        return False
    # by kind and group: a name may have been changed after the patch (a later patch, a
    # prefix), and the value must still be found in the patch at the same path
    group = obj.api_version.rsplit("/", 1)[0] if "/" in obj.api_version else ""
    checks = (("kind", obj.kind), ("group", group))
    for field, actual in checks:
        wanted = target.get(field)
        if isinstance(wanted, str) and wanted:
            try:
                if not re.fullmatch(wanted, actual):
                    return False
            except re.error:
                return False
    return True


def _same_repository(name: str, repository: str) -> bool:
    if name == repository:
        return True
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/"):
        if repository.startswith(prefix) and repository[len(prefix) :] == name:
            return True
    return False


def _find_scalar(values: Any, key: str | None, value: Any) -> tuple[int, int] | None:
    """The first ``key: value`` (any depth) whose text equals the rendered value."""
    stack = [values]
    wanted = str(value)
    while stack:
        node = stack.pop(0)
        if isinstance(node, Map):
            for name, item in node.items():
                if isinstance(item, (Map, Seq)):
                    stack.append(item)
                elif name == key and (node.text(name) == wanted or str(item) == wanted):
                    return node.at(name)
        elif isinstance(node, Seq):
            stack.extend(i for i in node if isinstance(i, (Map, Seq)))
    return None


def _all_scalars(values: Any, wanted: str) -> list[tuple[int, int]]:
    hits = []
    stack = [values]
    while stack:
        node = stack.pop()
        if isinstance(node, Map):
            for name, item in node.items():
                if isinstance(item, (Map, Seq)):
                    stack.append(item)
                elif node.text(name) == wanted or (item is not None and str(item) == wanted):
                    hits.append(node.at(name))
        elif isinstance(node, Seq):
            for i, item in enumerate(node):
                if isinstance(item, (Map, Seq)):
                    stack.append(item)
                elif item is not None and str(item) == wanted:
                    hits.append(node.at(i))
    return hits


def _template_line(source: SourceFile, path: tuple) -> tuple[int, int]:
    """The line of a chart template that writes the last key of ``path``."""
    keys = [p for p in path if isinstance(p, str)]
    lines = source.text.splitlines()
    for key in reversed(keys):
        needle = f"{key}:"
        for number, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith((needle, f"- {needle}", f'"{key}":')):
                col = line.index(key) + 1
                rest = line[col - 1 + len(needle) :]
                if rest.strip():
                    col += len(needle) + (len(rest) - len(rest.lstrip()))
                return number, col
    return 1, 1


def scalar_at(data: Any, line: int) -> tuple[tuple, Any] | None:
    """(path, value) of the scalar written on ``line`` of a parsed object (rendered text)."""
    stack: list[tuple[tuple, Any]] = [((), data)]
    best = None
    while stack:
        path, node = stack.pop()
        if isinstance(node, Map):
            for name, item in node.items():
                if isinstance(item, (Map, Seq)):
                    stack.append(((*path, name), item))
                elif node.at(name)[0] == line:
                    best = ((*path, name), item)
        elif isinstance(node, Seq):
            for i, item in enumerate(node):
                if isinstance(item, (Map, Seq)):
                    stack.append(((*path, i), item))
                elif node.at(i)[0] == line:
                    best = ((*path, i), item)
    return best

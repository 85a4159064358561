"""Where an app's image references sit in an environment: the one place promote,
check-promotion and drift agree on the layout.

An app's overlay is ``clusters/<env>/<app>/``. Its image is set there by kustomize ``images:``
entries (``name`` / ``newName`` / ``newTag`` / ``digest``; also Flux Kustomization
``spec.images``), by Helm values files of the environment (``image.registry / repository /
tag / digest`` or ``image: repo:tag``) or by a HelmRelease's ``spec.values``.

Each place is an :class:`ImageSlot` with a key that is the same in every environment
(``images[name=web]``, ``values:image``, ``values:worker.image``), so two environments'
references pair up by key. Slots keep the YAML nodes of their fields, which is what lets
promote edit exactly those scalars.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_guard.core import yamledit
from gitops_guard.core.documents import (
    is_kustomize_file,
    is_values_file,
    is_yaml_name,
    repository_root_of,
)
from gitops_guard.core.findings import Finding, quote

#: the fields of each kind of slot, in the order they are written
FIELDS = {
    "kustomize": ("newName", "newTag", "digest"),
    "helm": ("registry", "repository", "tag", "digest"),
    "string": ("image",),
}
MAX_DEPTH = 64
NULL_TAG = "tag:yaml.org,2002:null"


class NotYaml(yamledit.EditError):
    """A Helm chart template among the overlay's files: not YAML, not ours, skipped."""


class LayoutError(Exception):
    """Unknown environment, app without an overlay, unreadable file: a clear one-line reason."""


@dataclass
class ImageSlot:
    """One place that sets an app's image in one environment."""

    key: str
    kind: str  # kustomize | helm | string
    path: str  # as reported (relative to the working directory when below it)
    #: field name -> (key node, value node); only fields that are written as scalars
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: for kustomize: the ``name`` the entry matches in the base
    name: str = ""
    mapping: Any = None
    #: fields that come from a merge key (``<<: *base``): editable in place, not removable
    inherited: set[str] = field(default_factory=set)
    #: why the slot must not be edited (a field written twice), else None
    problem: str | None = None

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
        """The image reference this slot makes the cluster run."""
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


@dataclass
class OverlayFile:
    path: str
    abspath: Path
    text: str
    data: bytes
    roots: list[Any]
    slots: list[ImageSlot]
    bom: bool = False


@dataclass
class Overlay:
    """An app's overlay in one environment, parsed."""

    app: str
    env: str
    folder: Path
    files: list[OverlayFile] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)

    def slots(self) -> dict[str, list[ImageSlot]]:
        result: dict[str, list[ImageSlot]] = {}
        for f in self.files:
            for slot in f.slots:
                result.setdefault(slot.key, []).append(slot)
        return result


# -- the repository and its environments ----------------------------------------------------


def repo_root(policy: Any = None, start: Path | None = None) -> Path:
    """The policy file's repository, else git's top level, else the nearest folder above
    ``start`` holding ``clusters/``, else the working directory."""
    path = getattr(policy, "path", None)
    if path is not None and Path(path).resolve().parent.name == "policies":
        return policy.root
    here = (start or Path.cwd()).resolve()
    found = repository_root_of(here)  # git's work tree, else the folder holding clusters/
    return Path(found) if found is not None else here


def env_folder(root: Path, env: str) -> Path:
    return root / "clusters" / env


def apps(root: Path, env: str) -> list[str]:
    """The apps with an overlay folder in the environment."""
    folder = env_folder(root, env)
    if not folder.is_dir():
        return []
    return sorted(
        d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))
    )


def display_path(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def overlay_files(folder: Path) -> list[Path]:
    result = []
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if is_yaml_name(name):
                result.append(Path(dirpath) / name)
    return result


def load_overlay(root: Path, env: str, app: str, exact: bool = False) -> Overlay:
    """Parse every YAML file of ``clusters/<env>/<app>/``; bad files become problems."""
    folder = env_folder(root, env) / app
    overlay = Overlay(app=app, env=env, folder=folder)
    for path in overlay_files(folder):
        shown = display_path(path)
        try:
            data = path.read_bytes()
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


def _problems(shown: str, data: bytes) -> list[Finding]:
    from gitops_guard.core.documents import load_bytes

    problems = [p for p in load_bytes(shown, data).problems if p.rule != "yaml/empty"]
    return problems or [Finding(shown, 1, 1, "yaml/syntax", "cannot be parsed as YAML")]


def parse_file(
    shown: str, filename: str, data: bytes, exact: bool = False
) -> tuple[str, list[Any], list[ImageSlot]]:
    """(text, document nodes, image slots) of one overlay file; EditError when it is bad."""
    text = yamledit.decode(data, shown)
    if "{{" in text and ("templates" in Path(shown).parts or "{{-" in text):
        raise NotYaml(f"{shown}: a Helm template, not YAML")
    roots = yamledit.compose(text, shown, exact=exact)
    return text, roots, list(slots_of(shown, filename, roots))


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
        if is_kustomize_file(filename, kind, api):
            yield from _kustomize(shown, _get(root, "images"), "")
        elif kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
            name = _scalar(_get(_get(root, "metadata"), "name")) or ""
            yield from _kustomize(shown, _get(_get(root, "spec"), "images"), f"flux:{name}:")
        elif kind == "HelmRelease":
            values = _get(_get(root, "spec"), "values")
            if values is not None:
                yield from _helm(shown, values, "", 0, set())
        elif values_file and kind is None:
            yield from _helm(shown, root, "", 0, set())


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


def environment_order(policy: Any) -> list[str]:
    return list(policy.environments)


def environment_pair(policy: Any, source: str | None, target: str | None) -> tuple[Path, str, str]:
    """(repository root, from-env, to-env) for promote and drift: ``--from`` / ``--to`` with
    the policy's defaults, each with its ``clusters/<env>/`` folder. Raises LayoutError."""
    root = repo_root(policy)
    source, target = neighbours(policy, source, target)
    for env in (source, target):
        if not env_folder(root, env).is_dir():
            raise LayoutError(
                f"environment {quote(env)} has no folder clusters/{env}/ under {root}"
            )
    return root, source, target


def neighbours(policy: Any, source: str | None, target: str | None) -> tuple[str, str]:
    """``--from`` / ``--to`` with defaults from the policy's order (the env before / after)."""
    order = environment_order(policy)
    for env in (source, target):
        if env is not None and env not in order:
            raise LayoutError(
                f"unknown environment {quote(env)} (promotion.environments: {', '.join(order)})"
            )
    if source is None and target is None:
        if len(order) < 2:
            raise LayoutError("promotion.environments names fewer than two environments")
        return order[0], order[1]
    if source is None:
        index = order.index(target)  # type: ignore[arg-type]
        if index == 0:
            raise LayoutError(f"{quote(target)} is the first environment; give --from")
        return order[index - 1], target  # type: ignore[return-value]
    if target is None:
        index = order.index(source)
        if index == len(order) - 1:
            raise LayoutError(f"{quote(source)} is the last environment; give --to")
        return source, order[index + 1]
    if source == target:
        raise LayoutError(f"--from and --to are both {quote(source)}")
    return source, target

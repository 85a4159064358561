"""Render units and read back what came out, each object with the file it came from.

- kustomize records where each object was read when asked (``buildMetadata:
  [originAnnotations]``, kustomize ``api/internal/builtins`` / ``api/resource/origin.go``).
  The repository's kustomization is not edited for that: a wrapper kustomization in a
  temporary folder lists the overlay by a relative path (kustomize lets a kustomization
  reach *directories* outside its root; only files are held to it), so every origin is a path
  relative to the wrapper. The annotation is removed from the object before any check.
- helm writes ``# Source: <chart>/templates/<file>`` above each document it renders
  (helm ``pkg/action/action.go``).
- An Argo CD directory application is its files as they are.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from gitops_guard.core.documents import (
    MAX_FILE_BYTES,
    Map,
    decode,
    load_file,
    load_text,
    read_regular,
)
from gitops_guard.core.quoting import shown
from gitops_guard.render import engines
from gitops_guard.render.units import DIRECTORY, HELM, KUSTOMIZE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from gitops_guard.core.documents import Document
    from gitops_guard.render.units import Unit

ORIGIN = "config.kubernetes.io/origin"
#: first line of a kustomize render whose origins were rebased onto the overlay's folder
_HEADER = "# gitops-guard: origins relative to the overlay"
#: kustomize's own files (Kustomization, Component) are instructions, not objects
_KUSTOMIZE = ("kustomize.config.k8s.io/", "config.kubernetes.io/")


class RenderedObject:
    """One object of a render: its data, and where it was written."""

    __slots__ = ("data", "doc", "generator", "origin", "text")

    def __init__(self, doc: Document, text: str, origin: str | None, generator: Any) -> None:
        self.doc = doc
        self.data = doc.data
        #: the source file key (a template for helm), None when unknown
        self.origin = origin
        #: (kustomization key, generator kind) of a generated ConfigMap / Secret
        self.generator = generator
        #: the object as YAML text, for the per-file checks
        self.text = text

    @property
    def kind(self) -> str:
        return self.doc.kind or ""

    @property
    def api_version(self) -> str:
        return self.doc.api_version or ""

    @property
    def name(self) -> str:
        return self.doc.name or ""

    def label(self) -> str:
        ns = self.doc.namespace
        return f"{shown(self.kind)} {shown(ns) + '/' if ns else ''}{shown(self.name)}"


class Rendered:
    """The result of one unit: objects, or the renderer's reason it failed.

    A render keeps the renderer's output text and reads its objects from it when they are
    first asked for (``objects``); ``release`` drops them again. A whole repository's renders
    are made before any is checked (every CRD they hold must be known first), so only the
    output texts (a fraction of their parsed size) are held together, and the objects of one
    unit at a time.
    """

    __slots__ = ("_objects", "_parse", "cached", "error", "unit")

    def __init__(
        self,
        unit: Unit,
        objects: list[RenderedObject] | None,
        error: str | None,
        parse: Callable[[Callable[[str], bool] | None], list[RenderedObject]] | None = None,
    ) -> None:
        self.unit = unit
        self._objects = objects
        #: reads the objects again (``only``: of the texts that pass it)
        self._parse = parse
        self.error = error
        self.cached = False

    @property
    def objects(self) -> list[RenderedObject]:
        if self._objects is None:
            self._objects = self._parse(None) if self._parse is not None else []
        return self._objects

    def crds(self) -> list[RenderedObject]:
        """The CustomResourceDefinitions of the render, without reading its other objects
        (a document that is one spells the kind, or escapes a character in it)."""
        if self._objects is None and self._parse is not None:
            objects = self._parse(_may_hold_crd)
        else:
            objects = self.objects
        return [o for o in objects if o.kind == "CustomResourceDefinition"]

    def release(self) -> None:
        """Drop the objects (read again from the output when asked for)."""
        if self._parse is not None:
            self._objects = None


def _may_hold_crd(text: str) -> bool:
    return "CustomResourceDefinition" in text or "\\" in text


class Renderer:
    """Renders units with the tools at hand, cached, a few at a time."""

    def __init__(self, kube_version: Callable[[Unit], str], root: str | None = None) -> None:
        #: the repository root: cache keys name files relative to it, so a copy of the
        #: repository elsewhere (a CI checkout, a test's temporary folder) hits the cache
        self.root = root
        #: the Kubernetes release of a unit (helm's --kube-version: chart Capabilities)
        self.kube_version = kube_version
        self.kustomize = engines.kustomize()
        self.helm = engines.helm()
        self.digests = engines.Digests()

    def missing_tool(self, unit: Unit) -> str | None:
        """Which renderer a unit needs and this machine lacks (None: it has it)."""
        if unit.kind == KUSTOMIZE and self.kustomize is None:
            return "kustomize (or kubectl)"
        if (unit.kind == HELM or unit.enable_helm) and self.helm is None:
            return "helm"
        return None

    def render_all(self, units: list[Unit]) -> list[Rendered]:
        return engines.parallel([lambda u=u: self.render(u) for u in units])

    def render(self, unit: Unit) -> Rendered:
        if unit.kind == DIRECTORY:
            return _directory(unit)
        command, extra, inputs = self._command(unit)
        key = engines.key_of(
            [self._relative(c) for c in command], [*inputs, *(t.encode() for t in extra)]
        )
        result = engines.cached(key)
        if result is None:
            result = self._run(unit, command, extra)
            engines.remember(key, result)
        output = result.output
        if result.error is not None:
            rendered = Rendered(unit, [], result.error)
        elif unit.kind == KUSTOMIZE:
            rendered = Rendered(
                unit, None, None, lambda only: _kustomize_objects(unit, output, only)
            )
        else:
            rendered = Rendered(unit, None, None, lambda only: _helm_objects(unit, output, only))
        rendered.cached = result.cached
        return rendered

    def _command(self, unit: Unit) -> tuple[list[str], list[str], list[bytes]]:
        """The command (without its temporary paths), inline inputs, input digests."""
        inputs: list[bytes] = []
        for folder in sorted(unit.folders):
            inputs.append(os.fsencode(self._relative(folder)) + self.digests.folder(folder))
        for key in sorted(unit.files):
            if not any(key.startswith(f + os.sep) for f in unit.folders):
                inputs.append(os.fsencode(self._relative(key)) + self.digests.file(key))
        if unit.kind == KUSTOMIZE:
            command = list(self.kustomize or [])
            if unit.enable_helm:
                command += ["--enable-helm", "--helm-command", self.helm or "helm"]
            if unit.load_unrestricted:
                command += ["--load-restrictor", "LoadRestrictionsNone"]
            if unit.patches:
                inputs.append(_quoted(unit.patches).encode())
            return [*command, "<wrapper>"], [], inputs
        command = [self.helm or "helm", "template", unit.release, unit.root, "--include-crds"]
        command += ["--kube-version", f"{self.kube_version(unit).lstrip('v')}"]
        if unit.namespace:
            command += ["--namespace", unit.namespace]
        for path in unit.value_files:
            command += ["--values", path]
        extra = [text for text, _ in unit.values]
        for flag, assignment, _ in unit.sets:
            command += [flag, assignment]
        return command, extra, inputs

    def _relative(self, text: str) -> str:
        root = self.root
        if root and (text == root or text.startswith(root + os.sep)):
            return "<root>" + text[len(root) :]
        return text

    def _run(self, unit: Unit, command: list[str], extra: list[str]) -> engines.Result:
        tmp = tempfile.mkdtemp(prefix="gitops-guard-render-")
        try:
            if unit.kind == KUSTOMIZE:
                folder = os.path.dirname(unit.root)
                relative = os.path.relpath(os.path.realpath(folder), os.path.realpath(tmp))
                with open(os.path.join(tmp, "kustomization.yaml"), "w", encoding="utf-8") as fh:
                    fh.write(
                        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                        f"buildMetadata: [originAnnotations]\nresources:\n- {_quoted(relative)}\n"
                    )
                    if unit.patches:  # JSON is YAML: the patch texts stay exactly as written
                        fh.write(f"patches: {_quoted(unit.patches)}\n")
                if unit.enable_helm:
                    at = command.index("--helm-command") + 1
                    command = list(command)
                    command[at] = engines.helm_for_kustomize(command[at], tmp)
                shown_as = os.path.relpath(folder, self.root or os.getcwd())
                result = engines.run(  # paths as the repository names them, before any cut
                    [*command[:-1], tmp],
                    clean=lambda e: _file_cause(
                        _unrooted(e.replace(relative, shown_as), self.root, tmp)
                    ),
                    limit=4000,  # _clean drops the wrapper's layers, then cuts to length
                )
                if result.error is not None:
                    result.error = _clean(result.error, relative, folder, tmp, self.root)
                elif result.output:
                    rebased = _rebase_origins(
                        result.output, os.path.realpath(tmp), os.path.realpath(folder)
                    )
                    result.output = f"{_HEADER}\n{rebased}"
                return result
            full = list(command)
            if unit.local_deps:
                full[full.index(unit.root)] = _with_local_dependencies(unit, tmp, self.root)
            for i, text in enumerate(extra):
                path = os.path.join(tmp, f"values-{i}.yaml")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
                full += ["--values", path]
            result = engines.run(full, cwd=unit.root, clean=lambda e: _unrooted(e, self.root, tmp))
            if result.error is not None:
                result.error = engines.shorten(result.error)
            return result
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _quoted(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _clean(error: str, relative: str, folder: str, tmp: str, root: str | None = None) -> str:
    """kustomize's reason without the wrapper's frames, paths as the repository names them."""
    # "... from '<wrapper entry>': ... recursed accumulation of path 'x': why", or for a
    # kustomization kustomize cannot read: "... couldn't make target for path 'x': why"
    # (a base the overlay lists that kustomize cannot read has both: its own reason is last)
    for marker in ("recursed accumulation of path '", "couldn't make target for path '"):
        if marker in error:
            inner = error.rsplit(marker, 1)[1]
            error = inner.split("': ", 1)[1] if "': " in inner else inner
    error = error.replace(relative, os.path.relpath(folder, root or os.getcwd()))
    return engines.shorten(_unrooted(error, root, tmp))


#: kustomize api/internal/target/kusttarget.go accumulateResources: a resource it could not
#: read as a file is tried as a kustomization folder, and both errors are reported
_BOTH_TRIED = re.compile(
    r"accumulation err='((?:(?!accumulation err=').)*?)': must build at directory: "
    r"'[^']*': file is not directory"
)


def _file_cause(error: str) -> str:
    """kustomize's reason for a resource file it cannot use, without the folder attempt that
    follows it: "accumulation err='<why the file failed>': must build at directory: 'x':
    file is not directory" says only that a file is no folder, and a cut reason kept that."""
    for _ in range(8):
        shorter = _BOTH_TRIED.sub(lambda m: m.group(1), error)
        if shorter == error:
            break
        error = shorter
    return error


def _with_local_dependencies(unit: Unit, tmp: str, root: str | None) -> str:
    """A copy of the unit's chart with the charts its ``file://`` dependencies name in its
    charts/ folder (and theirs in theirs), as ``helm dependency build`` leaves it before Argo
    CD or Flux templates it (see ``units.local_dependencies``); the repository is untouched."""
    from gitops_guard.render.units import local_dependencies

    top = root or os.getcwd()
    copy = os.path.join(tmp, "chart", os.path.basename(unit.root) or "chart")
    shutil.copytree(unit.root, copy, symlinks=True)
    pending = [(copy, unit.local_deps)]
    placed = 0
    while pending and placed < 64:
        target, deps = pending.pop()
        for name, folder in deps.items():
            dest = os.path.join(target, "charts", name)
            if os.path.exists(dest):
                continue
            shutil.copytree(folder, dest, symlinks=True)
            placed += 1
            pending.append((dest, local_dependencies(folder, top)))
    return copy


def _unrooted(error: str, root: str | None, tmp: str) -> str:
    """A renderer's message with the checkout's paths relative to the repository root, as
    every finding names files, and without the temporary folder: kustomize and helm quote
    absolute paths (of the user's machine, of a CI runner's copy), and a reason is cached
    for every copy of the repository. Without a known root, relative to the working folder."""
    for top in (tmp, root or os.getcwd()):
        for form in sorted({top, os.path.realpath(top)}, key=len, reverse=True):
            error = error.replace(form + os.sep, "")
            error = error.replace(f"{form}'", ".'").replace(f'{form}"', '."')
    return error


def _chunks(text: str) -> list[str]:
    parts: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.rstrip() == "---" or line.startswith("--- "):
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(p) + "\n" for p in parts if any(x.strip() for x in p)]


def _kustomize_objects(
    unit: Unit, output: str, only: Callable[[str], bool] | None = None
) -> list[RenderedObject]:
    first, _, rest = output.partition("\n")
    rebased = first == _HEADER
    if not rebased:
        rest = output
    overlay = os.path.dirname(unit.root)
    objects = []
    for chunk in _chunks(rest):
        if only is not None and not only(chunk):
            continue
        source = load_text("rendered.yaml", chunk)
        for doc in source.documents:
            if not isinstance(doc.data, Map):
                continue
            origin, generator = _take_origin(doc.data)
            key = None
            if origin is not None and rebased:
                path = origin.get("path") or origin.get("configuredIn")
                if isinstance(path, str) and "://" not in path:
                    key = os.path.normpath(os.path.join(overlay, path))
                if generator is not None and key is not None:
                    generator = (key, generator)
                    key = None
            objects.append(RenderedObject(doc, _without_origin(chunk), key, generator))
    return objects


def _rebase_origins(output: str, wrapper: str, folder: str) -> str:
    """Origin paths (relative to the temporary wrapper) made relative to the overlay's folder,
    so a remembered render does not depend on where the wrapper or the repository was."""
    lines = output.split("\n")
    block: int | None = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if block is not None and (not stripped or indent <= block):
            block = None
        if block is None:
            if stripped.startswith(ORIGIN + ":"):
                block = indent
            continue
        for field in ("path: ", "configuredIn: "):
            if stripped.startswith(field):
                value = stripped[len(field) :]
                if "://" not in value and not value.startswith(("'", '"')):
                    real = os.path.normpath(os.path.join(wrapper, value))
                    lines[i] = " " * indent + field + os.path.relpath(real, folder)
    return "\n".join(lines)


def _take_origin(data: Map) -> tuple[Any, Any]:
    meta = data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Map) else None
    if not isinstance(annotations, Map) or ORIGIN not in annotations:
        return None, None
    raw = annotations.pop(ORIGIN)
    if not annotations:
        meta.pop("annotations")
    import yaml

    try:
        origin = yaml.safe_load(raw) if isinstance(raw, str) else None
    except yaml.YAMLError:
        origin = None
    if not isinstance(origin, dict):
        return None, None
    by = origin.get("configuredBy")
    generator = by.get("kind") if isinstance(by, dict) else None
    return origin, generator


def _without_origin(chunk: str) -> str:
    """The object's text without the origin annotation (and an annotations key it emptied)."""
    lines = chunk.split("\n")
    out: list[str] = []
    skip_indent: int | None = None
    for line in lines:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if skip_indent is not None:
            if stripped and indent > skip_indent:
                continue
            skip_indent = None
        if stripped.startswith(ORIGIN + ":"):
            skip_indent = indent
            continue
        out.append(line)
    # "annotations:" left with nothing under it
    result: list[str] = []
    for i, line in enumerate(out):
        if line.strip() == "annotations:":
            indent = len(line) - len(line.lstrip())
            nxt = out[i + 1] if i + 1 < len(out) else ""
            if not nxt.strip() or len(nxt) - len(nxt.lstrip()) <= indent:
                continue
        result.append(line)
    return "\n".join(result)


def _helm_objects(
    unit: Unit, output: str, only: Callable[[str], bool] | None = None
) -> list[RenderedObject]:
    objects = []
    for chunk in _chunks(output):
        if only is not None and not only(chunk):
            continue
        origin = None
        for line in chunk.split("\n"):
            if line.startswith("# Source: "):
                shown = line[len("# Source: ") :].strip()
                parts = shown.split("/")
                if len(parts) > 3 and parts[1] == "charts" and parts[2] in unit.dep_sources:
                    # a template of a file:// dependency: its file in the repository
                    origin = os.path.normpath(os.path.join(unit.dep_sources[parts[2]], *parts[3:]))
                elif len(parts) > 1:
                    origin = os.path.normpath(os.path.join(unit.root, *parts[1:]))
                break
        source = load_text("rendered.yaml", chunk)
        for doc in source.documents:
            if isinstance(doc.data, Map):
                objects.append(RenderedObject(doc, chunk, origin, None))
    return objects


def _directory(unit: Unit) -> Rendered:
    return Rendered(unit, None, None, lambda only: _directory_objects(unit, only))


def _directory_objects(unit: Unit, only: Callable[[str], bool] | None) -> list[RenderedObject]:
    objects = []
    for key in sorted(k for k in unit.files if k != unit.at[0] or k.startswith(unit.root)):
        if not key.startswith(unit.root + os.sep):
            continue
        if only is None:
            source = load_file(key)
        else:  # load_file's two steps, the text judged between them
            data, _ = read_regular(key, MAX_FILE_BYTES)
            if data is None:
                continue
            text, _ = decode(key, data)
            if text is None or not only(text):
                continue
            source = load_text(key, text)
        for doc in source.documents:
            api = doc.api_version or ""
            if isinstance(doc.data, Map) and doc.is_kubernetes and not api.startswith(_KUSTOMIZE):
                objects.append(RenderedObject(doc, "", key, None))
    return objects

"""Applications: the sets of manifests that sync together, with each object's effective wave.

Argo CD syncs an application as one unit and orders its objects by phase and wave, so ordering
can only be judged per application. An application here is:

- a kustomization that no other kustomization lists (a root), with everything it lists under
  ``resources`` / ``bases`` / ``components`` / ``crds``, followed recursively, plus its
  ``configMapGenerator`` / ``secretGenerator`` objects. kustomize's ``namespace`` and
  ``commonAnnotations`` are applied on the way out, inner kustomizations first, so an outer
  overlay's wave wins, as it does in ``kustomize build``;
- the folder an Argo CD Application found in the run points at (``spec.source.path``, relative
  to the repository root; ``directory.recurse`` honoured) when that folder has no kustomization;
- otherwise, for a file no kustomization lists, the folder the file is in (what an Argo CD
  directory application pointed at that folder would sync).

The hook gets the changed files only; it finds the applications those files belong to by
reading the repository's kustomization files (cheaply: no positions) and builds only those.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitops_guard.annotations import (
    HELM_HOOK,
    HELM_WEIGHT,
    HOOK,
    SYNC_OPTIONS,
    WAVE,
    sync_options,
)
from gitops_guard.documents import Document, Map, Pos, Seq, environment_of
from gitops_guard.repository import KUSTOMIZATION_NAMES, Repository

_WATCHED = (WAVE, HOOK, SYNC_OPTIONS, HELM_HOOK, HELM_WEIGHT)
_LISTS = ("resources", "bases", "components", "crds")


@dataclass(frozen=True)
class Obj:
    """One object of an application, as Argo CD would receive it."""

    key: str
    doc: Document | None
    kind: str
    group: str
    name: str
    namespace: str | None
    pos: Pos
    #: Argo CD / Helm annotations after kustomize's commonAnnotations
    annotations: dict[str, Any]
    #: where the effective sync-wave was written: (file key, line, column)
    wave_at: tuple[str, int, int] | None = None
    #: kustomization files that include the object, innermost first
    via: tuple[str, ...] = ()
    generated: bool = False

    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


@dataclass
class Application:
    root: str
    description: str
    objects: list[Obj] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    #: SkipDryRunOnMissingResource=true in the pointing Application's syncOptions
    skip_dry_run: bool = False
    env: str | None = None


def _is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("git@", "github.com/", "gitlab.com/"))


def _light(repo: Repository, key: str) -> Any:
    """A kustomization's data without positions: fast, for the reference graph only."""
    source = repo._sources.get(key)
    if source is not None:
        docs = source.documents
        return docs[0].data if docs else None
    try:
        with open(key, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # broken YAML is reported where the file is checked, not here
        return None


class Builder:
    """Finds the applications of a repository and builds their objects, memoised."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._graph: dict[str, list[tuple[bool, str]]] = {}
        self._objects: dict[str, list[Obj]] = {}
        self._closure: dict[str, set[str]] = {}

    # -- the kustomization graph ----------------------------------------------------------
    def kustomizations(self) -> list[str]:
        return [k for k in self.repo.files() if os.path.basename(k) in KUSTOMIZATION_NAMES]

    def edges(self, kfile: str) -> list[tuple[bool, str]]:
        """What a kustomization lists, in order: (is a kustomization, key)."""
        if kfile in self._graph:
            return self._graph[kfile]
        listed: list[tuple[bool, str]] = []
        data = _light(self.repo, kfile)
        folder = os.path.dirname(kfile)
        if isinstance(data, dict):
            for entry in _entries(data):
                if _is_remote(entry):
                    continue
                target = os.path.normpath(os.path.join(folder, entry))
                if os.path.isdir(target):
                    sub = self.repo.kustomization_in(target)
                    if sub is not None:
                        listed.append((True, sub))
                elif os.path.isfile(target):
                    listed.append((False, self.repo.key(target)))
        self._graph[kfile] = listed
        return listed

    def closure(self, kfile: str, stack: tuple[str, ...] = ()) -> set[str]:
        """Every file (kustomizations included) an application rooted at ``kfile`` reads."""
        if kfile in self._closure:
            return self._closure[kfile]
        result = {kfile}
        for is_kust, key in self.edges(kfile):
            if not is_kust:
                result.add(key)
            elif key not in stack:
                result |= self.closure(key, (*stack, kfile))
        self._closure[kfile] = result
        return result

    def roots(self) -> list[str]:
        all_k = self.kustomizations()
        listed: set[str] = set()
        for k in all_k:
            listed.update(key for is_kust, key in self.edges(k) if is_kust)
        return [k for k in all_k if k not in listed]

    # -- objects ----------------------------------------------------------------------------
    def file_objects(self, key: str) -> list[Obj]:
        source = self.repo.source(key)
        if source is None:
            return []
        result = []
        for doc in source.documents:
            obj = make_obj(key, doc)
            if obj is not None:
                result.append(obj)
        return result

    def kustomize_objects(self, kfile: str, stack: tuple[str, ...] = ()) -> list[Obj]:
        if kfile in self._objects:
            return self._objects[kfile]
        source = self.repo.source(kfile)
        data = source.documents[0].data if source and source.documents else None
        if not isinstance(data, Map):
            self._objects[kfile] = []
            return []
        objects: list[Obj] = []
        for is_kust, key in self.edges(kfile):
            if not is_kust:
                objects.extend(self.file_objects(key))
            elif key not in stack:
                objects.extend(self.kustomize_objects(key, (*stack, kfile)))
        objects.extend(_generated(kfile, data))
        objects = [_transform(o, kfile, data) for o in objects]
        self._objects[kfile] = objects
        return objects

    def applications(self, all_files: bool) -> Iterator[Application]:
        """The applications holding a given file (every application when ``all_files``)."""
        given = self.repo.given
        covered: set[str] = set()
        for root in self.roots():
            closure = self.closure(root)
            covered |= closure
            if all_files or closure & given:
                app = Application(root, f"kustomization {self.repo.display(root)}")
                app.objects = self.kustomize_objects(root)
                app.files = closure
                app.env = environment_of(self.repo.display(root))
                yield app
        pointed = set()
        for app in self._argo_directory_apps(covered):
            pointed |= app.files
            if all_files or app.files & given:
                yield app
        folders: dict[str, list[str]] = {}
        for key in sorted(given):
            if key in covered or key in pointed:
                continue
            folders.setdefault(os.path.dirname(key), [])
        for folder in folders:
            files = [k for k in self.repo.yaml_in(folder) if k not in covered]
            app = Application(folder, f"folder {self.repo.display(folder) or '.'}")
            app.files = set(files)
            app.env = environment_of(self.repo.display(folder) + os.sep + "x")
            for key in files:
                app.objects.extend(self.file_objects(key))
            yield app

    def _argo_directory_apps(self, covered: set[str]) -> Iterator[Application]:
        """Folders Argo CD Applications among the loaded files point at (no kustomization)."""
        seen: set[str] = set()
        for key in sorted(self.repo.given):
            source = self.repo.source(key)
            if source is None or "argoproj.io" not in source.text:
                continue
            for doc in source.documents:
                if doc.kind != "Application" or doc.group != "argoproj.io":
                    continue
                spec = doc.data.get("spec")
                if not isinstance(spec, Map):
                    continue
                skip = _app_skip_dry_run(spec)
                for src in _app_sources(spec):
                    path = src.get("path")
                    if not isinstance(path, str) or "{{" in path:
                        continue
                    folder = os.path.normpath(os.path.join(str(self.repo.root), path))
                    if folder in seen or not os.path.isdir(folder):
                        continue
                    if self.repo.kustomization_in(folder) is not None:
                        continue  # a kustomize application: its kustomization is a root
                    seen.add(folder)
                    directory = src.get("directory")
                    recurse = isinstance(directory, Map) and directory.get("recurse") is True
                    files = [k for k in self.repo.yaml_in(folder, recurse) if k not in covered]
                    name = doc.name or "?"
                    app = Application(
                        folder, f"folder {self.repo.display(folder)} (Argo CD Application {name})"
                    )
                    app.skip_dry_run = skip
                    app.files = set(files)
                    app.env = environment_of(self.repo.display(folder) + os.sep + "x")
                    for fkey in files:
                        app.objects.extend(self.file_objects(fkey))
                    yield app


def _entries(data: dict) -> Iterator[str]:
    for name in _LISTS:
        items = data.get(name)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str):
                    yield item
                elif isinstance(item, dict) and isinstance(item.get("path"), str):
                    yield item["path"]


def _app_sources(spec: Map) -> list[Map]:
    sources = [spec.get("source")]
    if isinstance(spec.get("sources"), list):
        sources.extend(spec["sources"])
    return [s for s in sources if isinstance(s, Map)]


def _app_skip_dry_run(spec: Map) -> bool:
    policy = spec.get("syncPolicy")
    options = policy.get("syncOptions") if isinstance(policy, Map) else None
    if not isinstance(options, list):
        return False
    return any(
        isinstance(o, str) and sync_options(o).get("SkipDryRunOnMissingResource") == "true"
        for o in options
    )


def is_kustomize_doc(doc: Document) -> bool:
    return doc.kind in ("Kustomization", "Component") and doc.group == "kustomize.config.k8s.io"


def make_obj(key: str, doc: Document) -> Obj | None:
    """An application object from a document (None for non-objects and kustomizations)."""
    if not doc.is_kubernetes or not isinstance(doc.data, Map) or is_kustomize_doc(doc):
        return None
    meta = doc.metadata
    name = doc.name
    if name is None and meta is not None and isinstance(meta.get("generateName"), str):
        name = meta["generateName"]
    annotations: dict[str, Any] = {}
    wave_at = None
    if meta is not None and isinstance(meta.get("annotations"), Map):
        own = meta["annotations"]
        annotations = {k: own[k] for k in _WATCHED if k in own}
        if WAVE in own:
            line, col = own.at(WAVE)
            wave_at = (key, line, col)
    pos = meta.pos if meta is not None else doc.pos
    if meta is not None and "name" in meta:
        pos = meta.at("name")
    return Obj(
        key=key,
        doc=doc,
        kind=doc.kind or "",
        group=doc.group,
        name=name or "",
        namespace=doc.namespace,
        pos=pos,
        annotations=annotations,
        wave_at=wave_at,
    )


#: kinds without a namespace (kustomize leaves them alone; they need no Namespace)
CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ClusterIssuer",
}


def _transform(obj: Obj, kfile: str, data: Map) -> Obj:
    """kustomize's namespace and commonAnnotations, applied by one kustomization."""
    namespace = obj.namespace
    ns = data.get("namespace")
    if isinstance(ns, str) and ns and obj.kind not in CLUSTER_SCOPED:
        namespace = ns
    annotations = obj.annotations
    wave_at = obj.wave_at
    common = data.get("commonAnnotations")
    if isinstance(common, Map):
        picked = {k: common[k] for k in _WATCHED if k in common}
        if picked:
            annotations = {**annotations, **picked}
            if WAVE in picked:
                line, col = common.at(WAVE)
                wave_at = (kfile, line, col)
    return Obj(
        key=obj.key,
        doc=obj.doc,
        kind=obj.kind,
        group=obj.group,
        name=obj.name,
        namespace=namespace,
        pos=obj.pos,
        annotations=annotations,
        wave_at=wave_at,
        via=(*obj.via, kfile),
        generated=obj.generated,
    )


def _generated(kfile: str, data: Map) -> Iterator[Obj]:
    """ConfigMaps and Secrets kustomize generates (annotations from generatorOptions)."""
    options = data.get("generatorOptions")
    base = {}
    if isinstance(options, Map) and isinstance(options.get("annotations"), Map):
        base = {k: v for k, v in options["annotations"].items() if k in _WATCHED}
    for field_name, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        entries = data.get(field_name)
        if not isinstance(entries, Seq):
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, Map) or not isinstance(entry.get("name"), str):
                continue
            annotations = dict(base)
            opts = entry.get("options")
            if isinstance(opts, Map) and isinstance(opts.get("annotations"), Map):
                annotations.update({k: v for k, v in opts["annotations"].items() if k in _WATCHED})
            ns = entry.get("namespace")
            yield Obj(
                key=kfile,
                doc=None,
                kind=kind,
                group="",
                name=entry["name"],
                namespace=ns if isinstance(ns, str) else None,
                pos=entry.at("name") if "name" in entry else entries.at(i),
                annotations=annotations,
                generated=True,
            )

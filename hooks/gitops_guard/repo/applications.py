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

from gitops_guard.core.documents import Map, Pos, Seq
from gitops_guard.repo.argo import (
    WAVE,
    directory_filter,
    origin_urls,
    source_path,
    sync_options,
)
from gitops_guard.repo.kgraph import Graph
from gitops_guard.repo.objects import CLUSTER_SCOPED, WATCHED, Obj, make_obj
from gitops_guard.repo.repository import Repository, kind_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from gitops_guard.core.documents import SourceFile
    from gitops_guard.repo.relevance import Context


class Application:
    """The objects that sync together, and the files they come from."""

    __slots__ = ("description", "env", "files", "objects", "root", "skip_dry_run")

    def __init__(self, root: str, description: str) -> None:
        self.root = root
        self.description = description
        self.objects: list[Obj] = []
        self.files: set[str] = set()
        #: SkipDryRunOnMissingResource=true in the pointing Application's syncOptions
        self.skip_dry_run = False
        self.env: str | None = None


class Builder:
    """Finds the applications of a repository and builds their objects, memoised."""

    def __init__(self, repo: Repository, order_rules: Iterable[tuple[str, str]] = ()) -> None:
        self.repo = repo
        self._objects: dict[str, list[Obj]] = {}
        self._graph: Graph | None = None
        #: (before, after) kinds of the policy's sync_waves.order rules, every environment
        self.order_rules = list(order_rules)
        #: set in a one-file run: which files that were not given need parsing
        self.context: Context | None = None
        #: (file, position, Application name, path) of every Application path that is
        #: absolute or leaves the repository: a finding, and never read
        self.outside: list[tuple[str, tuple[int, int], str, str]] = []
        #: files a directory Application's include/exclude leaves out (Argo CD never applies)
        self.left_out: set[str] = set()

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = Graph(self.repo)
        return self._graph

    def edges(self, kfile: str) -> list[tuple[bool, str]]:
        return self.graph.edges.get(kfile, [])

    # -- objects ----------------------------------------------------------------------------
    def file_objects(self, key: str) -> list[Obj]:
        context = self.context
        if (
            context is not None
            and not self.repo.is_given(key)
            and self.repo.parsed(key) is None
            and not context.wanted(key)
        ):
            return []  # names nothing a given file names: no finding can involve it
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
        graph = self.graph
        given = self.repo.given
        if all_files:
            roots = graph.roots()
        else:
            wanted: set[str] = set()
            for key in given:
                wanted |= graph.roots_of(key)
            roots = [r for r in graph.roots() if r in wanted]
            if not any(k in graph.edges for k in given):  # a given kustomization: read all
                self.context = self._context(roots)
        for root in roots:
            app = Application(root, f"kustomization {self.repo.display(root)}")
            app.objects = self.kustomize_objects(root)
            app.files = graph.closure(root)
            app.env = self.repo.environment_of(root)  # a key: absolute already
            yield app

        def covered(key: str) -> bool:
            return key in graph.parents or key in graph.edges

        pointed: set[str] = set()
        for app in self._argo_directory_apps(covered, all_files):
            pointed |= app.files
            if all_files or app.files & given:
                yield app
        folders: dict[str, None] = {}
        for key in sorted(given):
            if not covered(key) and key not in pointed and key not in self.left_out:
                folders.setdefault(os.path.dirname(key))
        for folder in folders:
            files = [
                k for k in self.repo.yaml_in(folder) if not covered(k) and k not in self.left_out
            ]
            app = Application(folder, f"folder {self.repo.display(folder) or '.'}")
            app.files = set(files)
            app.env = self.repo.environment_of(os.path.join(folder, "x"))
            for key in files:
                app.objects.extend(self.file_objects(key))
            yield app

    def _context(self, roots: list[str]) -> Context | None:
        """The words a file must name to matter to the given files (``relevance.py``).

        None (read every file) when a given Namespace is one a kustomization puts its objects
        in: those objects need it without their files naming it.
        """
        from gitops_guard.repo.relevance import Context, words_of

        given = [s for s in (self.repo.parsed(k) for k in sorted(self.repo.given)) if s]
        namespaces = {d.name for s in given for d in s.documents if d.kind == "Namespace"}
        context = Context(words_of(given, self.order_rules))
        for root in roots:  # a kustomization's namespace becomes its objects' namespace
            for key in self.graph.closure(root):
                if key in self.graph.edges:
                    source = self.repo.source(key)
                    data = source.documents[0].data if source and source.documents else None
                    ns = data.get("namespace") if isinstance(data, Map) else None
                    if isinstance(ns, str) and ns:
                        if ns in namespaces:
                            return None
                        context.add(ns)
        return context

    def _argo_directory_apps(
        self, covered: Callable[[str], bool], all_files: bool = True
    ) -> Iterator[Application]:
        """Folders Argo CD Applications point at (no kustomization): the given files' own,
        and in a one-file run also those of the repository's Applications whose paths can
        hold a given file (a manifest of a directory application is checked as part of it,
        as in a full run, not as a lone folder)."""
        seen: set[str] = set()
        ours = set(origin_urls(str(self.repo.root)))
        keys = set(self.repo.given)
        if not all_files:
            keys |= self._directory_app_files()
        for key in sorted(keys):
            source = self.repo.source(key)
            if source is None or "argoproj.io" not in source.text:
                continue
            given = self.repo.is_given(key)
            for doc in source.documents:
                if doc.kind != "Application" or doc.group != "argoproj.io":
                    continue
                spec = doc.data.get("spec")
                if not isinstance(spec, Map):
                    continue
                skip = _app_skip_dry_run(spec)
                for src in _app_sources(spec):
                    path = source_path(src, ours)  # `path:` with no value: the root
                    if path is None or "{{" in path:
                        continue
                    if not self.repo.app_path_inside(path):  # never walked: it may be "/"
                        if given:
                            self.outside.append((key, src.at("path"), doc.name or "?", path))
                        continue
                    folder = os.path.normpath(os.path.join(str(self.repo.root), path))
                    if folder in seen or not os.path.isdir(folder):
                        continue
                    if self.repo.kustomization_in(folder) is not None:
                        continue  # a kustomize application: its kustomization is a root
                    seen.add(folder)
                    directory = src.get("directory")
                    recurse = isinstance(directory, Map) and directory.get("recurse") is True
                    wanted = directory_filter(directory)  # Argo CD's include/exclude
                    files = []
                    for k in self.repo.yaml_in(folder, recurse):
                        if covered(k):
                            continue
                        if wanted is None or wanted(_relative(k, folder)):
                            files.append(k)
                        else:
                            self.left_out.add(k)  # never applied: not a lone folder either
                    name = doc.name or "?"
                    app = Application(
                        folder, f"folder {self.repo.display(folder)} (Argo CD Application {name})"
                    )
                    app.skip_dry_run = skip
                    app.files = set(files)
                    app.env = self.repo.environment_of(os.path.join(folder, "x"))
                    for fkey in files:
                        app.objects.extend(self.file_objects(fkey))
                    yield app

    def _directory_app_files(self) -> set[str]:
        """The Application files whose paths can name a folder holding a given file (that
        folder or one above it), and those whose bytes cannot tell; read, not parsed."""
        root = self.repo.root
        above: set[str] = {root}
        for key in self.repo.given:
            folder = os.path.dirname(key)
            while folder.startswith(root) and folder not in above:
                above.add(folder)
                up = os.path.dirname(folder)
                if up == folder:
                    break
                folder = up
        found = set()
        for key, data in self.repo.containing_raw(*ARGO_APPLICATION_FILES):
            folders = application_folders(data, root)
            if folders is None or not folders.isdisjoint(above):
                found.add(key)
        return found


def _app_sources(spec: Map) -> list[Map]:
    sources = [spec.get("source")]
    if isinstance(spec.get("sources"), list):
        sources.extend(spec["sources"])
    return [s for s in sources if isinstance(s, Map)]


def _app_skip_dry_run(spec: Map) -> bool:
    return _app_option(spec, "SkipDryRunOnMissingResource")


def _transform(obj: Obj, kfile: str, data: Map) -> Obj:
    """kustomize's namespace and commonAnnotations, applied by one kustomization."""
    namespace = obj.namespace
    ns_at = obj.ns_at
    name = obj.name
    ns = data.get("namespace")
    if isinstance(ns, str) and ns and obj.kind not in CLUSTER_SCOPED:
        namespace = ns
        ns_at = (kfile, *data.at("namespace"))
    elif isinstance(ns, str) and ns and obj.kind == "Namespace" and obj.group == "":
        # kustomize's namespace transformer renames every Namespace object to the
        # kustomization's namespace (a `name: _` placeholder is a common idiom)
        name = ns
    annotations = obj.annotations
    wave_at = obj.wave_at
    common = data.get("commonAnnotations")
    if isinstance(common, Map):
        picked = {k: common[k] for k in WATCHED if k in common}
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
        name=name,
        namespace=namespace,
        pos=obj.pos,
        annotations=annotations,
        wave_at=wave_at,
        via=(*obj.via, kfile),
        generated=obj.generated,
        ns_at=ns_at,
    )


def _generated(kfile: str, data: Map) -> Iterator[Obj]:
    """ConfigMaps and Secrets kustomize generates (annotations from generatorOptions)."""
    options = data.get("generatorOptions")
    base = {}
    if isinstance(options, Map) and isinstance(options.get("annotations"), Map):
        base = {k: v for k, v in options["annotations"].items() if k in WATCHED}
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
                annotations.update({k: v for k, v in opts["annotations"].items() if k in WATCHED})
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
                ns_at=(kfile, *entry.at("namespace")) if isinstance(ns, str) else None,
            )


# -- Argo CD Applications: what each deploys, in which wave, with which sync options ----------


class ArgoApp:
    """An Argo CD ``Application`` of the repository: where it points and how it syncs.

    ``parent`` identifies the application (in this module's sense) that holds the
    Application object: children of one parent sync in the parent's waves (app of apps).
    ``opaque``: a source this repository does not show (a Helm chart, a path that is not
    here, a kustomization with a remote base), so what it installs (CRDs, Namespaces) is
    unknown.
    """

    __slots__ = (
        "create_ns",
        "dest_ns",
        "files",
        "folders",
        "key",
        "name",
        "opaque",
        "parent",
        "pos",
        "skip_dry_run",
        "wave",
    )

    def __init__(self, key: str, name: str, pos: Pos) -> None:
        self.key = key
        self.name = name
        self.pos = pos
        self.wave = 0
        self.folders: list[str] = []
        self.files: set[str] = set()
        self.dest_ns: str | None = None
        self.create_ns = False
        self.skip_dry_run = False
        self.opaque = False
        self.parent: Any = None

    def label(self) -> str:
        return f"Application {self.name} (wave {self.wave})"


#: the files that may hold an Argo CD Application (a filter on bytes, before parsing)
ARGO_APPLICATION_FILES = (b"argoproj.io", kind_line("Application"))


def argo_applications(
    builder: Builder, sources: Iterable[SourceFile] | None = None
) -> list[ArgoApp]:
    """Every Argo CD Application of the repository (ApplicationSets are templates: skipped),
    or of the given ``sources`` only."""
    from gitops_guard.repo.argo import parse_wave

    repo = builder.repo
    graph = builder.graph
    found: list[ArgoApp] = []
    ours = set(origin_urls(str(repo.root)))
    if sources is None:
        sources = repo.containing(*ARGO_APPLICATION_FILES)
    for source in sources:
        key = repo.key(source.path)
        roots = graph.roots_of(key)
        parent = tuple(sorted(roots)) if roots else ("folder", os.path.dirname(key))
        for doc in source.documents:
            if doc.kind != "Application" or doc.group != "argoproj.io":
                continue
            spec = doc.data.get("spec")
            if not isinstance(spec, Map):
                continue
            meta = doc.metadata
            app = ArgoApp(key, doc.name or "?", meta.at("name") if meta is not None else doc.pos)
            annotations = meta.get("annotations") if meta is not None else None
            if isinstance(annotations, Map):
                app.wave = parse_wave(annotations.get(WAVE)) or 0
            app.parent = parent
            destination = spec.get("destination")
            if isinstance(destination, Map) and isinstance(destination.get("namespace"), str):
                app.dest_ns = destination["namespace"]
            app.skip_dry_run = _app_skip_dry_run(spec)
            app.create_ns = _app_option(spec, "CreateNamespace")
            for src in _app_sources(spec):
                path = source_path(src, ours)  # `path:` with no value: the root
                if src.get("chart") is not None or path is None or "{{" in path:
                    app.opaque = True
                    continue
                folder = os.path.normpath(os.path.join(str(repo.root), path))
                if not folder.startswith(str(repo.root)) or not os.path.isdir(folder):
                    app.opaque = True  # another repository's path, or not here
                    continue
                app.folders.append(folder)
                kfile = repo.kustomization_in(folder)
                if kfile is not None:
                    closure = graph.closure(kfile)
                    app.files |= closure
                    if graph.fetches(closure):
                        app.opaque = True  # a remote base: what it holds is not shown here
                else:
                    directory = src.get("directory")
                    recurse = isinstance(directory, Map) and directory.get("recurse") is True
                    app.files |= set(repo.yaml_in(folder, recurse))
            found.append(app)
    return found


def _app_option(spec: Map, name: str) -> bool:
    policy = spec.get("syncPolicy")
    options = policy.get("syncOptions") if isinstance(policy, Map) else None
    if not isinstance(options, list):
        return False
    return any(isinstance(o, str) and sync_options(o).get(name) == "true" for o in options)


#: a ``path:`` line (YAML block style, quoted key or not, a list item or not)
_PATH_LINE = rb"""(?m)^([ \t]*)(?:-[ \t]+)?["']?path["']?[ \t]*:(.*)$"""
_PLAIN_UNSAFE = set("{}[]&*!|>%@`'\"\\,#")


def application_folders(data: bytes, root: str) -> set[str] | None:
    """The folders the ``path:`` lines of an Application file name, as
    :func:`argo_applications` resolves them (``root``/path, normalised), read from its bytes
    without parsing it; None when the bytes cannot tell for sure (a flow mapping, an escape, a
    block scalar, an alias, a value continued on the next line, ``path`` elsewhere in the
    text): the file must then be parsed. A file whose folders cannot hold a file never holds
    it, so it need not be parsed to know."""
    import re

    lines = re.compile(_PATH_LINE)
    found: set[str] = set()
    matches = list(lines.finditer(data))
    if data.count(b"path") != len(matches):
        return None  # "path" in a flow mapping, a comment, another key...
    if data.count(b"repoURL") > len(matches):
        return None  # a source with no path: the root, unless a chart or a ref (source_path)
    for match in matches:
        value = match.group(2).strip()
        line = match.group(0)
        column = len(line) - len(line.lstrip(b" \t-"))  # where the key starts
        start = match.end() + 1
        while start < len(data):  # the next line with content: a continuation?
            end = data.find(b"\n", start)
            end = len(data) if end == -1 else end
            after = data[start:end]
            if after.strip():
                indent = len(after) - len(after.lstrip(b" \t"))
                if indent > column and not after.lstrip().startswith(b"#"):
                    return None  # a plain scalar continued on the next line
                break
            start = end + 1
        if b" #" in value:
            value = value.split(b" #", 1)[0].rstrip()
        if value[:1] in (b'"', b"'"):
            quote, inner = value[:1], value[1:-1]
            if len(value) < 2 or value[-1:] != quote or quote in inner or b"\\" in inner:
                return None
            value = inner
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not text or _PLAIN_UNSAFE & set(text) or text.startswith(("-", "?", ":")):
            return None
        found.add(os.path.normpath(os.path.join(root, text)))
    return found


def _relative(key: str, folder: str) -> str:
    return os.path.relpath(key, folder).replace(os.sep, "/")

"""What there is to render in a repository, and which of it a change touches.

A *unit* is one render: what Argo CD or Flux would hand the cluster for one application.

- **kustomize**: a root kustomization (one no other kustomization lists; not a Component),
  built like ``kustomize build`` (``--enable-helm`` when its tree has ``helmCharts:``).
- **helm**: a chart folder (``Chart.yaml``) rendered with ``helm template`` once per consumer
  in the repository with that consumer's values: an Argo CD Application Helm source (``path``,
  ``helm.valueFiles`` / ``values`` / ``valuesObject`` / ``parameters`` / ``releaseName``,
  argo-cd ``reposerver/repository/repository.go``), a Flux HelmRelease whose chart is a path
  of a GitRepository (helm-controller ``internal/release``: release name
  ``[targetNamespace-]name``; ``valuesFrom`` a ConfigMap the listing kustomization generates
  from a file, then ``spec.values``); a chart nobody consumes, alone with its defaults.
  Subcharts render with their parent.
- **directory**: the YAML files of the folder an Argo CD Application points at when it has
  neither a kustomization nor a chart (``directory.recurse``, ``include`` and ``exclude``
  honoured, repo/argo.py).

What would need the network is never rendered: a remote base, a ``helmCharts`` entry or a
chart dependency that is not vendored, a chart from a Helm repository. Each is an info
finding instead (``render/remote-source``, ``render/remote-chart``). A path that does not exist
(a listed resource, an Application's or Flux Kustomization's ``path``, a values file) is a
``render/path-missing`` error where it is written.

An Application source is this repository's when its ``repoURL`` is the ``origin`` remote, or
when another Application with the same ``repoURL`` points at a path that exists here (a copy
without remotes, as CI checks out); a Flux source likewise by its ``sourceRef``.
"""

from __future__ import annotations

import os
import re

from gitops_guard.core.documents import (
    KUSTOMIZATION_FILES,
    MAX_FILE_BYTES,
    Map,
    Seq,
    read_regular,
)
from gitops_guard.core.findings import Finding
from gitops_guard.core.quoting import quote, shown
from gitops_guard.repo.argo import normal_url as _normal_url
from gitops_guard.repo.argo import origin_urls as _origin_urls
from gitops_guard.repo.argo import source_path
from gitops_guard.repo.kgraph import Graph, is_remote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from gitops_guard.core.documents import Document, SourceFile
    from gitops_guard.repo.repository import Repository

KUSTOMIZE = "kustomize"
HELM = "helm"
DIRECTORY = "directory"
_LIST_KEYS = ("resources", "bases", "components", "crds")


class Unit:
    """One render, and where to report what goes wrong with it."""

    def __init__(self, kind: str, root: str, at: tuple[str, int, int], label: str) -> None:
        self.kind = kind
        #: the kustomization file, the chart folder, or the folder (keys: absolute)
        self.root = root
        #: (file key, line, column) of what a failed render is reported at
        self.at = at
        self.label = label
        #: the environment of its folder (set by the plan: the repository's model)
        self.env: str | None = None
        #: files whose change makes this unit worth rendering again
        self.files: set[str] = set()
        #: folders whose whole content the render reads (for the cache key)
        self.folders: set[str] = set()
        self.enable_helm = False
        # helm only
        self.release = "release"
        self.namespace: str | None = None
        #: values files, lowest precedence first (keys)
        self.value_files: list[str] = []
        #: inline values (YAML text, with where it was written), after the files
        self.values: list[tuple[str, tuple[str, int, int]]] = []
        #: (--set or --set-string, "name=value", where)
        self.sets: list[tuple[str, str, tuple[str, int, int]]] = []
        #: a chart nobody in the repository gives values to (its failure may be a missing value)
        self.defaults_only = False
        #: rendered as an Application an ApplicationSet's list element makes
        self.from_appset = False
        #: why a defaults-only chart's values are unknown (said with each of its findings)
        self.defaults_note = "nothing in the repository gives this chart values"
        #: a library chart (``type: library``): helm does not render one alone
        self.library = False
        #: helm only: the charts a ``file://`` dependency names and charts/ does not vendor
        #: (dependency name -> its folder), placed in charts/ before rendering, as the
        #: ``helm dependency build`` Argo CD and Flux run before templating does
        self.local_deps: dict[str, str] = {}
        #: the name helm renders each of those under (its alias, else its name) -> its folder
        self.dep_sources: dict[str, str] = {}
        # directory only
        self.recurse = False
        # kustomize only: build with kustomize's load restrictor off (a file outside the
        # kustomization's folder may be listed), as the engine that applies it does
        self.load_unrestricted = False
        #: kustomize only: the ``spec.patches`` of the Flux Kustomization that builds this
        #: folder, which kustomize-controller appends to its kustomization before building
        self.patches: list[dict[str, Any]] = []

    @property
    def folder(self) -> str:
        return os.path.dirname(self.root) if self.kind == KUSTOMIZE else self.root

    def __repr__(self) -> str:
        return f"Unit({self.kind}, {self.label!r})"


class Plan:
    """Every unit of a repository and the findings planning them produced."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.graph = Graph(repo)
        self.units: list[Unit] = []
        self.findings: list[Finding] = []
        #: kustomization keys whose ``images:`` entries every root including them rendered
        self._origin_urls = _origin_urls(repo.root)
        self._chart_consumed: set[str] = set()
        self._branch: set[str] | None = None
        #: the repoURLs that name this repository (an Application path that exists in it)
        self._ours: set[str] = set()
        self._not_rendered: list[Unit] = []
        self._by_needle: dict[str, list[str]] | None = None
        #: folders (keys) that a Flux Kustomization of this repository builds
        self._flux_paths: list[str] = []
        self._flux_kustomizations = False
        self._argo_applications = False
        #: files a directory application's include/exclude leaves out: not applied, not loose
        self._left_out: set[str] = set()
        #: (template path, ApplicationSet) whose Applications this check cannot resolve
        self._appset_paths: list[tuple[str, str]] = []
        #: folder -> the inline patches its (first) Flux Kustomization applies
        self._flux_patches: dict[str, list[dict[str, Any]]] = {}

    def build(self) -> Plan:
        files = self.repo.files()
        charts = self._charts(files)
        self._kustomize_units(charts)
        self._argo_units(charts)
        self._argo_appset_units(charts)
        self._flux_units(charts)
        self._loose_units(files, charts)
        self._mark_load_restrictions()
        for chart in charts:
            if chart not in self._chart_consumed:
                unit = self._chart_unit(chart, (os.path.join(chart, "Chart.yaml"), 1, 1), None)
                if unit is not None and not unit.library:
                    unit.label = f"chart {self.repo.display(chart)} (its default values)"
                    unit.defaults_only = True
                    appset = self._appset_for(chart)
                    if appset is not None:
                        label, named = appset
                        unit.defaults_note = (
                            f"{label} {'gives' if named else 'may give'} this chart values "
                            "from generator parameters this check does not resolve"
                        )
                    self.units.append(unit)
        for unit in self.units:
            unit.env = self.repo.environment_of(os.path.join(unit.folder, "x"))
        return self

    def _appset_for(self, chart: str) -> tuple[str, bool] | None:
        """The ApplicationSet whose unresolved template path may name ``chart``, and whether
        that path names it literally (True) or only a ``{{ }}`` pattern may match it."""
        import fnmatch

        where = os.path.relpath(chart, self.repo.root).replace(os.sep, "/")
        found = None
        for path, label in self._appset_paths:
            pattern = _path_pattern(path)
            if pattern == where.strip("/"):
                return label, True
            if found is None and fnmatch.fnmatchcase(where, pattern):
                found = (label, False)
        return found

    # -- helpers ------------------------------------------------------------------------
    def sources(self, what: str) -> list[SourceFile]:
        """The parsed files that may hold Argo CD Applications (``argo``), Flux objects
        (``flux``) or CRDs (``crd``): every file is read once, as bytes, and only the files
        that name the kind are parsed (a sync-wave annotation names argoproj.io too)."""
        if self._by_needle is None:
            found: dict[str, list[str]] = {"argo": [], "flux": [], "crd": [], "argocd-cm": []}
            for key in self.repo.files():
                cached = self.repo.parsed(key)
                if cached is not None:
                    data = cached.text.encode("utf-8", "surrogateescape")
                else:
                    # only a regular file, bounded: a FIFO would block, /dev/zero never end
                    data, _problem = read_regular(key, MAX_FILE_BYTES)
                    if data is None:
                        continue
                if b"argoproj.io" in data and b"Application" in data:
                    found["argo"].append(key)
                if b"toolkit.fluxcd.io" in data:
                    found["flux"].append(key)
                if b"CustomResourceDefinition" in data:
                    found["crd"].append(key)
                if b"kustomize.buildOptions" in data:
                    found["argocd-cm"].append(key)
            self._by_needle = found
        result = []
        for key in self._by_needle[what]:
            source = self.repo.source(key)
            if source is not None:
                result.append(source)
        return result

    def _pins_another_revision(self, src: Map) -> bool:
        """An Application source pinned to another branch or tag of this repository
        (``targetRevision: release-1.0``): Argo CD's repo-server checks that revision out and
        resolves ``path`` there (docs/user-guide/tracking_strategies.md), so this checkout
        says nothing about the path. HEAD, empty, the checked-out branch and main/master
        (where a pull request lands) are this checkout."""
        revision = src.get("targetRevision")
        if not isinstance(revision, str) or revision.strip() in ("", "HEAD"):
            return False
        revision = revision.strip()
        if revision.startswith("refs/heads/"):
            revision = revision[len("refs/heads/") :]
        return revision not in {"main", "master", *self._current_branch()}

    def _current_branch(self) -> set[str]:
        """The branch ``.git/HEAD`` names (a worktree's ``.git`` file is followed)."""
        if self._branch is None:
            self._branch = set()
            dot_git = os.path.join(self.repo.root, ".git")
            try:
                if os.path.isfile(dot_git):
                    with open(dot_git, encoding="utf-8") as handle:
                        first = handle.read(4096).strip()
                    if first.startswith("gitdir:"):
                        dot_git = os.path.join(self.repo.root, first[len("gitdir:") :].strip())
                with open(os.path.join(dot_git, "HEAD"), encoding="utf-8") as handle:
                    head = handle.read(4096).strip()
            except (OSError, UnicodeDecodeError):
                head = ""
            if head.startswith("ref: refs/heads/"):
                self._branch.add(head[len("ref: refs/heads/") :])
        return self._branch

    def _add(self, key: str, pos: tuple[int, int], rule: str, message: str) -> None:
        self.findings.append(Finding(self.repo.display(key), pos[0], pos[1], rule, message))

    def _data(self, key: str) -> Map | None:
        source = self.repo.source(key)
        if source is None or not source.documents:
            return None
        data = source.documents[0].data
        return data if isinstance(data, Map) else None

    # -- kustomize ----------------------------------------------------------------------
    def _kustomize_units(self, charts: list[str]) -> None:
        chart_set = set(charts)
        for root in self.graph.roots():
            data = self._data(root)
            if data is None or data.get("kind") == "Component":
                continue
            folder = os.path.dirname(root)
            if any(folder == c or folder.startswith(c + os.sep) for c in chart_set):
                continue  # a kustomization inside a chart is the chart's business
            unit = Unit(KUSTOMIZE, root, (root, 1, 1), f"kustomization {self.repo.display(root)}")
            closure = self.graph.closure(root)
            unit.files = set(closure)
            skip = False
            for key in sorted(closure):
                if key not in self.graph.edges:
                    continue
                kdata = self._data(key)
                if kdata is None:
                    continue
                unit.folders.add(os.path.dirname(key))
                skip |= self._check_kustomization(key, kdata, unit)
            if not skip:
                self.units.append(unit)
            else:  # not rendered, but its files are still a kustomization's, not loose
                self._not_rendered.append(unit)

    def _check_kustomization(self, key: str, data: Map, unit: Unit) -> bool:
        """Remote entries and missing paths of one kustomization; True: do not render."""
        skip = False
        folder = os.path.dirname(key)
        for name in _LIST_KEYS:
            items = data.get(name)
            if not isinstance(items, Seq):
                continue
            for i, item in enumerate(items):
                entry = item.get("path") if isinstance(item, Map) else item
                if not isinstance(entry, str) or not entry:
                    continue
                pos = items.at(i) if not isinstance(item, Map) else item.at("path")
                if is_remote(entry):
                    self._add(
                        key,
                        pos,
                        "render/remote-source",
                        f"{name} entry {quote(entry)} is fetched from the network; "
                        f"{unit.label} is not rendered",
                    )
                    skip = True
                elif "$" not in entry and not os.path.exists(os.path.join(folder, entry)):
                    self._add(
                        key,
                        pos,
                        "render/path-missing",
                        f"{name} entry {quote(entry)} does not exist",
                    )
                    skip = True
        for field, pos, entry in _file_entries(data):
            if "://" in entry:
                self._add(
                    key,
                    pos,
                    "render/remote-source",
                    f"{field} file {quote(entry)} is fetched from the network; "
                    f"{unit.label} is not rendered",
                )
                skip = True
                continue
            if "$" in entry or "\n" in entry:
                continue
            if not os.path.exists(os.path.join(folder, entry)):
                self._add(
                    key, pos, "render/path-missing", f"{field} file {quote(entry)} does not exist"
                )
                skip = True
        charts = data.get("helmCharts")
        if isinstance(charts, Seq) and charts:
            unit.enable_helm = True
            home = data.get("helmGlobals")
            home = home.get("chartHome") if isinstance(home, Map) else None
            home = os.path.join(folder, home if isinstance(home, str) else "charts")
            for i, chart in enumerate(charts):
                if not isinstance(chart, Map) or not isinstance(chart.get("name"), str):
                    continue
                name = chart["name"]
                version = chart.get("version")
                local = [os.path.join(home, name)]
                if isinstance(version, str):
                    local.insert(0, os.path.join(home, f"{name}-{version}", name))
                found = [p for p in local if os.path.isfile(os.path.join(p, "Chart.yaml"))]
                if found:
                    # the kustomization renders this chart with its own values: the chart is
                    # not also an application of its defaults (a chartHome outside charts/)
                    self._chart_consumed.add(os.path.normpath(found[0]))
                    continue
                repo_url = chart.get("repo")
                if isinstance(repo_url, str) and repo_url:
                    self._add(
                        key,
                        chart.at("name") if "name" in chart else charts.at(i),
                        "render/remote-chart",
                        f"chart {quote(name)} comes from {shown(repo_url)} and is not fetched "
                        "(no network "
                        f"in a hook); {unit.label} is not rendered",
                    )
                    skip = True
        return skip

    # -- charts -------------------------------------------------------------------------
    def _charts(self, files: list[str]) -> list[str]:
        """Chart folders, subcharts and vendored kustomize charts left out."""
        found = sorted(os.path.dirname(k) for k in files if os.path.basename(k) == "Chart.yaml")
        result = []
        for chart in found:
            parts = chart.split(os.sep)
            if "charts" in parts[:-1] and any(
                chart.startswith(other + os.sep) for other in found if other != chart
            ):
                continue  # a subchart: rendered by its parent
            if _in_chart_home(chart):
                continue  # a kustomize helmCharts home: rendered by its kustomization
            result.append(chart)
        return result

    def _chart_unit(self, chart: str, at: tuple[str, int, int], label: str | None) -> Unit | None:
        unit = Unit(HELM, chart, at, label or f"chart {self.repo.display(chart)}")
        unit.folders.add(chart)
        chart_file = os.path.join(chart, "Chart.yaml")
        unit.files.add(chart_file)
        data = self._data(chart_file)
        if isinstance(data, Map) and isinstance(data.get("name"), str):
            unit.release = _release_name(data["name"])
        unit.library = isinstance(data, Map) and data.get("type") == "library"
        deps = data.get("dependencies") if data is not None else None
        if isinstance(deps, Seq):
            for dep in deps:
                if not isinstance(dep, Map) or not isinstance(dep.get("name"), str):
                    continue
                repo_url = dep.get("repository")
                if isinstance(repo_url, str) and repo_url.startswith("file:"):
                    continue
                if not isinstance(repo_url, str) or not repo_url:
                    continue
                if _vendored_dependency(chart, dep):
                    continue
                self._add(
                    chart_file,
                    dep.at("name"),
                    "render/remote-chart",
                    f"dependency {quote(dep['name'])} comes from {shown(repo_url)} and is not "
                    "vendored in "
                    f"charts/ (no network in a hook); {unit.label} is not rendered",
                )
                return None
        unit.local_deps = local_dependencies(chart, str(self.repo.root))
        unit.dep_sources = local_dependencies(chart, str(self.repo.root), by_alias=True)
        # a change to a chart a file:// dependency names changes what this chart renders
        pending = list(unit.local_deps.values())
        while pending and len(unit.folders) < 64:
            folder = pending.pop()
            if folder not in unit.folders:
                unit.folders.add(folder)
                pending.extend(local_dependencies(folder, str(self.repo.root)).values())
        return unit

    # -- Argo CD --------------------------------------------------------------------------
    def _argo_units(self, charts: list[str]) -> None:
        apps: list[tuple[SourceFile, Document, Map, Map]] = []
        for source in self.sources("argo"):
            for doc in source.documents:
                if doc.kind != "Application" or doc.group != "argoproj.io":
                    continue
                spec = doc.data.get("spec")
                if not isinstance(spec, Map):
                    continue
                for src in _app_sources(spec):
                    apps.append((source, doc, spec, src))
        self._argo_applications = bool(apps)
        ours = set(self._origin_urls)
        for _source, _doc, _spec, src in apps:
            path, url = src.get("path"), src.get("repoURL")
            if (
                isinstance(path, str)
                and isinstance(url, str)
                and "{{" not in path
                and os.path.exists(self._in_repo(path))
            ):
                ours.add(_normal_url(url))
        self._ours = ours
        chart_set = set(charts)
        for source, doc, spec, src in apps:
            key = self.repo.key(source.path)
            url = src.get("repoURL")
            url = url if isinstance(url, str) else ""
            name = doc.name or "?"
            if isinstance(src.get("chart"), str):
                self._add(
                    key,
                    src.at("chart"),
                    "render/remote-chart",
                    f"chart {quote(src['chart'])} of Application {shown(name)} comes from "
                    f"{shown(url)} and is "
                    "not fetched (no network in a hook)",
                )
                continue
            path = source_path(src, ours)  # `path:` with no value: the repository root
            if path is None or "{{" in path or _normal_url(url) not in ours:
                continue
            folder = self._in_repo(path)
            if not folder.startswith(self.repo.root + os.sep) and folder != self.repo.root:
                continue  # outside the repository: never read
            if not os.path.isdir(folder):
                if not self._pins_another_revision(src):
                    self._add(
                        key,
                        src.at("path"),
                        "render/path-missing",
                        f"Application {shown(name)} path {quote(path)} does not exist in this "
                        "repository",
                    )
                continue
            if folder in chart_set:
                self._chart_consumed.add(folder)
                unit = self._argo_helm(
                    key, name, f"Argo CD Application {shown(name)}", spec, src, folder
                )
                if unit is not None:
                    self.units.append(unit)
                continue
            if any(os.path.isfile(os.path.join(folder, n)) for n in KUSTOMIZATION_FILES):
                continue  # a kustomize application: its kustomization is a root
            unit = Unit(
                DIRECTORY,
                folder,
                (key, *src.at("path")),
                f"folder {self.repo.display(folder) or '.'} (Argo CD Application {shown(name)})",
            )
            directory = src.get("directory")
            unit.recurse = isinstance(directory, Map) and directory.get("recurse") is True
            every = self.repo.yaml_in(folder, unit.recurse)
            kept = _directory_files(folder, every, directory)
            self._left_out.update(k for k in every if k not in kept)
            if every and not kept and isinstance(directory, Map):
                self._nothing_kept(key, name, folder, directory, unit.recurse)
            unit.files = set(kept) | {key}
            self.units.append(unit)

    def _nothing_kept(
        self, key: str, name: str, folder: str, directory: Map, recurse: bool
    ) -> None:
        """A directory Application whose include/exclude keeps none of its folder's
        manifests. Argo CD's repo server then yields no manifest and no error
        (reposerver/repository/repository.go: findManifests returns what
        getPotentiallyValidManifests kept, an empty list is an empty application), so it
        syncs nothing: a warning at the glob, not a failed render."""
        from gitops_guard.repo.argo import directory_filter

        wanted = directory_filter(directory)
        manifests = _manifest_files(folder, recurse)
        if wanted is not None and any(wanted(rel) for rel in manifests):
            return  # Argo CD reads one this check does not (a .jsonnet, a hidden folder's)
        include, exclude = directory.get("include"), directory.get("exclude")
        field = "include" if include else "exclude"
        if include and exclude:
            # findManifests drops what exclude matches, then keeps what include matches: when
            # the include alone keeps a manifest, the exclude is what drops them all
            alone = directory_filter({"include": include})
            if alone is not None and any(alone(rel) for rel in manifests):
                field = "exclude"
        glob = directory.get(field)
        if not isinstance(glob, str):
            return
        where = self.repo.display(folder) or "."
        what = (
            f"keeps none of the manifests in {quote(where)}"
            if field == "include"
            else f"drops every manifest {'the include keeps ' if include else ''}in {quote(where)}"
        )
        self._add(
            key,
            directory.at(field),
            "render/nothing-included",
            f"Application {shown(name)} directory {field} {quote(glob)} {what}: Argo CD "
            "renders nothing from this source and says no error (an empty application syncs "
            "nothing)",
        )

    def _argo_helm(
        self,
        key: str,
        name: str,
        consumer: str,
        spec: Map,
        src: Map,
        chart: str,
        resolve: Any = None,
    ) -> Unit | None:
        """The render of ``chart`` an Application source asks for. ``resolve`` gives what an
        ApplicationSet's template field becomes for one parameter set (None: unknown, and
        then nothing is rendered or said); an Application's fields are themselves."""
        value = resolve or _itself
        unit = self._chart_unit(
            chart, (key, *src.at("path")), f"chart {self.repo.display(chart)} ({consumer})"
        )
        if unit is None:
            return None
        unit.files.add(key)
        unit.release = name
        dest = spec.get("destination")
        if isinstance(dest, Map) and isinstance(dest.get("namespace"), str):
            unit.namespace = value(dest["namespace"])
            if unit.namespace is None:
                return None
        helm = src.get("helm")
        if not isinstance(helm, Map):
            return unit
        if isinstance(helm.get("releaseName"), str) and helm["releaseName"]:
            release = value(helm["releaseName"])
            if release is None:
                return None
            unit.release = release
        files = helm.get("valueFiles")
        ignore_missing = helm.get("ignoreMissingValueFiles") is True
        if isinstance(files, Seq):
            for i, written in enumerate(files):
                if not isinstance(written, str):
                    continue
                item = value(written)
                if item is None:
                    return None
                if "://" in item:
                    continue
                made = "" if item == written else f" (what {quote(written)} becomes)"
                if item.startswith("$"):
                    # $<ref>/<path>: the root of the source whose ``ref`` is <ref>
                    # (Argo CD docs/user-guide/multiple_sources.md)
                    ref, _, rest = item[1:].partition("/")
                    url = _ref_url(spec, ref)
                    url = value(url) if url is not None else None
                    if url is None:
                        continue
                    if _normal_url(url) not in self._ours:
                        self._add(
                            key,
                            files.at(i),
                            "render/remote-source",
                            f"values file {quote(item)}{made} of {consumer} comes "
                            f"from {shown(url)} and is not fetched; {unit.label} is not rendered",
                        )
                        return None
                    path = os.path.normpath(os.path.join(self.repo.root, rest))
                    if not path.startswith(self.repo.root + os.sep):
                        continue  # outside the repository: never read
                else:
                    path = os.path.normpath(os.path.join(chart, item))
                if not os.path.isfile(path):
                    if not ignore_missing:
                        self._add(
                            key,
                            files.at(i),
                            "render/path-missing",
                            f"values file {quote(item)}{made} of {consumer} does not exist",
                        )
                        return None
                    continue
                unit.value_files.append(path)
                unit.files.add(path)
        values = helm.get("values")
        if isinstance(values, str) and values.strip():
            text = value(values)
            if text is None:
                return None
            unit.values.append((text, (key, *helm.at("values"))))
        obj = helm.get("valuesObject")
        if isinstance(obj, Map):
            text = value(_dump(obj))
            if text is None:
                return None
            unit.values.append((text, (key, *helm.at("valuesObject"))))
        params = helm.get("parameters")
        if isinstance(params, Seq):
            for i, param in enumerate(params):
                if not isinstance(param, Map) or not isinstance(param.get("name"), str):
                    continue
                param_name, param_value = value(param["name"]), value(param.text("value") or "")
                if param_name is None or param_value is None:
                    return None
                flag = "--set-string" if param.get("forceString") is True else "--set"
                unit.sets.append((flag, f"{param_name}={param_value}", (key, *params.at(i))))
        return unit

    def _argo_appset_units(self, charts: list[str]) -> None:
        """The charts of this repository an ApplicationSet's template points at, rendered as
        each Application it makes (repo/appset.py: a literal list element's parameters; the
        ApplicationSet controller renders the template per parameter set,
        applicationset/utils/utils.go). A chart the template names but whose values the
        parameters of unresolved generators fill is still rendered with its defaults, its
        findings said as such (``defaults_note``), never as "nothing gives it values"."""
        from gitops_guard.repo.appset import MARK, Expansion

        chart_set = set(charts)
        appsets = [
            (self.repo.key(source.path), doc)
            for source in self.sources("argo")
            for doc in source.documents
            if doc.kind == "ApplicationSet" and doc.group == "argoproj.io"
        ]
        for _key, doc in appsets:
            # a template source whose literal path exists here names this repository too
            spec = doc.data.get("spec") if isinstance(doc.data, Map) else None
            template = spec.get("template") if isinstance(spec, Map) else None
            tspec = template.get("spec") if isinstance(template, Map) else None
            for src in _app_sources(tspec) if isinstance(tspec, Map) else ():
                path, url = src.get("path"), src.get("repoURL")
                if (
                    isinstance(path, str)
                    and isinstance(url, str)
                    and MARK not in path + url
                    and path.strip("./")
                    and os.path.exists(self._in_repo(path))
                ):
                    self._ours.add(_normal_url(url))
        for key, doc in appsets:
            spec = doc.data.get("spec") if isinstance(doc.data, Map) else None
            template = spec.get("template") if isinstance(spec, Map) else None
            tspec = template.get("spec") if isinstance(template, Map) else None
            if not isinstance(tspec, Map):
                continue
            meta = template.get("metadata")
            written = meta.get("name") if isinstance(meta, Map) else None
            written = written if isinstance(written, str) else doc.name or "?"
            expansion = Expansion(doc.data, keeps="source")
            label = f"ApplicationSet {shown(doc.name or '?')}"
            for src in _app_sources(tspec):
                path, url = source_path(src, self._ours), src.get("repoURL")
                if path is None or not isinstance(url, str):
                    continue
                if isinstance(src.get("chart"), str):
                    continue
                literal = not (
                    _has_mark(src, MARK)
                    or _has_mark(tspec.get("destination"), MARK)
                    or MARK in written
                )
                if literal:
                    resolvers: list[tuple[str, Any]] = [("", None)]
                else:
                    resolvers = [
                        (f", list element at line {line}", _resolver(expansion, element))
                        for line, element in expansion.elements
                    ]
                made = False
                for where, resolve in resolvers:
                    value = resolve or _itself
                    at_path, at_url, name = value(path), value(url), value(written)
                    if at_path is None or at_url is None or name is None:
                        continue
                    if _normal_url(at_url) not in self._ours:
                        continue
                    folder = self._in_repo(at_path)
                    if folder not in chart_set:
                        continue
                    self._chart_consumed.add(folder)
                    made = True
                    unit = self._argo_helm(
                        key, name, f"{label}{where}", tspec, src, folder, resolve
                    )
                    if unit is not None:
                        unit.from_appset = True
                        self.units.append(unit)
                if not made:
                    # what it renders takes values this check does not resolve
                    self._appset_paths.append((path, label))

    def _flux_folder(self, key: str, path: str) -> str | None:
        """The folder a Flux Kustomization's ``path`` names (repo/repository.py)."""
        from gitops_guard.repo.repository import flux_path_folder

        return flux_path_folder(self.repo.root, key, path)

    def _in_repo(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.repo.root, path.lstrip("/")))

    # -- Flux ---------------------------------------------------------------------------
    def _flux_units(self, charts: list[str]) -> None:
        sources = self.sources("flux")
        kustomizations: list[tuple[str, Document, Map]] = []
        releases: list[tuple[str, Document, Map]] = []
        for source in sources:
            key = self.repo.key(source.path)
            for doc in source.documents:
                spec = doc.data.get("spec") if isinstance(doc.data, Map) else None
                if not isinstance(spec, Map):
                    continue
                api = doc.api_version or ""
                if doc.kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
                    kustomizations.append((key, doc, spec))
                elif doc.kind == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/"):
                    releases.append((key, doc, spec))
        ours: set[tuple[str, str]] = set()
        for _key, _doc, spec in kustomizations:
            ref = _source_ref(spec.get("sourceRef"))
            path = spec.get("path")
            if (
                ref
                and isinstance(path, str)
                and path.strip("./")  # "./" exists in every source: no evidence
                and self._flux_folder(_key, path) is not None
            ):
                ours.add(ref)
        self._flux_kustomizations = bool(kustomizations)
        for key, _doc, spec in kustomizations:
            path = spec.get("path")
            if _source_ref(spec.get("sourceRef")) in ours and isinstance(path, str):
                folder = self._flux_folder(key, path)
                if folder is None:
                    continue
                self._flux_paths.append(folder)
                patches = _flux_patches(spec.get("patches"))
                if patches:
                    self._flux_patches.setdefault(folder, patches)
        for key, doc, spec in kustomizations:
            ref = _source_ref(spec.get("sourceRef"))
            path = spec.get("path")
            if ref not in ours or not isinstance(path, str) or "${" in path:
                continue
            if self._flux_folder(key, path) is None:
                self._add(
                    key,
                    spec.at("path"),
                    "render/path-missing",
                    f"Flux Kustomization {shown(doc.name or '?')} path {quote(path)} does not "
                    "exist in "
                    "this repository",
                )
        chart_set = set(charts)
        for key, doc, spec in releases:
            unit = self._flux_helm(key, doc, spec, chart_set)
            if unit is not None:
                self.units.append(unit)

    def _flux_helm(self, key: str, doc: Document, spec: Map, charts: set[str]) -> Unit | None:
        chart = spec.get("chart")
        chart_ref = spec.get("chartRef")
        if not isinstance(chart, Map) and isinstance(chart_ref, Map):
            # spec.chartRef: an OCIRepository or a HelmChart object holds the chart
            # (helm-controller docs/api/v2 HelmRelease chartRef); both are fetched by Flux
            kind = chart_ref.get("kind")
            ref_name = chart_ref.get("name")
            self._add(
                key,
                spec.at("chartRef"),
                "render/remote-chart",
                f"chart of HelmRelease {shown(doc.name or '?')} comes from "
                f"{shown(kind if isinstance(kind, str) else 'a source')} "
                f"{quote(ref_name if isinstance(ref_name, str) else '?')} and is not fetched "
                "(no network in a hook)",
            )
            return None
        chart_spec = chart.get("spec") if isinstance(chart, Map) else None
        if not isinstance(chart_spec, Map) or not isinstance(chart_spec.get("chart"), str):
            return None
        name = doc.name or "?"
        ref = chart_spec.get("sourceRef")
        kind = ref.get("kind") if isinstance(ref, Map) else None
        path = chart_spec["chart"]
        if kind != "GitRepository":
            self._add(
                key,
                chart_spec.at("chart"),
                "render/remote-chart",
                f"chart {quote(path)} of HelmRelease {shown(name)} comes from a "
                f"{shown(kind or 'remote source')} "
                "and is not fetched (no network in a hook)",
            )
            return None
        folder = self._in_repo(path)
        if folder not in charts:
            if not os.path.isdir(folder):
                self._add(
                    key,
                    chart_spec.at("chart"),
                    "render/path-missing",
                    f"HelmRelease {shown(name)} chart path {quote(path)} does not exist in this "
                    "repository",
                )
            return None
        self._chart_consumed.add(folder)
        unit = self._chart_unit(
            folder,
            (key, *chart_spec.at("chart")),
            f"chart {shown(path)} (HelmRelease {shown(name)} in {self.repo.display(key)})",
        )
        if unit is None:
            return None
        unit.files.add(key)
        target = spec.get("targetNamespace")
        namespace = target if isinstance(target, str) else doc.namespace
        unit.namespace = namespace
        release = spec.get("releaseName")
        if isinstance(release, str) and release:
            unit.release = release
        else:
            unit.release = _release_name(f"{target}-{name}" if isinstance(target, str) else name)
        files = chart_spec.get("valuesFiles")
        if isinstance(files, Seq):
            for i, item in enumerate(files):
                if not isinstance(item, str):
                    continue
                vpath = self._in_repo(item)
                if not os.path.isfile(vpath):
                    self._add(
                        key,
                        files.at(i),
                        "render/path-missing",
                        f"values file {quote(item)} of HelmRelease {shown(name)} does not exist",
                    )
                    return None
                unit.value_files.append(vpath)
                unit.files.add(vpath)
        for path in self._values_from(key, spec.get("valuesFrom")):
            unit.value_files.append(path)
            unit.files.add(path)
        values = spec.get("values")
        if isinstance(values, Map):
            unit.values.append((_dump(values), (key, *spec.at("values"))))
        return unit

    def _values_from(self, key: str, refs: Any) -> Iterator[str]:
        """HelmRelease ``valuesFrom`` ConfigMaps / Secrets that a kustomization listing the
        HelmRelease generates from a file (``configMapGenerator: [{name, files}]``), in order:
        helm-controller merges them before ``spec.values``."""
        if not isinstance(refs, Seq):
            return
        parents = self.graph.parents.get(key, [])
        for ref in refs:
            if not isinstance(ref, Map) or not isinstance(ref.get("name"), str):
                continue
            if isinstance(ref.get("targetPath"), str):
                continue  # one value at a path, not a values file
            wanted = ref.get("valuesKey") if isinstance(ref.get("valuesKey"), str) else None
            field = "secretGenerator" if ref.get("kind") == "Secret" else "configMapGenerator"
            for parent in parents:
                data = self._data(parent)
                entries = data.get(field) if data is not None else None
                if not isinstance(entries, Seq):
                    continue
                for entry in entries:
                    if not isinstance(entry, Map) or entry.get("name") != ref["name"]:
                        continue
                    files = entry.get("files")
                    for item in files if isinstance(files, Seq) else ():
                        if not isinstance(item, str):
                            continue
                        name, _, path = item.rpartition("=") if "=" in item else ("", "", item)
                        name = name or os.path.basename(path)
                        if name == (wanted or "values.yaml"):
                            full = os.path.normpath(os.path.join(os.path.dirname(parent), path))
                            if os.path.isfile(full):
                                yield full

    # -- files no other unit reads --------------------------------------------------------
    def _loose_units(self, files: list[str], charts: list[str]) -> None:
        """Each folder of YAML files nothing else renders: what an Argo CD directory app (or
        Flux's generated kustomization) of that folder applies, file by file."""
        units = [*self.units, *self._not_rendered]
        covered_folders = [u.folder for u in units if u.kind != DIRECTORY] + charts
        covered_folders += [f for u in units for f in u.folders]
        covered_files: set[str] = set()
        for unit in [
            *self.units,
            *self._not_rendered,
        ]:  # what each renders (a consumer or values file is not)
            inside = unit.folder + os.sep
            covered_files |= {k for k in unit.files if k.startswith(inside)}
            if unit.kind == KUSTOMIZE:
                covered_files |= unit.files
        prefixes = tuple(f + os.sep for f in set(covered_folders))
        folders: dict[str, list[str]] = {}
        for key in files:
            if key in covered_files or key.startswith(prefixes) or key in self.graph.edges:
                continue
            if key in self._left_out:
                continue  # its directory application's include/exclude leaves it out
            if os.path.basename(key) in KUSTOMIZATION_FILES or _values_name(key):
                continue
            folders.setdefault(os.path.dirname(key), []).append(key)
        for folder, keys in sorted(folders.items()):
            where = self.repo.display(folder) or "."
            unit = Unit(DIRECTORY, folder, (keys[0], 1, 1), f"folder {where}")
            unit.files = set(keys)
            self.units.append(unit)

    def _mark_load_restrictions(self) -> None:
        """Which kustomize units are built with the load restrictor off.

        Flux's kustomize-controller builds every kustomization with
        ``LoadRestrictions: LoadRestrictionsNone`` (fluxcd/pkg ``kustomize/kustomize_generator.go``,
        ``Build``): a kustomization there may list ``../shared/cm.yaml``. Argo CD runs
        ``kustomize build`` with kustomize's default (root only) unless ``argocd-cm`` sets
        ``kustomize.buildOptions`` with ``--load-restrictor LoadRestrictionsNone`` (Argo CD
        ``docs/user-guide/kustomize.md``). So a unit a Flux Kustomization builds (its path, or
        any folder below it), every unit of a repository with Flux Kustomizations and no Argo
        CD Application, and every unit when the repository's argocd-cm turns it off, is built
        unrestricted; the rest keep kustomize's default.

        A repository that holds no Argo CD Application or ApplicationSet names no engine whose
        options could say otherwise, and one that holds Applications but not Argo CD's
        configuration (no argocd-cm, no argo-cd chart values: Argo CD installed by Terraform
        or another repository) does not say how its Argo CD builds. When its own build recipe
        (a CI workflow, a Makefile, a script of its top, ``scripts/`` or ``hack/`` folder)
        runs ``kustomize build`` or ``kubectl kustomize`` with ``--load-restrictor
        LoadRestrictionsNone`` (kustomize ``kustomize/commands/build/flagloadrestrictor.go``:
        the flag that lifts the default ``LoadRestrictionsRootOnly``), its kustomizations are
        built the way it builds them.
        """
        argo_off, argo_cm = self._argocd_cm_unrestricted()
        flux_only = self._flux_kustomizations and not self._argo_applications
        if not argo_off and not (argo_cm and self._any_argo_object()):
            argo_off = _recipe_unrestricted(str(self.repo.root))
        paths = self._flux_paths
        for unit in [*self.units, *self._not_rendered]:
            if unit.kind != KUSTOMIZE:
                continue
            folder = unit.folder
            under_flux = any(folder == p or folder.startswith(p + os.sep) for p in paths)
            unit.load_unrestricted = argo_off or flux_only or under_flux
            # kustomize-controller appends spec.patches to the path's kustomization
            # (fluxcd/pkg kustomize/kustomize_generator.go, WriteFile): a parent that fills
            # in its children's interval/prune/sourceRef is applied before validation
            unit.patches = self._flux_patches.get(folder, [])

    def _any_argo_object(self) -> bool:
        """Whether the repository holds an Argo CD Application or ApplicationSet."""
        if self._argo_applications:
            return True
        return any(
            doc.group == "argoproj.io" and doc.kind in ("Application", "ApplicationSet")
            for source in self.sources("argo")
            for doc in source.documents
        )

    def _argocd_cm_unrestricted(self) -> tuple[bool, bool]:
        """(whether Argo CD's configuration here lifts the load restrictor, whether the
        repository holds that configuration at all): argocd-cm itself, or the values of Argo
        CD's Helm chart that become it (argo-helm ``charts/argo-cd``: ``configs.cm`` is merged
        into argocd-cm; in a values file, a HelmRelease's ``spec.values``, an Application's
        ``helm.valuesObject``)."""
        present = False
        for source in self.sources("argocd-cm"):
            for doc in source.documents:
                if not isinstance(doc.data, Map):
                    continue
                if doc.kind == "ConfigMap" and doc.name == "argocd-cm":
                    present = True
                    if _lifts_load_restrictor(doc.data.get("data")):
                        return True, True
                    continue
                values = _chart_cm_values(doc.data)
                present = present or bool(values)
                if any(_lifts_load_restrictor(cm) for cm in values):
                    return True, True
        return False, present

    # -- which units a change touches ----------------------------------------------------
    def touched(self, given: set[str]) -> list[Unit]:
        """The units that read a given file (a file inside a unit's folder counts: patches,
        generator inputs and chart templates are read without being listed)."""
        result = []
        for unit in self.units:
            if unit.files & given:
                result.append(unit)
                continue
            folders = unit.folders or {unit.folder}
            if any(k.startswith(f + os.sep) for k in given for f in folders):
                result.append(unit)
        return result


def _ref_url(spec: Map, ref: str) -> str | None:
    """The repoURL of the source of ``spec.sources`` whose ``ref`` is ``ref``."""
    sources = spec.get("sources")
    if not isinstance(sources, Seq):
        return None
    for source in sources:
        if isinstance(source, Map) and source.get("ref") == ref:
            url = source.get("repoURL")
            return url if isinstance(url, str) else None
    return None


#: where a repository keeps the commands that build it (read directly: hidden folders such as
#: ``.github`` are not in the YAML listing); none is searched below its own folder
_RECIPE_FOLDERS = (".github/workflows", ".gitlab", ".", "scripts", "hack", ".ci", "ci")
_RECIPE_NAMES = re.compile(
    r"(?:.*\.ya?ml|Makefile|makefile|GNUmakefile|Justfile|justfile|.*\.mk|.*\.sh|.*\.bash)\Z"
)
#: kustomize's flag (``--load-restrictor``; kustomize v3 spelled it ``--load_restrictor none``)
_UNRESTRICTED_FLAG = re.compile(
    rb"--load[-_]restrictor(?:=|[ \t]+)['\"]?(?:LoadRestrictionsNone|none)\b"
)
_KUSTOMIZE_BUILD = re.compile(rb"\bkustomize[ \t]+build\b|\bkubectl[ \t]+kustomize\b")


def _recipe_unrestricted(root: str) -> bool:
    """Whether one of the repository's own build recipes builds kustomizations with the load
    restrictor off: a file that runs kustomize's build and passes it the flag."""
    for folder in _RECIPE_FOLDERS:
        path = os.path.join(root, folder)
        try:
            names = sorted(os.listdir(path))
        except OSError:
            continue
        for name in names:
            if folder == "." and name.startswith(".") and name != ".gitlab-ci.yml":
                continue
            if not _RECIPE_NAMES.match(name):
                continue
            data, _problem = read_regular(os.path.join(path, name), MAX_FILE_BYTES)
            if data and _KUSTOMIZE_BUILD.search(data) and _UNRESTRICTED_FLAG.search(data):
                return True
    return False


def _lifts_load_restrictor(data: Any) -> bool:
    """``kustomize.buildOptions`` (or a versioned ``kustomize.buildOptions.<v>``) with
    ``--load-restrictor LoadRestrictionsNone`` (Argo CD docs/user-guide/kustomize.md)."""
    if not isinstance(data, Map):
        return False
    return any(
        isinstance(key, str)
        and key.startswith("kustomize.buildOptions")
        and isinstance(value, str)
        and "LoadRestrictionsNone" in value
        for key, value in data.items()
    )


def _chart_cm_values(data: Map, depth: int = 0) -> list[Any]:
    """Every ``configs.cm`` mapping in a document, at any depth up to a few levels (the argo-cd
    chart's values file, or the same values inline in a HelmRelease or an Application)."""
    found = []
    configs = data.get("configs")
    if isinstance(configs, Map) and isinstance(configs.get("cm"), Map):
        found.append(configs["cm"])
    if depth < 5:
        for value in data.values():
            if isinstance(value, Map):
                found.extend(_chart_cm_values(value, depth + 1))
    return found


def _flux_patches(patches: Any) -> list[dict[str, Any]]:
    """A Flux Kustomization's inline ``spec.patches`` as plain data (a patch is text; a
    target is a selector of strings)."""
    result: list[dict[str, Any]] = []
    if not isinstance(patches, list):
        return result
    for item in patches:
        if not isinstance(item, Map) or not isinstance(item.get("patch"), str):
            continue
        entry: dict[str, Any] = {"patch": item["patch"]}
        target = item.get("target")
        if isinstance(target, Map):
            entry["target"] = {str(k): str(v) for k, v in target.items() if isinstance(v, str)}
        result.append(entry)
    return result


def _file_entries(data: Map) -> Iterator[tuple[str, tuple[int, int], str]]:
    """(field, position, path) of every file a kustomization reads besides its resources:
    generator inputs (``files`` may be ``key=path``), patches, replacements, configurations."""
    for field in ("configMapGenerator", "secretGenerator"):
        entries = data.get(field)
        if not isinstance(entries, Seq):
            continue
        for entry in entries:
            if not isinstance(entry, Map):
                continue
            for name in ("files", "envs"):
                items = entry.get(name)
                if isinstance(items, Seq):
                    for i, item in enumerate(items):
                        if isinstance(item, str) and item:
                            yield field, items.at(i), item.split("=", 1)[-1]
            if isinstance(entry.get("env"), str):
                yield field, entry.at("env"), entry["env"]
    for field in ("patches", "patchesJson6902", "replacements"):
        entries = data.get(field)
        if isinstance(entries, Seq):
            for entry in entries:
                if isinstance(entry, Map) and isinstance(entry.get("path"), str):
                    yield field, entry.at("path"), entry["path"]
    for field in ("patchesStrategicMerge", "configurations", "transformers", "generators"):
        entries = data.get(field)
        if isinstance(entries, Seq):
            for i, entry in enumerate(entries):
                if isinstance(entry, str) and entry and ":" not in entry:
                    yield field, entries.at(i), entry


def _in_chart_home(chart: str) -> bool:
    """Under ``<kustomization folder>/charts/`` (``<name>/`` or ``<name>-<version>/<name>/``)."""
    folder = os.path.dirname(chart)
    for _ in range(2):
        if os.path.basename(folder) == "charts":
            parent = os.path.dirname(folder)
            return any(os.path.isfile(os.path.join(parent, n)) for n in KUSTOMIZATION_FILES)
        folder = os.path.dirname(folder)
    return False


def _values_name(key: str) -> bool:
    name = os.path.basename(key)
    return name.startswith("values") or "-values." in name or "_values." in name


def _app_sources(spec: Map) -> Iterator[Map]:
    if isinstance(spec.get("source"), Map):
        yield spec["source"]
    if isinstance(spec.get("sources"), Seq):
        for item in spec["sources"]:
            if isinstance(item, Map):
                yield item


def _source_ref(ref: Any) -> tuple[str, str] | None:
    """A Flux source that may be this repository: a GitRepository, or an OCIRepository (the
    repository's tree pushed as an artifact, ``flux push artifact``), named by kind and name."""
    if not isinstance(ref, Map) or ref.get("kind") not in ("GitRepository", "OCIRepository"):
        return None
    name = ref.get("name")
    return (ref["kind"], name) if isinstance(name, str) else None


def local_dependencies(chart: str, root: str, by_alias: bool = False) -> dict[str, str]:
    """The dependencies of ``chart`` a ``file://`` repository names and its charts/ folder
    does not vendor: name -> the folder of that chart (inside ``root``, with a Chart.yaml).

    Argo CD runs ``helm dependency build`` when ``helm template`` says a dependency is
    missing (argo-cd ``reposerver/repository/repository.go``, ``helmTemplate`` and
    ``runHelmBuild``), and Flux's source-controller builds a chart of a GitRepository with its
    local dependencies (``internal/helm/chart/dependency_manager.go``, ``addLocal``); for a
    ``file://`` dependency both take the chart from that folder, relative to the chart (helm
    ``pkg/downloader/manager.go``). A folder without a Chart.yaml stays missing, as it does
    for them. ``by_alias``: keyed by the name helm renders the dependency under (its
    ``alias``, else its name: helm ``pkg/chart/util/dependencies.go`` renames an aliased
    copy), which its templates' ``# Source:`` lines name."""
    from gitops_guard.core.documents import load_file

    try:
        source = load_file(os.path.join(chart, "Chart.yaml"))
    except OSError:
        return {}
    data = source.documents[0].data if source.documents else None
    deps = data.get("dependencies") if isinstance(data, Map) else None
    found: dict[str, str] = {}
    if not isinstance(deps, Seq):
        return found
    top = os.path.realpath(root)
    for dep in deps:
        if not isinstance(dep, Map) or not isinstance(dep.get("name"), str):
            continue
        url = dep.get("repository")
        if not isinstance(url, str) or not url.startswith("file://"):
            continue
        folder = os.path.normpath(os.path.join(chart, url[len("file://") :]))
        real = os.path.realpath(folder)
        if real != top and not real.startswith(top + os.sep):
            continue  # outside the repository: not in the engine's checkout either
        if _vendored_dependency(chart, dep) or not os.path.isfile(
            os.path.join(folder, "Chart.yaml")
        ):
            continue
        alias = dep.get("alias")
        key = alias if by_alias and isinstance(alias, str) and alias else dep["name"]
        found[key] = folder
    return found


def _vendored_dependency(chart: str, dep: Map) -> bool:
    name = dep["name"]
    folder = os.path.join(chart, "charts")
    if os.path.isfile(os.path.join(folder, name, "Chart.yaml")):
        return True
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(n.startswith(f"{name}-") and n.endswith(".tgz") for n in names)


def _release_name(name: str) -> str:
    """A release name helm accepts (lowercase DNS label, at most 53 characters)."""
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower()).strip("-")
    return (cleaned or "release")[:53].rstrip("-") or "release"


def _dump(values: Map) -> str:
    import json

    from gitops_guard.core.documents import to_plain

    return json.dumps(to_plain(values))


def _itself(value: str) -> str:
    return value


def _resolver(expansion: Any, element: Map) -> Any:
    return lambda value: expansion.render(value, element)


def _has_mark(node: Any, mark: str) -> bool:
    """Whether any string in ``node`` (a mapping, a list, a scalar) holds ``mark``."""
    if isinstance(node, str):
        return mark in node
    if isinstance(node, dict):
        return any(_has_mark(k, mark) or _has_mark(v, mark) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_mark(v, mark) for v in node)
    return False


def _path_pattern(path: str) -> str:
    """An ApplicationSet template ``path`` as a glob: each ``{{ }}`` any text."""
    import re

    return re.sub(r"\{\{.*?\}\}", "*", path.strip().strip("/"), flags=re.S) or "*"


def _directory_files(folder: str, files: list[str], directory: Any) -> list[str]:
    """The manifests of a directory application's folder Argo CD reads (its ``include`` and
    ``exclude`` globs, repo/argo.py directory_filter)."""
    from gitops_guard.repo.argo import directory_filter

    wanted = directory_filter(directory)
    if wanted is None:
        return files
    return [k for k in files if wanted(os.path.relpath(k, folder).replace(os.sep, "/"))]


def _manifest_files(folder: str, recurse: bool) -> list[str]:
    """Every file of a directory application's folder Argo CD considers, relative to it:
    getPotentiallyValidManifests walks it with filepath.Walk (hidden folders too) and keeps a
    name manifestFile matches (``.yaml``, ``.yml``, ``.json``, ``.jsonnet``)."""
    found: list[str] = []
    for sub, dirs, names in os.walk(folder):
        dirs[:] = sorted(dirs) if recurse else []
        rel = os.path.relpath(sub, folder)
        for n in sorted(names):
            if n.endswith((".yaml", ".yml", ".json", ".jsonnet")):
                found.append(n if rel == "." else f"{rel}/{n}".replace(os.sep, "/"))
    return found

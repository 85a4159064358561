"""Who deploys an image written in a kustomize base or in a chart's default values, and
whether every one of them rewrites it.

What the cluster gets from a base is what the kustomizations that include it make of it: each
kustomization on the way up applies its ``images:`` entries (kustomize
``api/filters/imagetag/updater.go``, ``SetImageValue``: an entry matches an image by name,
``api/image/image.go`` ``IsImageMatched``; ``newName`` replaces the name; ``newTag`` or
``digest`` replaces both the tag and the digest), after the images of the Components it lists,
and an Argo CD Application (``kustomize.images``: ``kustomize edit set image``) or a Flux
Kustomization (``spec.images``) pointing at a kustomization adds its own entries. A chart's
``values.yaml`` is the lowest layer of every render: an Argo CD Application
(``helm.valueFiles`` / ``values`` / ``valuesObject`` / ``parameters``), a Flux HelmRelease
(``valuesFiles`` / ``valuesFrom`` / ``values``) or a kustomize ``helmCharts`` entry
(``valuesFile`` / ``additionalValuesFiles`` / ``valuesInline``) sets keys over it.

A finding where the image is written is moot only when there is at least one consumer and
every consumer replaces the part the finding is about; a kustomization that includes the base
without rewriting it (or an Application that applies the base folder itself) deploys the image
as written. The lookups read the repository (its kustomization graph, its Applications), not
the given files, so a one-file run answers as a run over every file does.
"""

from __future__ import annotations

import os
import re

from gitops_guard.core.documents import KUSTOMIZATION_FILES, Map, Seq
from gitops_guard.repo.repository import kind_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from gitops_guard.repo.kgraph import Graph
    from gitops_guard.repo.repository import Repository

#: the files that may hold an Argo CD Application or ApplicationSet (bytes, before parsing:
#: a sync-wave annotation names argoproj.io too)
_KIND_APPLICATION = rb"""(?m)["']?kind["']?[ \t]*:[ \t]*["']?Application(?:Set)?(?![\w-])"""

NAME = "name"
TAG = "tag"

#: an images entry as plain data: (name, newName, newTag, digest)
Entry = tuple[str, str, str, str]


class Consumer:
    """One thing that deploys the image: what it is called, which parts it replaces."""

    __slots__ = ("label", "replaced")

    def __init__(self, label: str, replaced: frozenset[str]) -> None:
        self.label = label
        self.replaced = replaced

    def __repr__(self) -> str:
        return f"Consumer({self.label!r}, {sorted(self.replaced)})"


class Lookup:
    """The repository around the checked files, read only when a question needs it."""

    def __init__(self, paths: Iterable[str]) -> None:
        self._paths = list(paths)
        self._repo: Repository | None = None
        self._graph: Graph | None = None
        self._pointers: dict[str, list[tuple[str, list[Entry]]]] | None = None
        self._charts: dict[str, list[tuple[str, list[Any]]]] | None = None
        self._helm_values: dict[str, list[str]] | None = None
        self._flux: Any = None
        self._stores: Any = None
        self._templates: dict[str, Any] = {}

    @property
    def repo(self) -> Repository:
        if self._repo is None:
            from gitops_guard.repo.repository import Repository, find_root

            self._repo = Repository(find_root(self._paths))
        return self._repo

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            from gitops_guard.repo.kgraph import Graph

            self._graph = Graph(self.repo)
        return self._graph

    # -- Flux postBuild substitution --------------------------------------------------------
    def flux_substituted(self, path: str, text: str, doc: Any) -> list[tuple[str, str]] | None:
        """``text`` (with ``${VAR}``s) as each Flux Kustomization that applies ``path``
        substitutes it: (label, value) per Kustomization; None when nothing here applies the
        file or one of them leaves a value this repository cannot tell
        (``substitution.py``)."""
        from gitops_guard.checks.images import substitution
        from gitops_guard.repo.repository import Repository

        key = Repository.key(path)
        if not self._inside(key):
            return None
        if self._flux is None:
            from gitops_guard.checks.syncwaves.flux_build import FluxBuilds

            sources = self.repo.containing(b"toolkit.fluxcd.io")
            self._flux = FluxBuilds(self.repo, self.graph, sources)
            self._stores = substitution.Stores(self.repo)
        builders = [b for b in self._flux.builders(key) if b.doc is not None]
        if not builders:
            return None
        result = []
        for build in builders:
            found = substitution.variables(build.doc, self._stores)
            value = substitution.substitute(text, doc, found)
            if value is None:
                return None
            result.append((substitution.label(build.doc), value))
        return result

    def _inside(self, key: str) -> bool:
        root = self.repo.root
        return key.startswith(root.rstrip(os.sep) + os.sep)

    # -- kustomize --------------------------------------------------------------------------
    def kustomize(self, path: str, image: str) -> list[Consumer] | None:
        """Every consumer of ``image`` written in ``path`` (a resource of a base, or an
        ``images:`` entry of a kustomization), with what each replaces; None when no
        kustomization includes the file (it deploys as written)."""
        from gitops_guard.repo.repository import Repository

        key = Repository.key(path)
        if not self._inside(key):
            return None
        found = [] if os.path.basename(key) in KUSTOMIZATION_FILES else self._raw(key, image)
        if not self.graph.parents.get(key):
            return found or None
        self._up(key, (*split(image), frozenset()), found, {key})
        return found

    def _up(self, child: str, state: tuple, found: list[Consumer], path: set[str]) -> None:
        for parent in self.graph.parents.get(child, ()):
            if parent in path:
                continue  # a cycle: kustomize refuses it; nothing deploys through it
            self._through(parent, child, state, found, path | {parent})

    def _through(
        self, parent: str, child: str | None, state: tuple, found: list[Consumer], path: set[str]
    ) -> None:
        """The image as the kustomization ``parent`` (reached from ``child``) and everything
        that builds it make of it."""
        graph = self.graph
        data = self._kustomization(parent)
        now = state
        if data is not None:
            for is_kust, target in graph.edges.get(parent, ()):
                component = self._kustomization(target) if is_kust else None
                if target != child and component is not None and _is_component(component):
                    now = apply(now, entries(component.get("images")))
            now = apply(now, entries(data.get("images")))
        pointers = self.pointers().get(os.path.dirname(parent), [])
        for label, extra in pointers:
            found.append(Consumer(label, apply(now, extra)[3]))
        if graph.parents.get(parent):
            self._up(parent, now, found, path)
        elif not pointers:
            found.append(Consumer(f"kustomization {self.repo.display(parent)}", now[3]))

    def helm_values(self, path: str, image: str) -> list[Consumer] | None:
        """The consumers of ``image`` written in a values file that kustomizations render
        through ``helmCharts`` (``valuesFile``, ``additionalValuesFiles``), each with what it
        replaces; None when no kustomization renders the file so.

        The chart's output is a generated resource of that kustomization, and its
        ``images:`` (and every kustomization's above it) rewrite what the chart renders as
        they rewrite a base's: generators run before transformers (kustomize
        ``api/krusty/kusttarget.go``, ``runGenerators`` then ``runTransformers``; the "last
        mile" pattern of kustomize's ``examples/chart.md``)."""
        from gitops_guard.repo.repository import Repository

        key = Repository.key(path)
        if not self._inside(key):
            return None
        if self._helm_values is None:
            self._helm_values = self._helm_values_files()
        kfiles = self._helm_values.get(key)
        if not kfiles:
            return None
        found: list[Consumer] = []
        for kfile in kfiles:
            self._through(kfile, None, (*split(image), frozenset()), found, {kfile})
        return found

    def _helm_values_files(self) -> dict[str, list[str]]:
        """values file -> the kustomizations whose ``helmCharts`` render with it."""
        found: dict[str, list[str]] = {}
        for kfile, item in self._helm_chart_items():
            for target in _values_files(kfile, item):
                if kfile not in found.setdefault(target, []):
                    found[target].append(kfile)
        return found

    def _helm_chart_items(self) -> Iterable[tuple[str, Map]]:
        """(kustomization, helmCharts item) of every kustomization that inflates charts."""
        for kfile, _data in self.repo.containing_raw(b"helmCharts"):
            if os.path.basename(kfile) not in KUSTOMIZATION_FILES:
                continue
            data = self._kustomization(kfile)
            charts = data.get("helmCharts") if data is not None else None
            if not isinstance(charts, Seq):
                continue
            for item in charts:
                if isinstance(item, Map) and isinstance(item.get("name"), str):
                    yield kfile, item

    def _kustomization(self, key: str) -> Map | None:
        source = self.repo.source(key)
        if source is None or not source.documents:
            return None
        data = source.documents[0].data
        return data if isinstance(data, Map) else None

    def pointers(self) -> dict[str, list[tuple[str, list[Entry]]]]:
        """kustomization folder -> (label, images entries) of every Argo CD Application
        (ApplicationSet template) and Flux Kustomization that builds that folder itself.

        A Flux Kustomization whose path has no kustomization file builds one that lists each
        YAML file below it and, instead of descending into it, each folder below it that has
        a kustomization (fluxcd/pkg ``kustomize/kustomize_generator.go``,
        ``generateKustomization``): those kustomizations are built directly, and the files
        are applied as written (``raw``). An Argo CD directory Application applies the YAML
        files of its folder (every folder below it with ``directory.recurse``) as written."""
        if self._pointers is not None:
            return self._pointers
        found: dict[str, list[tuple[str, list[Entry]]]] = {}
        #: (folder, recurse, label, entries, flux) of what applies files as they are written
        self.raw: list[tuple[str, bool, str, list[Entry], bool]] = []
        repo = self.repo
        folders = {os.path.dirname(k) for k in self.graph.kustomizations}
        #: folder -> the Application names its in-repository Applications go by
        overridden: dict[str, set[str]] = {}
        for source in repo.containing(b"argoproj.io", _KIND_APPLICATION):
            for doc in source.documents:
                if doc.group != "argoproj.io" or doc.kind not in ("Application", "ApplicationSet"):
                    continue
                label = f"{doc.kind} {doc.name or '?'} ({repo.display(repo.key(source.path))})"
                for src in argo_sources(doc.data):
                    folder = self._folder(src)
                    if folder is None or os.path.isfile(os.path.join(folder, "Chart.yaml")):
                        continue
                    kustomize = src.get("kustomize")
                    images = kustomize.get("images") if isinstance(kustomize, Map) else None
                    extra = [argo_entry(i) for i in images or () if isinstance(i, str)]
                    if folder in folders:
                        names = _app_names(doc) if doc.kind == "Application" else []
                        extra, used = _overridden(folder, names, extra)
                        if used:
                            label += f", with {repo.display(used)}"
                        found.setdefault(folder, []).append((label, extra))
                        overridden.setdefault(folder, set()).update(names)
                    else:
                        directory = src.get("directory")
                        recurse = isinstance(directory, Map) and directory.get("recurse") is True
                        self.raw.append((folder, recurse, label, [], False))
        for source in repo.containing(b"kustomize.toolkit.fluxcd.io", kind_line("Kustomization")):
            for doc in source.documents:
                api = doc.api_version or ""
                if doc.kind != "Kustomization" or not api.startswith("kustomize.toolkit.fluxcd"):
                    continue
                spec = doc.data.get("spec") if isinstance(doc.data, Map) else None
                folder = self._folder(spec.get("path") if isinstance(spec, Map) else None)
                if folder is None:
                    continue
                label = f"Flux Kustomization {doc.name or '?'} ({repo.display(source.path)})"
                extra = entries(spec.get("images"))
                if folder in folders:
                    found.setdefault(folder, []).append((label, extra))
                    continue
                self.raw.append((folder, True, label, extra, True))
                for kfolder in folders:
                    if kfolder.startswith(folder + os.sep) and not _between(
                        folder, kfolder, folders
                    ):
                        found.setdefault(kfolder, []).append((label, extra))
        # a parameter overrides file names the Application that renders its folder, one this
        # repository may not hold (Argo CD Image Updater's git write-back writes it)
        for folder in sorted(folders):
            for name, key in _override_files(folder):
                if name is None and found.get(folder):
                    continue  # merged into every Application above already
                if name is not None and name in overridden.get(folder, ()):
                    continue
                label = (
                    f"Argo CD Application {name} ({repo.display(key)})"
                    if name is not None
                    else f"the Argo CD Applications of this folder ({repo.display(key)})"
                )
                extra, _used = _overridden(folder, [name] if name else [], [])
                found.setdefault(folder, []).append((label, extra))
        self._pointers = found
        return found

    def _raw(self, key: str, image: str) -> list[Consumer]:
        """The consumers that apply the file ``key`` as it is written (no kustomization)."""
        self.pointers()
        folders = {os.path.dirname(k) for k in self.graph.kustomizations}
        here = os.path.dirname(key)
        found = []
        for folder, recurse, label, extra, flux in self.raw:
            if here != folder and not (recurse and here.startswith(folder + os.sep)):
                continue
            if flux and (here in folders or _between(folder, here, folders)):
                continue  # the generator lists the kustomization's folder, not the file
            found.append(Consumer(label, apply((*split(image), frozenset()), extra)[3]))
        return found

    def _folder(self, path: Any) -> str | None:
        """The folder a ``path`` names; an Argo CD source (a mapping) names it as Argo CD
        reads it (repo/argo.py source_path: ``path:`` with no value is the root)."""
        if isinstance(path, Map):
            from gitops_guard.repo.argo import origin_urls, source_path

            path = source_path(path, origin_urls(str(self.repo.root)))
            if path == "":
                return os.path.normpath(str(self.repo.root))
        if not isinstance(path, str) or not path or "{{" in path or "$" in path:
            return None
        return os.path.normpath(os.path.join(self.repo.root, path.lstrip("/")))

    # -- charts ------------------------------------------------------------------------------
    def chart_uses(self, path: str) -> tuple[dict[tuple[str, ...], list[Any]], set[Any]] | None:
        """How the templates of the chart a values file sits in use each ``.Values`` path,
        and which values they render with ``tpl`` (``chart_templates.py``); None when
        ``path`` is no values file of a chart folder."""
        from gitops_guard.core.documents import is_values_file
        from gitops_guard.repo.repository import Repository

        key = Repository.key(path)
        chart = os.path.dirname(key)
        if not is_values_file(key) or not os.path.isfile(os.path.join(chart, "Chart.yaml")):
            return None
        if not self._inside(key):
            return None
        if chart not in self._templates:
            from gitops_guard.checks.images.chart_templates import chart_uses

            self._templates[chart] = chart_uses(chart)
        return self._templates[chart]

    def chart(self, path: str) -> list[tuple[str, list[Any]]] | None:
        """(label, value layers) of every consumer of the chart whose default values file is
        ``path``; None when ``path`` is not a chart's ``values.yaml``. A layer is plain data
        (a values file, inline values) or ``("--set", [keys], value)``."""
        from gitops_guard.repo.repository import Repository

        key = Repository.key(path)
        chart = os.path.dirname(key)
        if os.path.basename(key) not in ("values.yaml", "values.yml"):
            return None
        if not os.path.isfile(os.path.join(chart, "Chart.yaml")) or not self._inside(key):
            return None
        if self._charts is None:
            self._charts = self._chart_consumers()
        return self._charts.get(chart, [])

    def _chart_consumers(self) -> dict[str, list[tuple[str, list[Any]]]]:
        from gitops_guard.render.units import HELM, Plan

        repo = self.repo
        found: dict[str, list[tuple[str, list[Any]]]] = {}
        # Argo CD Applications and Flux HelmReleases, as render/units.py plans their renders
        for unit in Plan(repo).build().units:
            if unit.kind != HELM or unit.defaults_only or unit.from_appset:
                continue  # ApplicationSets: read below, from the template itself
            layers: list[Any] = [self._file(k) for k in unit.value_files]
            layers.extend(_yaml(text) for text, _where in unit.values)
            for _flag, assignment, _where in unit.sets:
                name, _, value = assignment.partition("=")
                layers.append(("--set", set_path(name), value))
            found.setdefault(unit.root, []).append((unit.label, layers))
        # ApplicationSet templates with a literal path (units.py renders Applications only)
        for source in repo.containing(b"argoproj.io", kind_line("ApplicationSet")):
            for doc in source.documents:
                if doc.group != "argoproj.io" or doc.kind != "ApplicationSet":
                    continue
                label = f"ApplicationSet {doc.name or '?'} ({repo.display(source.path)})"
                for src in argo_sources(doc.data):
                    chart = self._folder(src)
                    if chart is None or not os.path.isfile(os.path.join(chart, "Chart.yaml")):
                        continue
                    found.setdefault(chart, []).append((label, self._argo_layers(chart, src)))
        # kustomize helmCharts (HelmChartInflationGenerator: chartHome/<name>, or
        # chartHome/<name>-<version>/<name>; valuesFile, additionalValuesFiles, valuesInline)
        for kfile, item in self._helm_chart_items():
            data = self._kustomization(kfile)
            folder = os.path.dirname(kfile)
            home = data.get("helmGlobals") if data is not None else None
            home = home.get("chartHome") if isinstance(home, Map) else None
            home = os.path.normpath(
                os.path.join(folder, home if isinstance(home, str) else "charts")
            )
            name = item["name"]
            version = item.get("version")
            places = [os.path.join(home, name)]
            if isinstance(version, str):
                places.append(os.path.join(home, f"{name}-{version}", name))
            layers: list[Any] = [self._file(k) for k in _values_files(kfile, item)]
            inline = item.get("valuesInline")
            if isinstance(inline, Map):
                layers.append(inline)
            label = f"kustomization {repo.display(kfile)} (helmCharts {name})"
            for place in places:
                found.setdefault(os.path.normpath(place), []).append((label, layers))
        return found

    def _argo_layers(self, chart: str, src: Map) -> list[Any]:
        helm = src.get("helm")
        if not isinstance(helm, Map):
            return []
        layers: list[Any] = []
        files = helm.get("valueFiles")
        for item in files if isinstance(files, Seq) else ():
            if isinstance(item, str) and not item.startswith("$") and "{{" not in item:
                layers.append(self._file(os.path.normpath(os.path.join(chart, item))))
        if isinstance(helm.get("values"), str):
            layers.append(_yaml(helm["values"]))
        if isinstance(helm.get("valuesObject"), Map):
            layers.append(helm["valuesObject"])
        params = helm.get("parameters")
        for param in params if isinstance(params, Seq) else ():
            if isinstance(param, Map) and isinstance(param.get("name"), str):
                layers.append(("--set", set_path(param["name"]), param.text("value") or ""))
        return layers

    def _file(self, key: str) -> Any:
        if os.path.basename(key) in ("values.yaml", "values.yml") and os.path.isfile(
            os.path.join(os.path.dirname(key), "Chart.yaml")
        ):
            return None  # a chart's own defaults named again (valueFiles: [values.yaml])
        source = self.repo.source(key)
        if source is None or not source.documents:
            return None
        return source.documents[0].data


def _values_files(kfile: str, item: Map) -> list[str]:
    """The local values files of one ``helmCharts`` item (``valuesFile``, then
    ``additionalValuesFiles``), as repository keys."""
    files = [item.get("valuesFile")]
    extra = item.get("additionalValuesFiles")
    files.extend(extra if isinstance(extra, Seq) else ())
    folder = os.path.dirname(kfile)
    return [
        os.path.normpath(os.path.join(folder, file))
        for file in files
        if isinstance(file, str) and file and "://" not in file
    ]


# -- kustomize's images transformer, as data ---------------------------------------------------


def split(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) as kustomize splits an image (``api/image/image.go``, ``Split``):
    the first ``:`` or ``@`` after the first ``/``."""
    slash = image.find("/")
    start = slash if slash > 0 else 0
    search = image[start:]
    at, colon = search.find("@"), search.find(":")
    if at < 0 and colon < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return image[: start + at], "", image[start + at + 1 :]
    if at >= 0 and colon >= 0:
        return (
            image[: start + colon],
            image[start + colon + 1 : start + at],
            image[start + at + 1 :],
        )
    return image[: start + colon], image[start + colon + 1 :], ""


def matched(image: str, name: str) -> bool:
    """kustomize ``IsImageMatched``: ``name``, then an optional tag and digest (kustomize
    compiles the name as a pattern; it is matched literally here)."""
    pattern = (
        "^" + re.escape(name) + r"(@sha256)?(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$"
    )
    return re.match(pattern, image) is not None


def apply(state: tuple, items: list[Entry]) -> tuple:
    """One kustomization's images entries applied to (name, tag, digest, replaced parts)."""
    name, tag, digest, replaced = state
    for old, new_name, new_tag, new_digest in items:
        text = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
        if not old or not matched(text, old):
            continue
        parts = set(replaced)
        if new_name:
            name = new_name
            parts.add(NAME)
        if new_tag or new_digest:  # either replaces both the tag and the digest
            tag, digest = new_tag, new_digest
            parts.add(TAG)
        replaced = frozenset(parts)
    return name, tag, digest, replaced


def entries(items: Any) -> list[Entry]:
    """kustomize / Flux ``images:`` entries as data."""
    result: list[Entry] = []
    for item in items if isinstance(items, Seq) else ():
        if isinstance(item, Map):
            result.append(
                (
                    item.text("name") or "",
                    item.text("newName") or "",
                    item.text("newTag") or "",
                    item.text("digest") or "",
                )
            )
    return result


def argo_entry(text: str) -> Entry:
    """An Argo CD ``kustomize.images`` string ``[old=]new[:tag][@digest]``, as the entry
    ``kustomize edit set image`` writes for it (argo-cd ``util/kustomize/kustomize.go``)."""
    if "=" in text:
        old, new = text.split("=", 1)
        new_name, tag, digest = split(new)
        return old, new_name, tag, digest
    name, tag, digest = split(text)
    return name, "", tag, digest


#: Argo CD's parameter overrides files (argo-cd ``reposerver/repository/repository.go``,
#: ``repoSourceFile`` / ``appSourceFile``): every Application of the folder, then one by name
REPO_SOURCE_FILE = ".argocd-source.yaml"
_APP_SOURCE_FILE = re.compile(r"^\.argocd-source-(.+)\.yaml$")


def _app_names(doc: Any) -> list[str]:
    """The names an Application's overrides file may carry: ``<name>``, and
    ``<namespace>_<name>`` for an Application outside Argo CD's namespace."""
    name, namespace = doc.name, doc.namespace
    if not name or "{{" in name:
        return []
    return [name, f"{namespace}_{name}"] if namespace else [name]


def _override_files(folder: str) -> list[tuple[str | None, str]]:
    """(application name or None for every Application, key) of the folder's overrides files."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found: list[tuple[str | None, str]] = []
    for name in names:
        match = _APP_SOURCE_FILE.match(name)
        if name == REPO_SOURCE_FILE or match:
            key = os.path.join(folder, name)
            if os.path.isfile(key):
                found.append((match.group(1) if match else None, key))
    return found


def _overridden(
    folder: str, names: list[str], extra: list[Entry]
) -> tuple[list[Entry], str | None]:
    """An Application's ``kustomize.images`` once Argo CD merges the folder's overrides files
    over its source (``mergeSourceParameters``: ``.argocd-source.yaml``, then
    ``.argocd-source-<app>.yaml``, each a JSON merge patch, so a list it sets replaces the
    list), and the overrides file whose images it ends with (None: the Application's own)."""
    from gitops_guard.core.documents import load_text, read_regular

    used = None
    files = [REPO_SOURCE_FILE] + [f".argocd-source-{name}.yaml" for name in names]
    for name in files:
        key = os.path.join(folder, name)
        if not os.path.isfile(key):
            continue
        data, _ = read_regular(key, 1 << 20)
        if data is None:
            continue
        docs = load_text(key, data.decode("utf-8", "replace")).documents
        top = docs[0].data if docs else None
        kustomize = top.get("kustomize") if isinstance(top, Map) else None
        images = kustomize.get("images") if isinstance(kustomize, Map) else None
        if isinstance(images, Seq):
            extra = [argo_entry(i) for i in images if isinstance(i, str)]
            used = key
    return extra, used


def argo_sources(app: Any) -> list[Map]:
    """The sources of an Application, or of an ApplicationSet's template."""
    spec = app.get("spec") if isinstance(app, Map) else None
    if isinstance(spec, Map) and app.get("kind") == "ApplicationSet":
        template = spec.get("template")
        spec = template.get("spec") if isinstance(template, Map) else None
    if not isinstance(spec, Map):
        return []
    found = [spec.get("source")]
    if isinstance(spec.get("sources"), list):
        found.extend(spec["sources"])
    return [s for s in found if isinstance(s, Map)]


def _between(top: str, folder: str, folders: set[str]) -> bool:
    """Whether a folder strictly between ``top`` and ``folder`` has a kustomization."""
    up = os.path.dirname(folder)
    while up != top and up.startswith(top + os.sep):
        if up in folders:
            return True
        up = os.path.dirname(up)
    return False


def _is_component(data: Map) -> bool:
    return data.get("kind") == "Component"


# -- Helm values layers ----------------------------------------------------------------------


def set_path(name: str) -> list[str]:
    """``--set`` key ``a.b\\.c[0].d`` -> ``[a, b.c, d]`` (list indexes dropped)."""
    parts: list[str] = []
    current = ""
    escaped = False
    for char in name:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [re.sub(r"\[\d+\]$", "", p) for p in parts if p]


def sets(layer: Any, path: tuple[str, ...]) -> bool:
    """Whether one values layer gives ``path`` a value (or replaces a mapping above it)."""
    if isinstance(layer, tuple) and layer[:1] == ("--set",):
        _, keys, value = layer
        return bool(value) and bool(keys) and tuple(keys) == path[: len(keys)]
    node = layer
    for depth, key in enumerate(path):
        if not isinstance(node, dict):
            return depth > 0 and node not in (None, "")
        if key not in node:
            return False
        node = node[key]
    return node not in (None, "") and not isinstance(node, dict)


def _yaml(text: str) -> Any:
    """Inline values text (an Application's ``helm.values``); None when it is not YAML (an
    ApplicationSet's unquoted ``{{ }}``): such a layer sets nothing that can be seen."""
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:
        return None

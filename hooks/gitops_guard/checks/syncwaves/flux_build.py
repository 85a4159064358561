"""What each Flux Kustomization applies, and which Flux objects anything applies at all.

kustomize-controller builds the Kustomization's ``spec.path``: the folder's kustomization.yaml as
it is (what it lists and nothing else), or, when the folder has none, one it generates over every
YAML file below the folder, where a sub-folder with a kustomization.yaml of its own is one entry
and is not descended (fluxcd/pkg kustomize/kustomize_generator.go, ``generateKustomization``).
The Components of ``spec.components`` (paths relative to ``spec.path``) join the build. Then
``postBuild`` substitutes variables in every object built, names included (Flux docs,
Kustomization v1 "Post build variable substitution"; fluxcd/pkg kustomize/kustomize_varsub.go:
drone/envsubst over the YAML, ``spec.postBuild.substitute`` over ``substituteFrom``, nothing at
all when neither is set, nor in an object labelled or annotated
``kustomize.toolkit.fluxcd.io/substitute: disabled``).

An object that no Flux Kustomization builds is applied by nobody, unless it is where a cluster
starts: the ``flux-system`` Kustomization ``flux bootstrap`` writes (gotk-sync.yaml), or an
entry point that no other Kustomization builds but that builds Kustomizations itself (a
``cluster-apps`` that bootstrap or a FluxInstance's sync path applies; entry points in hidden
folders such as ``.archive/`` do not count). A repository without any of
these (a partial checkout) has no known start: then everything counts as applied.
"""

from __future__ import annotations

import os

from gitops_guard.core.documents import KUSTOMIZATION_FILES, Document, Map, Seq
from gitops_guard.core.quoting import shown
from gitops_guard.repo.flux_vars import disabled, envsubst

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gitops_guard.core.documents import SourceFile
    from gitops_guard.repo.kgraph import Graph
    from gitops_guard.repo.repository import Repository

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
_ENDINGS = tuple(os.sep + n for n in KUSTOMIZATION_FILES)


class Build:
    """One Flux Kustomization and what it applies."""

    __slots__ = ("complete", "doc", "files", "key", "label", "target", "vars")

    def __init__(self, key: str, doc: Document | None, label: str) -> None:
        self.key = key
        self.doc = doc
        self.label = label
        #: the files its build reads (kustomizations included)
        self.files: set[str] = set()
        #: postBuild.substitute (None: no substitution at all)
        self.vars: dict[str, str] | None = None
        #: no substituteFrom: a variable it does not set becomes ""
        self.complete = True
        self.target: str | None = None

    def substitute(self, value: str, doc: Document) -> str | None:
        """``value`` as this build applies it (None: it depends on what the cluster holds)."""
        if self.vars is None or "$" not in value or disabled(doc):
            return value
        known = self.vars

        def value_of(name: str) -> str | None:
            found = known.get(name)
            if found is None and not self.complete:
                return None  # substituteFrom may set it
            return found or ""

        return envsubst(value, value_of)


class FluxBuilds:
    """Every Flux Kustomization's build, and what is reachable from a cluster's start."""

    def __init__(self, repo: Repository, graph: Graph, flux_sources: list[SourceFile]) -> None:
        self.repo = repo
        self.graph = graph
        self.builds: list[Build] = []
        found: list[tuple[str, Document, Map]] = []
        for source in flux_sources:
            key = repo.key(source.path)
            for doc in source.documents:
                spec = doc.data.get("spec") if isinstance(doc.data, Map) else None
                kustomization = doc.kind == "Kustomization" and doc.group == KUSTOMIZE_GROUP
                if kustomization and isinstance(spec, Map):
                    found.append((key, doc, spec))
        # the sources that are this repository: named by a Kustomization whose path (not
        # just "./", which every source has) exists here; another repository's path is
        # never read here (a tenant's GitRepository with path "./")
        ours = set()
        for key, _doc, spec in found:
            path = spec.get("path")
            ref = _source_ref(spec.get("sourceRef"))
            if ref and isinstance(path, str) and path.strip("./") and self._folder(key, path):
                ours.add(ref)
        for key, doc, spec in found:
            build = Build(key, doc, f"Flux Kustomization {shown(doc.name or '?')}")
            path = spec.get("path")
            if not isinstance(path, str):
                path = "./"  # the source's root (Kustomization v1: spec.path)
            if _source_ref(spec.get("sourceRef")) in ours and "$" not in path:
                build.files = self._path_files(key, path)
                folder = self._folder(key, path)
                components = spec.get("components")
                if folder is not None and isinstance(components, Seq):
                    for entry in components:
                        if isinstance(entry, str):
                            kfile = repo.kustomization_in(
                                os.path.normpath(os.path.join(folder, entry))
                            )
                            if kfile is not None:
                                build.files |= graph.closure(kfile)
            target = spec.get("targetNamespace")
            if isinstance(target, str) and target:
                build.target = target
            post = spec.get("postBuild")
            if isinstance(post, Map):
                inline = post.get("substitute")
                if isinstance(inline, Map):
                    build.vars = {
                        str(k): v.replace("\n", "") for k, v in inline.items() if isinstance(v, str)
                    }
                if post.get("substituteFrom"):
                    build.complete = False
                    if build.vars is None:
                        build.vars = {}
            self.builds.append(build)
        #: file -> the builds that apply it
        self.by_file: dict[str, list[Build]] = {}
        for build in self.builds:
            for key in build.files:
                self.by_file.setdefault(key, []).append(build)
        self.reached = self._reach()

    def builders(self, key: str) -> list[Build]:
        return self.by_file.get(key, [])

    def reachable(self, key: str) -> bool:
        """Whether something applies the Flux objects of file ``key`` (True when the
        repository shows no cluster start at all)."""
        return self.reached is None or key in self.reached

    def _reach(self) -> set[str] | None:
        by_key: dict[str, list[Build]] = {}
        for build in self.builds:
            by_key.setdefault(build.key, []).append(build)
        starts = []
        for build in self.builds:
            assert build.doc is not None
            if build.doc.name == "flux-system":  # gotk-sync.yaml: flux bootstrap applies it
                starts.append(build)
                continue
            if self._hidden(build.key):
                continue
            built_by_other = any(o is not build for o in self.builders(build.key))
            builds_kustomizations = any(k in by_key and k != build.key for k in build.files)
            if not built_by_other and builds_kustomizations:
                starts.append(build)  # an entry point: a cluster's cluster-apps
        if not starts:
            return None
        reached = {start.key for start in starts}
        done: set[int] = set()
        queue = list(starts)
        while queue:
            build = queue.pop()
            if id(build) in done:
                continue
            done.add(id(build))
            reached |= build.files
            for key in build.files:
                queue.extend(b for b in by_key.get(key, ()) if id(b) not in done)
        return reached

    def _hidden(self, key: str) -> bool:
        relative = os.path.relpath(key, self.repo.root)
        return any(part.startswith(".") for part in relative.split(os.sep)[:-1])

    def _folder(self, key: str, path: str) -> str | None:
        from gitops_guard.repo.repository import flux_path_folder

        return flux_path_folder(self.repo.root, key, path)

    def _path_files(self, key: str, path: str) -> set[str]:
        folder = self._folder(key, path)
        if folder is None:
            return set()
        kfile = self.repo.kustomization_in(folder)
        if kfile is not None:
            return self.graph.closure(kfile)
        # a generated kustomization: every YAML file below, a sub-folder with a
        # kustomization of its own as that kustomization's build
        prefix = folder.rstrip(os.sep) + os.sep
        inner = sorted(
            os.path.dirname(k)
            for k in self.graph.kustomizations
            if k.startswith(prefix) and k.endswith(_ENDINGS)
        )
        tops: list[str] = []
        for sub in inner:
            if not any(sub == t or sub.startswith(t + os.sep) for t in tops):
                tops.append(sub)
        files: set[str] = set()
        for top in tops:
            found = self.repo.kustomization_in(top)
            if found is not None:
                files |= self.graph.closure(found)
        for k in self.repo.files():
            wanted = k.startswith(prefix) and k.endswith((".yaml", ".yml"))
            if wanted and not any(k.startswith(t + os.sep) for t in tops):
                files.add(k)
        return files


def _source_ref(ref: object) -> tuple[str, str] | None:
    """A Flux source that may be this repository: a GitRepository, or an OCIRepository (the
    repository's tree pushed as an artifact), by kind and name."""
    if not isinstance(ref, Map) or ref.get("kind") not in ("GitRepository", "OCIRepository"):
        return None
    name = ref.get("name")
    return (ref["kind"], name) if isinstance(name, str) else None

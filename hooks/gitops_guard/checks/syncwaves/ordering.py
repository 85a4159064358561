"""Ordering inside one application: nothing may sync before what it needs.

Argo CD applies an application phase by phase (PreSync, Sync, PostSync) and, inside a phase,
wave by wave, lowest first; inside one wave it orders by kind (Namespaces and CRDs first), so
only an *earlier* wave is a problem. An object placed earlier than its Namespace, the
ServiceAccount / ConfigMaps / Secrets / PVCs / PriorityClass its pods reference, or the CRD of
its kind fails to apply (or its pods fail to start) on the first sync, which is exactly when
nobody is watching. Each finding spells out the chain: dependent, the field that references,
the dependency, and where each wave was written.
"""

from __future__ import annotations

import os
from collections import namedtuple

from gitops_guard.core.documents import Map, Pos
from gitops_guard.core.findings import quote
from gitops_guard.core.quoting import LIST_ITEMS, shown
from gitops_guard.repo.applications import Application, application_folders
from gitops_guard.repo.argo import (
    HELM_WEIGHT,
    SYNC_OPTIONS,
    WAVE,
    hook_phases,
    parse_wave,
    sync_options,
)
from gitops_guard.repo.needs import Need, needs, secret_made_by
from gitops_guard.repo.objects import Obj, cluster_scoped
from gitops_guard.repo.repository import kind_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

#: an apiVersion of Argo CD's group: what the Argo CD namespace index reads
_ARGO_API = rb"""(?m)["']?apiVersion["']?[ \t]*:[ \t]*["']?argoproj\.io/"""

PHASES = {"PreSync": 0, "Sync": 1, "PostSync": 2}


class Slot(namedtuple("_Slot", "phase wave")):
    """Where Argo CD places an object: phase, then wave."""

    __slots__ = ()
    phase: str
    wave: int

    @property
    def order(self) -> tuple[int, int]:
        return PHASES[self.phase], self.wave

    def __str__(self) -> str:
        return f"{self.phase} wave {self.wave}"


def slot(obj: Obj) -> Slot | None:
    """The object's phase and wave; None when outside a normal sync (Skip, SyncFail...)."""
    phases = hook_phases(obj.annotations)
    if phases is None:
        phase = "Sync"
    else:
        ordered = [p for p in phases if p in PHASES]
        if not ordered:
            return None
        phase = min(ordered, key=PHASES.__getitem__)
    wave = parse_wave(obj.annotations.get(WAVE))
    if wave is None:
        # gitops-engine pkg/sync/syncwaves/waves.go Wave: a sync-wave that is absent or that
        # strconv.Atoi cannot read falls back to helm.Weight (pkg/sync/hook/helm/weight.go,
        # "we do not take into account if this is or is not a hook"): an Argo CD hook, or an
        # unreadable sync-wave, still takes its helm.sh/hook-weight; 0 when that is unreadable
        wave = parse_wave(obj.annotations.get(HELM_WEIGHT))
    return Slot(phase, wave or 0)


class Index:
    """An application's objects by (kind, namespace, name), and CRDs by (group, kind)."""

    def __init__(self, app: Application) -> None:
        self.by_name: dict[tuple[str, str], list[Obj]] = {}
        self.crds: dict[tuple[str, str], Obj] = {}
        self.scopes: dict[tuple[str, str], str] = {}
        for obj in app.objects:
            self.by_name.setdefault((obj.kind, obj.name), []).append(obj)
            made = secret_made_by(obj)
            if made is not None:
                self.by_name.setdefault(("Secret", made), []).append(obj)
            if obj.kind == "CustomResourceDefinition" and obj.doc is not None:
                spec = obj.doc.data.get("spec")
                names = spec.get("names") if isinstance(spec, Map) else None
                group = spec.get("group") if isinstance(spec, Map) else None
                kind = names.get("kind") if isinstance(names, Map) else None
                if isinstance(group, str) and isinstance(kind, str):
                    self.crds.setdefault((group, kind), obj)
                    scope = spec.get("scope") if isinstance(spec, Map) else None
                    if isinstance(scope, str):
                        self.scopes[(group, kind)] = scope

    def find(self, need: Need) -> Obj | None:
        candidates = self.by_name.get((need.kind, need.name), [])
        if need.kind in ("Namespace", "PriorityClass"):
            return candidates[0] if candidates else None
        for obj in candidates:
            if obj.namespace == need.namespace:
                return obj
        for obj in candidates:  # one side left to the application's default namespace
            if obj.namespace is None or need.namespace is None:
                return obj
        return None


class Violation:
    """An ordering problem: ``obj`` syncs before ``dep``.

    ``at`` (file key, line, column), when set, is where the finding points instead of ``obj``
    (a note about a wave written on ``dep``); ``severity`` None is the rule's.
    """

    __slots__ = ("at", "dep", "message", "obj", "rule", "severity")

    def __init__(
        self,
        rule: str,
        obj: Obj,
        dep: Obj,
        message: str,
        at: tuple[str, int, int] | None = None,
        severity: str | None = None,
    ) -> None:
        self.rule = rule
        self.obj = obj
        self.dep = dep
        self.message = message
        self.at = at
        self.severity = severity

    @property
    def files(self) -> set[str]:
        found = {self.obj.key, self.dep.key, *self.obj.via, *self.dep.via}
        for o in (self.obj, self.dep):
            if o.wave_at is not None:
                found.add(o.wave_at[0])
        return found


def _skips_dry_run(obj: Obj, app: Application) -> bool:
    return app.skip_dry_run or (
        sync_options(obj.annotations.get(SYNC_OPTIONS)).get("SkipDryRunOnMissingResource") == "true"
    )


def dependency_violations(app: Application, display: Any) -> Iterator[Violation]:
    """What syncs before what it needs inside one application, as Argo CD orders it.

    gitops-engine ``pkg/sync/sync_tasks.go`` (``syncTasks.Sort``): tasks sort by phase,
    wave, kind and name; then ``adjustDeps`` moves each Namespace, and each CRD, in front
    of the first task that needs it and gives it that task's phase and wave. So a Namespace
    or CRD written in a later wave is not an error inside one sync: the wave written on it
    is overridden (an info note, ``sync/wave-overridden``), and a CR whose CRD is part of
    the same sync skips the dry run (``sync_context.go``, ``hasCRDOfGroupKind``). The
    pod-spec references (ServiceAccount, ConfigMap, Secret, PVC, PriorityClass) are not
    moved: a workload synced before them stays unhealthy and the sync waits on it
    (``sync/reference-order``).
    """
    index = Index(app)
    slots = {id(o): slot(o) for o in app.objects}
    #: the first object (in Argo CD's order) that needs each moved Namespace / CRD
    moved: dict[int, tuple[Obj, Slot, Obj, Slot, str]] = {}
    for obj in app.objects:
        mine = slots[id(obj)]
        if mine is None:
            continue
        for need in needs(obj, index.scopes):
            dep = index.find(need)
            if dep is None or dep is obj:
                continue
            theirs = slots[id(dep)]
            if theirs is None or theirs.order <= mine.order:
                continue
            if need.kind == "Namespace":
                _first(moved, dep, theirs, obj, mine, "namespace")
                continue
            chain = (
                f"{obj.label()} ({mine}{_wave_origin(obj, display)}) "
                f"--{need.field} at {display(need.where or obj.key)}:{need.pos[0]}--> "
                f"{dep.label()} ({theirs}{_wave_origin(dep, display)}, "
                f"{display(dep.key)}:{dep.pos[0]})"
            )
            yield Violation(
                "sync/reference-order",
                obj,
                dep,
                f"{obj.label()} syncs before the {need.kind} it needs: {chain}; "
                f"in {app.description} (Argo CD does not reorder these: the workload stays "
                "unhealthy and the sync waits on it)",
            )
        crd = index.crds.get((obj.group, obj.kind)) if obj.group else None
        if crd is not None and crd is not obj:
            theirs = slots[id(crd)]
            if theirs is not None and theirs.order > mine.order:
                _first(moved, crd, theirs, obj, mine, f"kind {obj.kind}.{obj.group}")
    for dep, theirs, obj, mine, why in moved.values():
        if dep.wave_at is None:
            continue  # nothing written on it is overridden (only its default wave 0)
        yield Violation(
            "sync/wave-overridden",
            obj,
            dep,
            f"{dep.label()} is written in {theirs}, but Argo CD moves it in front of "
            f"{obj.label()} ({mine}, {display(obj.key)}:{obj.pos[0]}, the first object "
            f"whose {why} needs it) and syncs it there: the wave written here is "
            f"overridden; in {app.description}",
            at=dep.wave_at,
            severity="info",
        )


def _first(
    moved: dict[int, tuple[Obj, Slot, Obj, Slot, str]],
    dep: Obj,
    theirs: Slot,
    obj: Obj,
    mine: Slot,
    why: str,
) -> None:
    """Remember the earliest object that needs ``dep`` (where Argo CD moves it)."""
    known = moved.get(id(dep))
    if known is None or mine.order < known[3].order:
        moved[id(dep)] = (dep, theirs, obj, mine, why)


def _wave_origin(obj: Obj, display: Any) -> str:
    if obj.wave_at is None or obj.wave_at[0] == obj.key:
        return ""
    return f" from commonAnnotations at {display(obj.wave_at[0])}:{obj.wave_at[1]}"


def policy_violations(
    app: Application, rules: list[dict[str, Any]], display: Any
) -> Iterator[Violation]:
    """``sync_waves.order``: every object of kind ``after`` syncs no earlier than ``before``."""
    if not rules:  # the usual case: no slot needs working out
        return
    slots = {id(o): slot(o) for o in app.objects}
    for rule in rules:
        first, then = rule.get("before"), rule.get("after")
        strict = bool(rule.get("strict"))
        firsts = [o for o in app.objects if o.kind == first and slots[id(o)] is not None]
        if not firsts:
            continue
        latest = max(firsts, key=lambda o: slots[id(o)].order)  # type: ignore[union-attr]
        latest_slot = slots[id(latest)]
        assert latest_slot is not None
        for obj in app.objects:
            mine = slots[id(obj)]
            if obj.kind != then or mine is None:
                continue
            if mine.order < latest_slot.order or (strict and mine.order == latest_slot.order):
                word = "after" if strict else "no earlier than"
                yield Violation(
                    "sync/policy-order",
                    obj,
                    latest,
                    f"{obj.label()} ({mine}) must sync {word} every {first} by policy "
                    f"(sync_waves.order), but {latest.label()} is in {latest_slot} "
                    f"({display(latest.key)}:{latest.pos[0]}); in {app.description}",
                )


def generate_name_clashes(app: Application, display: Any) -> Iterator[Violation]:
    """Two hooks of one phase with the same generateName: Argo CD cannot tell them apart."""
    seen: dict[tuple[str, str | None, str, str], Obj] = {}
    for obj in app.objects:
        meta = obj.doc.metadata if obj.doc is not None else None
        if meta is None or "name" in meta or not isinstance(meta.get("generateName"), str):
            continue
        phases = hook_phases(obj.annotations)
        if not phases:
            continue
        for phase in dict.fromkeys(phases):
            key = (obj.kind, obj.namespace, meta["generateName"], phase)
            first = seen.get(key)
            if first is None:
                seen[key] = obj
                continue
            yield Violation(
                "sync/hook-generate-name-clash",
                obj,
                first,
                f"{obj.kind} hook with generateName {quote(meta['generateName'])} runs in {phase} "
                f"like the one at {display(first.key)}:{first.pos[0]}; Argo CD keys hook "
                "results by kind, namespace and name, so the two get mixed up (give each "
                f"its own generateName); in {app.description}",
            )


def missing_waves(app: Application, kinds: list[str]) -> Iterator[Obj]:
    """``sync_waves.require_wave``: objects of these kinds must carry an explicit wave."""
    wanted = set(kinds)
    for obj in app.objects:
        if obj.kind in wanted and WAVE not in obj.annotations:
            yield obj


# -- across applications: what no single sync can reorder -------------------------------------

#: namespaces every cluster has (kube-* and openshift-* are reserved for the platform)
BUILTIN_NAMESPACES = frozenset(("default", "kube-system", "kube-public", "kube-node-lease"))
_RESERVED_PREFIXES = ("kube-", "openshift-")
#: API groups the API server serves itself (no CRD): the core group, the dot-less ones
#: (apps, batch, autoscaling, policy, extensions) and these
BUILTIN_GROUPS = frozenset(
    (
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "metrics.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    )
)
#: groups whose CRDs the platform brings: Argo CD's own (it runs where it syncs), OpenShift's
#: and its Operator Lifecycle Manager's
_PLATFORM_GROUPS = ("argoproj.io", "openshift.io", "operators.coreos.com")


class CrossFinding:
    """A finding about one object that no reordering inside its own sync can fix."""

    __slots__ = ("files", "key", "message", "pos", "rule")

    def __init__(self, rule: str, key: str, pos: Pos, message: str, files: set[str]) -> None:
        self.rule = rule
        self.key = key
        self.pos = pos
        self.message = message
        self.files = files


class Repo:
    """What the whole repository creates, for the questions one application cannot answer:
    which Argo CD Applications deploy which files, which files make which Namespace and
    which CRD. Built on the first question only (most runs never ask)."""

    def __init__(self, builder: Any) -> None:
        self.builder = builder
        self._apps: list[Any] | None = None
        self._namespaces: dict[str, set[str]] | None = None
        self._crds: dict[tuple[str, str], set[str]] | None = None
        self._argo_namespaces: dict[str, bool] = {"argocd": True}
        self.olm = False
        #: the files that may hold an Application, as bytes: read once, parsed on demand
        self._argo_raw: list[tuple[str, bytes]] | None = None
        #: Application file -> its Applications (parsed once; the same objects every time)
        self._parsed: dict[str, list[Any]] = {}
        #: folder an Application path names -> the files naming it; files whose paths the
        #: bytes cannot tell (flow style, escapes, a block scalar...) are always parsed
        self._by_folder: dict[str, list[str]] | None = None
        self._unclear: list[str] = []
        self._up: dict[str, set[str]] = {}

    def _argo_files(self) -> list[tuple[str, bytes]]:
        if self._argo_raw is None:
            from gitops_guard.repo.applications import ARGO_APPLICATION_FILES

            self._argo_raw = self.builder.repo.containing_raw(*ARGO_APPLICATION_FILES)
        return self._argo_raw

    def _apps_of(self, key: str) -> list[Any]:
        found = self._parsed.get(key)
        if found is None:
            from gitops_guard.repo.applications import argo_applications

            source = self.builder.repo.source(key)
            found = argo_applications(self.builder, [source] if source is not None else [])
            self._parsed[key] = found
        return found

    def _in_order(self, keys: set[str]) -> list[Any]:
        """The Applications of these files, in repository order (the order of ``apps``)."""
        return [a for key, _ in self._argo_files() if key in keys for a in self._apps_of(key)]

    @property
    def apps(self) -> list[Any]:
        """Every Argo CD Application of the repository (parses every file that has one)."""
        if self._apps is None:
            self._apps = self._in_order({key for key, _ in self._argo_files()})
        return self._apps

    def _holding(self, keys: Iterable[str]) -> list[Any]:
        """The Argo CD Applications holding any of ``keys``, in their order.

        An Application holds a file through the folders its sources' ``path`` names (their
        kustomization's closure, or their YAML files). Only the Application files whose path
        lines name a folder that can hold one of ``keys`` are parsed: a one-file run read
        every Application of the repository (820 of a 5,000-file one) to find the one or
        two that deploy it, and a full run asks once per application."""
        keys = set(keys)
        if self._by_folder is None:
            self._by_folder = {}
            root = self.builder.repo.root
            for key, data in self._argo_files():
                folders = application_folders(data, root)
                if folders is None:
                    self._unclear.append(key)
                for folder in folders or ():
                    self._by_folder.setdefault(folder, []).append(key)
        files = set(self._unclear)
        for folder in self._folders_that_may_hold(keys):
            files.update(self._by_folder.get(folder, ()))
        return [a for a in self._in_order(files) if not a.files.isdisjoint(keys)]

    def _folders_that_may_hold(self, keys: set[str]) -> set[str]:
        """Every folder an Application could name to hold one of ``keys``: the folder of
        each kustomization that includes it (transitively), and its own folder and every
        folder above it up to the root (a directory source, recursive or not)."""
        graph = self.builder.graph
        root = self.builder.repo.root
        folders: set[str] = set()
        for key in keys:
            ups = self._up.get(key)
            if ups is None:
                ups = set()
                stack, seen = [key], {key}
                while stack:
                    item = stack.pop()
                    ups.add(os.path.dirname(item))
                    for parent in graph.parents.get(item, ()):
                        if parent not in seen:
                            seen.add(parent)
                            stack.append(parent)
                folder = os.path.dirname(key)
                while folder.startswith(root) and folder not in ups:
                    ups.add(folder)
                    up = os.path.dirname(folder)
                    if up == folder:
                        break
                    folder = up
                ups.add(root)
                self._up[key] = ups
            folders |= ups
        return folders

    def deployers(self, app: Application) -> list[Any]:
        """The Argo CD Applications that deploy this application's objects."""
        return self._holding(app.files)

    def owners(self, key: str) -> list[Any]:
        return self._holding((key,))

    def namespace_makers(self, name: str) -> list[Any]:
        """The Applications that create namespace ``name`` (``CreateNamespace=true`` with it
        as the destination): only files that say CreateNamespace are parsed."""
        keys = {k for k, data in self._argo_files() if b"CreateNamespace" in data or b"\\" in data}
        return [a for a in self._in_order(keys) if a.create_ns and a.dest_ns == name]

    def namespace_files(self, name: str) -> set[str]:
        if self._namespaces is None:
            self._index()
        assert self._namespaces is not None
        return self._namespaces.get(name, set())

    def crd_files(self, group: str, kind: str) -> set[str]:
        if self._crds is None:
            self._index()
        assert self._crds is not None
        return self._crds.get((group, kind), set())

    def argo_namespace(self, name: str) -> bool:
        """Whether an Argo CD object of the repository lives in namespace ``name`` (Argo CD
        is installed there): only the Argo CD files that mention the name are parsed."""
        known = self._argo_namespaces.get(name)
        if known is None:
            repo = self.builder.repo
            needle = name.encode("utf-8", "surrogateescape")
            known = False
            for key, data in repo.containing_raw(b"argoproj.io", _ARGO_API):
                if needle not in data and b"\\" not in data:
                    continue  # the namespace is written in the file, or escaped
                source = repo.source(key)
                docs = source.documents if source is not None else ()
                if any(d.group == "argoproj.io" and d.namespace == name for d in docs):
                    known = True
                    break
            self._argo_namespaces[name] = known
        return known

    def _index(self) -> None:
        repo = self.builder.repo
        self._namespaces, self._crds = {}, {}
        for source in repo.containing(b"Namespace", kind_line("Namespace")):
            key = repo.key(source.path)
            for doc in source.documents:
                if doc.kind == "Namespace" and doc.group == "" and doc.name:
                    for name in {doc.name, *_kustomize_namespaces(self.builder, key)}:
                        self._namespaces.setdefault(name, set()).add(key)
        for source in repo.containing(
            b"CustomResourceDefinition", kind_line("CustomResourceDefinition")
        ):
            key = repo.key(source.path)
            for doc in source.documents:
                if doc.kind == "CustomResourceDefinition" and isinstance(doc.data, Map):
                    spec = doc.data.get("spec")
                    names = spec.get("names") if isinstance(spec, Map) else None
                    group = spec.get("group") if isinstance(spec, Map) else None
                    kind = names.get("kind") if isinstance(names, Map) else None
                    if isinstance(group, str) and isinstance(kind, str):
                        self._crds.setdefault((group, kind), set()).add(key)
        self.olm = bool(repo.containing(b"operators.coreos.com"))


def _kustomize_namespaces(builder: Any, key: str) -> set[str]:
    """Every ``namespace:`` of the kustomizations that include a file, transitively (a
    Namespace object is renamed to it)."""
    graph = builder.graph
    found: set[str] = set()
    stack, seen = [key], {key}
    while stack:
        for parent in graph.parents.get(stack.pop(), []):
            if parent in seen:
                continue
            seen.add(parent)
            stack.append(parent)
            source = builder.repo.source(parent)
            data = source.documents[0].data if source and source.documents else None
            ns = data.get("namespace") if isinstance(data, Map) else None
            if isinstance(ns, str) and ns:
                found.add(ns)
    return found


def _later_siblings(owners: list[Any], mine: list[Any]) -> list[Any] | None:
    """The owners when each is a child of the same parent as one of ``mine`` in a later wave
    (so it syncs after it); None when any owner may sync first (or its order is unknown)."""
    if not owners:
        return None
    for owner in owners:
        if not any(owner.parent == m.parent and owner.wave > m.wave for m in mine):
            return None
    return owners


def cross_app_findings(app: Application, repo: Repo, display: Any) -> Iterator[CrossFinding]:
    """What breaks a first sync on a fresh cluster and no reordering in one sync can fix.

    Only for objects an Argo CD Application of the repository deploys (the repository then
    says how they sync: destination, CreateNamespace, SkipDryRunOnMissingResource, waves):
    - a namespaced object whose Namespace nothing creates: no Namespace object in the
      application or in one that may sync before it, no ``CreateNamespace=true`` on its
      Application, not a namespace every cluster has (``sync/namespace-missing``), or one
      created only by a sibling Application in a later wave (``sync/namespace-order``);
    - a custom resource whose CRD is in no application that may sync before it
      (``sync/crd-order``: only in a later sibling) or nowhere in the repository, without
      ``SkipDryRunOnMissingResource=true`` (``sync/crd-missing``): Argo CD's dry run fails
      (gitops-engine ``sync_context.go``: it skips the dry run only for a CRD of the same
      sync, ``hasCRDOfGroupKind``, or that option).
    """
    index = Index(app)
    in_app_ns = {o.name for o in app.objects if o.kind == "Namespace" and o.group == ""}
    mine: list[Any] | None = None
    for obj in app.objects:
        if slot(obj) is None:
            continue
        ns = obj.namespace
        if (
            ns
            and ns not in in_app_ns
            and ns not in BUILTIN_NAMESPACES
            and not ns.startswith(_RESERVED_PREFIXES)
            and not cluster_scoped(obj.kind, obj.group, index.scopes)
        ):
            if mine is None:
                mine = repo.deployers(app)
            if not mine:
                return  # not deployed by an Application of this repository: unknown
            found = _namespace(obj, ns, mine, repo, display)
            if found is not None:
                yield found
        if (
            obj.group
            and "." in obj.group
            and obj.group not in BUILTIN_GROUPS
            and not obj.group.endswith(_PLATFORM_GROUPS)
            and (obj.group, obj.kind) not in index.crds
            and sync_options(obj.annotations.get(SYNC_OPTIONS)).get("SkipDryRunOnMissingResource")
            != "true"
        ):
            if mine is None:
                mine = repo.deployers(app)
            if not mine:
                return
            found = _crd(obj, mine, repo, display)
            if found is not None:
                yield found


def _files(obj: Obj) -> set[str]:
    return {obj.key, *obj.via}


def _names(apps: list[Any]) -> str:
    labels = [a.label() for a in apps]
    more = f" and {len(labels) - LIST_ITEMS:,} more" if len(labels) > LIST_ITEMS else ""
    return ", ".join(labels[:LIST_ITEMS]) + more


def _namespace(obj: Obj, ns: str, mine: list[Any], repo: Repo, display: Any) -> CrossFinding | None:
    if any(a.create_ns and a.dest_ns == ns for a in mine) or repo.argo_namespace(ns):
        return None
    pos = obj.ns_at[1:] if obj.ns_at is not None else obj.pos
    where = obj.ns_at[0] if obj.ns_at is not None else obj.key
    creators = repo.namespace_files(ns)
    makers = [a for a in repo.namespace_makers(ns) if a not in mine]
    if not creators and not makers:
        return CrossFinding(
            "sync/namespace-missing",
            where,
            pos,
            f"{obj.label()} is in namespace {shown(ns)}, which nothing in the repository "
            f"creates: no Namespace {shown(ns)} object, no CreateNamespace=true on "
            f"{_names(mine)} (or another Application with destination namespace {shown(ns)}), "
            "and it is not one every cluster "
            "has; the first sync on a fresh cluster fails",
            _files(obj),
        )
    owners = makers + [o for key in sorted(creators) for o in repo.owners(key)]
    unowned = any(not repo.owners(key) for key in creators)
    later = None if unowned else _later_siblings(owners, mine)
    if later is None:
        return None
    return CrossFinding(
        "sync/namespace-order",
        where,
        pos,
        f"{obj.label()} is in namespace {shown(ns)}, which only {_names(later)} creates, "
        "and that "
        f"syncs after {_names(mine)} (a later wave of the same parent): Argo CD moves a "
        "Namespace only inside one sync, so the first sync fails",
        _files(obj),
    )


def _crd(obj: Obj, mine: list[Any], repo: Repo, display: Any) -> CrossFinding | None:
    if any(a.skip_dry_run for a in mine):
        return None
    what = f"{obj.kind}.{obj.group}"
    creators = repo.crd_files(obj.group, obj.kind)
    if not creators:
        if repo.olm or any(a.opaque for a in repo.apps):
            return None  # an operator or a chart this repository does not show may bring it
        return CrossFinding(
            "sync/crd-missing",
            obj.key,
            obj.pos,
            f"{obj.label()} is a {what}, whose CustomResourceDefinition is nowhere in the "
            f"repository, and neither it nor {_names(mine)} sets "
            "SkipDryRunOnMissingResource=true: on a fresh cluster Argo CD's dry run fails",
            _files(obj),
        )
    owners = [o for key in sorted(creators) for o in repo.owners(key)]
    unowned = any(not repo.owners(key) for key in creators)
    later = None if unowned else _later_siblings(owners, mine)
    if later is None:
        return None
    return CrossFinding(
        "sync/crd-order",
        obj.key,
        obj.pos,
        f"{obj.label()} is a {what}, whose CustomResourceDefinition only {_names(later)} "
        f"installs, and that syncs after {_names(mine)} (a later wave of the same parent): "
        "the dry run fails on a fresh cluster (set SkipDryRunOnMissingResource=true, or "
        "sync the CRD's Application first)",
        _files(obj),
    )

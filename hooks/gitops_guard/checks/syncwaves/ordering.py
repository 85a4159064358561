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

from collections import namedtuple

from gitops_guard.core.documents import Map
from gitops_guard.repo.applications import Application
from gitops_guard.repo.argo import (
    HELM_WEIGHT,
    HOOK,
    SYNC_OPTIONS,
    WAVE,
    hook_phases,
    parse_wave,
    sync_options,
)
from gitops_guard.repo.needs import Need, needs, secret_made_by
from gitops_guard.repo.objects import Obj

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

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
    if wave is None and WAVE not in obj.annotations and HOOK not in obj.annotations:
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
    """An ordering problem: ``obj`` syncs before ``dep``."""

    __slots__ = ("dep", "message", "obj", "rule")

    def __init__(self, rule: str, obj: Obj, dep: Obj, message: str) -> None:
        self.rule = rule
        self.obj = obj
        self.dep = dep
        self.message = message

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
    index = Index(app)
    slots = {id(o): slot(o) for o in app.objects}
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
            rule = "sync/namespace-order" if need.kind == "Namespace" else "sync/reference-order"
            chain = (
                f"{obj.label()} ({mine}{_wave_origin(obj, display)}) "
                f"--{need.field} at {display(need.where or obj.key)}:{need.pos[0]}--> "
                f"{dep.label()} ({theirs}{_wave_origin(dep, display)}, "
                f"{display(dep.key)}:{dep.pos[0]})"
            )
            yield Violation(
                rule,
                obj,
                dep,
                f"{obj.label()} syncs before the {need.kind} it needs: {chain}; "
                f"in {app.description}",
            )
        crd = index.crds.get((obj.group, obj.kind)) if obj.group else None
        if crd is not None and crd is not obj and not _skips_dry_run(obj, app):
            theirs = slots[id(crd)]
            if theirs is not None and theirs.order > mine.order:
                chain = (
                    f"{obj.label()} ({mine}{_wave_origin(obj, display)}) "
                    f"--kind {obj.kind}.{obj.group}--> "
                    f"CustomResourceDefinition {crd.name} ({theirs}{_wave_origin(crd, display)}, "
                    f"{display(crd.key)}:{crd.pos[0]})"
                )
                yield Violation(
                    "sync/crd-order",
                    obj,
                    crd,
                    f"{obj.label()} syncs before its CustomResourceDefinition: {chain}; "
                    f"in {app.description} (or set SkipDryRunOnMissingResource=true if "
                    "something else installs the CRD)",
                )


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
                f"{obj.kind} hook with generateName {meta['generateName']!r} runs in {phase} "
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

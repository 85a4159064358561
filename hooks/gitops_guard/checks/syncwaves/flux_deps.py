"""Flux ``dependsOn``: every dependency exists, and the dependencies form no cycle.

A Flux Kustomization or HelmRelease waits for every object in ``spec.dependsOn``; one that does
not exist, or a cycle, blocks reconciliation forever with nothing but a "dependency not ready"
condition. A dependency names an object of the same kind. Each object is keyed by the namespace
it is applied with, as kustomize-controller applies it: the ``targetNamespace`` of the Flux
Kustomization whose path holds the file (it wraps the build, so it wins), else the ``namespace:``
of the kustomization that includes the file (the outermost one, as ``kustomize build``), else
its own ``metadata.namespace``. A dependency that names no namespace is looked up in the
depending object's (Flux's default); the finding says where it looked and why. The same name
can exist once per cluster, so a dependency resolves inside its environment first (the
environment of the file, as every check reads it: ``clusters/<env>/``, a folder named like an
environment of the policy, ``promotion.paths``; see ``repo/environments.py``).

A Flux Operator ResourceSet (``fluxcd.controlplane.io``) makes Flux objects from templates at
run time, so a dependency it makes is no missing one (see ``ResourceSets``).
"""

from __future__ import annotations

import os
import re

from gitops_guard.checks.syncwaves.flux_build import Build, FluxBuilds
from gitops_guard.core.documents import Document, Map, Seq, SourceFile, embedded_data
from gitops_guard.core.findings import WARNING, Finding, quote
from gitops_guard.core.patterns import Wildcards, split_actions
from gitops_guard.core.quoting import shown
from gitops_guard.repo.repository import Repository

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    Key = tuple[str | None, str, str | None, str]  # env, kind, namespace, name

FLUX_KINDS = {
    "Kustomization": "kustomize.toolkit.fluxcd.io",
    "HelmRelease": "helm.toolkit.fluxcd.io",
}


class Node:
    """A Flux object and the objects it depends on."""

    __slots__ = ("applied", "deps", "doc", "key", "path", "source_key", "templated", "why")

    def __init__(self, key: Key, path: str, source_key: str, doc: Document, why: str) -> None:
        self.key = key
        self.path = path
        self.source_key = source_key
        self.doc = doc
        #: where the namespace in ``key`` comes from (for the message)
        self.why = why
        #: (target, position, where the target's namespace comes from)
        self.deps: list[tuple[Key, tuple[int, int], str]] = []
        #: its name holds a ${VAR} nothing in the repository sets
        self.templated = False
        #: a Flux Kustomization reachable from a cluster's start applies it (flux_build.py)
        self.applied = True

    def label(self) -> str:
        _, kind, ns, name = self.key
        return f"{shown(kind)} {shown(ns) + '/' if ns else ''}{shown(name)}"


def is_flux(doc: Document) -> bool:
    return FLUX_KINDS.get(doc.kind or "") == doc.group


class Namespaces:
    """The namespace a file's objects are applied with (see the module docstring)."""

    def __init__(self, repo: Repository, flux_sources: list[SourceFile]) -> None:
        from gitops_guard.repo.kgraph import Graph

        self.repo = repo
        self.graph = Graph(repo)
        #: (folder or kustomization key, is a kustomization, targetNamespace, Flux label)
        self.targets: list[tuple[str, bool, str, str]] = []
        root = str(repo.root)
        for source in flux_sources:
            for doc in source.documents:
                if doc.kind != "Kustomization" or not is_flux(doc):
                    continue
                spec = doc.data.get("spec")
                if not isinstance(spec, Map):
                    continue
                target, path = spec.get("targetNamespace"), spec.get("path")
                if not isinstance(target, str) or not target or not isinstance(path, str):
                    continue
                folder = os.path.normpath(os.path.join(root, path.lstrip("/")))
                kfile = repo.kustomization_in(folder)
                label = f"targetNamespace of Flux Kustomization {shown(doc.name)}"
                if kfile is not None:
                    self.targets.append((kfile, True, target, label))
                else:
                    self.targets.append((folder, False, target, label))
        self._closures: dict[str, set[str]] = {}

    def of(self, key: str, own: str | None) -> tuple[str | None, str]:
        """(namespace, where it comes from) for an object of file ``key``."""
        for where, is_kust, target, label in self.targets:
            if is_kust:
                files = self._closures.get(where)
                if files is None:
                    files = self._closures[where] = self.graph.closure(where)
                if key in files:
                    return target, label
            elif key.startswith(where.rstrip(os.sep) + os.sep):
                return target, label
        outer = self._outermost(key)
        if outer is not None:
            return outer
        if own:
            return own, "its metadata.namespace"
        return None, "no namespace"

    def _outermost(self, key: str) -> tuple[str, str] | None:
        """The ``namespace:`` of the outermost kustomization including ``key``."""
        best: tuple[str, str] | None = None
        stack, seen = [key], {key}
        while stack:
            item = stack.pop()
            for parent in self.graph.parents.get(item, []):
                if parent in seen:
                    continue
                seen.add(parent)
                stack.append(parent)
                source = self.repo.source(parent)
                data = source.documents[0].data if source and source.documents else None
                ns = data.get("namespace") if isinstance(data, Map) else None
                if isinstance(ns, str) and ns:
                    line = data.at("namespace")[0]
                    # an outer one overrides: the last found on the way up wins
                    best = (ns, f"namespace: of {self.repo.display(parent)}:{line}")
        return best


#: a ResourceSet action is ``<< ... >>`` (Go text/template with Flux Operator's delimiters):
#: ``_split_actions`` finds them
#: an action that is only an input, ``inputs.tenant`` (no function, no pipe)
_INPUT = re.compile(r"inputs((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


class ResourceSets:
    """The Flux objects the repository's Flux Operator ResourceSets make.

    flux-operator ``internal/builder/resourceset.go`` BuildResourceSet renders every entry of
    ``spec.resources`` (and the multi-document ``spec.resourcesTemplate``) once per input set,
    or once when there is none, as a Go template with the delimiters ``<<`` and ``>>``; the
    inputs are ``spec.inputs`` and what ``spec.inputsFrom`` providers export at run time. So a
    template's ``metadata.name`` is known exactly only when every action in it is a plain
    ``inputs.<key>`` and all inputs are written inline; otherwise each action may be anything.
    """

    def __init__(self, repo: Repository, sources: list[SourceFile]) -> None:
        #: (env, kind, names, name pattern, namespaces or None for any, file key, line)
        self.made: list[tuple[str | None, str, set[str], Wildcards, Any, str, int]] = []
        for source in sources:
            skey = repo.key(source.path)
            env = repo.environment_of(skey)
            for doc in source.documents:
                if doc.kind != "ResourceSet" or doc.group != "fluxcd.controlplane.io":
                    continue
                spec = doc.data.get("spec")
                if isinstance(spec, Map):
                    self._add(env, skey, doc, spec)

    def _add(self, env: str | None, skey: str, doc: Document, spec: Map) -> None:
        inputs = spec.get("inputs")
        rows = list(inputs) if isinstance(inputs, Seq) else []
        exact = not spec.get("inputsFrom") and all(isinstance(r, Map) for r in rows)
        #: (template, whether its names can be known exactly)
        templates: list[tuple[Any, bool]] = []
        resources = spec.get("resources")
        if isinstance(resources, Seq):
            templates.extend((item, exact) for item in resources)
        steps = spec.get("steps")
        for step in steps if isinstance(steps, Seq) else []:
            more = step.get("resources") if isinstance(step, Map) else None
            if isinstance(more, Seq):
                templates.extend((item, exact) for item in more)
        text = spec.get("resourcesTemplate")
        if isinstance(text, str):
            # its actions may loop or branch around the objects: only their names are read
            templates.extend((item, False) for item in _template_objects(text))
        for item, known in templates:
            if not isinstance(item, dict):
                continue
            api, kind = item.get("apiVersion"), item.get("kind")
            meta = item.get("metadata")
            if not isinstance(api, str) or not isinstance(kind, str) or kind not in FLUX_KINDS:
                continue
            if api.rsplit("/", 1)[0] != FLUX_KINDS[kind] or not isinstance(meta, dict):
                continue
            name, ns = meta.get("name"), meta.get("namespace")
            if not isinstance(name, str):
                continue
            names = _rendered(name, rows) if known else None
            spaces = None
            if isinstance(ns, str):
                spaces = _rendered(ns, rows) if known else None
                spaces = spaces if spaces is not None else _pattern(ns)
            self.made.append((env, kind, names or set(), _pattern(name), spaces, skey, doc.pos[0]))

    def find(self, target: Key) -> tuple[bool, str, int] | None:
        """(made exactly, file key, line) of a ResourceSet that makes ``target``."""
        env, kind, ns, name = target
        best: tuple[bool, str, int] | None = None
        for made_env, made_kind, names, pattern, spaces, skey, line in self.made:
            if made_kind != kind or (env and made_env and env != made_env):
                continue
            if spaces is not None and ns is not None:
                if isinstance(spaces, set) and ns not in spaces:
                    continue
                if not isinstance(spaces, set) and not spaces.fullmatch(ns):
                    continue
            if name in names and not (spaces is not None and not isinstance(spaces, set)):
                return True, skey, line
            if pattern.fullmatch(name) and best is None:
                best = (False, skey, line)
        return best


def _pattern(template: str) -> Wildcards:
    """The strings a template may render to: each action any text (or none)."""
    return Wildcards(_split_actions(template)[::2])


def _split_actions(text: str) -> list[str]:
    """``text`` cut at its ``<< ... >>`` actions (literal, action, literal, ...; an action
    without its trim markers and spaces), in linear time (``patterns.split_actions``)."""
    parts = split_actions(text, "<<", ">>")
    for index in range(1, len(parts), 2):
        inner = parts[index]
        inner = inner[1:] if inner.startswith("-") else inner
        inner = inner.strip()
        parts[index] = inner[:-1].rstrip() if inner.endswith("-") else inner
    return parts


def _rendered(template: str, rows: list[Any]) -> set[str] | None:
    """What a template renders to for each inline input set (None: it is not that simple)."""
    pieces = _split_actions(template)
    if len(pieces) == 1:
        return {template}
    values: set[str] = set()
    for row in rows or [None]:
        out = []
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                out.append(piece)
                continue
            found = _INPUT.fullmatch(piece)
            value: Any = row
            for key in found.group(1)[1:].split(".") if found else []:
                value = value.get(key) if isinstance(value, dict) else None
            if found is None or isinstance(value, (dict, list, bool)) or value is None:
                return None
            out.append(str(value))
        values.add("".join(out))
    return values


def _template_objects(text: str) -> list[Any]:
    """The objects of a ``resourcesTemplate``, actions kept as text: lines that are only an
    action (``<<- range ...>>``, ``<<- end >>``) dropped, the rest read as YAML."""
    kept = [
        line for line in text.splitlines() if "".join(_split_actions(line)[::2]).strip() or not line
    ]
    found = embedded_data("\n".join(kept)) or []  # guarded: a template may nest 3,000 deep
    return [d for d in found if isinstance(d, dict)]


def _nodes(
    repo: Repository, source: SourceFile, spaces: Namespaces, builds: FluxBuilds
) -> Iterator[Node]:
    """A node per Flux object and per Kustomization that applies it with its own variables
    (``flux_build.py``: a Component's ``${APP}-anubis`` is one object per app)."""
    skey = repo.key(source.path)
    env = repo.environment_of(skey)
    builders: list[Build | None] = [b for b in builds.builders(skey) if b.vars is not None]
    if not builders or any(b.vars is None for b in builds.builders(skey)):
        builders.append(None)  # applied as written (or by nothing known)
    for doc in source.documents:
        if not is_flux(doc) or doc.name is None:
            continue
        for builder in builders:
            node = _node(skey, source.path, env, doc, spaces, builds, builder)
            if node is not None:
                yield node


def _node(
    skey: str,
    path: str,
    env: str | None,
    doc: Document,
    spaces: Namespaces,
    builds: FluxBuilds,
    builder: Build | None,
) -> Node | None:
    def applied(value: str) -> str | None:
        if builder is not None:
            return builder.substitute(value, doc)
        return None if "${" in value else value

    assert doc.name is not None
    own = applied(doc.namespace) if doc.namespace else None
    if builder is not None and builder.target:
        ns, why = builder.target, f"targetNamespace of {builder.label}"
    else:
        ns, why = spaces.of(skey, own)
    name = applied(doc.name)
    node = Node((env, doc.kind or "", ns, name or doc.name), path, skey, doc, why)
    node.templated = name is None
    node.applied = builds.reachable(skey) and (builder is None or builds.reachable(builder.key))
    spec = doc.data.get("spec")
    deps = spec.get("dependsOn") if isinstance(spec, Map) else None
    if isinstance(deps, Seq):
        for i, dep in enumerate(deps):
            if not isinstance(dep, Map) or not isinstance(dep.get("name"), str):
                continue
            target_name = applied(dep["name"])
            written = dep.get("namespace") if isinstance(dep.get("namespace"), str) else None
            target_ns = applied(written) if written else None
            if target_name is None or (written and target_ns is None):
                continue  # a ${VAR} only the cluster's ConfigMaps or Secrets set
            looked = (
                "the namespace the dependsOn entry names"
                if target_ns
                else f"{node.label()}'s own namespace, Flux's default ({why})"
            )
            target: Key = (env, node.key[1], target_ns or ns, target_name)
            pos = dep.at("name") if "name" in dep else deps.at(i)
            node.deps.append((target, pos, looked))
    return node


def check(repo: Repository, sources: list[SourceFile], all_files: bool) -> list[Finding]:
    given = [s for s in sources if "toolkit.fluxcd.io" in s.text]
    if not given:
        return []
    everything = sources if all_files else repo.containing(b"toolkit.fluxcd.io")
    flux_sources = list({repo.key(s.path): s for s in [*given, *everything]}.values())
    flux_sources = [s for s in flux_sources if "toolkit.fluxcd.io" in s.text]
    spaces = Namespaces(repo, flux_sources)
    builds = FluxBuilds(repo, spaces.graph, flux_sources)
    nodes: dict[Key, Node] = {}
    made = ResourceSets(repo, flux_sources)
    #: objects whose name is a ${VAR} nothing here sets: (kind, pattern, node)
    templated: list[tuple[str, Wildcards, Node]] = []
    for source in flux_sources:
        for node in _nodes(repo, source, spaces, builds):
            if node.templated and node.applied:
                parts = re.split(r"\$\{[^}]*\}", node.key[3])
                templated.append((node.key[1], Wildcards(parts, gap=1), node))
            nodes.setdefault(node.key, node)
    names = {(kind, ns, name) for _, kind, ns, name in nodes}

    def resolve(target: Key) -> Key | None:
        env, kind, ns, name = target
        for candidate in ((env, kind, ns, name), (None, kind, ns, name)):
            if candidate in nodes:
                return candidate
        return None

    findings: list[Finding] = []
    graph: dict[Key, list[Key]] = {}
    for key, node in nodes.items():
        edges = graph.setdefault(key, [])
        for target, (line, col), looked in node.deps:
            resolved = resolve(target)
            if resolved is not None:
                edges.append(resolved)
                continue
            if target[1:] in names and target[0] is None:
                continue  # env-less object depending on a per-cluster one: exists somewhere
            if not (all_files or repo.is_given(node.source_key)):
                continue
            if not node.applied:
                continue  # nothing applies the depending object: nothing waits
            producer = made.find(target)
            if producer is not None and producer[0]:
                continue  # a ResourceSet makes it from inline inputs (ResourceSets)
            _, kind, ns, name = target
            where = f"namespace {shown(ns)}" if ns else "no namespace"
            message = (
                f"{node.label()} depends on {kind} {quote(name)} in namespace {ns}, which is "
                f"not in the repository; Flux waits for it forever (looked in {where}: "
                f"{looked}; each {kind} is keyed by the namespace it is applied with)"
                if ns
                else f"{node.label()} depends on {kind} {quote(name)}, which is not in the "
                "repository; Flux waits for it forever"
            )
            maybe = next((n for k, p, n in templated if k == kind and p.fullmatch(name)), None)
            severity = None
            if producer is not None:
                severity = WARNING
                message = (
                    f"{node.label()} depends on {kind} {quote(name)}, which is not in the "
                    f"repository under that name; the ResourceSet at "
                    f"{repo.display(producer[1])}:{producer[2]} makes {kind} objects from "
                    "templates and may make it, with inputs known only at run time"
                )
            elif maybe is not None:
                severity = WARNING
                message = (
                    f"{node.label()} depends on {kind} {quote(name)}, which is not in the "
                    f"repository under that name; {kind} {quote(maybe.key[3])} "
                    f"({repo.display(maybe.source_key)}:{maybe.doc.pos[0]}) may be it once "
                    "Flux substitutes its name, with a variable this repository does not set"
                )
            findings.append(
                Finding(node.path, line, col, "sync/depends-on-missing", message, severity)
            )
    for cycle in _cycles(graph):
        members = [nodes[k] for k in cycle]
        if not (all_files or any(repo.is_given(n.source_key) for n in members)):
            continue
        if not all(n.applied for n in members):
            continue  # one of them is applied by nothing: no cycle in any cluster
        first = members[0]
        dep_pos = next(pos for t, pos, _ in first.deps if resolve(t) == cycle[1 % len(cycle)])
        text = " -> ".join(n.label() for n in [*members, first])
        findings.append(
            Finding(
                first.path,
                dep_pos[0],
                dep_pos[1],
                "sync/depends-on-cycle",
                f"dependsOn cycle: {text}; none of them can ever become ready",
            )
        )
    return findings


def _cycles(graph: dict[Key, list[Key]]) -> list[list[Key]]:
    """One cycle per strongly connected component that has one (Tarjan, iterative)."""
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    on_stack: set[Key] = set()
    stack: list[Key] = []
    result: list[list[Key]] = []
    counter = 0
    for start in sorted(graph, key=str):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph.get(node, [])
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in graph.get(node, []):
                    result.append(_a_cycle(graph, set(component)))
    return result


def _a_cycle(graph: dict[Key, list[Key]], members: set[Key]) -> list[Key]:
    """A concrete cycle inside a strongly connected component, from its smallest member."""
    start = min(members, key=str)
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = next((n for n in graph[node] if n in members), start)
        if nxt == start or nxt in seen:
            if nxt != start:
                path = path[path.index(nxt) :]
            return path
        path.append(nxt)
        seen.add(nxt)
        node = nxt

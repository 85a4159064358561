"""check-controls: the controllers reconcile drift, remediate failed rollouts and report errors.

"Treat GitOps as a system of controls." For each Argo CD Application (and ApplicationSet
template), Flux Kustomization and Flux HelmRelease, in each environment it runs in, the
policy's ``controls:`` section says which controls must be present:

- drift: reconciled (Argo CD ``syncPolicy.automated.selfHeal``; a Flux Kustomization that is
  not suspended and has an ``interval``; HelmRelease ``driftDetection.mode: enabled``) or
  alerted (a notification that fires on out-of-sync / drift reaches the object);
- prune: objects removed from Git are removed (``automated.prune``, Flux ``prune: true``);
- health: a Flux Kustomization that applies workloads waits for them (``wait: true`` or
  ``healthChecks``; the ``timeout`` defaults to the interval);
- remediation: HelmRelease install/upgrade failures are retried and rolled back, Argo CD
  retries a failed sync (``retry.limit``);
- progressive_delivery: every Deployment is rolled out by an Argo Rollouts ``Rollout`` with an
  analysis, or a Flagger ``Canary`` with one, that rolls back on failed metrics;
- telemetry: sync failures and degradation reach someone (Argo CD notifications subscriptions
  with the triggers they name defined, a Flux ``Alert`` covering the object with a ``Provider``
  that exists, or a Prometheus rule on the engine's own metrics).

Field names and defaults follow the engines' CRDs: Flux helm-controller v2 (``HelmRelease``
``install.remediation``, ``upgrade.remediation.strategy``, ``driftDetection.mode``),
kustomize-controller v1 (``wait``, ``healthChecks``, ``timeout``, ``prune``),
notification-controller v1beta3 (``Alert.spec.eventSources``, ``providerRef``,
``eventSeverity``), Argo CD ``Application.spec.syncPolicy`` (``automated.{enabled,prune,
selfHeal}``, ``retry.limit``) and the Argo CD notifications catalog
(``argocd-notifications-cm`` ``trigger.<name>`` / ``subscriptions`` /
``notifications.argoproj.io/subscribe.<trigger>.<service>`` annotations).

Which environments: ``controls.enforce`` (``auto`` by default: production-like environments
only, so a repository that never configured controls is not held to them in staging or in
files outside any environment). Telemetry defaults to ``auto`` too: required once the
repository sends the engine's notifications somewhere (an Alert, a subscription, a Prometheus
rule on the engine's metrics), since alerting may otherwise live outside the repository.
"""

from __future__ import annotations

import os
import re

from gitops_guard.core.documents import (
    MAX_FILE_BYTES,
    Document,
    Map,
    SourceFile,
    embedded_data,
    is_kustomization,
    read_regular,
    to_plain,
)
from gitops_guard.core.findings import Finding
from gitops_guard.core.patterns import split_actions
from gitops_guard.core.policy import Policy, deep_merge, environment_of_relpath
from gitops_guard.core.quoting import quote, shown, shown_list
from gitops_guard.repo.repository import Repository, find_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator
    from typing import Any

ARGO = "argoproj.io"
KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"
NOTIFICATION = "notification.toolkit.fluxcd.io"
FLAGGER = "flagger.app"
SUBSCRIBE = "notifications.argoproj.io/subscribe"
SUBSCRIPTIONS = "notifications.argoproj.io/subscriptions"
NOTIFICATIONS_CM = "argocd-notifications-cm"

#: what a file holding a controller, a notification or an alert rule contains (a cheap
#: filter before parsing: most files of a repository are workloads and configuration)
_RELEVANT = re.compile(
    rb"toolkit\.fluxcd\.io|argocd-notifications-cm|gotk_|argocd_app_|flagger\.app"
    rb"|^[ \t]*kind:[ \t]*[\"']?(?:Application|ApplicationSet|AppProject|Rollout)\b",
    re.MULTILINE,
)

#: environment names the default (``enforce: auto``) holds to the controls
_PRODUCTION = re.compile(r"^(prod|prd|production|live)([-_.].*)?$|[-_.](prod|prd|production)$")

#: kinds whose readiness a health gate waits for (a Flux Kustomization that applies only
#: other Flux Kustomizations, RBAC or configuration gates nothing: its children gate themselves)
WORKLOADS = {
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Pod",
    "Job",
    "Rollout",
    "HelmRelease",
}

#: Argo CD notifications catalog triggers (notifications_catalog/triggers/*.yaml in argo-cd):
#: what each fires on, used when the repository does not define its own triggers
CATALOG_TRIGGERS = {
    "on-sync-failed": {"failure"},
    "on-health-degraded": {"degraded"},
    "on-sync-status-unknown": set(),
    "on-sync-running": set(),
    "on-sync-succeeded": set(),
    "on-deployed": set(),
    "on-created": set(),
    "on-deleted": set(),
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="repository root the controllers are resolved in (default: the git work tree "
        "holding the working directory, or the folder holding every given file)",
    )


# -- the policy -----------------------------------------------------------------------------


def production_like(env: str | None) -> bool:
    return env is not None and _PRODUCTION.search(env.lower()) is not None


class Wanted:
    """The controls one environment requires (the ``controls:`` section merged for it)."""

    __slots__ = ("drift", "enforced", "health", "progressive", "prune", "remediation", "telemetry")

    def __init__(self, section: dict[str, Any], env: str | None) -> None:
        enforce = section.get("enforce", "auto")
        self.enforced = production_like(env) if enforce == "auto" else bool(enforce)
        on = self.enforced
        self.drift = on and section.get("drift", True) is not False
        self.prune = on and section.get("prune", True) is not False
        self.health = on and section.get("health", True) is not False
        self.remediation = on and section.get("remediation", True) is not False
        self.progressive = on and section.get("progressive_delivery", False) is True
        #: True, False or "auto" (required once the repository sends engine telemetry)
        telemetry = section.get("telemetry", "auto")
        self.telemetry: Any = telemetry if on else False


# -- the objects ----------------------------------------------------------------------------


class Controller:
    """One Argo CD / Flux object that reconciles others, as it runs in one environment."""

    __slots__ = (
        "annotations",
        "doc",
        "env",
        "key",
        "kind",
        "labels",
        "name",
        "namespace",
        "path",
        "pos",
        "spec",
        "template",
        "via",
    )

    def __init__(self, key: str, path: str, doc: Document, env: str | None) -> None:
        self.key = key
        self.path = path
        self.doc = doc
        self.env = env
        self.kind = doc.kind or ""
        self.name = doc.name or "?"
        self.namespace = doc.namespace
        meta = doc.metadata
        self.pos = meta.at("name") if meta is not None and "name" in meta else doc.pos
        self.template = doc.kind == "ApplicationSet"
        data = doc.data
        if self.template:  # an ApplicationSet's template is the Application it makes
            data = _get(data, "spec", "template")
            meta = data.get("metadata") if isinstance(data, dict) else None
        spec = data.get("spec") if isinstance(data, dict) else None
        self.spec: dict[str, Any] = to_plain(spec) if isinstance(spec, dict) else {}
        self.labels = _strings(_get(meta, "labels"))
        self.annotations = _strings(_get(meta, "annotations"))
        patch = _get(doc.data, "spec", "templatePatch") if self.template else None
        patched = _template_patch(patch) if isinstance(patch, str) else None
        if patched is not None and isinstance(patched.get("spec"), dict):
            # a strategic merge with no merge keys on these fields: maps merge, the rest
            # replaces (deep_merge)
            self.spec = deep_merge(self.spec, patched["spec"])
        #: the files this view of the object depends on besides its own (patches)
        self.via: set[str] = set()

    def label(self) -> str:
        kind = "ApplicationSet" if self.template else self.kind
        ns = f"{shown(self.namespace)}/" if self.namespace else ""
        what = f"{shown(kind)} {ns}{shown(self.name)}"
        return f"{what} (template)" if self.template else what

    def where(self) -> str:
        return f" in {shown(self.env)}" if self.env else ""


#: what a Go template action in an ApplicationSet ``templatePatch`` renders to: unknown here
#: (it depends on each generator's parameters), so any control it may set counts as set
TEMPLATED = "\x00templated"


def _template_patch(text: str) -> dict[str, Any] | None:
    """An ApplicationSet's ``templatePatch`` as the patch it may be.

    argo-cd applicationset/controllers/template/patch.go ``applyTemplatePatch``: the patch is
    rendered with each generator's parameters, then applied to the Application the template
    made as a strategic merge patch. Here a line that is only an action (``{{- if .autoSync }}``,
    ``{{- end }}``) is dropped, so every branch counts as taken, and any other action is a
    value not known (``TEMPLATED``)."""
    kept = [line for line in text.splitlines() if _literal(line).strip()]
    body = "TEMPLATED-VALUE".join(split_actions("\n".join(kept), "{{", "}}")[::2])
    found = embedded_data(body)  # guarded: depth, aliases, recursion
    patch = found[0] if found and len(found) == 1 else None
    return _unknowns(patch) if isinstance(patch, dict) else None


def _literal(line: str) -> str:
    """A line without its ``{{ }}`` actions."""
    return "".join(split_actions(line, "{{", "}}")[::2])


def _unknowns(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    if isinstance(value, str) and "TEMPLATED-VALUE" in value:
        return TEMPLATED
    return value


# Flux kustomize-controller substitutes ``${var}``, ``${var:=default}`` and ``${var:-default}``
# in every object it builds when the Kustomization has ``postBuild`` (fluxcd/pkg
# kustomize/kustomize_varsub.go SubstituteVariables: drone/envsubst over the object's YAML,
# then the YAML is read again), so ``retries: ${RETRIES:=3}`` is applied as ``retries: 3``.
# Without substitution such a string in an integer or boolean field is refused by the API
# server (a render/schema finding), so a control is never judged on the literal text.
_FLUX_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[=-]([^}]*))?\}")


def _substituted(value: Any) -> Any:
    """``value`` as Flux applies it: a whole ``${var:=default}`` becomes its default read as
    YAML (``3``, ``true``, ``enabled``); a ``${var}`` with no default, whose value is in a
    ConfigMap or Secret (``substituteFrom``), is ``TEMPLATED``: not known, so not missing."""
    if isinstance(value, dict):
        return {k: _substituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v) for v in value]
    if not isinstance(value, str):
        return value
    match = _FLUX_VAR.fullmatch(value.strip())
    if match is None:
        return TEMPLATED if _FLUX_VAR.search(value) else value
    default = match.group(2)
    if default is None:
        return TEMPLATED
    found = embedded_data(default) if default.strip() else None
    value = found[0] if found and len(found) == 1 else None
    return value if isinstance(value, (str, int, float, bool)) else default


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _strings(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def is_controller(doc: Document) -> bool:
    kind, group = doc.kind, doc.group
    if group == ARGO:
        return kind in ("Application", "ApplicationSet")
    if group == KUSTOMIZE:
        return kind == "Kustomization"
    return group == HELM and kind == "HelmRelease"


# -- the repository model -------------------------------------------------------------------


class Model:
    """Every controller, notification and alert rule of the repository, with environments."""

    def __init__(self, repo: Repository, policy: Policy | None = None) -> None:
        self.repo = repo
        self.policy = policy
        self.sources: dict[str, SourceFile] = {}
        for key in repo.files():  # one read per file, parsed only when it can matter
            cached = repo.parsed(key)
            if cached is not None:
                if _RELEVANT.search(cached.text.encode("utf-8", "replace")):
                    self.sources[key] = cached
                continue
            # only a regular file, bounded (core/documents.py): a FIFO beside the changed
            # file would block, a link to /dev/zero would be read until memory runs out
            data, _ = read_regular(key, MAX_FILE_BYTES)
            if data is None:
                continue
            if _RELEVANT.search(data):
                source = repo.source(key)
                if source is not None:
                    self.sources[key] = source
        self._builder: Any = None
        self._patches_in: dict[str, set[str]] = {}
        self._content: dict[tuple[str, int, str, str], list[Any] | None] = {}
        self._progressive: tuple[set[tuple[str, str | None]], set[str]] | None = None
        self._env_of: dict[str, str | None] = {}
        self.docs: list[tuple[str, Document]] = [
            (key, doc)
            for key, source in sorted(self.sources.items())
            for doc in source.documents
            if isinstance(doc.data, Map) and doc.is_kubernetes
        ]
        self.telemetry_files: set[str] = set()
        self._collect_telemetry()
        #: helm-controller's DefaultToRetryOnFailure feature gate makes RetryOnFailure the
        #: default install/upgrade strategy (helm-controller internal/features)
        self.retry_on_failure = any(
            "DefaultToRetryOnFailure=true" in s.text for s in self.sources.values()
        )

    # environments
    def env_of(self, key: str) -> str | None:
        if key not in self._env_of:
            # the environment detection every check shares (core/policy.py): a folder named
            # like a policy environment, a promotion.paths pattern, or clusters/<env>/
            policy = self.policy if self.policy is not None else Policy({"version": 1})
            self._env_of[key] = environment_of_relpath(os.path.relpath(key, self.repo.root), policy)
        return self._env_of[key]

    @property
    def builder(self) -> Any:
        if self._builder is None:
            from gitops_guard.repo.applications import Builder

            self._builder = Builder(self.repo)
        return self._builder

    def content(self, ctrl: Controller) -> list[Any] | None:
        """The objects a Flux Kustomization or Argo CD Application applies (None: not known,
        from another source or a path that is not in this repository)."""
        ident = (
            ctrl.key,
            ctrl.doc.index,
            repr(ctrl.spec.get("path")),
            repr(ctrl.spec.get("source")),
        )
        if ident not in self._content:
            self._content[ident] = self._content_of(ctrl)
        return self._content[ident]

    def _content_of(self, ctrl: Controller) -> list[Any] | None:
        folder = self.content_folder(ctrl)
        if folder is None:
            return None
        if ctrl.kind == "Kustomization":
            return self._folder_objects(folder)
        kfile = self.repo.kustomization_in(folder)
        if kfile is not None:
            return list(self.builder.kustomize_objects(kfile))
        if os.path.isfile(os.path.join(folder, "Chart.yaml")):
            return None  # a Helm chart: its templates are not manifests
        directory = _get(ctrl.spec, "source", "directory")
        recurse = isinstance(directory, dict) and directory.get("recurse") is True
        objects: list[Any] = []
        for key in self.repo.yaml_in(folder, recurse):
            objects.extend(self.builder.file_objects(key))
        return objects

    def content_folder(self, ctrl: Controller) -> str | None:
        if ctrl.doc.group == ARGO:
            if ctrl.template:
                return None
            path = _get(ctrl.spec, "source", "path")
            if not isinstance(path, str) or _get(ctrl.spec, "source", "chart"):
                return None
            return self._folder(path)
        spec = ctrl.spec
        ref = spec.get("sourceRef")
        if not isinstance(ref, dict) or ref.get("kind", "GitRepository") != "GitRepository":
            return None
        path = spec.get("path") if isinstance(spec.get("path"), str) else "./"
        if "${" in path or "{{" in path:
            return None
        return self._folder(path)

    def _folder(self, path: str) -> str | None:
        if "${" in path or "{{" in path:
            return None
        folder = os.path.normpath(os.path.join(self.repo.root, path.lstrip("/")))
        if not (folder == self.repo.root or folder.startswith(self.repo.root + os.sep)):
            return None
        return folder if os.path.isdir(folder) else None

    def _folder_objects(self, folder: str) -> list[Any]:
        """What kustomize-controller applies from a folder: its kustomization, or the one it
        generates (fluxcd/pkg kustomize generator: every manifest below, a subfolder with a
        kustomization of its own as that kustomization)."""
        kfile = self.repo.kustomization_in(folder)
        if kfile is not None:
            return list(self.builder.kustomize_objects(kfile))
        objects: list[Any] = []
        for key in self.repo.yaml_in(folder):
            objects.extend(self.builder.file_objects(key))
        try:
            with os.scandir(folder) as entries:
                subs = sorted(e.path for e in entries if e.is_dir() and not e.name.startswith("."))
        except OSError:
            subs = []
        for sub in subs:
            objects.extend(self._folder_objects(sub))
        return objects

    def namespaces_of(self, key: str, doc: Document) -> list[str | None]:
        """The namespaces the object gets: kustomize's ``namespace`` of each kustomization
        including the file (it overrides the object's own), else its own."""
        graph = self.builder.graph
        found: dict[str | None, None] = {}
        if key in graph.parents:
            for root in sorted(graph.roots_of(key)):
                for obj in self.builder.kustomize_objects(root):
                    if obj.doc is doc:
                        found[obj.namespace or doc.namespace] = None
        return list(found) or [doc.namespace]

    def is_patch(self, key: str) -> bool:
        """Whether a kustomization in the file's folder or above uses it as a patch (a
        partial object, not one of its own): kustomize loads patches from below its root."""
        folder = os.path.dirname(key)
        while folder == self.repo.root or folder.startswith(self.repo.root + os.sep):
            if key in self._patch_files(folder):
                return True
            if folder == self.repo.root:
                break
            folder = os.path.dirname(folder)
        return False

    def _patch_files(self, folder: str) -> set[str]:
        cached = self._patches_in.get(folder)
        if cached is not None:
            return cached
        found: set[str] = set()
        kfile = self.repo.kustomization_in(folder)
        source = self.repo.source(kfile) if kfile else None
        data = source.documents[0].data if source and source.documents else None
        if isinstance(data, Map):
            entries: list[Any] = []
            for field in ("patches", "patchesJson6902"):
                for entry in data.get(field) or ():
                    if isinstance(entry, Map) and isinstance(entry.get("path"), str):
                        entries.append(entry["path"])
            for entry in data.get("patchesStrategicMerge") or ():
                if isinstance(entry, str) and "\n" not in entry:
                    entries.append(entry)
            for entry in data.get("patches") or ():
                if isinstance(entry, str):
                    entries.append(entry)
            found = {self.repo.key(os.path.join(folder, e)) for e in entries}
        self._patches_in[folder] = found
        return found

    def controllers(self, scope: set[str] | None = None) -> Iterator[Controller]:
        """Each controller once per environment it runs in, as the engine receives it.

        An object in an environment's folder runs there; one outside every environment (a
        base) runs where the Flux Kustomizations (or Argo CD Applications) applying it run,
        with the ``spec.patches`` of the Flux Kustomization applying it (and the patches such
        a patch gives the Kustomizations it applies, for their objects). ``scope``: only the
        controllers of these files and what they apply (None: every controller).
        """
        own: dict[tuple[str, int], Controller] = {}
        for key, doc in self.docs:
            if is_controller(doc) and not self.is_patch(key):
                own[(key, doc.index)] = Controller(key, self.repo.display(key), doc, None)
        by_folder: dict[str, list[Controller]] = {}
        for ctrl in own.values():
            folder = self.content_folder(ctrl)
            if folder is not None:
                by_folder.setdefault(folder, []).append(ctrl)
        parents_memo: dict[tuple[str, int], list[tuple[Any, Controller]] | None] = {}

        def parents(ident: tuple[str, int]) -> list[tuple[Any, Controller]] | None:
            """Who applies the object (None: a controller's folder holds it, but does not
            apply it: the file is not used)."""
            if ident in parents_memo:
                return parents_memo[ident]
            key = ident[0]
            places = [os.path.dirname(key)]
            graph = self.builder.graph if key in self.builder.graph.parents else None
            if graph is not None:
                places += [os.path.dirname(r) for r in graph.roots_of(key)]
            candidates: dict[int, Controller] = {}
            for place in places:
                folder = place
                while True:
                    for ctrl in by_folder.get(folder, ()):
                        candidates[id(ctrl)] = ctrl
                    if folder == self.repo.root or len(folder) <= len(self.repo.root):
                        break
                    folder = os.path.dirname(folder)
            found: list[tuple[Any, Controller]] = []
            holders = 0
            for ctrl in candidates.values():
                content = self.content(ctrl)
                if content is None:
                    continue
                folder = self.content_folder(ctrl) or ""
                if folder != self.repo.root and key.startswith(folder + os.sep):
                    holders += 1
                for obj in content:
                    if obj.doc is not None and (obj.key, obj.doc.index) == ident:
                        found.append((obj, ctrl))
            parents_memo[ident] = found if found or not holders else None
            return parents_memo[ident]

        memo: dict[tuple[str, int], list[Controller]] = {}

        def views(ident: tuple[str, int], stack: tuple[tuple[str, int], ...]) -> list[Controller]:
            if ident in memo:
                return memo[ident]
            ctrl = own[ident]
            ctrl.env = self.env_of(ctrl.key)
            if not ctrl.template:
                ctrl.namespace = self.namespaces_of(ctrl.key, ctrl.doc)[0]
            applied_by = parents(ident)
            if applied_by is None:
                memo[ident] = []
                return []
            applied = [
                (o, p)
                for o, p in applied_by
                if (p.key, p.doc.index) not in stack and (p.key, p.doc.index) in own
            ]
            if not applied:
                memo[ident] = [ctrl]
                return memo[ident]
            result: list[Controller] = []
            envs: set[str | None] = set()
            for obj, parent in applied:
                for pview in views((parent.key, parent.doc.index), (*stack, ident)):
                    env = ctrl.env if ctrl.env is not None else pview.env
                    if env in envs:
                        continue
                    envs.add(env)
                    view = Controller(ctrl.key, ctrl.path, ctrl.doc, env)
                    view.namespace = ctrl.namespace
                    target = (
                        pview.spec.get("targetNamespace")
                        if parent.kind == "Kustomization"
                        else None
                    )
                    if isinstance(target, str) and target:
                        view.namespace = target  # kustomize-controller sets it on every object
                    elif obj.namespace and not view.namespace:
                        view.namespace = obj.namespace
                    view.via |= pview.via
                    result.append(
                        _with_patches(view, pview) if parent.kind == "Kustomization" else view
                    )
            memo[ident] = result
            return result

        if scope is None:
            chosen = list(own)
        else:  # the given controllers and, through what they apply, their descendants
            chosen = [i for i in own if i[0] in scope]
            seen = set(chosen)
            queue = list(chosen)
            while queue:
                ctrl = own[queue.pop()]
                for obj in self.content(ctrl) or ():
                    ident = (obj.key, obj.doc.index) if obj.doc is not None else None
                    if ident in own and ident not in seen:
                        seen.add(ident)
                        chosen.append(ident)
                        queue.append(ident)
        for ident in chosen:
            yield from views(ident, ())

    # telemetry
    def _collect_telemetry(self) -> None:
        self.alerts: list[tuple[str | None, str | None, Document]] = []
        self.providers: set[tuple[str | None, str | None, str]] = set()
        self.triggers: dict[str | None, dict[str, set[str]]] = {}
        self.default_triggers: dict[str | None, list[str]] = {}
        self.subscriptions: list[tuple[str | None, str, list[str], str | None]] = []
        self.projects: dict[tuple[str | None, str], dict[str, str]] = {}
        self.metric_rules: dict[str | None, set[str]] = {}
        self.defines_triggers = False
        for key, doc in self.docs:
            env = self.env_of(key)
            kind, group = doc.kind, doc.group
            if group == NOTIFICATION and kind == "Alert":
                for ns in self.namespaces_of(key, doc):  # a component: one per namespace
                    self.alerts.append((env, ns, doc))
                self.telemetry_files.add(key)
            elif group == NOTIFICATION and kind == "Provider":
                if _get(doc.data, "spec", "suspend") is not True:
                    for ns in self.namespaces_of(key, doc):
                        self.providers.add((env, ns, doc.name or ""))
                self.telemetry_files.add(key)
            elif kind == "ConfigMap" and doc.name == NOTIFICATIONS_CM:
                self._notifications_cm(env, key, doc)
            elif group == ARGO and kind == "AppProject" and doc.name:
                meta = doc.metadata
                self.projects[(env, doc.name)] = _strings(_get(meta, "annotations"))
                if any(k.startswith(SUBSCRIBE) for k in self.projects[(env, doc.name)]):
                    self.telemetry_files.add(key)
            elif kind == "PrometheusRule" or (doc.kind is None and "groups" in doc.data):
                self._metric_rules(env, key, doc.data)
        for key, source in self.sources.items():  # plain Prometheus rule files
            for doc in source.documents:
                if isinstance(doc.data, Map) and not doc.is_kubernetes and "groups" in doc.data:
                    self._metric_rules(self.env_of(key), key, doc.data)

    def _notifications_cm(self, env: str | None, key: str, doc: Document) -> None:
        data = _get(doc.data, "data")
        if not isinstance(data, dict):
            return
        self.telemetry_files.add(key)
        triggers = self.triggers.setdefault(env, {})
        for name, value in data.items():
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            if name.startswith("trigger."):
                self.defines_triggers = True
                triggers[name[len("trigger.") :]] = _fires_on(value)
            elif name == "defaultTriggers":
                self.default_triggers[env] = _yaml_list(value)
            elif name == "subscriptions":
                for sub in _yaml_list(value):
                    if not isinstance(sub, dict):
                        continue
                    names = sub.get("triggers")
                    selector = sub.get("selector")
                    self.subscriptions.append(
                        (
                            env,
                            key,
                            [str(t) for t in names] if isinstance(names, list) else [],
                            selector if isinstance(selector, str) else None,
                        )
                    )

    def _metric_rules(self, env: str | None, key: str, data: Any) -> None:
        groups = _get(data, "spec", "groups") if "spec" in data else data.get("groups")
        if not isinstance(groups, list):
            return
        covers = self.metric_rules.setdefault(env, set())
        for group in groups:
            for rule in (group.get("rules") if isinstance(group, dict) else None) or ():
                expr = rule.get("expr") if isinstance(rule, dict) else None
                if not isinstance(expr, str) or not rule.get("alert"):
                    continue
                if "gotk_reconcile_condition" in expr:
                    covers.add("flux")
                    self.telemetry_files.add(key)
                if "argocd_app_sync_total" in expr:
                    covers.add("argo-failure")
                    self.telemetry_files.add(key)
                if "argocd_app_info" in expr:
                    if "health_status" in expr:
                        covers.add("argo-degraded")
                    if "sync_status" in expr:
                        covers.add("argo-outofsync")
                    self.telemetry_files.add(key)

    def progressive_targets(self) -> tuple[set[tuple[str, str | None]], set[str]]:
        """(name, namespace) of the Deployments a Flagger Canary or a Rollout's workloadRef
        with an analysis rolls out, and the files saying so."""
        if self._progressive is None:
            found: set[tuple[str, str | None]] = set()
            files: set[str] = set()
            for key, doc in self.docs:
                spec = doc.data.get("spec")
                if not isinstance(spec, Map):
                    continue
                if doc.group == FLAGGER and doc.kind == "Canary":
                    ref, ok = spec.get("targetRef"), isinstance(spec.get("analysis"), Map)
                elif doc.group == ARGO and doc.kind == "Rollout":
                    ref, ok = spec.get("workloadRef"), _rollout_analysis(doc.data)
                else:
                    continue
                if ok and isinstance(ref, Map) and ref.get("kind") == "Deployment":
                    for ns in self.namespaces_of(key, doc):
                        found.add((str(ref.get("name")), ns))
                    files.add(key)
            self._progressive = (found, files)
        return self._progressive

    def flux_telemetry_used(self) -> bool:
        return bool(self.alerts) or any("flux" in c for c in self.metric_rules.values())

    def argo_telemetry_used(self) -> bool:
        if self.subscriptions or any(c - {"flux"} for c in self.metric_rules.values()):
            return True
        if any(any(k.startswith(SUBSCRIBE) for k in a) for a in self.projects.values()):
            return True
        return any(
            doc.group == ARGO
            and doc.kind in ("Application", "ApplicationSet")
            and any(k.startswith((SUBSCRIBE, SUBSCRIPTIONS)) for k in _annotations_of(doc))
            for _, doc in self.docs
        )

    def in_scope(self, env: str | None, where: str | None) -> bool:
        """Whether configuration found in environment ``where`` applies in ``env``."""
        return where is None or where == env


def _annotations_of(doc: Document) -> dict[str, str]:
    data = doc.data
    if doc.kind == "ApplicationSet":
        data = _get(data, "spec", "template")
    return _strings(_get(data, "metadata", "annotations"))


def _yaml_list(text: str) -> list[Any]:
    found = embedded_data(text)  # guarded: depth, aliases, recursion
    value = found[0] if found and len(found) == 1 else None
    return value if isinstance(value, list) else []


def _fires_on(text: str) -> set[str]:
    """What an Argo CD trigger's conditions fire on, read from their ``when`` expressions."""
    fires: set[str] = set()
    if "operationState.phase" in text and ("'Failed'" in text or "'Error'" in text):
        fires.add("failure")
    if re.search(r"""health\.status\s*==\s*['"]Degraded""", text) or "'Degraded'" in text:
        fires.add("degraded")
    if "OutOfSync" in text:
        fires.add("outofsync")
    return fires


# -- patches: what a Flux Kustomization changes in the objects it applies --------------------


def _with_patches(ctrl: Controller, parent: Controller | None) -> Controller:
    """The controller with the ``spec.patches`` of the Flux Kustomization applying it."""
    if parent is None:
        return ctrl
    for patch, target in _patches(parent.spec):
        if _targets(target, patch, ctrl):
            spec = _get(patch, "spec")
            if isinstance(spec, dict):
                ctrl.spec = deep_merge(ctrl.spec, spec)  # a CR declares no merge keys
                ctrl.via.add(parent.key)
    return ctrl


def _patches(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(strategic-merge patch, target) of a Flux Kustomization's ``spec.patches``, including
    the ones it adds to the Kustomizations it applies (``patches`` inside a patch)."""
    entries = spec.get("patches")
    if not isinstance(entries, list):
        return
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("patch"), str):
            continue
        found = embedded_data(entry["patch"])  # guarded: depth, aliases, recursion
        if not found or len(found) != 1:
            continue
        patch = found[0]
        target = entry.get("target") if isinstance(entry.get("target"), dict) else {}
        if isinstance(patch, dict):
            yield patch, target
        elif isinstance(patch, list):  # JSON 6902: add/replace of /spec/... values
            converted: dict[str, Any] = {}
            for op in patch:
                if not isinstance(op, dict) or op.get("op") not in ("add", "replace"):
                    continue
                parts = str(op.get("path", "")).strip("/").split("/")
                if not parts or parts[0] != "spec" or any(p.isdigit() or p == "-" for p in parts):
                    continue
                node = converted
                for part in parts[:-1]:
                    node = node.setdefault(part.replace("~1", "/").replace("~0", "~"), {})
                node[parts[-1].replace("~1", "/").replace("~0", "~")] = op.get("value")
            if converted:
                yield {**converted, "kind": target.get("kind")}, target


def _targets(target: dict[str, Any], patch: dict[str, Any], ctrl: Controller) -> bool:
    kind = target.get("kind") or patch.get("kind")
    if kind != ctrl.kind:
        return False
    group = target.get("group")
    if group and group != ctrl.doc.group:
        return False
    name = target.get("name")
    if not name and not target:
        name = _get(patch, "metadata", "name")
        name = None if name == "_" else name  # Flux docs' placeholder for "every object"
    if name:
        try:
            if not re.fullmatch(str(name), ctrl.name):
                return False
        except re.error:
            return False
    selector = target.get("labelSelector")
    if isinstance(selector, str) and selector:
        return _selector_matches(selector, ctrl.labels)
    return True


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """A label selector string (``a=b,c!=d,e``) against labels; unknown syntax matches."""
    for term in selector.split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            k, v = (s.strip() for s in term.split("!=", 1))
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif " in " in term or " notin " in term:
            continue  # set-based: not judged (matches)
        elif term not in labels:
            return False
    return True


# -- the checks -----------------------------------------------------------------------------


class Problem:
    """A missing control: the finding, and every file whose change could fix or cause it."""

    __slots__ = ("files", "finding")

    def __init__(self, finding: Finding, files: set[str]) -> None:
        self.finding = finding
        self.files = files


def check_files(sources: list[SourceFile], policy: Policy, args: Any) -> list[Finding]:
    scope = _scope(sources, policy)
    if scope is not None and not scope:
        return []  # no given file holds anything a control depends on
    root_arg = getattr(args, "root", None)
    if root_arg and not os.path.isdir(root_arg):
        from gitops_guard.core.errors import UsageError

        raise UsageError(f"--root {root_arg}: not a folder")
    root = os.path.abspath(root_arg) if root_arg else find_root(s.path for s in sources)
    repo = Repository(root, sources)
    if scope is not None:
        scope = {repo.key(p) for p in scope}
    findings: list[Finding] = []
    seen: set[tuple[str, int, int, str, str]] = set()
    for problem in problems(Model(repo, policy), policy, scope):
        if not problem.files & repo.given:
            continue
        f = problem.finding
        key = (f.path, f.line, f.column, f.rule, f.message)
        if key not in seen:
            seen.add(key)
            findings.append(f)
    return findings


#: kinds whose change can change the findings of controllers in other files
_SHARED_KINDS = {"Alert", "Provider", "AppProject", "PrometheusRule", "Canary", "Rollout"}


def _scope(sources: list[SourceFile], policy: Policy) -> set[str] | None:
    """The given files holding controllers (their findings, and those of what they apply,
    are all a change can move), or None when a given file can move any controller's findings
    (a kustomization, a notification, an alert rule; a Deployment under progressive_delivery)."""
    progressive = any(
        (section.get("controls") or {}).get("progressive_delivery") is True
        for section in [policy.data, *(policy.data.get("environments") or {}).values()]
        if isinstance(section, dict)
    )
    scope: set[str] = set()
    for source in sources:
        relevant = _RELEVANT.search(source.text.encode("utf-8", "replace")) is not None
        for doc in source.documents:
            if not isinstance(doc.data, Map):
                continue
            if is_kustomization(source.path, doc):
                return None
            kind = doc.kind
            if progressive and kind == "Deployment":
                return None
            if not relevant:
                continue
            if kind in _SHARED_KINDS or (kind == "ConfigMap" and doc.name == NOTIFICATIONS_CM):
                return None
            if not doc.is_kubernetes and "groups" in doc.data:
                return None  # a Prometheus rules file
            if doc.is_kubernetes and is_controller(doc):
                scope.add(source.path)
    return scope


def problems(model: Model, policy: Policy, scope: set[str] | None = None) -> Iterator[Problem]:
    wanted: dict[str | None, Wanted] = {}
    flux_used = argo_used = None
    for ctrl in model.controllers(scope):
        want = wanted.get(ctrl.env)
        if want is None:
            want = wanted[ctrl.env] = Wanted(policy.section("controls", ctrl.env), ctrl.env)
        if not want.enforced:
            continue
        if want.telemetry == "auto":
            if ctrl.doc.group == ARGO:
                if argo_used is None:
                    argo_used = model.argo_telemetry_used()
                telemetry = argo_used
            else:
                if flux_used is None:
                    flux_used = model.flux_telemetry_used()
                telemetry = flux_used
        else:
            telemetry = bool(want.telemetry)
        if want.progressive:
            yield from _progressive(model, ctrl)
        if ctrl.doc.group == ARGO:
            yield from _argo(model, ctrl, want, telemetry)
        elif ctrl.kind == "Kustomization":
            yield from _flux_kustomization(model, ctrl, want, telemetry)
        else:
            yield from _helm_release(model, ctrl, want, telemetry)


def _problem(ctrl: Controller, rule: str, message: str, more: Iterable[str] = ()) -> Problem:
    line, col = ctrl.pos
    finding = Finding(ctrl.path, line, col, rule, f"{ctrl.label()}{ctrl.where()}: {message}")
    return Problem(finding, {ctrl.key, *ctrl.via, *more})


# Argo CD: Application.spec.syncPolicy (pkg/apis/application/v1alpha1/types.go,
# SyncPolicyAutomated / RetryStrategy); automated.enabled: false turns automation off (3.0).


def _argo(model: Model, ctrl: Controller, want: Wanted, telemetry: bool) -> Iterator[Problem]:
    sync = ctrl.spec.get("syncPolicy")
    if sync == TEMPLATED:
        # a templatePatch writes it whole: nothing of it is known to be missing, so the sync
        # controls read it as fully set; telemetry (notifications, not syncPolicy) still counts
        sync = {"automated": TEMPLATED, "retry": TEMPLATED}
    sync = sync if isinstance(sync, dict) else {}
    automated = sync.get("automated")
    if automated == TEMPLATED:
        automated = {"selfHeal": True, "prune": True}
    on = isinstance(automated, dict) and automated.get("enabled") is not False
    auto: dict[str, Any] = automated if on else {}  # type: ignore[assignment]
    auto = {k: True if v == TEMPLATED else v for k, v in auto.items()}
    fires = _argo_fires(model, ctrl) if (telemetry or want.drift) else {}
    if want.drift and auto.get("selfHeal") is not True and "outofsync" not in fires:
        fix = (
            "spec.syncPolicy.automated.selfHeal: true"
            if on
            else "spec.syncPolicy.automated: {selfHeal: true}"
        )
        yield _problem(
            ctrl,
            "control/drift-not-reconciled",
            "changes made in the cluster are neither reverted nor alerted on; add "
            f"{fix} (or subscribe it to a trigger on app.status.sync.status == 'OutOfSync')",
            model.telemetry_files,
        )
    if want.prune and auto.get("prune") is not True:
        yield _problem(
            ctrl,
            "control/prune-disabled",
            "objects removed from Git stay in the cluster; add "
            + (
                "spec.syncPolicy.automated.prune: true"
                if on
                else "spec.syncPolicy.automated: {prune: true}"
            )
            + " (or allow it: controls.prune: false for this environment)",
        )
    if want.remediation:
        retry = sync.get("retry")
        limit = retry.get("limit") if isinstance(retry, dict) else None
        if retry == TEMPLATED or limit == TEMPLATED:
            limit = 1  # a templatePatch sets it to what each generator says
        if not isinstance(limit, int) or isinstance(limit, bool) or limit == 0:
            yield _problem(
                ctrl,
                "control/sync-not-retried",
                "a failed sync is not retried; add spec.syncPolicy.retry: {limit: 5, backoff: "
                "{duration: 10s, factor: 2, maxDuration: 5m}}",
            )
    if telemetry:
        missing = [w for w in ("failure", "degraded") if w not in fires]
        if missing:
            what = " and ".join(_ARGO_EVENTS[w][0] for w in missing)
            names = " and ".join(_ARGO_EVENTS[w][1] for w in missing)
            # "sync failures reach", "degradation reaches", "... and degradation reach"
            verb = "reach" if len(missing) > 1 or missing == ["failure"] else "reaches"
            yield _problem(
                ctrl,
                "control/no-telemetry",
                f"{what} {verb} no one{fires.get('_why', '')}; subscribe it to {names} (a "
                "default subscription in argocd-notifications-cm, or the annotation "
                f"{SUBSCRIBE}.{_ARGO_EVENTS[missing[0]][1]}.<service>: <recipient>), with the "
                "trigger defined",
                model.telemetry_files,
            )


#: what an Argo CD Application's telemetry must fire on, and the catalog trigger that does
_ARGO_EVENTS = {
    "failure": ("sync failures", "on-sync-failed"),
    "degraded": ("degradation", "on-health-degraded"),
}


def _argo_fires(model: Model, ctrl: Controller) -> dict[str, Any]:
    """What the notifications reaching an Application fire on (``failure``, ``degraded``,
    ``outofsync``); ``_why`` explains a subscription that does not count."""
    env = ctrl.env
    triggers: dict[str, set[str]] = {}
    for where, defined in model.triggers.items():
        if model.in_scope(env, where):
            triggers.update(defined)
    defaults: list[str] = []
    for where, names in model.default_triggers.items():
        if model.in_scope(env, where):
            defaults.extend(str(n) for n in names)
    known = triggers if model.defines_triggers else CATALOG_TRIGGERS
    subscribed: list[str] = []
    for where, _, names, selector in model.subscriptions:
        if not model.in_scope(env, where):
            continue
        if selector and not _selector_matches(selector, ctrl.labels):
            continue
        subscribed.extend(names or defaults)
    annotations = dict(ctrl.annotations)
    project = ctrl.spec.get("project")
    if isinstance(project, str):
        for (where, name), notes in model.projects.items():
            if name == project and model.in_scope(env, where):
                annotations = {**notes, **annotations}
    for key, value in annotations.items():
        if key.startswith(SUBSCRIBE + ".") and value.strip():
            parts = key[len(SUBSCRIBE) + 1 :].split(".")
            subscribed.extend(parts[:1] if len(parts) >= 2 else defaults)
        elif key == SUBSCRIPTIONS:
            for sub in _yaml_list(value):
                if isinstance(sub, dict) and isinstance(sub.get("trigger"), str):
                    subscribed.append(sub["trigger"])
    fires: dict[str, Any] = {}
    undefined = []
    for name in subscribed:
        if name not in known:
            undefined.append(name)
            continue
        for what in known[name]:
            fires[what] = True
    if undefined:
        fires["_why"] = f" (subscribed trigger {shown_list(sorted(set(undefined)))} is not defined)"
    covers: set[str] = set()
    for where, found in model.metric_rules.items():
        if model.in_scope(env, where):
            covers |= found
    for what in ("failure", "degraded", "outofsync"):
        if f"argo-{what}" in covers:
            fires[what] = True
    return fires


# Flux kustomize-controller v1 (api/v1/kustomization_types.go): prune is required, wait
# overrides healthChecks, timeout defaults to the interval.


def _flux_kustomization(
    model: Model, ctrl: Controller, want: Wanted, telemetry: bool
) -> Iterator[Problem]:
    spec = _substituted(ctrl.spec)
    if want.drift:
        if spec.get("suspend") is True:
            yield _problem(
                ctrl,
                "control/drift-not-reconciled",
                "it is suspended: neither changes in Git nor drift in the cluster are "
                "reconciled; remove spec.suspend (or set it to false)",
            )
        elif not isinstance(spec.get("interval"), str):
            yield _problem(
                ctrl,
                "control/drift-not-reconciled",
                "it has no spec.interval, so drift is never corrected; add spec.interval: 10m",
            )
    if want.prune and spec.get("prune") not in (True, TEMPLATED):
        yield _problem(
            ctrl,
            "control/prune-disabled",
            "objects removed from Git stay in the cluster; set spec.prune: true "
            "(or allow it: controls.prune: false for this environment)",
        )
    checks = spec.get("healthChecks")
    gated = spec.get("wait") in (True, TEMPLATED) or (
        checks == TEMPLATED or (isinstance(checks, list) and bool(checks))
    )
    if want.health and not gated:  # the timeout defaults to the interval: a gate either way
        workloads = sorted(
            {
                o.kind
                for o in model.content(ctrl) or ()
                if o.kind in WORKLOADS and not flux_installation(o)
            }
        )
        if workloads:
            timeout = "" if isinstance(spec.get("timeout"), str) else " and spec.timeout: 5m"
            yield _problem(
                ctrl,
                "control/no-health-gate",
                f"it applies workloads ({', '.join(workloads)}) but does not wait for them "
                "to be ready, so a failed rollout passes as applied; add spec.wait: true"
                f"{timeout} (or healthChecks listing them)",
                _content_files(model, ctrl),
            )
    if telemetry:
        yield from _flux_telemetry(model, ctrl)


#: the labels ``flux install`` / ``flux bootstrap`` put on every object of the Flux installation
#: (fluxcd/flux2 pkg/manifestgen/install/templates.go, ``labelsTmpl``: ``part-of: flux``,
#: ``instance: <namespace>``)
PART_OF = "app.kubernetes.io/part-of"
INSTANCE = "app.kubernetes.io/instance"


def flux_installation(obj: Any) -> bool:
    """Whether ``obj`` is one of Flux's own controllers (``gotk-components.yaml``).

    ``flux bootstrap`` writes the Kustomization that applies them (``gotk-sync.yaml``) without
    ``wait`` (fluxcd/flux2 pkg/manifestgen/sync/sync.go) and checks their rollout itself
    (pkg/bootstrap: ReportComponentsHealth); kustomize-controller gating the Kustomization on
    its own Deployment would wait on its own restart. The engine's bootstrap output is not a
    workload that lacks a health gate; the other workloads of the same Kustomization still are.
    """
    doc = getattr(obj, "doc", None)
    meta = doc.metadata if doc is not None else None
    labels = _strings(to_plain(meta.get("labels"))) if meta is not None else {}
    if labels.get(PART_OF) != "flux":
        return False
    instance = labels.get(INSTANCE)
    return instance is not None and instance == (obj.namespace or instance)


def _content_files(model: Model, ctrl: Controller) -> set[str]:
    return {o.key for o in model.content(ctrl) or ()}


# Flux helm-controller v2 (api/v2/helmrelease_types.go): install.remediation.retries (default
# 0: no retry), install.strategy.name RetryOnFailure retries without remediation,
# upgrade.remediation.strategy (default rollback), remediateLastFailure (default: true once
# retries > 0), driftDetection.mode (default disabled).


def _helm_release(
    model: Model, ctrl: Controller, want: Wanted, telemetry: bool
) -> Iterator[Problem]:
    spec = _substituted(ctrl.spec)
    if want.drift:
        mode = _get(spec, "driftDetection", "mode")
        mode = "enabled" if mode == TEMPLATED else mode
        if spec.get("suspend") is True:
            yield _problem(
                ctrl,
                "control/drift-not-reconciled",
                "it is suspended: nothing is reconciled; remove spec.suspend",
            )
        elif mode != "enabled" and not (mode == "warn" and _alerted(model, ctrl)[0]):
            yield _problem(
                ctrl,
                "control/drift-not-reconciled",
                "changes made in the cluster to the release's objects are neither corrected "
                "nor reported; add spec.driftDetection.mode: enabled (or warn, with an Alert "
                "covering it)",
                model.telemetry_files,
            )
    if want.remediation:
        default = "RetryOnFailure" if model.retry_on_failure else "RemediateOnFailure"
        install = spec.get("install") if isinstance(spec.get("install"), dict) else {}
        retries = _get(install, "remediation", "retries")
        retry_strategy = (_get(install, "strategy", "name") or default) in (
            "RetryOnFailure",
            TEMPLATED,
        )
        if not retry_strategy and not _nonzero(retries):
            yield _problem(
                ctrl,
                "control/install-not-remediated",
                "a failed install is left failed; add spec.install.remediation.retries: 3",
            )
        upgrade = spec.get("upgrade") if isinstance(spec.get("upgrade"), dict) else {}
        remediation = upgrade.get("remediation")
        remediation = remediation if isinstance(remediation, dict) else {}
        strategy = remediation.get("strategy", "rollback")
        strategy = "rollback" if strategy == TEMPLATED else strategy
        retrying = (_get(upgrade, "strategy", "name") or default) == "RetryOnFailure"
        rolls_back = (
            not retrying
            and strategy == "rollback"
            and (
                _nonzero(remediation.get("retries"))
                or remediation.get("remediateLastFailure") in (True, TEMPLATED)
            )
        )
        if not rolls_back and _get(upgrade, "strategy", "name") != TEMPLATED:
            if retrying:
                why = (
                    "upgrade strategy RetryOnFailure"
                    + ("" if _get(upgrade, "strategy", "name") else " (the feature gate's default)")
                    + " retries a failed upgrade, never rolls back"
                )
                fix = "spec.upgrade.strategy.name: RemediateOnFailure and "
            elif strategy != "rollback":
                why = f"upgrade.remediation.strategy {shown(strategy)} does not roll back"
                fix = ""
            else:
                why = "a failed upgrade is left failed"
                fix = ""
            yield _problem(
                ctrl,
                "control/upgrade-not-rolled-back",
                f"{why}; add {fix}spec.upgrade.remediation: {{retries: 3, strategy: rollback, "
                "remediateLastFailure: true}",
            )
    if telemetry:
        yield from _flux_telemetry(model, ctrl)


def _nonzero(value: Any) -> bool:
    """A retry count that retries: positive, or negative for unlimited (helm-controller)."""
    if value == TEMPLATED:  # a ${var} of a ConfigMap or Secret: not known to be 0
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value != 0


def _flux_telemetry(model: Model, ctrl: Controller) -> Iterator[Problem]:
    alerted, why = _alerted(model, ctrl)
    if alerted:
        return
    covers = set()
    for where, found in model.metric_rules.items():
        if model.in_scope(ctrl.env, where):
            covers |= found
    if "flux" in covers:
        return
    yield _problem(
        ctrl,
        "control/no-telemetry",
        f"its errors reach no one{why}; add an eventSources entry {{kind: {ctrl.kind}, name: "
        f"'*'{', namespace: ' + shown(ctrl.namespace) if ctrl.namespace else ''}}} to a Flux Alert "
        "(eventSeverity: error) whose Provider exists",
        model.telemetry_files,
    )


def _alerted(model: Model, ctrl: Controller) -> tuple[bool, str]:
    """Whether a Flux Alert reaching a Provider covers the object (notification-controller
    v1beta3: an eventSources entry of its kind, its name or '*', in its namespace, which
    defaults to the Alert's; matchLabels only with name '*')."""
    why = ""
    for where, alert_ns, alert in model.alerts:
        if not model.in_scope(ctrl.env, where):
            continue
        spec = alert.data.get("spec")
        if not isinstance(spec, Map) or spec.get("suspend") is True:
            continue
        if not _covers(spec.get("eventSources"), alert_ns, ctrl):
            continue
        provider = _get(spec, "providerRef", "name")
        if not any(
            model.in_scope(ctrl.env, penv) and pns == alert_ns and pname == provider
            for penv, pns, pname in model.providers
        ):
            why = (
                f" (Alert {shown(alert.name)} covers it, but its Provider {quote(provider)} is "
                "not in the "
                "repository or is suspended)"
            )
            continue
        return True, ""
    return False, why


def _covers(sources: Any, alert_ns: str | None, ctrl: Controller) -> bool:
    if not isinstance(sources, list):
        return False
    for entry in sources:
        if not isinstance(entry, dict) or entry.get("kind") != ctrl.kind:
            continue
        name = entry.get("name")
        if name != "*" and name != ctrl.name:
            continue
        ns = entry.get("namespace") or alert_ns
        if ctrl.namespace is not None and ns != ctrl.namespace and ns != "*":
            continue
        labels = entry.get("matchLabels")
        if (
            isinstance(labels, dict)
            and name == "*"
            and any(ctrl.labels.get(str(k)) != v for k, v in labels.items())
        ):
            continue
        return True
    return False


# Progressive delivery: Argo Rollouts (Rollout.spec.strategy.canary.analysis / steps[].analysis,
# blueGreen.prePromotionAnalysis / postPromotionAnalysis, spec.workloadRef to a Deployment) and
# Flagger (Canary.spec.targetRef, spec.analysis) roll back when the analysis fails.


def _rollout_analysis(data: Any) -> bool:
    strategy = _get(data, "spec", "strategy")
    if not isinstance(strategy, dict):
        return False
    canary = strategy.get("canary")
    if isinstance(canary, dict):
        if isinstance(canary.get("analysis"), dict):
            return True
        steps = canary.get("steps")
        if isinstance(steps, list) and any(isinstance(x, dict) and "analysis" in x for x in steps):
            return True
    blue_green = strategy.get("blueGreen")
    return isinstance(blue_green, dict) and any(
        isinstance(blue_green.get(k), dict)
        for k in ("prePromotionAnalysis", "postPromotionAnalysis")
    )


def _progressive(model: Model, ctrl: Controller) -> Iterator[Problem]:
    content = model.content(ctrl)
    if not content:
        return
    covered, files = model.progressive_targets()
    for obj in content:
        if obj.doc is None:
            continue
        if obj.kind == "Rollout" and obj.group == ARGO:
            if _rollout_analysis(obj.doc.data):
                continue
            what = "is an Argo Rollouts Rollout without an analysis"
            fix = "spec.strategy.canary.analysis: {templates: [{templateName: ...}]}"
        elif obj.kind == "Deployment" and obj.group == "apps":
            if (obj.name, obj.namespace) in covered or (obj.name, None) in covered:
                continue
            what = "has no progressive rollout that rolls back on a failed analysis"
            fix = (
                "a Flagger Canary (spec.targetRef: {apiVersion: apps/v1, kind: Deployment, "
                f"name: {shown(obj.name)}}}, spec.analysis) or an Argo Rollouts Rollout with "
                "workloadRef and an analysis"
            )
        else:
            continue
        line, col = obj.pos
        ns = f"{shown(obj.namespace)}/" if obj.namespace else ""
        finding = Finding(
            model.repo.display(obj.key),
            line,
            col,
            "control/no-rollback-analysis",
            f"{shown(obj.kind)} {ns}{shown(obj.name)} (applied by {ctrl.label()}{ctrl.where()}) "
            f"{what}, "
            f"and the policy asks for automated rollback (controls.progressive_delivery); "
            f"add {fix}",
        )
        yield Problem(finding, {obj.key, ctrl.key, *files})

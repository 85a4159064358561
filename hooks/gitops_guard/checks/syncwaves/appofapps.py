"""App of apps: a parent only waits for waved child Applications if Argo CD can judge their health.

Since Argo CD 1.8 an ``Application`` has no health assessment of its own, so a parent syncing
child Applications in waves moves on at once: the waves order nothing. The fix is the
``argoproj.io/Application`` health customization in ``argocd-cm``. When the repository holds an
``argocd-cm`` without it, that ``argocd-cm`` is reported once, with how many child
Applications carry waves (not one line per child: one fix, one finding).

The ``argocd-cm`` Argo CD reads is the one as built, and the check is often added on the way:
by a kustomize ``configMapGenerator`` (``behavior: merge``, a ``files``/``literals`` entry named
after the key) or an inline ``patches`` entry over a vendored ``install.yaml``, by the argo-cd
Helm chart's ``configs.cm`` values, by the argocd-operator ``ArgoCD`` resource
(``spec.resourceHealthChecks``, ``spec.extraConfig``; the operator writes them into
``argocd-cm``). So an ``argocd-cm`` without the key is only reported when no file of the
repository writes the check in any of these ways.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gitops_guard.core.documents import Map, SourceFile
from gitops_guard.core.findings import Finding
from gitops_guard.core.quoting import shown_list
from gitops_guard.repo.argo import WAVE
from gitops_guard.repo.repository import Repository

HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"


def _has_application_health(data: Map) -> bool:
    if not isinstance(data, Map):
        return False
    if HEALTH_KEY in data:
        return True
    legacy = data.get("resource.customizations")
    return isinstance(legacy, str) and "argoproj.io/Application" in legacy and "health" in legacy


#: the legacy ``resource.customizations`` block, as YAML text: an ``argoproj.io/Application:``
#: key holding ``health.lua`` (argo-cd util/settings: the per-group/kind ``health.lua``)
_LEGACY = re.compile(rb"argoproj\.io/Application['\"]?:\s*\n\s*health\.lua\s*:")
#: an argocd-operator ``spec.resourceHealthChecks`` entry for ``Application`` (group, kind,
#: check; the operator writes each as resource.customizations.health.<group>_<kind>)
_OPERATOR = re.compile(
    rb"resourceHealthChecks\s*:(?:(?!\n\S)[\s\S]){0,4000}?\bkind\s*:\s*['\"]?Application['\"]?\s*$",
    re.M,
)


_KEY = re.escape(HEALTH_KEY.encode())
#: the key where ``argocd-cm`` gets it: a mapping key (the ConfigMap's data, an inline patch,
#: Helm ``configs.cm`` values, the operator's ``extraConfig``; block, flow or JSON), a
#: configMapGenerator ``literals``/``files`` entry ``KEY=...`` or a ``files`` entry of a file
#: named after the key (kustomize api/kv: the key of a file source is its base name), a JSON
#: patch's ``/data/KEY``; never the words of a comment or of a sentence
_WRITTEN = re.compile(
    rb"(?:^|[ \t{,])[\"']?" + _KEY + rb"[\"']?[ \t]*:"
    rb"|(?:^|[ \t\[,\"'/])" + _KEY + rb"="
    rb"|^[ \t]*-[ \t]+[\"']?(?:[^\s\"'#]*/)?" + _KEY + rb"[\"']?[ \t]*(?:#.*)?$"
    rb"|[\[,][ \t]*[\"']?(?:[^\s\"'#,\]]*/)?" + _KEY + rb"[\"']?[ \t]*[,\]]"
    rb"|/data/" + _KEY + rb"(?![\w.-])",
    re.M,
)
#: a YAML comment before a position on its line: ``#`` at the start or after a blank
_COMMENT = re.compile(rb"(?:^|[ \t])#", re.M)


def _writes_health_key(data: bytes) -> bool:
    """Whether ``data`` writes the health key somewhere ``argocd-cm`` gets it (not in a
    comment: ``# TODO: add resource.customizations.health.argoproj.io_Application``)."""
    for match in _WRITTEN.finditer(data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        if not _COMMENT.search(data, start, match.start() + 1):
            return True
    return False


def health_written_elsewhere(repo: Repository) -> bool:
    """Whether a file of the repository adds the Application health check to ``argocd-cm``
    in a way no ``ConfigMap`` document shows (see the module docstring)."""
    if any(_writes_health_key(data) for _, data in repo.containing_raw(HEALTH_KEY.encode())):
        return True  # a generator entry, an inline patch, Helm values, extraConfig...
    if any(_LEGACY.search(data) for _, data in repo.containing_raw(b"health.lua")):
        return True
    return any(_OPERATOR.search(data) for _, data in repo.containing_raw(b"resourceHealthChecks"))


def argocd_configmaps(repo: Repository) -> list[tuple[SourceFile, Map, bool]]:
    """Every ``argocd-cm`` in the repository, its metadata, and whether it has the
    Application health check."""
    found = []
    for source in repo.containing(b"argocd-cm"):
        for doc in source.documents:
            if doc.kind == "ConfigMap" and doc.name == "argocd-cm" and isinstance(doc.data, Map):
                meta = doc.metadata
                assert meta is not None  # it has a name
                found.append((source, meta, _has_application_health(doc.data.get("data"))))
    return found


def waved_applications(source: SourceFile) -> Iterator[tuple[str, Map, str]]:
    for doc in source.documents:
        if doc.kind != "Application" or doc.group != "argoproj.io":
            continue
        meta = doc.metadata
        annotations = meta.get("annotations") if meta is not None else None
        if isinstance(annotations, Map) and WAVE in annotations:
            yield doc.name or "?", annotations, str(annotations.get(WAVE))


def check(repo: Repository, sources: list[SourceFile]) -> list[Finding]:
    if not any(True for s in sources for _ in waved_applications(s)):
        return []  # no changed file holds a waved child Application
    configmaps = argocd_configmaps(repo)
    if not configmaps or any(has for _, _, has in configmaps):
        return []
    if health_written_elsewhere(repo):
        return []  # the argocd-cm as built has it
    waved = sorted(
        {name for s in repo.containing(b"sync-wave") for name, _, _ in waved_applications(s)}
    )
    shown = shown_list(waved, 5)
    children = "child Application carries" if len(waved) == 1 else "child Applications carry"
    findings = []
    for source, meta, _ in configmaps:
        line, col = meta.at("name")
        findings.append(
            Finding(
                source.path,
                line,
                col,
                "sync/app-health-missing",
                f"{len(waved)} {children} a sync-wave ({shown}), but this argocd-cm has no "
                "health check for argoproj.io/Application, so a parent does not wait for its "
                f"children and their waves order nothing; add {HEALTH_KEY}",
            )
        )
    return findings

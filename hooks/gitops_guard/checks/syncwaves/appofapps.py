"""App of apps: a parent only waits for waved child Applications if Argo CD can judge their health.

Since Argo CD 1.8 an ``Application`` has no health assessment of its own, so a parent syncing
child Applications in waves moves on at once: the waves order nothing. The fix is the
``argoproj.io/Application`` health customization in ``argocd-cm``. When the repository holds an
``argocd-cm`` without it, that ``argocd-cm`` is reported once, with how many child
Applications carry waves (not one line per child: one fix, one finding).
"""

from __future__ import annotations

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

"""App of apps: a parent only waits for waved child Applications if Argo CD can judge their health.

Since Argo CD 1.8 an ``Application`` has no health assessment of its own, so a parent syncing
child Applications in waves moves on at once: the waves order nothing. The fix is the
``argoproj.io/Application`` health customization in ``argocd-cm``. When the repository holds an
``argocd-cm`` without it, every waved child Application is reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from gitops_guard.core.documents import Map, SourceFile
from gitops_guard.core.findings import Finding
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


def argocd_configmaps(repo: Repository) -> list[tuple[SourceFile, bool]]:
    """Every ``argocd-cm`` in the repository and whether it has the Application health check."""
    found = []
    for source in repo.containing(b"argocd-cm"):
        for doc in source.documents:
            if doc.kind == "ConfigMap" and doc.name == "argocd-cm" and isinstance(doc.data, Map):
                found.append((source, _has_application_health(doc.data.get("data"))))
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
    waved = [(s, item) for s in sources for item in waved_applications(s)]
    if not waved:
        return []
    configmaps = argocd_configmaps(repo)
    if not configmaps or any(has for _, has in configmaps):
        return []
    where = ", ".join(sorted({repo.display(repo.key(s.path)) for s, _ in configmaps}))
    findings = []
    for source, (name, values, wave) in waved:
        line, col = values.at(WAVE)
        findings.append(
            Finding(
                source.path,
                line,
                col,
                "sync/app-health-missing",
                f"child Application {name} has sync-wave {wave!r}, but argocd-cm ({where}) has "
                "no health check for argoproj.io/Application, so the parent does not wait for "
                f"it and the waves order nothing; add {HEALTH_KEY} to argocd-cm",
            )
        )
    return findings

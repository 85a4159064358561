"""flux_deps: dependsOn names exist (Flux's namespace rule) and form no cycle."""

from __future__ import annotations

import pytest
from gitops_guard.checks.syncwaves import flux_deps
from gitops_guard.core.documents import load_file
from gitops_guard.repo.repository import Repository


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def ks(name: str, ns: str | None = "flux-system", deps: str = "") -> str:
    meta = f"  name: {name}\n" + (f"  namespace: {ns}\n" if ns else "")
    spec = f"spec:\n  dependsOn:\n{deps}" if deps else "spec: {}\n"
    head = "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
    return head + meta + spec


def _check(tmp_path, files: dict[str, str], given: list[str]):
    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sources = [load_file(str(root / g)) for g in given]
    return flux_deps.check(Repository(root, sources), sources, all_files=False)


def test_dependency_in_an_unchanged_file_is_found(tmp_path):
    files = {"a.yaml": ks("apps", deps="    - name: infra\n"), "b.yaml": ks("infra")}
    assert _check(tmp_path, files, ["a.yaml"]) == []


def test_namespace_defaults_to_the_objects_own(tmp_path):
    files = {"a.yaml": ks("apps", ns="team", deps="    - name: infra\n"), "b.yaml": ks("infra")}
    (finding,) = _check(tmp_path, files, ["a.yaml"])
    assert finding.rule == "sync/depends-on-missing"
    assert "'infra' in namespace team" in finding.message
    files["a.yaml"] = ks(
        "apps", ns="team", deps="    - name: infra\n      namespace: flux-system\n"
    )
    assert _check(tmp_path / "2", files, ["a.yaml"]) == []


def test_helmrelease_depends_on_helmreleases_only(tmp_path):
    hr = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n"
        "  namespace: flux-system\nspec:\n  dependsOn:\n    - name: infra\n"
    )
    (finding,) = _check(tmp_path, {"a.yaml": hr, "b.yaml": ks("infra")}, ["a.yaml"])
    assert "HelmRelease 'infra'" in finding.message


def test_cycle_is_printed_once_from_a_changed_file(tmp_path):
    files = {
        "a.yaml": ks("a", deps="    - name: b\n"),
        "b.yaml": ks("b", deps="    - name: c\n"),
        "c.yaml": ks("c", deps="    - name: a\n") + ks("self", deps="    - name: self\n"),
    }
    found = _check(tmp_path, files, ["b.yaml", "c.yaml"])
    messages = sorted(f.message for f in found)
    assert [f.rule for f in found] == ["sync/depends-on-cycle"] * 2
    assert messages[0].startswith(
        "dependsOn cycle: Kustomization flux-system/a -> Kustomization flux-system/b -> "
        "Kustomization flux-system/c -> Kustomization flux-system/a"
    )
    assert "flux-system/self -> Kustomization flux-system/self" in messages[1]


def test_unchanged_cycle_is_not_reported(tmp_path):
    files = {
        "a.yaml": ks("a", deps="    - name: b\n"),
        "b.yaml": ks("b", deps="    - name: a\n"),
        "other.yaml": ks("z"),
    }
    assert _check(tmp_path, files, ["other.yaml"]) == []


def test_names_resolve_per_cluster_first(tmp_path):
    files = {
        "clusters/staging/apps.yaml": ks("apps", deps="    - name: infra\n"),
        "clusters/production/infra.yaml": ks("infra"),
    }
    (finding,) = _check(tmp_path, files, ["clusters/staging/apps.yaml"])
    assert finding.rule == "sync/depends-on-missing"
    files["infrastructure/infra.yaml"] = ks("infra")
    assert _check(tmp_path / "2", files, ["clusters/staging/apps.yaml"]) == []


def test_the_namespace_is_the_outermost_kustomizations_as_kustomize_build(tmp_path):
    """kustomize build: an outer kustomization's namespace: overrides an inner one's, and both
    override metadata.namespace; kustomize-controller applies the object with that namespace."""
    files = {
        "apps/kustomization.yaml": "namespace: kube-system\nresources: [inner]\n",
        "apps/inner/kustomization.yaml": "namespace: inner-ns\nresources: [ks.yaml]\n",
        "apps/inner/ks.yaml": ks("networks", ns=None),
        "default/ks.yaml": ks(
            "web", ns="default", deps="    - name: networks\n      namespace: kube-system\n"
        ),
    }
    assert _check(tmp_path, files, ["default/ks.yaml"]) == []
    files["default/ks.yaml"] = ks(
        "web", ns="default", deps="    - name: networks\n      namespace: inner-ns\n"
    )
    (finding,) = _check(tmp_path / "2", files, ["default/ks.yaml"])
    assert "'networks' in namespace inner-ns" in finding.message
    assert "looked in namespace inner-ns: the namespace the dependsOn entry names" in (
        finding.message
    )


def test_target_namespace_of_the_applying_flux_kustomization_wins(tmp_path):
    """kustomize-controller: spec.targetNamespace sets or overrides the namespace of every
    object the Kustomization applies (its path), Flux objects included."""
    parent = ks("cluster", ns="flux-system").replace(
        "spec: {}\n", "spec:\n  path: ./tenants\n  targetNamespace: team-a\n"
    )
    files = {
        "clusters/parent.yaml": parent,
        "tenants/infra.yaml": ks("infra", ns="flux-system"),
        "tenants/apps.yaml": ks("apps", ns=None, deps="    - name: infra\n"),
    }
    assert _check(tmp_path, files, ["tenants/apps.yaml"]) == []  # both in team-a
    files["other/apps.yaml"] = ks("apps2", ns="elsewhere", deps="    - name: infra\n")
    (finding,) = _check(tmp_path / "2", files, ["other/apps.yaml"])
    assert "'infra' in namespace elsewhere" in finding.message
    assert "Flux's default (its metadata.namespace)" in finding.message

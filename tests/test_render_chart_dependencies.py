"""A chart's ``file://`` dependencies, rendered the way the engines build them.

Argo CD runs ``helm dependency build`` when ``helm template`` says a dependency is missing
from charts/ (argo-cd reposerver/repository/repository.go, helmTemplate and runHelmBuild);
Flux's source-controller builds a GitRepository chart's local dependencies
(internal/helm/chart/dependency_manager.go, addLocal). A ``file://`` dependency comes from
that folder (helm pkg/downloader/manager.go), so an umbrella chart whose charts/ folder is
not committed renders for both, and a dependency folder without a Chart.yaml fails for both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gitops_guard.render import engines

NEEDS_HELM = pytest.mark.skipif(engines.helm() is None, reason="needs helm")

APP = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: platform\n"
    "  namespace: argocd\nspec:\n  project: default\n  source:\n"
    "    repoURL: https://example.invalid/org/platform.git\n    path: charts/platform\n"
    "    helm:\n      valuesObject:\n        common:\n          port: PORT\n"
    "  destination:\n    server: https://kubernetes.default.svc\n    namespace: platform\n"
)
UMBRELLA = (
    "apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n"
    "  - name: common\n    version: 0.1.0\n    repository: file://../common\n"
)
COMMON = {
    "charts/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 0.1.0\n",
    "charts/common/values.yaml": "port: 8080\n",
    "charts/common/templates/svc.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: common\n"
        "spec:\n  ports:\n    - port: {{ .Values.port }}\n"
    ),
}


def check(cli, root: Path) -> tuple[int, list[dict]]:
    old = os.getcwd()
    os.chdir(root)
    try:
        code, out, _err = cli("check-manifests", "--format", "json")
    finally:
        os.chdir(old)
    return code, json.loads(out)["findings"] if out else []


def repo(port: str = "8080", common: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "apps/platform.yaml": APP.replace("PORT", port),
        "charts/platform/Chart.yaml": UMBRELLA,
        "charts/platform/values.yaml": "{}\n",
        **(COMMON if common is None else common),
    }


@NEEDS_HELM
def test_a_file_dependency_not_vendored_in_charts_is_built_as_argo_cd_builds_it(make_repo, cli):
    root = make_repo(repo())
    code, found = check(cli, root)
    assert code == 0, found
    assert not [f for f in found if f["rule"] == "render/build-failed"], found
    assert not (root / "charts/platform/charts").exists()  # the repository is untouched


@NEEDS_HELM
def test_what_a_file_dependency_renders_is_validated_at_the_dependencys_template(make_repo, cli):
    root = make_repo(repo(port='"eighty"'))
    code, found = check(cli, root)
    hits = [f for f in found if f["rule"] == "render/schema"]
    assert code == 1 and hits, found
    # said where the value is written: the Application's valuesObject for the dependency
    assert [(f["path"], f["line"]) for f in hits] == [("apps/platform.yaml", 14)], found
    assert not [f for f in found if f["rule"] == "render/build-failed"], found


@NEEDS_HELM
def test_a_file_dependency_folder_without_a_chart_stays_missing(make_repo, cli):
    """helm dependency build fails on a file:// folder with no Chart.yaml: so does Argo CD."""
    common = {k: v for k, v in COMMON.items() if not k.endswith("Chart.yaml")}
    code, found = check(cli, make_repo(repo(common=common)))
    failed = [f for f in found if f["rule"] == "render/build-failed"]
    assert code == 1 and failed, found
    assert "missing in charts/ directory: common" in failed[0]["message"]


@pytest.mark.skipif(
    engines.helm() is None or engines.kustomize() is None, reason="needs helm and kustomize"
)
def test_kustomize_helmcharts_run_no_dependency_build_so_the_dependency_stays_missing(
    make_repo, cli
):
    """kustomize HelmChartInflationGenerator.Generate pulls a chart it does not find and runs
    helm template: no helm dependency build, so a local chart's file:// dependency that
    charts/ does not vendor fails there as it does for kustomize."""
    files = {
        "app/kustomization.yaml": (
            "helmGlobals:\n  chartHome: charts\nhelmCharts:\n  - name: platform\n"
            "    releaseName: platform\n"
        ),
        "app/charts/platform/Chart.yaml": UMBRELLA,
        "app/charts/platform/values.yaml": "{}\n",
        **{f"app/{k}": v for k, v in COMMON.items()},
    }
    code, found = check(cli, make_repo(files))
    failed = [f for f in found if f["rule"] == "render/build-failed"]
    assert code == 1 and failed, found
    assert "missing in charts/ directory: common" in failed[0]["message"]


@NEEDS_HELM
def test_an_aliased_file_dependency_is_rendered_and_traced_to_its_own_template(make_repo, cli):
    """helm pkg/chart/util/dependencies.go renders an aliased dependency under its alias: the
    ``# Source:`` of its templates names charts/<alias>/, the file is the dependency's own."""
    umbrella = UMBRELLA.replace("    repository:", "    alias: web\n    repository:")
    common = dict(COMMON)
    common["charts/common/templates/svc.yaml"] = COMMON["charts/common/templates/svc.yaml"].replace(
        "{{ .Values.port }}", '"eighty"'
    )
    files = {**repo(common=common), "charts/platform/Chart.yaml": umbrella}
    files["apps/platform.yaml"] = files["apps/platform.yaml"].replace("common:", "web:")
    code, found = check(cli, make_repo(files))
    hits = [f for f in found if f["rule"] == "render/schema"]
    assert code == 1 and [f["path"] for f in hits] == ["charts/common/templates/svc.yaml"], found

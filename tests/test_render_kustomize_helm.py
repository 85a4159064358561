"""kustomize ``helmCharts:`` rendered for real, with the helm and kustomize at hand.

kubectl 1.32/1.33 embed kustomize 5.5/5.6, which asks ``helm version -c --short`` and accepts
only ``v3`` (kustomize api/internal/builtins/HelmChartInflationGenerator.go, checkHelmVersion;
kubernetes-sigs/kustomize#6013). Helm 4 (what CI installs) has no ``-c``: without the shim in
render/engines.py every local ``helmCharts:`` overlay was a ``render/build-failed`` error
whose message was only ``>`` (the last line of kubectl's ``err=<`` block).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gitops_guard.render import engines

NEEDS_TOOLS = pytest.mark.skipif(
    engines.kustomize() is None or engines.helm() is None,
    reason="needs kustomize (or kubectl) and helm (`.venv/bin/python .ci/install-helm`)",
)

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
    "values.yaml": "port: 8080\n",
    "templates/svc.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  ports:\n    - port: {{ .Values.port }}\n"
    ),
}


def check(cli, root: Path, *paths: str) -> tuple[int, list[dict], str]:
    old = os.getcwd()
    os.chdir(root)
    try:
        code, out, err = cli("check-manifests", "--format", "json", *paths)
    finally:
        os.chdir(old)
    return code, json.loads(out)["findings"] if out else [], err


def chart_files(folder: str, port: str = "8080") -> dict[str, str]:
    files = {f"{folder}/{rel}": text for rel, text in CHART.items()}
    files[f"{folder}/values.yaml"] = f"port: {port}\n"
    return files


@NEEDS_TOOLS
def test_a_local_helmcharts_chart_renders_and_its_output_is_validated(make_repo, cli):
    overlay = (
        "helmCharts:\n  - name: hello\n    releaseName: hello\n    valuesInline:\n"
        "      port: PORT\n"
    )
    clean = make_repo(
        {
            "app/kustomization.yaml": overlay.replace("PORT", "8080"),
            **chart_files("app/charts/hello"),
        },
        "clean",
    )
    code, found, err = check(cli, clean)
    assert (code, err) == (0, "")
    assert not [f for f in found if f["rule"] == "render/build-failed"], found
    # the same overlay with a port that is not a number: the render is validated
    broken = make_repo(
        {
            "app/kustomization.yaml": overlay.replace("PORT", "http"),
            **chart_files("app/charts/hello"),
        },
        "broken",
    )
    code, found, _ = check(cli, broken)
    assert code == 1
    schema = [f for f in found if f["rule"] == "render/schema"]
    assert schema and "'http' is not of type 'integer'" in schema[0]["message"], found


def test_the_shim_is_given_only_to_helm_4_and_answers_only_the_version_question(tmp_path):
    fake3 = tmp_path / "helm3"
    fake3.write_text('#!/bin/sh\necho "v3.17.0+gabc"\n', encoding="utf-8")
    fake4 = tmp_path / "helm4"
    fake4.write_text('#!/bin/sh\necho "v4.1.4+g05fa379 $*"\n', encoding="utf-8")
    for fake in (fake3, fake4):
        fake.chmod(0o755)
    assert engines.helm_for_kustomize(str(fake3), str(tmp_path)) == str(fake3)
    shim = engines.helm_for_kustomize(str(fake4), str(tmp_path))
    assert shim != str(fake4) and os.path.dirname(shim) == str(tmp_path)
    import subprocess

    def ask(*args: str) -> str:
        return subprocess.run([shim, *args], capture_output=True, text=True, check=True).stdout

    assert ask("version", "-c", "--short").startswith("v3.")
    # everything else is helm's own answer, arguments kept
    assert ask("version", "--short") == "v4.1.4+g05fa379 version --short\n"
    assert ask("template", "x", "--include-crds").endswith("template x --include-crds\n")


def test_kubectl_s_multi_line_error_block_gives_its_reason_not_its_closing_bracket():
    stderr = (
        'E1202 04:56:51.755182    6924 run.go:72] "command failed" err=<\n'
        "\taccumulating resources: accumulation err='accumulating resources from "
        "'../app': must resolve to a file': recursed accumulation of path '/r/app': "
        "Error: unknown shorthand flag: 'c' in -c\n"
        "\t: unable to run: 'helm version -c --short': exit status 1\n"
        " >\n"
    )
    reason = engines.reason(stderr, 1)
    assert "unknown shorthand flag" in reason and "exit status 1" in reason
    assert not reason.endswith(">")
    # a one-line error keeps working the way it did
    one = 'E0101 12:00:00.000 1 run.go:72] "command failed" err="missing.yaml: no such file"\n'
    assert engines.reason(one, 1) == "missing.yaml: no such file"


CHART_HOME_OVERLAY = """\
helmGlobals:
  chartHome: helm-charts
helmCharts:
  - name: hello
    releaseName: web
    valuesInline:
      port: 9090
"""


@NEEDS_TOOLS
def test_a_chart_that_a_kustomization_inflates_is_not_also_rendered_with_its_defaults(
    make_repo, cli
):
    # kustomize renders helm-charts/hello (a chartHome that is not charts/) with the overlay's
    # values; its own values.yaml leaves the port empty (a placeholder the overlay fills),
    # so rendering the chart alone is wrong
    files = {
        "overlays/web/kustomization.yaml": CHART_HOME_OVERLAY,
        **chart_files("overlays/web/helm-charts/hello", port='""'),
    }
    code, found, _ = check(cli, make_repo(files, "consumed"))
    assert code == 0, found
    assert not [f for f in found if "its default values" in f["message"]]
    # nothing inflates it: the chart is rendered with its defaults and what they break is
    # said, as a warning (its real consumer may be an app-of-apps chart or another repository)
    del files["overlays/web/kustomization.yaml"]
    code, found, _ = check(cli, make_repo(files, "alone"))
    said = [f for f in found if f["rule"] == "render/schema" and "default values" in f["message"]]
    assert said and {f["severity"] for f in said} == {"warning"}, found
    assert code == 0


VALUES_OUTSIDE = """\
helmCharts:
  - name: hello
    releaseName: web
    valuesFile: ../shared/values.yaml
"""


@NEEDS_TOOLS
@pytest.mark.parametrize(
    "argocd_values",
    [
        # argo-helm charts/argo-cd: configs.cm is merged into argocd-cm
        "configs:\n  cm:\n    kustomize.buildOptions: --enable-helm --load-restrictor "
        "LoadRestrictionsNone\n",
        # the same values inline in a Flux HelmRelease
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: argocd\n"
        "spec:\n  values:\n    configs:\n      cm:\n        kustomize.buildOptions.v5.5.0: "
        "--load-restrictor LoadRestrictionsNone\n",
    ],
)
def test_argo_cd_chart_values_that_lift_the_load_restrictor_are_honoured(
    make_repo, cli, argocd_values
):
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n"
        "spec:\n  source:\n    repoURL: https://example.com/r.git\n    path: app/web\n"
        "  destination:\n    namespace: web\n    server: https://kubernetes.default.svc\n"
    )
    files = {
        "argocd/web.yaml": app,
        "app/web/kustomization.yaml": VALUES_OUTSIDE,
        "app/shared/values.yaml": "port: 8080\n",
        **chart_files("app/web/charts/hello"),
    }
    code, found, _ = check(cli, make_repo(files, "default"))
    failed = [f for f in found if f["rule"] == "render/build-failed"]
    assert code == 1 and failed and "is not in or below" in failed[0]["message"], found
    files["argocd/argocd-values.yaml"] = argocd_values
    code, found, _ = check(cli, make_repo(files, "lifted"))
    assert not [f for f in found if f["rule"] == "render/build-failed"], found


def test_a_values_schema_error_keeps_the_reasons_helm_prints_on_the_lines_after_it():
    # helm (pkg/chart/common/util/jsonschema.go) prints the failing chart and each violation
    # on lines of their own, unindented, after "Error: values don't meet ..."
    stderr = (
        "Error: values don't meet the specifications of the schema(s) in the following "
        "chart(s):\nsecret-sync:\n- at '/remoteKey': minLength: got 0, want 1\n\n"
    )
    reason = engines.reason(stderr, 1)
    assert reason.endswith("secret-sync: - at '/remoteKey': minLength: got 0, want 1"), reason
    # a second message is not glued to the first
    two = "Error: first problem\nE1202 04:56:51.755182 1 run.go:72] other\n"
    assert engines.reason(two, 1) == "first problem"


def test_a_kustomization_kustomize_cannot_read_is_named_by_its_own_reason():
    from gitops_guard.render.build import _clean

    error = (
        "accumulating resources: accumulation err='accumulating resources from "
        "'../r/k/overlay': '/r/k/overlay' must resolve to a file': couldn't make target for "
        "path '/r/k/overlay': invalid Kustomization: json: cannot unmarshal string into Go "
        "struct field Kustomization.patches of type types.Patch"
    )
    cleaned = _clean(error, "../r/k/overlay", "/r/k/overlay", "/tmp/w")
    assert cleaned.startswith("invalid Kustomization: json: cannot unmarshal string"), cleaned


@pytest.mark.parametrize(
    ("revision", "reported"),
    [("release-1.0", False), ("v2.3.0", False), ("HEAD", True), ("main", True), ("", True)],
)
def test_an_application_path_at_another_revision_is_not_judged_by_this_checkout(
    make_repo, cli, revision, reported
):
    # Argo CD resolves spec.source.path at spec.source.targetRevision
    # (docs/user-guide/tracking_strategies.md); another branch or tag may hold it
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: NAME\n"
        "spec:\n  project: default\n  source:\n"
        "    repoURL: https://example.com/r.git\n    path: PATH\n"
        "    targetRevision: 'REV'\n"
        "  destination:\n    namespace: web\n    server: https://kubernetes.default.svc\n"
    )
    files = {
        # a path that exists makes the URL this repository's
        "argocd/here.yaml": app.replace("NAME", "here")
        .replace("PATH", "apps/here")
        .replace("REV", "HEAD"),
        "apps/here/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: here\n",
        "argocd/pinned.yaml": app.replace("NAME", "pinned")
        .replace("PATH", "apps/legacy")
        .replace("REV", revision),
    }
    code, found, _ = check(cli, make_repo(files, "pinned"))
    missing = [f for f in found if f["rule"] == "render/path-missing"]
    assert bool(missing) is reported, found
    assert code == (1 if reported else 0)


MULTI_SOURCE = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  project: default
  sources:
    - repoURL: https://example.com/repo.git
      path: charts/hello
      helm:
        valueFiles:
          - $values/envs/prod/web.yaml
    - repoURL: REF_URL
      ref: values
  destination:
    server: https://kubernetes.default.svc
    namespace: web
"""


@NEEDS_TOOLS
def test_a_values_file_from_a_ref_source_of_this_repository_is_rendered_with(make_repo, cli):
    # Argo CD resolves $values/<path> at the root of the source whose ref is "values"
    # (docs/user-guide/multiple_sources.md); the chart's own default port is empty
    files = {
        "argocd/web.yaml": MULTI_SOURCE.replace("REF_URL", "https://example.com/repo.git"),
        "envs/prod/web.yaml": "port: 8080\n",
        **chart_files("charts/hello", port='""'),
    }
    code, found, _ = check(cli, make_repo(files, "ours"))
    assert code == 0 and not [f for f in found if f["rule"] == "render/schema"], found
    # the file it names is what deploys: a wrong value there is found, at error
    files["envs/prod/web.yaml"] = "port: http\n"
    code, found, _ = check(cli, make_repo(files, "wrong"))
    assert code == 1 and [f for f in found if f["rule"] == "render/schema"], found
    # from another repository: not fetched, said, nothing rendered without it
    files["argocd/web.yaml"] = MULTI_SOURCE.replace("REF_URL", "https://example.com/other.git")
    code, found, _ = check(cli, make_repo(files, "theirs"))
    remote = [f for f in found if f["rule"] == "render/remote-source"]
    assert code == 0 and remote and "'$values/envs/prod/web.yaml'" in remote[0]["message"]


def test_a_helmrelease_whose_chart_is_a_chartref_is_said_not_fetched(make_repo, cli):
    # helm-controller v2: spec.chartRef names an OCIRepository (or HelmChart) Flux fetches
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n"
        "  namespace: default\nspec:\n  interval: 1h\n  CHART\n"
    )
    ref = "chartRef:\n    kind: OCIRepository\n    name: app-template"
    code, found, _ = check(cli, make_repo({"app/hr.yaml": release.replace("CHART", ref)}, "ref"))
    said = [f for f in found if f["rule"] == "render/remote-chart"]
    assert code == 0 and said and "OCIRepository 'app-template'" in said[0]["message"], found
    # a HelmRelease with neither chart nor chartRef is not a chart source to speak of
    code, found, _ = check(cli, make_repo({"app/hr.yaml": release.replace("CHART", "")}, "none"))
    assert not [f for f in found if f["rule"] == "render/remote-chart"], found


APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: web
spec:
  goTemplate: true
  generators:
GENERATORS
PATCH
  template:
    metadata:
      name: "web-{{ .env }}"
    spec:
      project: default
      source:
        repoURL: https://example.com/repo.git
        targetRevision: main
        path: charts/hello
        helm:
          valueFiles:
            - "../../envs/{{ .env }}/web.yaml"
      destination:
        server: https://kubernetes.default.svc
        namespace: "web-{{ .env }}"
"""
LIST = "    - list:\n        elements:\n          - env: dev\n          - env: prod\n"
GIT = (
    "    - git:\n        repoURL: https://example.com/repo.git\n        revision: main\n"
    "        files:\n          - path: envs/*/config.json\n"
)
# a templatePatch that sets only the sync policy (applicationset/utils/utils.go
# applyTemplatePatch merges it onto each Application): the sources stay the template's
POLICY_PATCH = (
    '  templatePatch: |\n    {{- if eq .env "prod" }}\n    spec:\n'
    "      syncPolicy:\n        automated:\n          prune: {{ .prune }}\n"
    "    {{- end }}"
)


def _appset_repo(generators: str, patch: str = "", prod_port: str = "8080") -> dict[str, str]:
    return {
        "argocd/web.yaml": APPSET.replace("GENERATORS", generators.rstrip("\n")).replace(
            "PATCH\n", patch + "\n" if patch else ""
        ),
        "envs/dev/web.yaml": "port: 8080\n",
        "envs/prod/web.yaml": f"port: {prod_port}\n",
        # the chart's own default port is empty: only the environments' files make it valid
        **chart_files("charts/hello", port='""'),
    }


@NEEDS_TOOLS
@pytest.mark.parametrize("patch", ["", POLICY_PATCH], ids=["plain", "policy-patch"])
def test_a_chart_an_applicationset_list_element_gives_values_is_rendered_with_them(
    make_repo, cli, patch
):
    # the ApplicationSet controller renders spec.template once per list element
    # (applicationset/generators/list.go, utils/utils.go): each Application gives the chart
    # its environment's values file; the defaults alone are not what deploys
    code, found, _ = check(cli, make_repo(_appset_repo(LIST, patch), "appset"))
    assert code == 0, found
    assert not [f for f in found if "default values" in f["message"]], found
    # a wrong value in one element's file is found, at error, naming the element
    code, found, _ = check(cli, make_repo(_appset_repo(LIST, patch, "http"), "wrong"))
    schema = [f for f in found if f["rule"] == "render/schema"]
    assert code == 1 and len(schema) == 1, found
    assert "ApplicationSet web, list element at line 11" in schema[0]["message"], schema


@NEEDS_TOOLS
def test_a_chart_an_unresolved_applicationset_names_is_not_said_to_have_no_consumer(make_repo, cli):
    # a git files generator's parameters exist only when the controller runs: the chart is
    # rendered with its defaults, said as such, never as "nothing gives it values"
    code, found, _ = check(cli, make_repo(_appset_repo(GIT), "git"))
    defaults = [f for f in found if "default values" in f["message"]]
    assert code == 0 and defaults, found
    assert all(f["severity"] == "warning" for f in defaults), defaults
    assert all("ApplicationSet web gives this chart values" in f["message"] for f in defaults)
    # a path only a generator fills: the ApplicationSet may be the consumer, nothing more
    templated = _appset_repo(GIT).copy()
    templated["argocd/web.yaml"] = templated["argocd/web.yaml"].replace(
        "path: charts/hello", "path: '{{ .path.path }}'"
    )
    code, found, _ = check(cli, make_repo(templated, "templated"))
    defaults = [f for f in found if "default values" in f["message"]]
    assert defaults and all("ApplicationSet web may give" in f["message"] for f in defaults)
    # a templatePatch that may rewrite the source: its parameters are not resolved either
    rewrite = "  templatePatch: |\n    spec:\n      source:\n        path: x"
    code, found, _ = check(cli, make_repo(_appset_repo(LIST, rewrite), "rewrite"))
    defaults = [f for f in found if "default values" in f["message"]]
    assert defaults and all("ApplicationSet web gives" in f["message"] for f in defaults)


def test_argo_cd_directory_globs_are_gobwas_globs_without_separators():
    # Argo CD util/glob.Match compiles with gobwas/glob and no separators: "*" crosses "/",
    # "{a,b}" are alternatives, a bare comma is a comma, a pattern that does not compile
    # matches nothing (reposerver/repository/repository.go findManifests uses relPath)
    from gitops_guard.repo.argo import directory_filter

    listed = directory_filter({"include": "{*/application.yml,tekton/*.application.yml}"})
    assert listed("a/application.yml") and listed("a/b/application.yml")
    assert listed("tekton/x.application.yml") and not listed("a/values.yml")
    comma = directory_filter({"include": "*/application.yml,*/other.yml"})
    assert not comma("a/application.yml")  # one pattern holding a comma
    excluded = directory_filter({"exclude": "values*.yaml"})
    assert not excluded("values-prod.yaml") and excluded("sub/values.yaml")
    assert not directory_filter({"include": "[ab"})("a")
    assert directory_filter({"recurse": True}) is None


DIRECTORY_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://example.com/repo.git
    path: web
    directory:
      recurse: true
      GLOB
  destination:
    server: https://kubernetes.default.svc
    namespace: web
"""


def test_a_directory_application_reads_only_what_its_include_and_exclude_keep(make_repo, cli):
    bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n    - port: http\n"
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
    files = {"web/deploy/cm.yaml": good, "web/examples/bad-service.yaml": bad}
    for glob, reported in (
        ("include: 'deploy/*.yaml'", False),
        ("exclude: 'examples/*'", False),
        ("include: '*.yaml'", True),  # "*" crosses "/": the example is applied
        ("exclude: 'deploy/*'", True),
    ):
        files["argocd/web.yaml"] = DIRECTORY_APP.replace("GLOB", glob)
        code, found, _ = check(cli, make_repo(files, f"glob-{len(glob)}-{reported}"))
        schema = [f for f in found if f["rule"] == "render/schema"]
        assert bool(schema) is reported, (glob, found)
        assert code == (1 if reported else 0), (glob, found)


def test_an_include_that_keeps_no_manifest_is_a_warning_not_a_failed_render(make_repo, cli):
    # reposerver/repository/repository.go: findManifests returns the (empty) list
    # getPotentiallyValidManifests kept, and GenerateManifests an empty response, no error:
    # Argo CD syncs an empty application, so a typo'd glob is a warning at the glob
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
    files = {"web/deploy/cm.yaml": good, "web/deploy/main.jsonnet": "{}\n"}
    files["web/.kept/cm.yaml"] = good.replace("name: web", "name: kept")
    for glob, reported in (
        ("include: 'deploy/*.yml'", True),  # the files are .yaml
        ("exclude: '*'", True),
        ("include: 'deploy/*.yaml'", False),
        ("include: '*.jsonnet'", False),  # Argo CD reads .jsonnet files too
        ("include: '.kept/*'", False),  # and walks hidden folders (filepath.Walk)
        ("exclude: 'examples/*'", False),
    ):
        files["argocd/web.yaml"] = DIRECTORY_APP.replace("GLOB", glob)
        code, found, _ = check(cli, make_repo(files, f"none-{len(glob)}-{reported}"))
        hits = [f for f in found if f["rule"] == "render/nothing-included"]
        assert code == 0, (glob, found)
        assert bool(hits) is reported, (glob, found)
        if reported:
            (hit,) = hits
            assert (hit["path"], hit["line"], hit["severity"]) == (
                "argocd/web.yaml",
                13,
                "warning",
            )
            assert glob.split(": ")[1] in hit["message"] and "'web'" in hit["message"]
        assert not [f for f in found if f["rule"] == "render/path-missing"], found


def test_nothing_included_names_the_exclude_when_it_drops_what_the_include_keeps(make_repo, cli):
    # findManifests (reposerver/repository/repository.go) drops what exclude matches before
    # include keeps: include '*.yaml' keeps cm.yaml, exclude '*' drops it; the glob to fix is
    # the exclude. An include that keeps nothing on its own is still the one named.
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"
    files = {"web/deploy/cm.yaml": good}
    for glob, field, line in (
        ("include: '*.yaml'\n      exclude: '*'", "exclude", 14),
        ("include: '*.yml'\n      exclude: '*'", "include", 13),
    ):
        files["argocd/web.yaml"] = DIRECTORY_APP.replace("GLOB", glob)
        code, found, _ = check(cli, make_repo(files, f"both-{field}"))
        (hit,) = [f for f in found if f["rule"] == "render/nothing-included"]
        assert code == 0 and (hit["path"], hit["line"]) == ("argocd/web.yaml", line), found
        assert f"directory {field} " in hit["message"], hit
        if field == "exclude":
            assert "exclude '*' drops every manifest the include keeps in 'web'" in hit["message"]

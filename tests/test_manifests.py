"""check-manifests: render with the real kustomize (kubectl) and helm, validate, run the rules.

One repository holds every case of the issue's first list; it is rendered once per session
(renders are cached by their inputs, so a second run of the suite renders nothing again).
Each case is asserted at the line to fix, and the clean twin of the repository has no finding.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import init_repo
from gitops_guard.render import engines

NEEDS_KUSTOMIZE = pytest.mark.skipif(
    engines.kustomize() is None, reason="neither kustomize nor kubectl is installed"
)
NEEDS_HELM = pytest.mark.skipif(
    engines.helm() is None,
    reason="helm is not installed (run `.venv/bin/python .ci/install-helm`; CI always has it)",
)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:v1.0.0
          RESOURCES
"""

CHART_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  annotations:
    argocd.argoproj.io/sync-wave: {{ .Values.wave | quote }}
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: IMAGE
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    argocd.argoproj.io/hook: {{ .Values.hook }}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: "{{ .Values.image.repository }}:v1.0.0"
"""

CHART_TEMPLATE = CHART_TEMPLATE.replace(
    "IMAGE", '"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"'
)

APPLICATIONS = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api
spec:
  project: default
  source:
    repoURL: https://example.com/org/repo.git
    path: charts/api
    helm:
      valuesObject:
        wave: "WAVE"
  destination: {server: https://kubernetes.default.svc, namespace: api}
  syncPolicy:
    automated: {PRUNE: true}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: plain
spec:
  project: default
  source:
    repoURL: https://example.com/org/repo.git
    path: APP_PATH
  destination: {server: https://kubernetes.default.svc, namespace: plain}
"""


def files(broken: bool) -> dict[str, str]:
    """The repository, with every problem (broken) or with none."""
    resources = "resource:\n            limits: {cpu: '1'}" if broken else "resources: {}"
    return {
        "apps/web/base/deployment.yaml": DEPLOYMENT.replace("RESOURCES", resources),
        "apps/web/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        "clusters/staging/web/kustomization.yaml": (
            "resources:\n"
            "  - ../../../apps/web/base\n" + ("  - missing.yaml\n" if broken else "") + "patches:\n"
            "  - path: replicas.yaml\n"
            "images:\n"
            "  - name: registry.example.com/web\n"
            "    newTag: v1.0.1\n"
            + ("  - name: registry.example.com/wbe\n    newTag: v1.0.2\n" if broken else "")
        ),
        "clusters/staging/web/replicas.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
            f"  replicas: {'two' if broken else 2}\n"
        ),
        "charts/api/Chart.yaml": (
            "apiVersion: v2\nname: api\nversion: 0.1.0\n"
            f"appVersion: {'latest' if broken else 'v1.0.0'}\n"
        ),
        "charts/api/values.yaml": (
            "image:\n  repository: registry.example.com/api\n  tag: ''\n"
            f"wave: '1'\nhook: {'presync' if broken else 'PreSync'}\n"
        ),
        "charts/api/templates/deployment.yaml": CHART_TEMPLATE,
        "argocd/apps.yaml": APPLICATIONS.replace("WAVE", "1.5" if broken else "2")
        .replace("PRUNE", "prun" if broken else "prune")
        .replace("APP_PATH", "apps/gone" if broken else "apps/plain"),
        "apps/plain/configmap.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n"
        ),
    }


@pytest.fixture(scope="session")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    made = {}
    for broken in (True, False):
        root = tmp_path_factory.mktemp("broken" if broken else "clean")
        for rel, text in files(broken).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        made[broken] = init_repo(root)
    return made


def run(cli, root: Path, *args: str) -> tuple[int, list[dict], str]:
    old = os.getcwd()
    os.chdir(root)
    try:
        code, out, err = cli("check-manifests", "--format", "json", *args)
    finally:
        os.chdir(old)
    return code, json.loads(out)["findings"] if out else [], err


@pytest.fixture(scope="session")
def broken_findings(repos) -> list[dict]:
    from gitops_guard.cli import main

    old = os.getcwd()
    os.chdir(repos[True])
    try:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(["check-manifests", "--format", "json"])
    finally:
        os.chdir(old)
    assert code == 1
    return json.loads(buffer.getvalue())["findings"]


def at(findings: list[dict], path: str, line: int, rule: str) -> dict:
    hits = [f for f in findings if (f["path"], f["line"], f["rule"]) == (path, line, rule)]
    assert hits, f"no {rule} at {path}:{line} in " + "\n".join(
        f"{f['path']}:{f['line']} {f['rule']} {f['message']}" for f in findings
    )
    return hits[0]


@NEEDS_KUSTOMIZE
@NEEDS_HELM
class TestEveryCaseOfTheIssueFailsAtTheLineToFix:
    def test_a_listed_file_that_does_not_exist(self, repos, cli):
        # the overlay lists missing.yaml: reported at the entry, the overlay is not rendered
        code, found, _ = run(cli, repos[True], "clusters/staging/web/kustomization.yaml")
        assert code == 1
        hit = at(found, "clusters/staging/web/kustomization.yaml", 3, "render/path-missing")
        assert "'missing.yaml' does not exist" in hit["message"]

    def test_an_application_path_that_does_not_exist(self, broken_findings):
        hit = at(broken_findings, "argocd/apps.yaml", 25, "render/path-missing")
        assert "'apps/gone'" in hit["message"]

    def test_a_chart_sync_wave_set_in_the_application_values(self, broken_findings):
        # the template writes the annotation; the value was written in valuesObject
        hit = at(broken_findings, "argocd/apps.yaml", 12, "sync/wave-not-integer")
        assert "1.5" in hit["message"] and "Argo CD Application api" in hit["message"]

    def test_a_chart_hook_name_argo_cd_does_not_know(self, broken_findings):
        hit = at(broken_findings, "charts/api/values.yaml", 5, "sync/hook-unknown")
        assert "presync" in hit["message"]

    def test_a_chart_image_defaulting_to_app_version_latest(self, broken_findings):
        hit = at(broken_findings, "charts/api/Chart.yaml", 4, "image/tag-latest")
        assert hit["column"] == 13

    def test_a_misspelled_field_in_a_custom_resource(self, broken_findings):
        hit = at(broken_findings, "argocd/apps.yaml", 15, "render/unknown-field")
        assert "'prun'" in hit["message"]


@NEEDS_KUSTOMIZE
def test_wrong_type_misspelled_field_and_unused_images_entry(tmp_path, cli):
    repo_files = files(True)
    overlay = "clusters/staging/web/kustomization.yaml"
    repo_files[overlay] = repo_files[overlay].replace("  - missing.yaml\n", "")
    root = tmp_path / "repo"
    for rel, text in repo_files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    init_repo(root)
    code, found, err = run(cli, root, overlay)
    assert code == 1 and err == ""
    # the value came from the overlay's patch: reported there, not in the base
    hit = at(found, "clusters/staging/web/replicas.yaml", 6, "render/schema")
    assert "'two' is not of type 'integer'" in hit["message"]
    hit = at(found, "apps/web/base/deployment.yaml", 16, "render/unknown-field")
    assert "'resource'" in hit["message"]
    hit = at(found, overlay, 8, "render/image-unused")
    assert hit["severity"] == "warning" and "'registry.example.com/wbe'" in hit["message"]
    # the change is the overlay: the chart and the Applications are not rendered
    assert {f["path"] for f in found} <= {
        overlay,
        "clusters/staging/web/replicas.yaml",
        "apps/web/base/deployment.yaml",
    }


@NEEDS_KUSTOMIZE
@NEEDS_HELM
def test_the_clean_repository_passes(repos, cli):
    code, found, err = run(cli, repos[False])
    assert (code, err) == (0, "")
    assert [f for f in found if f["severity"] != "info"] == []


@NEEDS_KUSTOMIZE
def test_a_build_failure_names_the_kustomization_and_the_renderers_reason(make_repo, cli):
    root = make_repo(
        {
            "app/kustomization.yaml": "resources:\n  - cm.yaml\nnamePrefix: [not, a, string]\n",
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        }
    )
    code, found, _ = run(cli, root)
    assert code == 1
    hit = at(found, "app/kustomization.yaml", 1, "render/build-failed")
    assert "\n" not in hit["message"] and "namePrefix" in hit["message"]
    assert "gitops-guard-render" not in hit["message"]  # no temporary wrapper path


@NEEDS_KUSTOMIZE
def test_a_remote_base_is_never_fetched(make_repo, cli):
    root = make_repo(
        {"app/kustomization.yaml": "resources:\n  - https://example.invalid/org/repo//x?ref=v1\n"}
    )
    code, found, _ = run(cli, root)
    assert code == 0
    hit = at(found, "app/kustomization.yaml", 2, "render/remote-source")
    assert hit["severity"] == "info"


def test_a_chart_from_a_helm_repository_is_an_info_finding(make_repo, cli):
    app = (
        APPLICATIONS.split("---")[0]
        .replace("    path: charts/api\n", "    chart: podinfo\n    targetRevision: 6.5.0\n")
        .replace("PRUNE", "prune")
    )
    root = make_repo({"argocd/app.yaml": app})
    code, found, _ = run(cli, root, "argocd/app.yaml")
    assert code == 0
    assert at(found, "argocd/app.yaml", 9, "render/remote-chart")["severity"] == "info"


def test_a_missing_renderer_is_one_warning_per_renderer(make_repo, cli, monkeypatch):
    monkeypatch.setattr(engines, "helm", lambda: None)
    root = make_repo(
        {
            "charts/a/Chart.yaml": "apiVersion: v2\nname: a\nversion: 0.1.0\n",
            "charts/b/Chart.yaml": "apiVersion: v2\nname: b\nversion: 0.1.0\n",
        }
    )
    code, found, _ = run(cli, root)
    assert code == 0
    missing = [f for f in found if f["rule"] == "render/renderer-missing"]
    assert len(missing) == 1 and "helm is not installed" in missing[0]["message"]
    assert "1 more" in missing[0]["message"]


@NEEDS_KUSTOMIZE
def test_a_crd_in_the_repository_validates_its_custom_resources(make_repo, cli):
    crd = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  sise: 3\n"
    fine = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: v\nspec:\n  size: 3\n"
    fine += "  extra: {anything: goes}\n"
    root = make_repo(
        {
            "crds/widget.yaml": crd,
            "app/widget.yaml": widget,
            "app/fine.yaml": fine,
            "app/kustomization.yaml": "resources: [widget.yaml, fine.yaml]\n",
        }
    )
    code, found, _ = run(cli, root, "app/widget.yaml")
    assert code == 1
    hit = at(found, "app/widget.yaml", 6, "render/unknown-field")
    assert "'sise'" in hit["message"]
    assert [f for f in found if f["path"] == "app/fine.yaml"] == []


@NEEDS_KUSTOMIZE
def test_a_kind_without_a_schema_is_an_info_finding_once(make_repo, cli):
    thing = "apiVersion: unknown.example.com/v1\nkind: Thing\nmetadata:\n  name: NAME\n"
    root = make_repo(
        {
            "app/a.yaml": thing.replace("NAME", "a"),
            "app/b.yaml": thing.replace("NAME", "b"),
            "app/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
        }
    )
    code, found, _ = run(cli, root)
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in found] == [("render/no-schema", "info")]


@NEEDS_KUSTOMIZE
def test_the_policy_kubernetes_version_picks_the_schemas(make_repo, cli):
    # autoscaling/v2beta2 was served until 1.25 and removed in 1.26
    hpa = (
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: h\n"
        "spec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n"
    )
    policy = 'version: 1\nkubernetes:\n  version: "VERSION"\n'
    for version, rules in (("1.25", []), ("1.33", ["render/no-schema"])):
        root = make_repo(
            {
                "app/hpa.yaml": hpa,
                "app/kustomization.yaml": "resources: [hpa.yaml]\n",
                "policies/gitops-guard.yaml": policy.replace("VERSION", version),
            },
            name=f"repo-{version}",
        )
        _code, found, _ = run(cli, root)
        assert [f["rule"] for f in found] == rules, version


def test_an_unquoted_kubernetes_version_is_a_configuration_error(make_repo, cli):
    root = make_repo({"policies/gitops-guard.yaml": "version: 1\nkubernetes:\n  version: 1.30\n"})
    old = os.getcwd()
    os.chdir(root)
    try:
        code, _out, err = cli("check-manifests")
    finally:
        os.chdir(old)
    assert code == 2 and "kubernetes" in err


@NEEDS_KUSTOMIZE
def test_a_secret_value_is_never_printed(make_repo, cli):
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: 123456789\n"
    )
    root = make_repo(
        {"app/secret.yaml": secret, "app/kustomization.yaml": "resources: [secret.yaml]\n"}
    )
    _code, found, _ = run(cli, root)
    hit = at(found, "app/secret.yaml", 6, "render/schema")
    assert "123456789" not in hit["message"]


@NEEDS_KUSTOMIZE
def test_renders_are_cached_by_their_inputs(make_repo, tmp_path, monkeypatch):
    from gitops_guard.render.build import Renderer
    from gitops_guard.render.units import Plan
    from gitops_guard.repo.repository import Repository

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_repo(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        }
    )

    def render() -> object:
        plan = Plan(Repository(str(root))).build()
        unit = next(u for u in plan.units if u.kind == "kustomize")
        return Renderer(lambda _u: "1.33").render(unit)

    first, second = render(), render()
    assert (first.cached, second.cached) == (False, True)
    assert [o.origin for o in second.objects] == [str(root / "app" / "cm.yaml")]
    (root / "app" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n", encoding="utf-8"
    )
    third = render()
    assert not third.cached and third.objects[0].name == "b"


def test_crd_schemas_become_strict_like_the_api_server_prunes():
    from gitops_guard.render.crds import strict, strip

    schema = {
        "type": "object",
        "description": "dropped",
        "properties": {
            "description": {"type": "string", "description": "a field called description"},
            "port": {"x-kubernetes-int-or-string": True},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "maybe": {"type": "string", "nullable": True},
        },
    }
    out = strict(strip(schema))
    assert "description" not in out and "description" in out["properties"]
    assert out["additionalProperties"] is False
    assert out["properties"]["port"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert "additionalProperties" not in out["properties"]["free"]
    assert out["properties"]["maybe"]["type"] == ["string", "null"]


def test_schema_versions_resolve_like_kubernetes_validate():
    from gitops_guard.render.schemas import kubernetes_versions, resolve_version

    versions = kubernetes_versions()
    assert "1.33" in versions
    assert resolve_version("1.33") == "1.33"
    assert resolve_version("v1.33.4") == "1.33"
    assert resolve_version("1.99") == versions[-1]
    assert resolve_version("1.10") == versions[0]


def test_the_vendored_crd_schemas_ship_with_their_licence():
    from gitops_guard.render.schemas import VENDORED

    folder = Path(VENDORED)
    assert (folder / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "datreeio/CRDs-catalog" in (folder / "PROVENANCE").read_text(encoding="utf-8")
    schemas = list(folder.glob("*/*.json"))
    assert len(schemas) > 100
    # the wheel carries them: package data of pyproject.toml names each kind of file
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8")
    for pattern in ("crds/*/*.json", "crds/LICENSE", "crds/PROVENANCE"):
        assert f'"render/schemas/{pattern}"' in pyproject
    assert all('"description"' not in p.read_text(encoding="utf-8")[:2000] for p in schemas[:5])


def test_the_renderers_reason_is_one_line_without_log_prefixes():
    stderr = (
        'E0101 12:00:00.000000    1 run.go:72] "command failed" '
        'err="accumulating resources: \\"x\\" not found"\n'
    )
    assert engines.reason(stderr, 1) == 'accumulating resources: "x" not found'
    assert engines.reason("Error: template: x.yaml:3: bad\nmore\n", 1) == "template: x.yaml:3: bad"
    assert engines.reason("", 3) == "exit code 3"


@NEEDS_KUSTOMIZE
def test_a_long_kustomize_reason_keeps_its_innermost_cause(make_repo, cli):
    # kustomize api/krusty wraps the cause in each layer it passed; an overlay of a base
    # whose kustomization.yaml has nothing but apiVersion/kind fails with
    # "... couldn't make target for path '<base>': kustomization.yaml is empty"
    deep = "apps/" + "/".join(["nested-folder-name"] * 12)
    files = {
        f"{deep}/base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n",
        f"{deep}/overlay/kustomization.yaml": "resources:\n  - ../base\n",
    }
    code, found, _ = run(cli, make_repo(files, "empty-base"))
    failed = [f for f in found if f["rule"] == "render/build-failed"]
    assert code == 1 and len(failed) == 1, found
    message = failed[0]["message"]
    assert message.endswith(": kustomization.yaml is empty"), message
    assert len(message) < 700, message
    # a short reason is whole; a long one without such a cause keeps its start
    assert engines.reason("Error: a: b: c\n", 1) == "a: b: c"
    assert engines.shorten("x" * 400) == "x" * 297 + "..."


@NEEDS_KUSTOMIZE
@NEEDS_HELM
def test_a_generated_repository_of_every_combination_passes(tmp_path, cli, monkeypatch):
    """Every engine x secrets backend x app format (the CI answer changes no manifest): the
    generated repository renders, validates and passes the rules as it is."""
    import itertools

    from test_template import BACKENDS, ENGINES, FORMATS, generate

    for engine, backend, fmt in itertools.product(ENGINES, BACKENDS, FORMATS):
        out = tmp_path / f"{engine}-{backend}-{fmt}"
        repo = generate(
            out, gitops_engine=engine, ci_provider="none", secrets_backend=backend, app_format=fmt
        )
        init_repo(repo)
        code, found, err = run(cli, repo)
        problems = [f for f in found if f["severity"] != "info"]
        assert (code, err, problems) == (0, "", []), (engine, backend, fmt)
        # the app itself is among the renders (its chart, or its overlays), not skipped
        from gitops_guard.render.units import Plan
        from gitops_guard.repo.repository import Repository

        plan = Plan(Repository(str(repo))).build()
        kinds = {u.kind for u in plan.units if "demo-app" in u.root}
        assert ("helm" if fmt == "helm" else "kustomize") in kinds, (engine, backend, fmt)


@NEEDS_HELM
def test_a_chart_renders_a_plaintext_secret_from_a_template_literal(make_repo, cli):
    """check-secrets skips chart templates (not YAML); the rendered Secret shows the literal."""
    secret = (
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Secret\nmetadata:\n"
        "  name: {{ .Release.Name }}-db\nstringData:\n"
        '  token: "Zx9kLq2pW7vR4tYs8uJ3QQ"\n{{- end }}\n'
    )
    chart = {
        "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "chart/templates/secret.yaml": secret,
    }
    leaky = make_repo({**chart, "chart/values.yaml": "enabled: true\n"}, name="leaky")
    code, found, _ = run(cli, leaky)
    assert code == 1
    hit = at(found, "chart/templates/secret.yaml", 7, "secret/k8s-secret-plaintext")
    assert "Zx9kLq2pW7vR4tYs8uJ3QQ" not in hit["message"]
    # the same chart with the Secret switched off renders none: nothing to report
    off = make_repo({**chart, "chart/values.yaml": "enabled: false\n"}, name="off")
    assert [f for f in run(cli, off)[1] if f["rule"].startswith("secret/")] == []


@NEEDS_KUSTOMIZE
@NEEDS_HELM
def test_a_flux_helmrelease_renders_its_chart_with_the_values_its_kustomization_generates(
    make_repo, cli
):
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: api\n"
        "spec:\n  interval: 10m\n  chart:\n    spec:\n      chart: ./charts/api\n"
        "      sourceRef: {kind: GitRepository, name: flux-system}\n"
        "  valuesFrom:\n    - kind: ConfigMap\n      name: api-values\n"
    )
    overlay = (
        "resources: [release.yaml]\nconfigMapGenerator:\n"
        "  - name: api-values\n    files: [values.yaml]\n"
    )
    root = make_repo(
        {
            "charts/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
            "charts/api/values.yaml": "image:\n  repository: registry.example.com/api\n"
            "  tag: v1.0.0\nwave: '1'\nhook: PreSync\n",
            "charts/api/templates/deployment.yaml": CHART_TEMPLATE,
            "clusters/staging/api/release.yaml": release,
            "clusters/staging/api/kustomization.yaml": overlay,
            "clusters/staging/api/values.yaml": "image:\n  tag: v1.0.1\nwave: '1.5'\n",
        }
    )
    code, found, _ = run(cli, root, "clusters/staging/api/values.yaml")
    assert code == 1
    # the environment's values file wrote the wave the chart renders (no file-level hook
    # reads a values file's keys as annotations)
    hit = at(found, "clusters/staging/api/values.yaml", 3, "sync/wave-not-integer")
    assert "HelmRelease api" in hit["message"]


@NEEDS_HELM
def test_a_chart_alone_that_needs_values_is_a_warning_and_a_library_chart_is_skipped(
    make_repo, cli
):
    needs = '{{ required "image.tag is required" .Values.image.tag }}\n'
    root = make_repo(
        {
            "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
            "charts/app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            "  name: x\ndata:\n  tag: " + needs,
            "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
            "charts/lib/templates/_helpers.tpl": '{{- define "lib.name" -}}x{{- end -}}\n',
        }
    )
    code, found, _ = run(cli, root)
    assert code == 0
    hit = at(found, "charts/app/Chart.yaml", 1, "render/build-failed")
    assert hit["severity"] == "warning" and "<.Values.image.tag>" in hit["message"]
    assert [f for f in found if "charts/lib" in f["path"]] == []


@NEEDS_KUSTOMIZE
def test_a_flux_postbuild_variable_is_not_a_schema_error(make_repo, cli):
    deployment = DEPLOYMENT.replace("RESOURCES", "resources: {}").replace(
        "replicas: 1", "replicas: ${WEB_REPLICAS}"
    )
    root = make_repo(
        {
            "app/deployment.yaml": deployment,
            "app/kustomization.yaml": "resources: [deployment.yaml]\n",
        }
    )
    code, found, _ = run(cli, root)
    assert (code, [f["rule"] for f in found]) == (0, [])


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n"
FLUX_KS = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n"
    "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./app\n  prune: true\n"
    "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
)
ARGO_APP = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\n"
    "  namespace: argocd\nspec:\n  project: default\n  source:\n"
    "    repoURL: https://example.invalid/org/repo.git\n    path: app\n"
    "  destination:\n    server: https://kubernetes.default.svc\n    namespace: app\n"
)
OUTSIDE = {
    "shared/cm.yaml": CM,
    "app/kustomization.yaml": "resources:\n  - ../shared/cm.yaml\n",
}


@NEEDS_KUSTOMIZE
def test_flux_builds_a_file_outside_the_kustomization_folder(make_repo, cli):
    """fluxcd/pkg kustomize/kustomize_generator.go (Build: LoadRestrictionsNone): a Flux
    Kustomization builds a kustomization that lists ../shared/cm.yaml, so it renders."""
    root = make_repo({**OUTSIDE, "clusters/home/app.yaml": FLUX_KS})
    code, found, _ = run(cli, root)
    assert code == 0, found
    assert not [f for f in found if f["rule"] == "render/build-failed"]


@NEEDS_KUSTOMIZE
def test_argo_cd_keeps_kustomizes_load_restrictor_unless_argocd_cm_lifts_it(make_repo, cli):
    """Argo CD runs kustomize with its default (root only) load restrictor; argocd-cm's
    kustomize.buildOptions may lift it (Argo CD docs/user-guide/kustomize.md)."""
    root = make_repo({**OUTSIDE, "argocd/app.yaml": ARGO_APP}, name="argo")
    code, found, _ = run(cli, root)
    assert code == 1
    hit = at(found, "app/kustomization.yaml", 1, "render/build-failed")
    assert "shared/cm.yaml" in hit["message"]
    argocd_cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n"
        "data:\n  kustomize.buildOptions: --load-restrictor LoadRestrictionsNone\n"
    )
    root = make_repo(
        {**OUTSIDE, "argocd/app.yaml": ARGO_APP, "argocd/argocd-cm.yaml": argocd_cm},
        name="lifted",
    )
    code, found, _ = run(cli, root)
    assert code == 0, found


CI_BUILD = (
    "on: [push]\njobs:\n  verify:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: |\n          kustomize build app \\\n"
    "            --enable-helm --load-restrictor=LoadRestrictionsNone\n"
)


@NEEDS_KUSTOMIZE
@pytest.mark.parametrize(
    ("recipe", "text"),
    [
        (".github/workflows/verify.yaml", CI_BUILD),
        ("Makefile", "render:\n\tkubectl kustomize --load-restrictor LoadRestrictionsNone app\n"),
        ("hack/build.sh", '#!/bin/sh\nkustomize build --load_restrictor none "$1"\n'),
    ],
)
def test_a_repository_whose_own_build_lifts_the_load_restrictor_is_built_that_way(
    make_repo, cli, recipe, text
):
    """kustomize kustomize/commands/build/flagloadrestrictor.go: --load-restrictor
    LoadRestrictionsNone lifts the default LoadRestrictionsRootOnly. A repository with no Argo
    CD Application or ApplicationSet whose own CI workflow, Makefile or script builds with it
    renders (shyuen/eas-weather-rs-k8s: helmGlobals.chartHome ../../charts)."""
    root = make_repo({**OUTSIDE, recipe: text})
    code, found, _ = run(cli, root)
    assert code == 0, found
    assert not [f for f in found if f["rule"] == "render/build-failed"]


@NEEDS_KUSTOMIZE
@pytest.mark.parametrize(
    "files",
    [
        # the recipe builds with kustomize's default: the default holds
        {
            ".github/workflows/verify.yaml": CI_BUILD.replace(
                " --load-restrictor=LoadRestrictionsNone", ""
            )
        },
        # documentation is no build recipe
        {"README.md": "kustomize build app --load-restrictor LoadRestrictionsNone\n"},
        # the flag for another tool is not kustomize's build
        {"Makefile": "lint:\n\tmytool --load-restrictor LoadRestrictionsNone\n"},
        # Argo CD's own configuration in the repository decides, not the CI workflow
        {
            ".github/workflows/verify.yaml": CI_BUILD,
            "argocd/app.yaml": ARGO_APP,
            "argocd/argocd-cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n"
                "  namespace: argocd\ndata:\n  kustomize.buildOptions: --enable-helm\n"
            ),
        },
    ],
)
def test_a_build_recipe_that_does_not_lift_the_load_restrictor_keeps_the_failure(
    make_repo, cli, files
):
    root = make_repo({**OUTSIDE, **files})
    code, found, _ = run(cli, root)
    assert code == 1
    hit = at(found, "app/kustomization.yaml", 1, "render/build-failed")
    assert "is not in or below" in hit["message"]


@NEEDS_KUSTOMIZE
def test_applications_without_argo_cds_configuration_are_built_as_the_repository_builds(
    make_repo, cli
):
    """Argo CD installed elsewhere (Terraform, another repository: gitops-bridge's layouts)
    keeps argocd-cm out of this one; the repository's own CI then says how it builds."""
    root = make_repo(
        {**OUTSIDE, ".github/workflows/verify.yaml": CI_BUILD, "argocd/app.yaml": ARGO_APP},
        name="external-argo",
    )
    code, found, _ = run(cli, root)
    assert code == 0, found
    assert not [f for f in found if f["rule"] == "render/build-failed"]


@NEEDS_KUSTOMIZE
def test_a_github_scp_style_remote_is_never_fetched_and_gh_prefix_is_a_local_path(make_repo, cli):
    """kustomize api/internal/git/repospec.go (extractHost, isStandardGithubHost): without a
    scheme or a user, only github.com/ and github.com: are remote; gh: is a local path."""
    root = make_repo(
        {
            "a/kustomization.yaml": "resources:\n  - github.com:org/repo.git/deploy?ref=v1.0.0\n",
            "b/kustomization.yaml": "resources:\n  - gh:org/repo/deploy?ref=v1\n",
        }
    )
    code, found, _ = run(cli, root)
    assert at(found, "a/kustomization.yaml", 2, "render/remote-source")["severity"] == "info"
    assert at(found, "b/kustomization.yaml", 2, "render/path-missing")
    assert code == 1


def test_a_schema_error_names_values_as_yaml_writes_them():
    """`containerPort: null` / `: true` are YAML's words; the message must not say None/True."""
    from gitops_guard.render.schemas import Schemas

    validator = Schemas().validator("apps/v1", "Deployment")
    assert validator is not None
    base = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:v1.2.3"}]},
            },
        },
    }
    container = base["spec"]["template"]["spec"]["containers"][0]
    container["ports"] = [{"containerPort": True}]
    messages = [e.message for e in validator.errors(base)]
    assert any(m.startswith("true is not of type") for m in messages), messages
    assert not any("True" in m for m in messages), messages
    # a null list item stays (only a mapping member's null is dropped, see below)
    app = Schemas().validator("argoproj.io/v1alpha1", "Application")
    assert app is not None
    options = {"syncPolicy": {"syncOptions": [None]}, "project": "default"}
    options["destination"] = {"server": "https://kubernetes.default.svc"}
    messages = [e.message for e in app.errors({**APP_BASE, "spec": options})]
    assert any(m.startswith("null is not of type") for m in messages), messages
    assert not any("None" in m for m in messages), messages


APP_BASE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "web", "namespace": "argocd"},
}


def test_a_field_written_as_null_is_dropped_before_validation_like_the_api_server():
    # apiextensions-apiserver pkg/apiserver/schema/defaulting/prunenulls.go
    # (PruneNonNullableNullsWithoutDefaults) removes a null the schema does not admit before
    # validating a custom resource; a built-in kind decodes a null field as an absent one
    from gitops_guard.render.schemas import Schemas

    schemas = Schemas()
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://example.com/r.git", "path": "web", "kustomize": None},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        },
    }
    validator = schemas.validator("argoproj.io/v1alpha1", "Application")
    assert validator is not None
    assert validator.errors(app) == []  # `kustomize:` with nothing under it
    # a wrong value is still wrong; a required field written as null is missing
    app["spec"]["source"]["kustomize"] = "yes"
    assert [e.field for e in validator.errors(app)] == [("spec", "source", "kustomize")]
    app["spec"]["source"]["kustomize"] = None
    app["spec"]["source"]["repoURL"] = None
    messages = [(e.field, e.message) for e in validator.errors(app)]
    assert messages == [(("spec", "source"), "'repoURL' is required")], messages
    deployment = schemas.validator("apps/v1", "Deployment")
    assert deployment is not None
    port = {"containerPort": None}
    pod = {"containers": [{"name": "web", "image": "nginx:v1.2.3", "ports": [port]}]}
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod},
            "strategy": None,
        },
    }
    found = [(e.field, e.message) for e in deployment.errors(obj)]
    assert found == [
        (("spec", "template", "spec", "containers", 0, "ports", 0), "'containerPort' is required")
    ], found


# what `kubeseal -o yaml` writes: it marshals a SealedSecret whose template embeds
# metav1.ObjectMeta, so a zero creationTimestamp is `null` (sealed-secrets
# pkg/apis/sealedsecrets/v1alpha1/sealedsecret_types.go SecretTemplateSpec)
KUBESEAL_OUTPUT = """\
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  creationTimestamp: null
  name: db
  namespace: web
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA==
  template:
    metadata:
      creationTimestamp: null
      name: db
      namespace: web
TEMPLATE_EXTRA    type: Opaque
"""


def test_kubeseal_output_passes_its_embedded_object_meta_is_all_of_object_meta(make_repo, cli):
    # controller-gen (generateEmbeddedObjectMeta) writes only name, namespace, labels,
    # annotations and finalizers for the template's metadata, under
    # x-kubernetes-preserve-unknown-fields; the controller decodes a whole ObjectMeta
    root = make_repo({"web/db.yaml": KUBESEAL_OUTPUT.replace("TEMPLATE_EXTRA", "")})
    code, found, _ = run(cli, root, "web/db.yaml")
    assert code == 0 and [f for f in found if f["rule"].startswith("render/")] == [], found


def test_a_true_error_in_a_sealed_secret_template_is_still_found(make_repo, cli):
    extra = "      lables:\n        app: db\n      generation: many\n"
    text = KUBESEAL_OUTPUT.replace("TEMPLATE_EXTRA", extra).replace("Opaque", "[Opaque]")
    root = make_repo({"web/db.yaml": text})
    code, found, _ = run(cli, root, "web/db.yaml")
    assert code == 1
    assert "'lables'" in at(found, "web/db.yaml", 16, "render/unknown-field")["message"]
    assert "'many' is not of type" in at(found, "web/db.yaml", 18, "render/schema")["message"]
    assert "a list is not of type" in at(found, "web/db.yaml", 19, "render/schema")["message"]
    assert not [f for f in found if "creationTimestamp" in f["message"]], found


CHILD_KS = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\n"
    "  namespace: flux-system\nspec:\n  path: ./apps/web/app\n  targetNamespace: web\n"
)
PARENT_PATCH = (
    "  patches:\n    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
    "        kind: Kustomization\n        metadata:\n          name: _\n        spec:\n"
    "          interval: 30m\n          prune: true\n          sourceRef:\n"
    "            kind: GitRepository\n            name: flux-system\n"
    "      target:\n        group: kustomize.toolkit.fluxcd.io\n        kind: Kustomization\n"
)


@NEEDS_KUSTOMIZE
def test_a_flux_parents_patches_fill_in_its_children_before_validation(make_repo, cli):
    """fluxcd/pkg kustomize/kustomize_generator.go appends spec.patches to the path's
    kustomization: a child Kustomization without interval/prune/sourceRef gets them there."""
    parent = FLUX_KS.replace("path: ./app", "path: ./apps/overlay")
    files = {
        "apps/web/ks.yaml": CHILD_KS,
        "apps/overlay/kustomization.yaml": "resources:\n  - ../web/ks.yaml\n",
    }
    root = make_repo({**files, "clusters/home/root.yaml": parent + PARENT_PATCH})
    code, found, _ = run(cli, root)
    assert code == 0, found
    # without the parent's patches the same child is missing what the API requires
    root = make_repo({**files, "clusters/home/root.yaml": parent}, name="unpatched")
    code, found, _ = run(cli, root)
    assert code == 1
    required = [f for f in found if f["rule"] == "render/schema" and "required" in f["message"]]
    assert required and all(f["path"] == "apps/web/ks.yaml" for f in required), found


@NEEDS_KUSTOMIZE
def test_a_flux_oci_source_path_is_relative_to_the_pushed_folder(make_repo, cli):
    """An OCIRepository made by `flux push artifact --path=./kubernetes`: the Kustomization's
    path ./apps/overlay is kubernetes/apps/overlay here, and its patches apply there too."""
    parent = (
        FLUX_KS.replace("path: ./app", "path: ./apps/overlay")
        .replace("kind: GitRepository", "kind: OCIRepository")
        .replace("flux-system\n", "flux-system\n", 1)
    )
    files = {
        "kubernetes/apps/web/ks.yaml": CHILD_KS,
        "kubernetes/apps/overlay/kustomization.yaml": "resources:\n  - ../web/ks.yaml\n",
    }
    root = make_repo({**files, "kubernetes/clusters/home/root.yaml": parent + PARENT_PATCH})
    code, found, _ = run(cli, root)
    assert code == 0, found
    root = make_repo({**files, "kubernetes/clusters/home/root.yaml": parent}, name="unpatched")
    code, found, _ = run(cli, root)
    assert code == 1
    assert {f["path"] for f in found if f["rule"] == "render/schema"} == {
        "kubernetes/apps/web/ks.yaml"
    }


@NEEDS_KUSTOMIZE
def test_each_units_objects_are_released_once_checked_and_every_crd_is_known_first(
    make_repo, cli, monkeypatch
):
    """Memory at scale (issue 16): a whole repository's renders are made first (a CRD one
    render holds validates another's custom resources), but only their output texts are held
    together; a unit's objects are read when it is checked and dropped after, so at most one
    unit's rendered objects are alive at a time."""
    import gc

    from gitops_guard.checks.manifests import check as manifests
    from gitops_guard.render.build import RenderedObject

    crd = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"""
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  sise: 3\n"
    maps = "---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v\n"
        for i in range(3)
    )
    root = make_repo(
        {  # the custom resource's unit renders before the one holding its CRD
            "a-app/widget.yaml": widget,
            "a-app/kustomization.yaml": "resources: [widget.yaml]\n",
            "b-app/maps.yaml": maps,
            "b-app/kustomization.yaml": "resources: [maps.yaml]\n",
            "z-crds/widget-crd.yaml": crd,
            "z-crds/kustomization.yaml": "resources: [widget-crd.yaml]\n",
        }
    )
    alive: list[tuple[str, int, int]] = []
    checked = manifests._Checker.check

    def counting(self, result):
        objects = result.objects
        gc.collect()
        live = sum(isinstance(o, RenderedObject) for o in gc.get_objects())
        alive.append((os.path.basename(os.path.dirname(result.unit.root)), live, len(objects)))
        return checked(self, result)

    monkeypatch.setattr(manifests._Checker, "check", counting)
    code, found, _ = run(cli, root)
    assert code == 1
    hit = at(found, "a-app/widget.yaml", 6, "render/unknown-field")
    assert "'sise'" in hit["message"]
    assert sorted(name for name, _, _ in alive) == ["a-app", "b-app", "z-crds"]
    assert [n for _, _, n in alive if n] and all(live == n for _, live, n in alive), alive


@NEEDS_KUSTOMIZE
def test_a_build_failure_names_paths_relative_to_the_repository(
    make_repo, cli, tmp_path, monkeypatch
):
    # kustomize quotes absolute paths ('/home/me/repo/apps/web/sub' must resolve to a
    # file); the reason is cached for every copy of the repository, so it names the path
    # from the repository root whatever the working folder or the checkout's place
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = {
        "apps/web/kustomization.yaml": "resources:\n  - sub\n",
        "apps/web/sub/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    }
    first, second = make_repo(files, "first"), make_repo(files, "second")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd, arg, shown in (
        (first / "apps", "web/kustomization.yaml", "'apps/web/sub'"),  # from a subfolder
        (second, "apps/web/kustomization.yaml", "'apps/web/sub'"),  # the cached reason
        # files outside the working repository: their folder is the repository
        (elsewhere, str(second / "apps/web/kustomization.yaml"), "'sub'"),
    ):
        code, found, _ = run(cli, cwd, arg)
        (hit,) = [f for f in found if f["rule"] == "render/build-failed"]
        reason = hit["message"].split(" does not render: ", 1)[1]
        assert code == 1 and shown in reason, hit
        assert str(tmp_path) not in reason and "/sub" not in reason.replace("web/sub", ""), hit


@NEEDS_HELM
def test_a_chart_failure_names_paths_relative_to_the_repository(make_repo, cli, tmp_path):
    # helm quotes the absolute path of a values file it cannot parse ("failed to parse
    # /home/me/repo/charts/api/values-prod.yaml: ...")
    app = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://example.com/repo.git
    path: charts/api
    helm:
      valueFiles: [values-prod.yaml]
  destination:
    server: https://kubernetes.default.svc
    namespace: api
"""
    root = make_repo(
        {
            "argocd/api.yaml": app,
            "charts/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
            "charts/api/values.yaml": "a: 1\n",
            "charts/api/values-prod.yaml": "a: [b\n",
            "charts/api/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            "  name: api\n",
        }
    )
    code, found, _ = run(cli, root / "charts")
    hits = [f for f in found if f["rule"] == "render/build-failed"]
    assert code == 1 and hits, found
    for hit in hits:
        reason = hit["message"].split(" does not render: ", 1)[1]
        assert "failed to parse charts/api/values-prod.yaml:" in reason, hit
        assert str(tmp_path) not in reason, hit


@NEEDS_KUSTOMIZE
def test_a_resource_file_kustomize_cannot_use_is_named_by_the_file_s_reason(
    make_repo, cli, tmp_path, monkeypatch
):
    # kustomize api/internal/target/kusttarget.go accumulateResources tries a resource it
    # cannot read as a file as a folder too and reports both ("accumulation err='<file
    # reason>': must build at directory: 'x': file is not directory"); the folder half only
    # says that a file is no folder. argoproj/argocd-example-apps' older kustomize-guestbook
    # listed ../guestbook files, which kustomize's default load restrictor refuses
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    deployment = DEPLOYMENT.replace("          RESOURCES\n", "")
    root = make_repo(
        {
            "kustomize-guestbook/kustomization.yaml": (
                "namePrefix: kustomize-\n\nresources:\n"
                "- ../guestbook/guestbook-ui-deployment.yaml\n"
            ),
            "guestbook/guestbook-ui-deployment.yaml": deployment,
            "meta/kustomization.yaml": "resources:\n- base\n",
            "meta/base/kustomization.yaml": "resources:\n- bad.yaml\n",
            "meta/base/bad.yaml": "foo: bar\n",
        }
    )
    code, found, _ = run(cli, root)
    reasons = {
        f["path"]: f["message"].split(" does not render: ", 1)[1]
        for f in found
        if f["rule"] == "render/build-failed"
    }
    assert code == 1 and set(reasons) == {
        "kustomize-guestbook/kustomization.yaml",
        "meta/kustomization.yaml",
    }, found
    assert reasons["kustomize-guestbook/kustomization.yaml"] == (
        "accumulating resources: accumulating resources from "
        "'../guestbook/guestbook-ui-deployment.yaml': security; file "
        "'guestbook/guestbook-ui-deployment.yaml' is not in or below 'kustomize-guestbook'"
    )
    assert reasons["meta/kustomization.yaml"].endswith(
        "accumulating resources from 'bad.yaml': missing Resource metadata"
    ), reasons
    assert not any("file is not directory" in r for r in reasons.values()), reasons


# ksera524/k8s_myHome (manifests/access/*): Argo CD directory applications of Gateway API
# routes; a kind no schema knows (nginx-gateway-fabric's ClientSettingsPolicy) is a note
ROUTE_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: harbor-access
  namespace: argocd
spec:
  project: access
  source:
    repoURL: https://github.com/ksera524/k8s_myHome.git
    targetRevision: HEAD
    path: manifests/access/harbor
  destination:
    server: https://kubernetes.default.svc
    namespace: harbor
"""
ROUTES = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: harbor-external-redirect
  namespace: harbor
spec:
  parentRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      name: nginx-gateway
      namespace: nginx-gateway
      sectionName: http
  hostnames:
    - harbor.example.com
  rules:
    - filters:
        - type: RequestRedirect
          requestRedirect:
            scheme: https
            statusCode: STATUS
      matches:
        - path:
            type: PathPrefix
            value: /
    - matches:
        - path:
            type: PathPrefix
            value: /api/
      BACKENDS:
        - group: ""
          kind: Service
          name: harbor-core
          port: 80
          weight: 1
---
apiVersion: gateway.nginx.org/v1alpha1
kind: ClientSettingsPolicy
metadata:
  name: harbor-external-client-settings
  namespace: harbor
spec:
  targetRef:
    group: gateway.networking.k8s.io
    kind: HTTPRoute
    name: harbor-external
  body:
    maxSize: "0"
"""


def test_a_directory_application_of_gateway_api_routes_is_validated_as_written(make_repo, cli):
    def files(status: str, backends: str) -> dict[str, str]:
        routes = ROUTES.replace("STATUS", status).replace("BACKENDS", backends)
        return {
            "manifests/bootstrap/harbor-access.yaml": ROUTE_APP,
            "manifests/access/harbor/manifest.yaml": routes,
        }

    code, found, _ = run(cli, make_repo(files("301", "backendRefs"), "routes-clean"))
    assert code == 0, found
    assert [(f["rule"], f["severity"]) for f in found] == [("render/no-schema", "info")]
    code, found, _ = run(cli, make_repo(files('"301"', "backendRef"), "routes-broken"))
    key = "manifests/access/harbor/manifest.yaml"
    assert code == 1
    assert "'301' is not one of 301" in at(found, key, 20, "render/schema")["message"]
    assert "'backendRef'" in at(found, key, 29, "render/unknown-field")["message"]


def test_an_unknown_field_written_as_null_is_no_finding_a_valued_one_is():
    # an Argo Rollout's template metadata names only labels and annotations; the API server
    # prunes what else is there, and `creationTimestamp: null` (what kubectl writes into every
    # template it prints) holds nothing to lose. A misspelled field with a value still does.
    from gitops_guard.render.schemas import Schemas

    validator = Schemas().validator("argoproj.io/v1alpha1", "Rollout")
    assert validator is not None
    meta: dict = {"creationTimestamp": None, "labels": {"app": "web"}}
    pod = {"containers": [{"name": "web", "image": "nginx:v1.2.3"}]}
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"canary": {}},
            "template": {"metadata": meta, "spec": pod},
        },
    }
    assert validator.errors(rollout) == []
    meta["lables"] = {"app": "web"}
    assert [(e.field, e.unknown) for e in validator.errors(rollout)] == [
        (("spec", "template", "metadata", "lables"), "lables")
    ]


def test_an_unknown_null_field_other_than_a_metadata_creation_timestamp_is_a_finding():
    # kubectl's default strict field validation refuses an unknown field of a custom resource
    # even written as null (scylladb/scylla-operator#1251); only the `creationTimestamp: null`
    # kubectl and kubeseal write into metadata is exempt
    from gitops_guard.render.schemas import Schemas

    validator = Schemas().validator("argoproj.io/v1alpha1", "Rollout")
    assert validator is not None
    meta: dict = {"creationTimestamp": None, "lables": None}
    pod = {"containers": [{"name": "web", "image": "nginx:v1.2.3"}]}
    spec = {
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"canary": {"stableService": "web", "stabelService": None}},
        "template": {"metadata": meta, "spec": pod},
    }
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": spec}
    rollout["metadata"] = {"name": "web"}
    assert sorted((e.field, e.unknown) for e in validator.errors(rollout)) == [
        (("spec", "strategy", "canary", "stabelService"), "stabelService"),
        (("spec", "template", "metadata", "lables"), "lables"),
    ]
    # creationTimestamp is a metadata field only: null elsewhere is an unknown field too
    meta.pop("lables")
    spec["strategy"] = {"canary": {"creationTimestamp": None}}
    assert [(e.field, e.unknown) for e in validator.errors(rollout)] == [
        (("spec", "strategy", "canary", "creationTimestamp"), "creationTimestamp")
    ]


@NEEDS_KUSTOMIZE
def test_an_overlay_of_a_folder_without_a_kustomization_says_so_whole(
    make_repo, cli, tmp_path, monkeypatch
):
    # Honeyshah624/retail-store-kustomize-argocd: overlays/dev/<svc> lists ../../../base/<svc>,
    # a folder of plain manifests. kustomize wraps "unable to find one of 'kustomization.yaml'
    # ..." in the overlay's layers (and the temporary wrapper's); the reason is that last part,
    # whole, not a cut middle
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    overlay = "overlays/development-environment/catalog-service/kustomization.yaml"
    root = make_repo(
        {
            overlay: "namespace: retail-store-dev\nresources:\n  - ../../../base/catalog\n",
            "base/catalog/application.yaml": DEPLOYMENT.replace("          RESOURCES\n", ""),
        }
    )
    code, found, _ = run(cli, root)
    (hit,) = [f for f in found if f["rule"] == "render/build-failed"]
    assert code == 1 and hit["path"] == overlay
    assert hit["message"].endswith(
        " does not render: unable to find one of 'kustomization.yaml', 'kustomization.yml' or "
        "'Kustomization' in directory 'base/catalog'"
    ), hit


# -- an Application source whose path has no value: Argo CD reads "" (the root) -------------

ROOT_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "values.yaml": 'image:\n  repository: alpine\n  tag: "3.19"\n',
    "values-staging.yaml": "image:\n  tag: v1.2.3\n",
    "templates/deploy.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        '  - name: web\n    image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    ),
}
ROOT_APP = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n"
    "  destination:\n    namespace: web\n  SOURCE"
)
OURS = "https://example.com/org/repo.git"


def _root_chart_images(make_repo, cli, source: str, remote: str = OURS) -> list[str]:
    from conftest import git

    root = make_repo({**ROOT_CHART, "app.yaml": ROOT_APP.replace("SOURCE", source)})
    git(root, "remote", "add", "origin", remote)
    old = os.getcwd()
    os.chdir(root)
    try:
        _code, out, err = cli("check-images", "values.yaml", "app.yaml")
    finally:
        os.chdir(old)
    assert "Traceback" not in err, err
    return [line.split(" ")[1] for line in out.splitlines()]


@NEEDS_HELM
@pytest.mark.parametrize("path", ["    path:\n", "    path: ~\n", "", '    path: ""\n'])
def test_an_application_path_with_no_value_is_the_repository_root(make_repo, cli, path):
    # argo-cd pkg/apis/application/v1alpha1/types.go: ApplicationSource.Path is a Go string
    # (`json:"path,omitempty"`), so `path:` with no value, or none, decodes to "": the root
    source = (
        f"source:\n    repoURL: {OURS}\n{path}    helm:\n      valueFiles: [values-staging.yaml]\n"
    )
    assert _root_chart_images(make_repo, cli, source) == ["image/overridden"]


@NEEDS_HELM
@pytest.mark.parametrize(
    ("source", "remote"),
    [
        # another repository's root: nothing of this one
        (
            "source:\n    repoURL: https://example.com/org/other.git\n    helm:\n"
            "      valueFiles: [values-staging.yaml]\n",
            OURS,
        ),
        # this repository, but no remote says so and no other path of it exists here
        (
            f"source:\n    repoURL: {OURS}\n    helm:\n      valueFiles: [values-staging.yaml]\n",
            "https://example.com/org/elsewhere.git",
        ),
        # a Helm repository's chart has no path
        (
            f"source:\n    repoURL: {OURS}\n    chart: web\n    helm:\n"
            "      valueFiles: [values-staging.yaml]\n",
            OURS,
        ),
        # a multi-source ref-only entry renders nothing (argo-cd reposerver/repository/
        # repository.go GenerateManifest skips it); the chart comes from a Helm repository
        (
            f"sources:\n  - repoURL: {OURS}\n    ref: values\n"
            "  - repoURL: https://charts.example.com\n    chart: web\n    helm:\n"
            "      valueFiles: [$values/values-staging.yaml]\n",
            OURS,
        ),
    ],
    ids=["other-repository", "not-known-ours", "helm-repository", "ref-only"],
)
def test_a_source_with_no_path_that_renders_no_root_leaves_the_chart_alone(
    make_repo, cli, source, remote
):
    assert _root_chart_images(make_repo, cli, source, remote) == ["image/tag-not-allowed"]


ROOT_KUSTOMIZE = {
    "kustomization.yaml": "resources:\n  - deploy.yaml\n",
    "deploy.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "  - name: web\n    image: nginx:1.16.0\n"
    ),
}


@pytest.mark.parametrize(
    ("path", "remote", "rule"),
    [
        ("    path:\n", OURS, "image/overridden"),
        ("", OURS, "image/overridden"),
        ("    path:\n", "https://example.com/org/elsewhere.git", "image/tag-not-allowed"),
    ],
    ids=["null", "missing", "another-repository"],
)
def test_an_application_with_no_path_retags_the_root_kustomization(
    make_repo, cli, path, remote, rule
):
    # the root's kustomization, as Argo CD renders a source with path "" (types.go above), with
    # the Application's kustomize.images (argo-cd reposerver/repository/repository.go)
    from conftest import git

    source = (
        f"source:\n    repoURL: {OURS}\n{path}    kustomize:\n      images:\n"
        "      - nginx:v1.17.0\n"
    )
    root = make_repo({**ROOT_KUSTOMIZE, "app.yaml": ROOT_APP.replace("SOURCE", source)})
    git(root, "remote", "add", "origin", remote)
    old = os.getcwd()
    os.chdir(root)
    try:
        _code, out, err = cli("check-images", "deploy.yaml")
    finally:
        os.chdir(old)
    assert "Traceback" not in err, err
    assert [line.split(" ")[1] for line in out.splitlines()] == [rule], out

"""drift: overlays rendered by the real kustomize (kubectl kustomize), compared resource by
resource; allowed differences ignored, images pending promotion, the rest drift."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import DATA
from gitops_guard.change import drift

DRIFT = DATA / "promotion" / "drift"
RENDERER = drift.renderer()
needs_renderer = pytest.mark.skipif(
    RENDERER is None, reason="no kustomize renderer (kustomize or kubectl) on PATH"
)


def build(root: Path, case: str) -> Path:
    shutil.copytree(DRIFT / "apps", root / "apps")
    shutil.copytree(DRIFT / case / "clusters", root / "clusters")
    return root


@needs_renderer
def test_only_allowed_differences_and_a_pending_image_is_not_drift(chdir, cli):
    build(chdir, "good")
    code, out, err = cli("drift", "--from", "staging", "--to", "production")
    assert code == 0, err
    assert out.splitlines() == [
        "web: Deployment/web/web spec.template.spec.containers[name=web].image: "
        'staging="registry.example.com/web:v1.3.0" production="registry.example.com/web:v1.2.0" '
        "(pending promotion)",
        "0 drift, 1 pending promotion, 2 allowed difference(s) ignored (staging -> production)",
    ]


@needs_renderer
def test_drift_is_reported_in_text_and_json_with_exit_1(chdir, cli):
    build(chdir, "bad")
    code, out, _ = cli("drift")
    assert code == 1
    assert (
        'web: ConfigMap/web/web-settings data.LOG_LEVEL: staging="info" production="debug" ' in out
    )
    assert "resources.limits.memory" in out and "2 drift, 1 pending promotion" in out
    code, out, _ = cli("drift", "--format", "json", "web")
    assert code == 1
    payload = json.loads(out)
    assert (payload["from"], payload["to"], payload["apps"]) == ("staging", "production", ["web"])
    kinds = {
        (d["kind"], d["path"]): (d["type"], d["from"], d["to"]) for d in payload["differences"]
    }
    assert kinds[("ConfigMap", "data.LOG_LEVEL")] == ("drift", "info", "debug")
    image = kinds[("Deployment", "spec.template.spec.containers[name=web].image")]
    assert image[0] == "pending promotion"
    assert payload["summary"]["allowed"] == 2


@needs_renderer
def test_policy_allowed_differences_replace_the_defaults(chdir, cli):
    build(chdir, "bad")
    (chdir / "policies").mkdir()
    (chdir / "policies" / "gitops-guard.yaml").write_text(
        "version: 1\npromotion:\n  allowed_differences:\n"
        "    ConfigMap: [data]\n"
        "    Deployment: [spec.replicas, 'spec.template.spec.containers[*].resources']\n"
    )
    code, out, err = cli("drift")
    assert code == 0, out + err
    assert "0 drift, 1 pending promotion, 4 allowed difference(s) ignored" in out


@needs_renderer
def test_resource_only_in_one_environment_is_drift(chdir, cli):
    build(chdir, "good")
    extra = chdir / "clusters" / "production" / "web"
    (extra / "pdb.yaml").write_text(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n"
        "spec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n"
    )
    kustomization = extra / "kustomization.yaml"
    text = kustomization.read_text()
    kustomization.write_text(
        text.replace("  - ../../../apps/web\n", "  - ../../../apps/web\n  - pdb.yaml\n")
    )
    code, out, _ = cli("drift")
    assert code == 1
    assert 'web: PodDisruptionBudget/web/web: staging=(absent) production="present" (drift)' in out


@needs_renderer
def test_renderer_error_is_a_clear_message(chdir, cli):
    build(chdir, "good")
    (chdir / "clusters" / "production" / "web" / "kustomization.yaml").write_text(
        "resources:\n  - ../../../apps/missing\n"
    )
    code, _, err = cli("drift")
    assert code == 1
    assert "kustomize" in err and "clusters/production/web" in err and "failed" in err
    assert "Traceback" not in err


VALUES = "replicaCount: {replicas}\nimage:\n  repository: registry.example.com/api\n  tag: {tag}\n"
JOB = "images:\n  - name: registry.example.com/job\n    newTag: {tag}\n"


@needs_renderer
def test_values_only_overlays_compare_key_by_key_and_unrendered_apps_are_counted(chdir, cli):
    # Argo CD helm.valueFiles: clusters/<env>/api/ holds values files, no kustomization
    for env, replicas, tag, extra in (
        ("staging", 1, "v2.0.0", "logLevel: debug\n"),
        ("production", 3, "v1.0.0", "logLevel: info\n"),
    ):
        folder = chdir / "clusters" / env / "api"
        folder.mkdir(parents=True)
        (folder / f"values-{env}.yaml").write_text(
            VALUES.format(replicas=replicas, tag=tag) + extra
        )
        job = chdir / "clusters" / env / "job"  # a kustomization on one side only: not rendered
        job.mkdir()
        name = "kustomization.yaml" if env == "staging" else "images.yaml"
        (job / name).write_text(JOB.format(tag=tag))
    code, out, err = cli("drift")
    assert code == 1, err
    assert out.splitlines() == [
        'api: HelmValues/values-<env>.yaml image.tag: staging="v2.0.0" production="v1.0.0" '
        "(pending promotion)",
        'api: HelmValues/values-<env>.yaml logLevel: staging="debug" production="info" (drift)',
        "1 drift, 1 pending promotion, 1 allowed difference(s) ignored, 1 not rendered "
        "(staging -> production)",
    ]
    assert "job: not rendered" in err
    code, out, _ = cli("drift", "--format", "json")
    assert json.loads(out)["summary"]["not_rendered"] == ["job"]


def test_no_renderer_is_a_usage_error(chdir, cli, monkeypatch, tmp_path_factory):
    build(chdir, "good")
    empty = tmp_path_factory.mktemp("empty-path")
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    code, _, err = cli("drift")
    assert code == 2
    assert "no kustomize renderer" in err


def test_bad_input_exit_codes(chdir, cli):
    build(chdir, "good")
    assert cli("drift", "--to", "qa")[0] == 2
    assert cli("drift", "--format", "sarif")[0] == 2
    if RENDERER is not None:
        code, _, err = cli("drift", "nope")
        assert code == 1 and "no overlay" in err


def test_allowed_paths_match_at_or_below_with_wildcards():
    pattern = drift._parse_pattern("spec.template.spec.containers[*].resources.requests")
    below = ["spec", "template", "spec", "containers", ("name", "web"), "resources", "requests"]
    assert drift._matches(pattern, [*below, "cpu"])
    assert not drift._matches(pattern, [*below[:-1], "limits", "cpu"])
    assert drift._matches(
        drift._parse_pattern("spec.containers[web].image"),
        ["spec", "containers", ("name", "web"), "image"],
    )


def test_diff_pairs_named_list_items_and_reports_leaves():
    a = {"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y"}]}}
    b = {"spec": {"containers": [{"name": "b", "image": "y"}, {"name": "a", "image": "x:2"}]}}
    (only,) = list(drift.diff(a, b, []))
    assert drift._show(only[0]) == "spec.containers[name=a].image"
    assert only[1:] == ("x:1", "x:2")


def test_generated_configmap_names_pair_up_and_embedded_values_diff_by_key():
    staging = {
        ("ConfigMap", "web", "web-values-5t9k9t6fkh"): {
            "data": {"values.yaml": "# staging\nreplicaCount: 1\nimage:\n  tag: v2\nlog: debug\n"}
        },
        ("HelmRelease", "web", "web"): {
            "spec": {"valuesFrom": [{"kind": "ConfigMap", "name": "web-values-5t9k9t6fkh"}]}
        },
    }
    production = {
        ("ConfigMap", "web", "web-values-gmdc9d8thk"): {
            "data": {"values.yaml": "# production\nreplicaCount: 3\nimage:\n  tag: v1\nlog: info\n"}
        },
        ("HelmRelease", "web", "web"): {
            "spec": {"valuesFrom": [{"kind": "ConfigMap", "name": "web-values-gmdc9d8thk"}]}
        },
    }
    a, b = drift._unhash(staging), drift._unhash(production)
    assert set(a) == set(b)
    key = ("ConfigMap", "web", "web-values-<hash>")
    found = {drift._show(p): (x, y) for p, x, y in drift.diff(a[key], b[key], [])}
    assert found == {
        'data["values.yaml"].image.tag': ("v2", "v1"),
        'data["values.yaml"].log': ("debug", "info"),
        'data["values.yaml"].replicaCount': (1, 3),
    }
    hr = ("HelmRelease", "web", "web")
    assert list(drift.diff(a[hr], b[hr], [])) == []
    image_path = drift._parse_pattern('data["values.yaml"].image.tag')
    assert drift._is_image(image_path, "v2", "v1")
    assert drift._matches(
        drift._parse_pattern("data.*.replicaCount"), [*image_path[:2], "replicaCount"]
    )


@needs_renderer
@pytest.mark.parametrize("answers", [("kustomize", "argocd"), ("helm", "flux"), ("helm", "argocd")])
def test_a_generated_repository_has_no_drift_only_the_pending_tag(answers, chdir, cli):
    """The template's overlays differ by design (environment labels, replicas); after CI bumps
    staging, drift shows the tag as pending, and after promote nothing is left."""
    app_format, engine = answers
    code, _, err = cli(
        "new", "repo", "--no-input", "--set", f"app_format={app_format}",
        "--set", f"gitops_engine={engine}",
    )  # fmt: skip
    assert code == 0, err
    os.chdir(chdir / "repo")
    code, out, err = cli("drift")
    assert code == 0 and "0 drift, 0 pending promotion" in out, out + err
    staging = chdir / "repo" / "clusters" / "staging" / "demo-app"
    for path in staging.glob("*.yaml"):
        text = path.read_text()
        if "newTag: v0.1.0" in text or "  tag: v0.1.0" in text:
            path.write_text(text.replace("v0.1.0", "v0.2.0"))
    code, out, err = cli("drift")
    assert code == 0 and "0 drift, 1 pending promotion" in out, out + err
    assert "v0.2.0" in out
    assert cli("promote", "demo-app", "--write")[0] == 0
    code, out, _ = cli("drift")
    assert code == 0 and "0 drift, 0 pending promotion" in out
    assert cli("check-promotion", "--require", "current")[0] == 0


@needs_renderer
def test_argocd_applications_named_after_their_environment_pair_up(chdir, cli):
    # the README's `drift argocd`: Applications are <env>-<app>, sources clusters/<env>/<app>
    code, _, err = cli("new", "repo", "--no-input", "--set", "gitops_engine=argocd")
    assert code == 0, err
    os.chdir(chdir / "repo")
    code, out, err = cli("drift", "argocd")
    assert code == 0 and out.startswith("0 drift, 0 pending promotion"), out + err
    app = chdir / "repo" / "clusters" / "production" / "argocd" / "demo-app.yaml"
    app.write_text(app.read_text().replace("path: clusters/production/", "path: clusters/staging/"))
    code, out, _ = cli("drift", "argocd")
    assert code == 1
    assert (
        "argocd: Application/argocd/<env>-demo-app spec.source.path: "
        'staging="clusters/<env>/demo-app" production="clusters/staging/demo-app" (drift)'
    ) in out


@needs_renderer
def test_kubectl_next_to_python_renders_without_path(monkeypatch, tmp_path_factory):
    """The render extra installs kubectl into the venv's bin, which may not be on PATH."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    venv_bin = tmp_path_factory.mktemp("venv-bin")
    (venv_bin / "kubectl").symlink_to(kubectl)
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert drift.renderer() == [str(venv_bin / "kubectl"), "kustomize"]


SECRETS = {
    "staging": ("PW-for-staging-Zq8fTr2mWx", "tok-staging-Hq7Lm2Vb9x", "only-staging-Kq3Ws8"),
    "production": ("PW-for-production-Zq8fTr2mWx", "tok-production-Hq7Lm2Vb9x"),
}


def _plant_secrets(root: Path) -> list[str]:
    """secretGenerator literals that differ per environment, a key only staging has, and a
    literal API_TOKEN env var next to a harmless MODE one; returns every form a value takes."""
    forms = []
    for env, values in SECRETS.items():
        literals = [f"password={values[0]}", "user=app"]
        if len(values) > 2:
            literals.append(f"extra={values[2]}")
        kustomization = root / "clusters" / env / "web" / "kustomization.yaml"
        patch = (
            "  - target: {kind: Deployment, name: web}\n    patch: |\n"
            "      - op: add\n        path: /spec/template/spec/containers/0/env\n"
            f"        value: [{{name: API_TOKEN, value: {values[1]}}},"
            f" {{name: MODE, value: {env}}}]\n"
        )
        text = kustomization.read_text()
        text = (
            text.replace("patches:\n", f"patches:\n{patch}")
            if "patches:" in text
            else (text + f"patches:\n{patch}")
        )
        kustomization.write_text(
            text + f"secretGenerator:\n  - name: db\n    literals: {literals}\n"
        )
        for value in values:
            forms += [value, base64.b64encode(value.encode()).decode()]
    return forms


@needs_renderer
def test_secret_values_appear_in_no_drift_output(chdir, cli):
    forms = _plant_secrets(build(chdir, "good"))
    code, out, err = cli("drift")
    assert code == 1, out + err
    assert (
        "Secret/web/db-<hash> data.password: staging=(hidden, 36 chars) production=(hidden, " in out
    )
    assert "data.extra: staging=(hidden, " in out and "production=(absent)" in out
    assert "env[name=API_TOKEN].value: staging=(hidden, 22 chars)" in out
    assert 'env[name=MODE].value: staging="staging" production="production"' in out
    code_json, payload, err_json = cli("drift", "--format", "json")
    assert code_json == 1
    hidden = {d["path"]: (d["from"], d["to"]) for d in json.loads(payload)["differences"]}
    assert hidden["data.password"] == ("(hidden, 36 chars)", "(hidden, 40 chars)")
    for text in (out, err, payload, err_json):
        for form in forms:
            assert form not in text


def test_concealed_values_keep_shape_and_key_names_but_no_value():
    secret = {"password": "hunter2-Zq8f", "port": 5432, "list": ["a-b-c"]}
    assert drift._conceal("Secret", ["data"], secret) == {
        "password": "(hidden, 12 chars)",
        "port": "(hidden)",
        "list": ["(hidden, 5 chars)"],
    }
    assert drift._secret_path("Secret", ["stringData", "x"])
    assert drift._secret_path("ConfigMap", ["data", "values.yaml", "db", "adminPassword"])
    env = ["spec", "template", "spec", "containers", ("name", "web"), "env"]
    assert drift._secret_path("Deployment", [*env, ("name", "DB_PASSWORD"), "value"])
    assert drift._secret_path("Deployment", [*env, ("name", "DB_PASSWORD")])
    assert not drift._secret_path("Deployment", [*env, ("name", "DB_PASSWORD"), "valueFrom"])
    assert not drift._secret_path("ConfigMap", ["data", "LOG_LEVEL"])
    assert not drift._secret_path("Secret", ["metadata", "labels", "app"])
    assert drift._conceal("ConfigMap", ["data", "LOG_LEVEL"], "info") == "info"


@needs_renderer
def test_production_ahead_of_staging_is_not_pending_promotion(chdir, cli):
    build(chdir, "good")
    for env, tag in (("staging", "v1.2.0"), ("production", "v1.3.0")):
        path = chdir / "clusters" / env / "web" / "kustomization.yaml"
        text = path.read_text()
        path.write_text(text.replace("v1.3.0", tag).replace("v1.2.0", tag))
    code, out, _ = cli("drift", "--from", "staging", "--to", "production")
    assert code == 1
    assert "(ahead of the source)" in out and "pending promotion)" not in out
    assert "0 drift, 0 pending promotion, 1 ahead of staging" in out
    assert drift._direction("r/web:v1.3.0", "r/web:v1.2.0") == drift.PENDING
    assert drift._direction("v1.2.0", "v1.10.0") == drift.AHEAD
    assert drift._direction("abc123", "def456") == drift.PENDING  # no order to tell


def test_a_newline_in_a_file_or_folder_name_never_splits_an_output_line(chdir, cli):
    """Names from the repository are escaped as the reports escape paths
    (core/findings.printable_path): one difference, one line."""
    for env, tag in (("staging", "v2.0.0"), ("production", "v1.0.0")):
        folder = chdir / "clusters" / env / "a\npi"
        folder.mkdir(parents=True)
        (folder / f"values-{env}.yaml").write_text(VALUES.format(replicas=1, tag=tag))
    code, out, err = cli("drift")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("a\\npi: HelmValues/values-<env>.yaml image.tag: "), out
    assert len(lines) == 2 and lines[1].startswith("0 drift, 1 pending promotion"), out


def _kargo_layout(root: Path, namespaces: dict[str, str]) -> None:
    """Kargo's simple example (akuity/kargo-simple): env/<env>/ overlays of one base, each with
    its own ``namespace:``."""
    (root / "base").mkdir()
    (root / "base" / "kustomization.yaml").write_text("resources:\n- deploy.yaml\n")
    (root / "base" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: guestbook\nspec:\n"
        "  selector: {matchLabels: {app: g}}\n  template:\n    metadata: {labels: {app: g}}\n"
        "    spec:\n      containers:\n      - name: g\n        image: ghcr.io/x/guestbook:v1\n"
    )
    for env, namespace in namespaces.items():
        (root / "env" / env).mkdir(parents=True)
        (root / "env" / env / "kustomization.yaml").write_text(
            f"resources:\n- ../../base\n- ns.yaml\nnamespace: {namespace}\n"
            "images:\n- name: ghcr.io/x/guestbook\n  newTag: v2\n"
        )
        (root / "env" / env / "ns.yaml").write_text(
            f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
        )
    (root / "policies").mkdir()
    (root / "policies" / "gitops-guard.yaml").write_text(
        "version: 1\npromotion:\n  environments: [staging, prod]\n"
    )


@needs_renderer
@pytest.mark.parametrize("style", ["guestbook-{env}", "{env}"])
def test_a_namespace_named_after_each_environment_is_not_drift(chdir, cli, style):
    # each overlay's own `namespace:` (kustomize's namespace transformer) names its environment:
    # the objects are the same app's, not one absent from each side
    _kargo_layout(chdir, {env: style.format(env=env) for env in ("staging", "prod")})
    code, out, err = cli("drift", "--from", "staging", "--to", "prod")
    assert code == 0 and out.startswith("0 drift, 0 pending promotion"), out + err


@needs_renderer
def test_a_namespace_that_differs_beyond_the_environment_name_is_still_drift(chdir, cli):
    _kargo_layout(chdir, {"staging": "guestbook-staging", "prod": "shop-prod"})
    code, out, _ = cli("drift", "--from", "staging", "--to", "prod")
    assert code == 1
    assert 'Deployment/guestbook-<env>/guestbook: staging="present" prod=(absent)' in out
    assert 'Deployment/shop-<env>/guestbook: staging=(absent) prod="present"' in out


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LEVEL: {}\n"


def test_no_app_setting_an_image_says_there_is_nothing_to_compare(
    chdir, cli, monkeypatch, tmp_path_factory
):
    # overlays that set no image (bootstrap folders only): no "0 drift", which reads as "they
    # agree"; nothing is rendered, so no renderer is needed either (exit 0: nothing drifted)
    for env, level in (("staging", "info"), ("production", "debug")):
        folder = chdir / "clusters" / env / "argocd"
        folder.mkdir(parents=True)
        (folder / "settings.yaml").write_text(CONFIGMAP.format(level))
    empty = tmp_path_factory.mktemp("empty-path")
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    code, out, err = cli("drift")
    assert (code, err) == (0, "")
    assert out == (
        "no app in staging or production sets an image: nothing to compare "
        "(overlay folders: 'argocd'; name one to compare it: gitops-guard drift APP)\n"
    )
    assert "0 drift" not in out
    code, out, _ = cli("drift", "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["apps"] == [] and payload["differences"] == []
    assert payload["note"].startswith("no app in staging or production sets an image")
    # naming the folder compares it, as before (and then it needs the renderer)
    assert cli("drift", "argocd")[0] == 2


@needs_renderer
def test_an_app_setting_an_image_is_compared_not_reported_as_nothing(chdir, cli):
    build(chdir, "good")
    code, out, err = cli("drift")
    assert "nothing to compare" not in out + err
    assert code == 0 and "0 drift" in out
    assert json.loads(cli("drift", "--format", "json")[1])["apps"] == ["web"]


@needs_renderer
@pytest.mark.parametrize(
    "namespaces,code",
    [
        ({"stage": "guestbook-stage", "prod": "guestbook-prod"}, 0),
        ({"stage": "guestbook-stage", "prod": "shop-prod"}, 1),
    ],
    ids=["same-app", "another-app"],
)
def test_the_default_orders_stage_and_prod_folders_pair_up_by_those_names(
    namespaces, code, chdir, cli
):
    # no promotion.environments: env/stage/ is staging's, env/prod/ production's, and a name
    # or namespace embedding stage / prod pairs up as one embedding staging / production does
    _kargo_layout(chdir, namespaces)
    (chdir / "policies" / "gitops-guard.yaml").unlink()
    got, out, err = cli("drift")
    assert got == code, out + err
    if code == 0:
        assert out.startswith("0 drift, 0 pending promotion") and "(staging -> production)" in out
    else:
        assert 'Deployment/shop-<env>/guestbook: staging=(absent) production="present"' in out

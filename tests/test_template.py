"""The cookiecutter template: every combination of answers generates a repository whose
overlays render, whose CI files match their public schemas, which passes its own checks, and
whose Helm templates and GitHub expressions survive Jinja. Bad answers leave nothing behind.

Generation uses cookiecutter's Python API in this process (the template's hooks still run as
scripts, as they do for users); each combination is generated once per session.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, git
from gitops_guard.cli import main
from gitops_guard.core.rules import RULES

TEMPLATE = ROOT / "template"
PROJECT = TEMPLATE / "{{cookiecutter.repo_slug}}"
ENGINES = ("argocd", "flux")
CIS = ("github", "gitlab", "none")
BACKENDS = ("sealed-secrets", "external-secrets", "sops")
FORMATS = ("kustomize", "helm")
COMBOS = list(itertools.product(ENGINES, CIS, BACKENDS, FORMATS))
APP = "demo-app"
REGISTRY = "registry.example.com"


def combo_id(combo: tuple[str, ...]) -> str:
    return "-".join(combo)


def generate(out: Path, **answers: str) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(out))
    )


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Path]:
    """Every combination, generated once."""
    out = tmp_path_factory.mktemp("combos")
    repos = {}
    for combo in COMBOS:
        engine, ci, backend, fmt = combo
        repos[combo] = generate(
            out / combo_id(combo),  # the same answers otherwise: equal files compare equal
            gitops_engine=engine,
            ci_provider=ci,
            secrets_backend=backend,
            app_format=fmt,
        )
    return repos


def files_of(repo: Path) -> set[str]:
    return {str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file()}


def load_all(path: Path) -> list:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


# -- the layout each answer chooses ----------------------------------------------------------


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_every_combination_generates_the_layout_it_asked_for(generated, combo):
    engine, ci, backend, fmt = combo
    repo = generated[combo]
    files = files_of(repo)
    common = {
        "README.md",
        "CODEOWNERS",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".secrets.baseline",
        "policies/gitops-guard.yaml",
    }
    assert common <= files
    for env in ("staging", "production"):
        overlay = f"clusters/{env}/{APP}"
        assert f"clusters/{env}/infrastructure/namespace.yaml" in files
        if fmt == "kustomize":
            assert f"{overlay}/kustomization.yaml" in files
            assert f"{overlay}/values.yaml" not in files
        else:
            assert f"{overlay}/values.yaml" in files
            assert (f"{overlay}/helmrelease.yaml" in files) == (engine == "flux")
            assert (f"{overlay}/kustomization.yaml" in files) == (engine == "flux")
        assert (f"clusters/{env}/root-app.yaml" in files) == (engine == "argocd")
        assert (f"clusters/{env}/argocd/{APP}.yaml" in files) == (engine == "argocd")
        assert (f"clusters/{env}/flux/{APP}.yaml" in files) == (engine == "flux")
        assert (f"{overlay}/sealed-secret.yaml" in files) == (backend == "sealed-secrets")
        assert (f"{overlay}/external-secret.yaml" in files) == (backend == "external-secrets")
        assert (f"clusters/{env}/infrastructure/secret-store.yaml" in files) == (
            backend == "external-secrets"
        )
        assert (f"{overlay}/credentials.sops.yaml" in files) == (backend == "sops")
    assert (".sops.yaml" in files) == (backend == "sops")
    assert ("bootstrap/argocd/argocd-cm.yaml" in files) == (engine == "argocd")
    assert (f"apps/{APP}/Chart.yaml" in files) == (fmt == "helm")
    assert (f"apps/{APP}/deployment.yaml" in files) == (fmt == "kustomize")
    assert (".github/workflows/pre-commit.yml" in files) == (ci == "github")
    assert (".github/workflows/promote.yml" in files) == (ci == "github")
    assert (".gitlab-ci.yml" in files) == (ci == "gitlab")
    for rel in files:
        text = (repo / rel).read_text(encoding="utf-8")
        assert "cookiecutter" not in text, f"{rel}: unrendered template variable"
        assert "{%" not in text, f"{rel}: unrendered Jinja"


def test_no_empty_folders_are_left_by_the_deletions(generated):
    for repo in generated.values():
        empty = [p for p in repo.rglob("*") if p.is_dir() and not any(p.iterdir())]
        assert empty == []


# -- what the files say -----------------------------------------------------------------------


def overlay_images(repo: Path, env: str, fmt: str) -> list[str]:
    folder = repo / "clusters" / env / APP
    if fmt == "kustomize":
        (kustomization,) = load_all(folder / "kustomization.yaml")
        return [f"{i['name']}:{i['newTag']}" for i in kustomization["images"]]
    (values,) = load_all(folder / "values.yaml")
    image = values["image"]
    return [f"{image['registry']}/{image['repository']}:{image['tag']}"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_environment_runs_the_registry_image_at_a_release_tag(generated, fmt):
    repo = generated[("argocd", "github", "sops", fmt)]
    for env in ("staging", "production"):
        (image,) = overlay_images(repo, env, fmt)
        name, tag = image.rsplit(":", 1)
        assert name == f"{REGISTRY}/{APP}"
        assert tag == "v0.1.0"


def test_the_image_registry_answer_reaches_images_and_policy(tmp_path):
    repo = generate(tmp_path, image_registry="localhost:5000/team", app_name="shop")
    kustomization = (repo / "clusters/staging/shop/kustomization.yaml").read_text()
    assert "name: localhost:5000/team/shop\n" in kustomization
    (policy,) = load_all(repo / "policies/gitops-guard.yaml")
    assert policy["images"]["allowed_registries"] == ["localhost:5000/team"]


def test_policy_has_schema_comment_and_commented_stricter_options(generated):
    repo = generated[COMBOS[0]]
    text = (repo / "policies/gitops-guard.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "    #   require_digest: true" in text
    from gitops_guard.core.policy import load_policy

    policy = load_policy(repo / "policies/gitops-guard.yaml")  # valid against the schema
    assert policy.section("images")["allowed_registries"] == [REGISTRY]
    assert policy.environments == ["staging", "production"]


def uncomment_stricter_options(text: str) -> str:
    """What a user does: strip the leading "# " of the block under "Stricter options", and of
    the commented ``images:`` lines under each environment (``    # images:``)."""
    head, marker, block = text.partition("# Stricter options")
    assert marker, "the policy has no stricter options block"
    head = re.sub(r"(?m)^    # (images:|  require_digest)", r"    \1", head)
    lines = block.splitlines(keepends=True)
    rest = [line[2:] if line.startswith("# ") else line for line in lines[1:]]
    return head + marker + lines[0] + "".join(rest)


def test_the_stricter_options_uncommented_validate_and_the_repository_still_passes(
    generated, tmp_path
):
    from gitops_guard.core.policy import load_policy
    from gitops_guard.scaffold import demo

    repo = tmp_path / "repo"
    shutil.copytree(generated[("argocd", "github", "sealed-secrets", "kustomize")], repo)
    policy_file = repo / "policies/gitops-guard.yaml"
    text = policy_file.read_text()
    current = text.replace("  require: history", "  # require: history").replace(
        "  # require: current", "  require: current"
    )
    assert "\n  require: current" in current
    assert (
        load_policy_text(tmp_path / "current.yaml", current).section("promotion")["require"]
        == "current"
    )
    strict = uncomment_stricter_options(text)
    policy_file.write_text(strict)
    policy = load_policy(policy_file)  # one mapping, no duplicate key, valid against the schema
    assert policy.section("images", "production")["require_digest"] is True
    severities = policy.data["rules"]
    assert severities and all(severities[rule] != RULES[rule].severity for rule in severities), (
        "a rules example that changes nothing"
    )
    # what the stricter options ask for: production pinned by digest; then every hook passes
    overlay = repo / f"clusters/production/{APP}/kustomization.yaml"
    overlay.write_text(
        overlay.read_text().replace(
            "    newTag: v0.1.0\n", "    newTag: v0.1.0\n    digest: sha256:" + "0" * 64 + "\n"
        )
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    for check in demo.CHECKS:
        outcome = demo.run_check(repo, check, main)
        assert outcome.code == 0, f"{check.command}: {outcome.out}{outcome.err}"


def load_policy_text(path: Path, text: str):
    from gitops_guard.core.policy import load_policy

    path.write_text(text)
    return load_policy(path)


def test_pre_commit_config_uses_only_this_projects_hooks_at_the_private_pin(tmp_path):
    repo = generate(tmp_path, _hooks_repo="https://git.example.com/hooks", _hooks_rev="v9.9.9")
    (config,) = load_all(repo / ".pre-commit-config.yaml")
    (entry,) = config["repos"]
    assert entry["repo"] == "https://git.example.com/hooks"
    assert entry["rev"] == "v9.9.9"
    published = [h["id"] for h in load_all(ROOT / ".pre-commit-hooks.yaml")[0]]
    assert [h["id"] for h in entry["hooks"]] == published


def test_hooks_rev_default_is_this_version():
    from gitops_guard import __version__

    data = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert data["_hooks_rev"] == f"v{__version__}"


def test_variables_of_the_design_with_first_choice_as_default():
    data = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert data["gitops_engine"] == list(ENGINES)
    assert data["ci_provider"] == list(CIS)
    assert data["app_format"] == list(FORMATS)
    assert data["secrets_backend"] == list(BACKENDS)
    assert data["image_registry"] == REGISTRY
    assert data["app_name"] == APP
    assert {"project_name", "repo_slug"} <= set(data)


def test_secrets_baseline_is_static(generated):
    texts = {(repo / ".secrets.baseline").read_bytes() for repo in generated.values()}
    assert len(texts) == 1
    baseline = json.loads(texts.pop())
    assert baseline["results"] == {}
    assert "generated_at" in baseline


def test_codeowners_platform_owns_clusters_and_policies_apps_teams_own_apps(generated):
    lines = (generated[COMBOS[0]] / "CODEOWNERS").read_text().splitlines()
    owners = dict(line.split(None, 1) for line in lines if line and not line.startswith("#"))
    assert owners["/clusters/"] == owners["/policies/"] == "@example-org/platform-team"
    assert owners["/apps/"] == "@example-org/app-team"


def test_no_plaintext_secret_is_generated(generated):
    for repo in generated.values():
        for path in list(repo.rglob("*.yaml")):
            if "templates" in path.parts or path.name.endswith("notifications-cm.yaml"):
                continue
            for doc in load_all(path):
                if isinstance(doc, dict) and doc.get("kind") == "Secret":
                    assert "sops" in doc, path  # only SOPS-encrypted Secrets
                    assert all(v.startswith("ENC[AES256_GCM,") for v in doc["stringData"].values())


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_secret_instructions_name_only_files_the_repository_has(generated, combo):
    """The instruction to list a secret in the overlay's kustomization.yaml appears only where
    the overlay has one: an Argo CD Helm app's overlay is values only (the Application renders
    the chart)."""
    backend = combo[2]
    repo = generated[combo]
    overlay = repo / "clusters" / "staging" / APP
    texts = [(repo / "README.md").read_text()]
    texts += [p.read_text() for p in sorted(overlay.glob("*secret*.yaml"))]
    says_kustomization = any(
        phrase in text
        for text in texts
        for phrase in (
            "overlay's `kustomization.yaml`",
            "their `kustomization.yaml`",
            "list it in kustomization.yaml",
        )
    )
    has_kustomization = (overlay / "kustomization.yaml").exists()
    assert not says_kustomization or has_kustomization
    if backend != "sops":
        assert says_kustomization == has_kustomization
        if not has_kustomization:
            assert f"`apps/{APP}/templates/`" in texts[0]


def test_helm_templates_are_copied_verbatim(generated):
    source = PROJECT / "apps" / "{{cookiecutter.app_name}}" / "templates"
    for combo in COMBOS:
        if combo[3] != "helm":
            continue
        target = generated[combo] / "apps" / APP / "templates"
        names = sorted(p.name for p in source.iterdir())
        assert sorted(p.name for p in target.iterdir()) == names
        for name in names:
            assert (target / name).read_bytes() == (source / name).read_bytes()
    assert "{{ include" in (source / "deployment.yaml").read_text()


def test_github_expressions_survive_jinja(generated):
    workflows = generated[("argocd", "github", "sops", "kustomize")] / ".github/workflows"
    promote = (workflows / "promote.yml").read_text()
    assert "${{ inputs.app }}" in promote
    assert "${{ secrets.PROMOTION_TOKEN || github.token }}" in promote
    assert "gitops-guard promote" in promote
    assert "gh pr create" in promote
    (doc,) = load_all(workflows / "promote.yml")
    assert "workflow_dispatch" in doc[True]  # YAML 1.1 reads the key `on` as True
    check = (workflows / "pre-commit.yml").read_text()
    assert "${{ hashFiles('.pre-commit-config.yaml') }}" in check
    assert "pre-commit run --all-files" in check
    assert "PRE_COMMIT_FROM_REF: ${{ github.event.pull_request.base.sha }}" in check


def test_gitlab_ci_runs_pre_commit_and_a_manual_promotion(generated):
    (ci,) = load_all(generated[("flux", "gitlab", "sops", "helm")] / ".gitlab-ci.yml")
    assert "pre-commit run --all-files" in " ".join(ci["pre-commit"]["script"])
    assert 'PRE_COMMIT_FROM_REF="$CI_MERGE_REQUEST_DIFF_BASE_SHA"' in " ".join(
        ci["pre-commit"]["script"]
    )  # check-promotion's base in a merge request
    promote = ci["promote"]
    assert promote["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "web"'}]
    assert any("gitops-guard promote" in line for line in promote["script"])
    assert any("merge_request.create" in line for line in promote["script"])


# -- the engines ------------------------------------------------------------------------------


def sync_wave(doc: dict) -> int:
    return int(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_argocd_applications_heal_prune_retry_and_sync_in_waves(generated, fmt):
    repo = generated[("argocd", "github", "sealed-secrets", fmt)]
    for env in ("staging", "production"):
        (root,) = load_all(repo / f"clusters/{env}/root-app.yaml")
        (infra,) = load_all(repo / f"clusters/{env}/argocd/infrastructure.yaml")
        (app,) = load_all(repo / f"clusters/{env}/argocd/{APP}.yaml")
        for application in (root, infra, app):
            policy = application["spec"]["syncPolicy"]
            assert policy["automated"] == {"prune": True, "selfHeal": True}
            assert policy["retry"]["backoff"]["factor"] == 2
        assert sync_wave(infra) < sync_wave(app)
        (namespace,) = load_all(repo / f"clusters/{env}/infrastructure/namespace.yaml")
        assert sync_wave(namespace) < 0
        if fmt == "helm":
            helm = app["spec"]["source"]["helm"]
            assert helm["valueFiles"] == [f"../../clusters/{env}/{APP}/values.yaml"]
    (cm,) = load_all(repo / "bootstrap/argocd/argocd-cm.yaml")
    assert (
        "obj.status.health.status"
        in cm["data"]["resource.customizations.health.argoproj.io_Application"]
    )
    (notifications,) = load_all(repo / "bootstrap/argocd/argocd-notifications-cm.yaml")
    assert {"trigger.on-sync-failed", "trigger.on-health-degraded"} <= set(notifications["data"])
    assert "{{.app.metadata.name}}" in notifications["data"]["template.app-sync-failed"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_flux_kustomizations_prune_wait_time_out_and_depend(generated, fmt):
    repo = generated[("flux", "github", "sops", fmt)]
    for env in ("staging", "production"):
        flux = repo / f"clusters/{env}/flux"
        (source,) = load_all(flux / "source.yaml")
        assert source["kind"] == "GitRepository"
        (infra,) = load_all(flux / "infrastructure.yaml")
        (app,) = load_all(flux / f"{APP}.yaml")
        for kustomization in (infra, app):
            spec = kustomization["spec"]
            assert spec["prune"] is True and spec["timeout"]
            assert spec["sourceRef"]["name"] == source["metadata"]["name"]
            assert spec.get("wait") or spec.get("healthChecks")
        assert app["spec"]["dependsOn"] == [{"name": "infrastructure"}]
        kinds = {d["kind"] for d in load_all(flux / "notifications.yaml")}
        assert kinds == {"Alert", "Provider"}
        if fmt == "helm":
            (release,) = load_all(repo / f"clusters/{env}/{APP}/helmrelease.yaml")
            assert release["spec"]["upgrade"]["remediation"]["strategy"] == "rollback"
            assert release["spec"]["driftDetection"]["mode"] == "enabled"
            assert app["spec"]["healthChecks"][0]["kind"] == "HelmRelease"


# -- external tools: kustomize, the CI schemas ------------------------------------------------


def _tree_digest(repo: Path) -> str:
    """What kustomize reads: everything under apps/, clusters/, bootstrap/."""
    digest = hashlib.sha256()
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if path.is_file() and rel.parts[0] in ("apps", "clusters", "bootstrap"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def kustomize(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not found")
def test_every_overlay_renders_with_kubectl_kustomize(generated):
    # combinations that differ only in CI have identical manifests: render each tree once
    unique: dict[str, Path] = {}
    for repo in generated.values():
        unique.setdefault(_tree_digest(repo), repo)
    folders = [
        k.parent for repo in unique.values() for k in sorted(repo.rglob("kustomization.yaml"))
    ]
    assert len(unique) == len(ENGINES) * len(BACKENDS) * len(FORMATS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(kustomize, folders))
    failures = [f"{f}: {r.stderr}" for f, r in zip(folders, results) if r.returncode != 0]
    assert failures == []
    rendered = {str(f): r.stdout for f, r in zip(folders, results)}
    overlay = next(f for f in folders if f.match(f"clusters/production/{APP}"))
    if (overlay / "values.yaml").exists():
        assert "kind: HelmRelease" in rendered[str(overlay)]
    else:
        assert f"image: {REGISTRY}/{APP}:v0.1.0" in rendered[str(overlay)]


def test_an_overlay_that_does_not_render_fails(tmp_path):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with kustomize) not found")
    repo = generate(tmp_path)
    (repo / f"apps/{APP}/service.yaml").unlink()
    assert kustomize(repo / f"clusters/staging/{APP}").returncode != 0


def check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_files_match_their_public_schemas(generated):
    workflows = sorted(f for r in generated.values() for f in r.glob(".github/workflows/*.yml"))
    gitlab = sorted(f for r in generated.values() for f in r.glob(".gitlab-ci.yml"))
    assert len(workflows) == 2 * len(COMBOS) // 3 and len(gitlab) == len(COMBOS) // 3
    for schema, files in (("vendor.github-workflows", workflows), ("vendor.gitlab-ci", gitlab)):
        result = check_jsonschema(schema, files)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_ci_file_fails_its_schema(generated, tmp_path):
    source = generated[("argocd", "gitlab", "sops", "helm")] / ".gitlab-ci.yml"
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(source.read_text().replace("when: never", "when: sometimes"))
    assert check_jsonschema("vendor.gitlab-ci", [broken]).returncode != 0
    workflow = generated[("argocd", "github", "sops", "helm")] / ".github/workflows/promote.yml"
    broken = tmp_path / "promote.yml"
    broken.write_text(workflow.read_text().replace("runs-on: ubuntu-24.04", "runs_on: linux"))
    assert check_jsonschema("vendor.github-workflows", [broken]).returncode != 0


# -- the repository passes its own checks (in process; real pre-commit in test_scaffold) ------


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_every_combination_passes_its_own_checks(generated, combo, tmp_path):
    from gitops_guard.scaffold import demo

    repo = tmp_path / "repo"
    shutil.copytree(generated[combo], repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    for check in demo.CHECKS:
        outcome = demo.run_check(repo, check, main)
        assert outcome.code == 0, f"{check.command}: {outcome.out}{outcome.err}"


# -- bad answers ------------------------------------------------------------------------------

BAD_ANSWERS = [
    ({"app_name": "Demo_App"}, "app_name 'Demo_App' is not a DNS-1123 label"),
    ({"app_name": "-app"}, "app_name '-app' is not a DNS-1123 label"),
    ({"app_name": "a" * 64}, "a DNS-1123 label has at most 63"),
    ({"repo_slug": "my.repo"}, "repo_slug 'my.repo' is not a DNS-1123 label"),
    ({"image_registry": "myregistry"}, "would be read as a Docker Hub path"),
    ({"image_registry": "https://registry.example.com"}, "is not a registry host"),
    ({"image_registry": "registry.example.com:99999"}, "port 99999 is not between"),
    ({"image_registry": "registry example.com"}, "is not a registry host"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_bad_answers_fail_with_the_reason_and_leave_no_folder(tmp_path, capfd, answers, message):
    from cookiecutter.exceptions import FailedHookException

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(FailedHookException):
        generate(out, **answers)
    assert message in capfd.readouterr().err
    assert list(out.iterdir()) == []


def _pre_gen():
    from gitops_guard.scaffold.new import _pre_gen_module

    return _pre_gen_module()


@pytest.mark.parametrize(
    "registry",
    [
        "registry.example.com",
        "localhost",
        "localhost:5000",
        "ghcr.io/my-org",
        "10.0.0.1:5000/team/sub",
        "[::1]:5000",
        "registry-1.example.com:443",
    ],
)
def test_registry_hosts_accepted(registry):
    assert _pre_gen().registry_problem(registry) is None


def test_the_hook_script_is_valid_python_before_rendering():
    for name in ("pre_gen_project.py", "post_gen_project.py"):
        source = (TEMPLATE / "hooks" / name).read_text()
        compile(source, name, "exec")
        assert "r'''{{ cookiecutter | tojson }}'''" in source


def test_post_gen_deletions_are_a_pure_function_of_the_answers(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "post_gen", TEMPLATE / "hooks/post_gen_project.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    repo = generate(tmp_path / "a")  # already trimmed: nothing more to delete
    monkeypatch.chdir(repo)
    answers = {
        "gitops_engine": "argocd",
        "ci_provider": "github",
        "secrets_backend": "sealed-secrets",
        "app_format": "kustomize",
        "app_name": APP,
    }
    assert module.doomed(answers) == []
    answers["ci_provider"] = "none"
    assert module.doomed(answers) == [".github"]


# -- the template used directly: cruft (and so cookiecutter) with --directory template -------


def cruft(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cruft", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.e2e
def test_cruft_create_and_update_from_the_repository(hooks_repo, run_pre_commit, tmp_path):
    repo_path, commit = hooks_repo
    rev = "v0.0.0-e2e"
    git(Path(repo_path), "tag", "-f", rev, commit)
    url = f"file://{repo_path}"

    # defaults: re-rendering the same template gives the same tree (cruft diff is empty)
    plain = cruft(
        "create", url, "--directory", "template", "--no-input", "--output-dir", str(tmp_path)
    )
    assert plain.returncode == 0, plain.stdout + plain.stderr
    repo = tmp_path / "demo-gitops"
    record = json.loads((repo / ".cruft.json").read_text())
    assert record["directory"] == "template" and record["commit"] == commit
    diff = cruft("diff", "--exit-code", cwd=repo)
    assert diff.returncode == 0, diff.stdout + diff.stderr

    # pointed at this checkout's hooks: pre-commit passes, .cruft.json included
    answers = json.dumps({"_hooks_repo": repo_path, "_hooks_rev": rev, "repo_slug": "pinned"})
    made = cruft(
        *("create", url, "--directory", "template", "--no-input", "--output-dir", str(tmp_path)),
        *("--extra-context", answers),
    )
    assert made.returncode == 0, made.stdout + made.stderr
    pinned = tmp_path / "pinned"
    git(pinned, "init", "-q")
    git(pinned, "add", "-A")
    git(pinned, "commit", "-q", "-m", "initial")
    result = run_pre_commit(pinned, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    # private variables are the template's to update: cruft moves the pin to its default
    diff = cruft("diff", cwd=pinned)
    assert "+    rev: v" in diff.stdout and f"-    rev: {rev}" in diff.stdout


# -- the promotion flow the generated README describes ----------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_generated_promotion_flow_works(tmp_path, cli, monkeypatch, fmt):
    import importlib.util

    for module in ("gitops_guard.change.promote", "gitops_guard.checks.promotion"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not in this version")
    repo = generate(tmp_path, app_format=fmt)
    name = "values.yaml" if fmt == "helm" else "kustomization.yaml"
    staging, production = (
        repo / f"clusters/{env}/{APP}/{name}" for env in ("staging", "production")
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    staging.write_text(staging.read_text().replace("v0.1.0", "v0.2.0"))  # what CI does
    git(repo, "commit", "-q", "-am", "staging runs v0.2.0")
    monkeypatch.chdir(repo)
    assert cli("promote", APP, "--from", "staging", "--to", "production", "--write")[0] == 0
    assert "v0.2.0" in production.read_text() and "v0.1.0" not in production.read_text()
    assert cli("check-promotion")[0] == 0
    production.write_text(production.read_text().replace("v0.2.0", "v0.3.0"))  # by hand
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert f"clusters/production/{APP}/{name}:" in out and "promotion/not-promoted" in out


@pytest.mark.skipif(shutil.which("helm") is None, reason="helm not found")
def test_the_chart_renders_with_each_environments_values(generated):
    repo = generated[("argocd", "github", "sealed-secrets", "helm")]
    for env in ("staging", "production"):
        values = repo / f"clusters/{env}/{APP}/values.yaml"
        result = subprocess.run(
            ["helm", "template", APP, str(repo / "apps" / APP), "-f", str(values)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert f'image: "{REGISTRY}/{APP}:v0.1.0"' in result.stdout


# -- the environments answer: 1, 2 and 3 environments, every combination -----------------------

#: 1, 2 and 3 environments, and a parallel group (two clusters of the last stage)
ENVIRONMENT_CHOICES = (
    "production",
    "staging,production",
    "dev,staging,production",
    "dev,staging,prod-eu+prod-us",
)


def pairwise(dimensions: tuple[tuple[str, ...], ...], tries: int = 40) -> list[tuple[str, ...]]:
    """A small set of combinations in which every pair of values of any two dimensions
    occurs at least once (greedy: each step takes the combination covering most new pairs;
    ties are broken in a few seeded orders and the smallest result kept, so the sample is
    the same on every run)."""
    import random

    candidates = list(itertools.product(*dimensions))

    def pairs(combo: tuple[str, ...]) -> frozenset[tuple[int, str, int, str]]:
        return frozenset(
            (i, combo[i], j, combo[j]) for i, j in itertools.combinations(range(len(combo)), 2)
        )

    covers = {c: pairs(c) for c in candidates}
    best_run: list[tuple[str, ...]] = []
    for seed in range(tries):
        order = list(candidates)
        random.Random(seed).shuffle(order)
        uncovered = set().union(*covers.values())
        chosen = []
        while uncovered:
            pick = max(order, key=lambda c: len(covers[c] & uncovered))
            chosen.append(pick)
            uncovered -= covers[pick]
        if not best_run or len(chosen) < len(best_run):
            best_run = chosen
    return best_run


PAIRWISE = pairwise((ENGINES, CIS, BACKENDS, FORMATS, ENVIRONMENT_CHOICES))


def test_the_pairwise_sample_covers_every_pair_and_is_small():
    dims = (ENGINES, CIS, BACKENDS, FORMATS, ENVIRONMENT_CHOICES)
    for (i, a), (j, b) in itertools.combinations(enumerate(dims), 2):
        for x, y in itertools.product(a, b):
            assert any(c[i] == x and c[j] == y for c in PAIRWISE), (x, y)
    # at least |CIs| x |environment choices| combinations cover those pairs; 144 is all of them
    assert len(PAIRWISE) <= 12 < len(list(itertools.product(*dims)))


#: every combination of the five variables with the environments answer: 2 x 3 x 3 x 2 x 4
EVERY_ENVIRONMENT_COMBO = list(
    itertools.product(ENGINES, CIS, BACKENDS, FORMATS, ENVIRONMENT_CHOICES)
)


def monitoring_of(combo: tuple[str, ...]) -> str:
    """``monitoring`` alternates over the combinations (by the parity of their CI, backend and
    environments choices), so each of its values meets every value of every other variable
    and half of the combinations carry the PrometheusRule through their hooks."""
    _engine, ci, backend, _fmt, environments = combo
    index = CIS.index(ci) + BACKENDS.index(backend) + ENVIRONMENT_CHOICES.index(environments)
    return ("none", "prometheus")[index % 2]


@pytest.fixture(scope="session")
def generated_every_environment(tmp_path_factory, hooks_repo) -> dict[tuple[str, ...], Path]:
    """Every combination (engine x CI x backend x format x environments), generated once."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = tmp_path_factory.mktemp("environments")
    jobs = []
    for combo in EVERY_ENVIRONMENT_COMBO:
        engine, ci, backend, fmt, environments = combo
        answers = {
            "gitops_engine": engine,
            "ci_provider": ci,
            "secrets_backend": backend,
            "app_format": fmt,
            "environments": environments,
            "monitoring": monitoring_of(combo),
            "_hooks_repo": hooks_repo[0],
            "_hooks_rev": hooks_repo[1],
        }
        jobs.append((out / combo_id(combo).replace(",", "_"), answers))
    # cookiecutter changes the working folder while it runs its hooks: one process each
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        made = list(pool.map(_generate_job, jobs))
    return dict(zip(EVERY_ENVIRONMENT_COMBO, made))


def _generate_job(job: tuple[Path, dict[str, str]]) -> Path:
    out, answers = job
    return generate(out, **answers)


@pytest.fixture(scope="session")
def generated_environments(generated_every_environment) -> dict[tuple[str, ...], Path]:
    """The pairwise sample of those (for the tests that render or validate every file)."""
    return {combo: generated_every_environment[combo] for combo in PAIRWISE}


def pairwise_id(combo: tuple[str, ...]) -> str:
    return combo_id(combo).replace(",", "+")


@pytest.mark.parametrize("combo", EVERY_ENVIRONMENT_COMBO, ids=pairwise_id)
def test_everything_per_environment_follows_the_environments_answer(
    generated_every_environment, combo
):
    engine, ci, _backend, fmt, environments = combo
    repo = generated_every_environment[combo]
    assert (repo / "monitoring").is_dir() == (monitoring_of(combo) == "prometheus")
    stages = [stage.split("+") for stage in environments.split(",")]
    names = [env for stage in stages for env in stage]
    assert sorted(p.name for p in (repo / "clusters").iterdir()) == sorted(names)
    (policy,) = load_all(repo / "policies/gitops-guard.yaml")
    # a parallel stage is written as a list in the order: [dev, staging, [prod-eu, prod-us]]
    assert policy["promotion"]["environments"] == [s if len(s) > 1 else s[0] for s in stages]
    for env in names:
        last = env in stages[-1]  # every cluster of the last stage is production-like
        (namespace,) = load_all(repo / f"clusters/{env}/infrastructure/namespace.yaml")
        assert namespace["metadata"]["name"] == APP
        if engine == "argocd":
            (root,) = load_all(repo / f"clusters/{env}/root-app.yaml")
            assert root["spec"]["source"]["path"] == f"clusters/{env}/argocd"
            (app,) = load_all(repo / f"clusters/{env}/argocd/{APP}.yaml")
            assert app["metadata"]["name"] == f"{env}-{APP}"
            assert app["spec"]["project"] == f"demo-gitops-{env}"
        else:
            (flux_app,) = load_all(repo / f"clusters/{env}/flux/{APP}.yaml")
            assert flux_app["spec"]["path"] == f"./clusters/{env}/{APP}"
        if fmt == "kustomize":
            (overlay,) = load_all(repo / f"clusters/{env}/{APP}/kustomization.yaml")
            assert overlay["labels"][0]["pairs"]["app.kubernetes.io/environment"] == env
            assert overlay["replicas"][0]["count"] == (2 if last else 1)  # production-like
        else:
            (values,) = load_all(repo / f"clusters/{env}/{APP}/values.yaml")
            assert values["replicaCount"] == (2 if last else 1)
    overrides = policy.get("environments") or {}
    assert set(overrides) == (set(stages[-1]) if len(stages) > 1 else set())
    for env in overrides:
        assert overrides[env]["rules"]["promotion/no-predecessor"] == "error"
    readme = (repo / "README.md").read_text()
    assert all(f"clusters/{env}/" in readme for env in names)
    sources = [env for stage in stages[:-1] for env in stage]
    targets = [env for stage in stages[1:] for env in stage]
    if len(stages) > 1:
        assert f"--from {names[0]} --to {stages[1][0]}" in readme
        order = " → ".join(" + ".join(stage) for stage in stages)
        assert f"never ran ({order})" in readme
        assert "## Promotion: " + ", then ".join(" and ".join(s) for s in stages) in readme
    if ci == "github":
        promote = repo / ".github/workflows/promote.yml"
        assert promote.exists() == (len(stages) > 1)
        if len(stages) > 1:
            (workflow,) = load_all(promote)
            inputs = workflow[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on` as True
            assert inputs["from"]["options"] == sources
            assert inputs["to"]["options"] == targets
    if ci == "gitlab":
        (gitlab,) = load_all(repo / ".gitlab-ci.yml")
        assert ("promote" in gitlab) == (len(stages) > 1)
        if len(stages) > 1:
            assert gitlab["variables"]["PROMOTE_FROM"]["options"] == sources
            assert gitlab["variables"]["PROMOTE_TO"]["options"] == targets


def test_ci_files_of_every_environment_count_match_their_schemas(generated_environments):
    repos = list(generated_environments.values())
    workflows = sorted(f for r in repos for f in r.glob(".github/workflows/*.yml"))
    gitlab = sorted(f for r in repos for f in r.glob(".gitlab-ci.yml"))
    assert workflows and gitlab
    for schema, files in (("vendor.github-workflows", workflows), ("vendor.gitlab-ci", gitlab)):
        result = check_jsonschema(schema, files)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not found")
def test_every_overlay_of_every_environment_count_renders(generated_environments):
    folders = [
        k.parent
        for repo in generated_environments.values()
        for k in sorted(repo.rglob("kustomization.yaml"))
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(kustomize, folders))
    failures = [f"{f}: {r.stderr}" for f, r in zip(folders, results) if r.returncode != 0]
    assert failures == []


#: pre-commit runs at once: each run is mostly six hook processes in turn (two cores)
PRE_COMMIT_WORKERS = 3


@pytest.fixture(scope="session")
def pre_commit_of_every_combination(
    generated_every_environment, tmp_path_factory, pre_commit_home
) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """``pre-commit run --all-files`` in a fresh git repository of every combination.

    Shared between the runs, as on a developer's machine: the hook environment
    (PRE_COMMIT_HOME) and gitops-guard's cache folder (XDG_CACHE_HOME). Renders are cached
    under the digest of every input file's path (relative to the repository) and content,
    the command and the renderer binary, so only a render whose inputs are byte-identical to
    one already run is reused; every hook still reads every file of every repository.
    """
    import os

    from conftest import GIT_ENV

    root = tmp_path_factory.mktemp("every-combination")
    home = root / "home"
    home.mkdir()
    env = {
        **os.environ,
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(pre_commit_home),
        "PRE_COMMIT_COLOR": "never",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(root / "cache"),
    }
    env.pop("PRE_COMMIT", None)
    env.pop("GITOPS_GUARD_NO_CACHE", None)

    def run(combo: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        repo = root / pairwise_id(combo)
        shutil.copytree(generated_every_environment[combo], repo)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "initial")
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files"],
            cwd=repo,
            env=env,
            text=True,
            capture_output=True,
            timeout=1200,
        )

    first, *rest = EVERY_ENVIRONMENT_COMBO
    results = {first: run(first)}  # installs the hook environment once
    with ThreadPoolExecutor(max_workers=PRE_COMMIT_WORKERS) as pool:
        results.update(zip(rest, pool.map(run, rest)))
    return results


#: the hooks of the generated .pre-commit-config.yaml, by their names in .pre-commit-hooks.yaml
HOOK_NAMES = tuple(
    f"gitops-guard {command}"
    for command in (
        "check-images",
        "check-secrets",
        "check-sync-waves",
        "check-promotion",
        "check-controls",
        "check-manifests",
    )
)


@pytest.mark.e2e
@pytest.mark.parametrize("combo", EVERY_ENVIRONMENT_COMBO, ids=pairwise_id)
def test_every_combination_passes_its_own_hooks_through_pre_commit(
    pre_commit_of_every_combination, combo
):
    """All 144 combinations (engine x CI x secrets backend x app format x environments:
    1, 2 and 3 environments and one parallel group; monitoring alternating, see
    ``monitoring_of``) through the real pre-commit, each hook of the generated
    ``.pre-commit-config.yaml`` passing."""
    result = pre_commit_of_every_combination[combo]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed" not in result.stdout and "Skipped" not in result.stdout
    passed = re.findall(r"^(.*?)\.{3,}Passed$", result.stdout, re.MULTILINE)
    assert passed == list(HOOK_NAMES), result.stdout


# -- the engine's own bootstrap output passes the generated policy ---------------------------

FLUX_BOOTSTRAP = ROOT / "tests" / "data" / "flux-bootstrap"


@pytest.mark.parametrize("where", ["clusters/{env}/flux/flux-system", "clusters/{env}/flux-system"])
def test_flux_bootstrap_output_passes_the_generated_policy(tmp_path, where):
    """`flux bootstrap --path=clusters/<env>/flux` commits the controllers with their
    ghcr.io/fluxcd images; following the generated README must not fail the registry rule."""
    from gitops_guard.scaffold import demo

    repo = generate(tmp_path, gitops_engine="flux")
    for env in ("staging", "production"):
        target = repo / where.format(env=env)
        target.mkdir(parents=True)
        for source in FLUX_BOOTSTRAP.glob("*.yaml"):
            text = source.read_text().replace("ENVIRONMENT", env)
            (target / source.name).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "flux bootstrap")
    # every check, check-controls included (enforced everywhere by the generated policy): the
    # flux-system Kustomization that bootstrap writes without `wait` applies only Flux itself
    for check in demo.CHECKS:
        outcome = demo.run_check(repo, check, main)
        assert outcome.code == 0, f"{check.command}: {outcome.out}{outcome.err}"
    # the allowance is what lets them pass: without it the controllers' images are refused
    policy = repo / "policies/gitops-guard.yaml"
    kept = [line for line in policy.read_text().splitlines(True) if "fluxcd" not in line]
    policy.write_text("".join(kept))
    outcome = demo.run_check(repo, demo.CHECKS[0], main)
    assert outcome.code == 1 and "image/registry-not-allowed" in outcome.out
    assert "'ghcr.io/fluxcd/source-controller'" in outcome.out


def test_argocd_applications_belong_to_a_restricted_project_per_environment(generated):
    repo = generated[("argocd", "github", "external-secrets", "kustomize")]
    for env in ("staging", "production"):
        (project,) = load_all(repo / f"clusters/{env}/argocd/project.yaml")
        name = f"demo-gitops-{env}"  # the repository's slug: one Argo CD may serve several
        assert project["kind"] == "AppProject" and project["metadata"]["name"] == name
        spec = project["spec"]
        assert spec["sourceRepos"] == ["https://github.com/example-org/demo-gitops.git"]
        assert {d["namespace"] for d in spec["destinations"]} == {"argocd", APP}
        assert all(d["server"] == "https://kubernetes.default.svc" for d in spec["destinations"])
        kinds = {(r["group"], r["kind"]) for r in spec["clusterResourceWhitelist"]}
        assert kinds == {("", "Namespace"), ("external-secrets.io", "ClusterSecretStore")}
        for path in (repo / f"clusters/{env}").rglob("*.yaml"):
            for doc in load_all(path):
                if doc.get("kind") == "Application":
                    assert doc["spec"]["project"] == name, path
        (kustomization,) = load_all(repo / f"clusters/{env}/argocd/kustomization.yaml")
        assert kustomization["resources"][0] == "project.yaml"


# -- CI shows every hook's findings where reviewers look --------------------------------------

HOOK_COMMANDS = {
    hook["id"]: hook["entry"].split()[1]
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
}
FINDINGS_STEP = "Show the findings on the pull request's lines"


def ci_scripts(repo: Path) -> dict[str, str]:
    """The shell that turns findings into GitHub annotations / a GitLab code quality report."""
    scripts = {}
    workflow = repo / ".github/workflows/pre-commit.yml"
    if workflow.exists():
        (data,) = load_all(workflow)
        (step,) = [s for s in data["jobs"]["pre-commit"]["steps"] if s.get("name") == FINDINGS_STEP]
        scripts["github"] = step["run"]
    gitlab = repo / ".gitlab-ci.yml"
    if gitlab.exists():
        (data,) = load_all(gitlab)
        scripts["gitlab"] = "\n".join(data["pre-commit"]["after_script"])
    return scripts


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_reports_the_findings_of_every_hook_the_repository_runs(generated, ci):
    repo = generated[("argocd", ci, "sealed-secrets", "kustomize")]
    (config,) = load_all(repo / ".pre-commit-config.yaml")
    hooks = [hook["id"] for entry in config["repos"] for hook in entry["hooks"]]
    wanted = {HOOK_COMMANDS[hook] for hook in hooks}
    fmt = "github" if ci == "github" else "json"
    called = set(
        re.findall(rf"gitops-guard (check-[a-z-]+) --format {fmt}\b", ci_scripts(repo)[ci])
    )
    assert called == wanted == set(HOOK_COMMANDS.values())
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert [hook for hook in hooks if f"| `{hook}` | " not in readme] == []  # its hook table


def _break_every_hook(repo: Path) -> None:
    """One violation per hook, committed (check-promotion reads the history)."""

    def edit(rel: str, old: str, new: str) -> None:
        path = repo / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, rel
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    edit("clusters/staging/demo-app/kustomization.yaml", "newTag: v0.1.0", "newTag: latest")
    edit("clusters/production/demo-app/kustomization.yaml", "newTag: v0.1.0", "newTag: v0.9.0")
    edit("clusters/production/argocd/demo-app.yaml", "selfHeal: true", "selfHeal: false")
    edit("clusters/staging/argocd/demo-app.yaml", 'sync-wave: "0"', 'sync-wave: "first"')
    edit("apps/demo-app/kustomization.yaml", "  - service.yaml\n", "  - service.yaml\n  - s.yaml\n")
    (repo / "apps/demo-app/s.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  replicas: 3\n"
    )
    (repo / "clusters/staging/demo-app/db.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
        "stringData:\n  password: hunter2-Xq9vLm3Rt7\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one violation per hook")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not found")
@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_ci_findings_step_reports_a_violation_of_each_hook(generated, ci, tmp_path):
    """The CI file's own shell (without its `pip install`: this checkout is installed), run on
    a repository that breaks every hook: each hook's findings reach the reviewers' view."""
    repo = tmp_path / "repo"
    shutil.copytree(generated[("argocd", ci, "sealed-secrets", "kustomize")], repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    _break_every_hook(repo)
    script = "\n".join(
        line for line in ci_scripts(repo)[ci].splitlines() if "pip install" not in line
    )
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": bin_dir + ":/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    env["CI_MERGE_REQUEST_DIFF_BASE_SHA"] = ""
    result = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    if ci == "github":
        lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
        rules = {re.search(r",title=([^:]+)::", line).group(1) for line in lines}
    else:
        report = json.loads((repo / "gl-code-quality-report.json").read_text())
        assert all(entry["location"]["path"] and entry["fingerprint"] for entry in report)
        rules = {entry["check_name"] for entry in report}
    assert {
        "image/tag-latest",  # check-images
        "secret/k8s-secret-plaintext",  # check-secrets
        "sync/wave-not-integer",  # check-sync-waves
        "promotion/not-promoted",  # check-promotion
        "control/drift-not-reconciled",  # check-controls
        "render/schema",  # check-manifests
    } <= rules, result.stdout + result.stderr

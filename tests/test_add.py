"""``gitops-guard add app`` / ``add env``: a repository made by ``new`` grows by one app or one
environment, existing files change by inserted lines only, and the result passes every hook
(in process here; through real pre-commit and ``kubectl kustomize`` at the end)."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess

import pytest
import yaml
from conftest import git


@pytest.fixture
def repo_of(cli, chdir):
    """A repository from ``new`` with these --set answers, committed; the working directory."""

    def make(*assignments: str, name: str = "repo"):
        argv = ["new", name, "--no-input", "--git"]
        for assignment in assignments:
            argv += ["--set", assignment]
        code, _, err = cli(*argv)
        assert code == 0, err
        os.chdir(chdir / name)
        return chdir / name

    return make


def snapshot(repo):
    return {
        p.relative_to(repo).as_posix(): p.read_text(encoding="utf-8")
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def only_inserted_lines(before: str, after: str) -> bool:
    """Every line of ``before`` is still there, in order, unchanged (byte-minimal edits)."""
    ops = difflib.SequenceMatcher(a=before.splitlines(True), b=after.splitlines(True)).get_opcodes()
    return all(op in ("equal", "insert") for op, *_ in ops)


def passes_every_check(repo, skip=()):
    from gitops_guard.cli import main
    from gitops_guard.scaffold import demo

    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "grown")
    for check in [c for c in demo.CHECKS if c.command not in skip]:
        outcome = demo.run_check(repo, check, main)
        assert outcome.code == 0, f"{check.command}: {outcome.out}{outcome.err}"


def load(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


# -- add app ----------------------------------------------------------------------------------


def test_add_app_wires_a_kustomize_app_into_every_argocd_environment(cli, repo_of):
    repo = repo_of("environments=dev,staging,production")
    before = snapshot(repo)
    code, out, err = cli("add", "app", "web")
    assert (code, err) == (0, "")
    after = snapshot(repo)
    for env in ("dev", "staging", "production"):
        assert f"clusters/{env}/web/kustomization.yaml" in after
        (app,) = load(repo / f"clusters/{env}/argocd/web.yaml")
        assert app["metadata"]["name"] == f"{env}-web"
        assert app["spec"]["source"]["path"] == f"clusters/{env}/web"
        assert app["spec"]["project"] == f"repo-{env}"
        (namespace,) = load(repo / f"clusters/{env}/infrastructure/namespace-web.yaml")
        assert namespace["metadata"]["name"] == "web"
        (listing,) = load(repo / f"clusters/{env}/argocd/kustomization.yaml")
        assert listing["resources"][-1] == "web.yaml"
        (infra,) = load(repo / f"clusters/{env}/infrastructure/kustomization.yaml")
        assert infra["resources"][-1] == "namespace-web.yaml"
        (project,) = load(repo / f"clusters/{env}/argocd/project.yaml")
        assert {"server": "https://kubernetes.default.svc", "namespace": "web"} in project["spec"][
            "destinations"
        ]
        (overlay,) = load(repo / f"clusters/{env}/web/kustomization.yaml")
        assert overlay["images"] == [{"name": "registry.example.com/web", "newTag": "v0.1.0"}]
    assert "/apps/web/" in after["CODEOWNERS"]
    edited = [rel for rel in before if before[rel] != after[rel]]
    assert edited and all(only_inserted_lines(before[rel], after[rel]) for rel in edited)
    assert all(f"edit {rel}" in out for rel in edited)
    # the README's layout lists the new app next to the first one, two lines more, as the
    # template writes them; .cruft.json keeps the answers that render the template (an app
    # added later is the repository's own, which `cruft diff` shows as such)
    added = [
        line
        for line in difflib.ndiff(before["README.md"].splitlines(), after["README.md"].splitlines())
        if line.startswith("+ ")
    ]
    assert added == [
        "+ apps/web/" + " " * 29 + "the application: a kustomize base (Deployment, Service)",
        "+ clusters/dev/web/" + " " * 21 + "its overlay in dev (kustomization.yaml: image tag, "
        "replicas)",
    ]
    assert after[".cruft.json"] == before[".cruft.json"]
    passes_every_check(repo)


def test_add_app_helm_under_flux_with_an_image_is_covered_by_the_alerts(cli, repo_of):
    repo = repo_of("gitops_engine=flux", "secrets_backend=sops")
    code, _, err = cli(
        "add", "app", "api", "--format", "helm", "--image", "registry.example.com/team/api:v1.2.3"
    )
    assert (code, err) == (0, "")
    for env in ("staging", "production"):
        (values,) = load(repo / f"clusters/{env}/api/values.yaml")
        assert values["image"] == {
            "registry": "registry.example.com/team",
            "repository": "api",
            "tag": "v1.2.3",
        }
        assert (repo / f"clusters/{env}/api/helmrelease.yaml").is_file()
        (kustomization,) = load(repo / f"clusters/{env}/flux/api.yaml")
        assert kustomization["spec"]["path"] == f"./clusters/{env}/api"
        alert = next(
            d
            for d in load(repo / f"clusters/{env}/flux/notifications.yaml")
            if d["kind"] == "Alert"
        )
        assert {"kind": "HelmRelease", "name": "*", "namespace": "api"} in alert["spec"][
            "eventSources"
        ]
    assert (repo / "apps/api/Chart.yaml").is_file() and (repo / "apps/api/templates").is_dir()
    passes_every_check(repo)


def test_add_app_dry_run_lists_and_writes_nothing(cli, repo_of):
    repo = repo_of()
    before = snapshot(repo)
    code, out, _ = cli("add", "app", "web", "--dry-run")
    assert code == 0
    assert "would write new  clusters/production/web/kustomization.yaml" in out
    assert "would write edit clusters/staging/argocd/kustomization.yaml" in out
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "app", "demo-app"], "app 'demo-app' already exists"),
        (["add", "app", "Web"], "is not a DNS-1123 label"),
        (["add", "app", "argocd"], "every environment has"),
        (["add", "app", "web", "--image", "registry.example.com/web"], "give a tag"),
        (["add", "app", "web", "--after", "staging"], "options of add env"),
        (["add", "env", "qa"], "give --after ENV"),
        (["add", "env", "staging", "--after", "staging"], "environment 'staging' already exists"),
        (["add", "env", "qa", "--after", "prod"], "no environment 'prod'"),
        (["add", "env", "qa", "--after", "staging", "--image", "x:v1"], "options of add app"),
    ],
)
def test_add_refuses_with_the_reason_and_writes_nothing(cli, repo_of, argv, message):
    repo = repo_of()
    before = snapshot(repo)
    code, out, err = cli(*argv)
    assert code == 2 and message in err and out == ""
    assert snapshot(repo) == before


def test_add_app_with_an_image_the_policy_refuses_rolls_everything_back(cli, repo_of):
    repo = repo_of()
    before = snapshot(repo)
    code, out, err = cli("add", "app", "web", "--image", "ghcr.io/other/web:v1.0.0")
    assert code == 1 and "image/registry-not-allowed" in out and "nothing was written" in err
    assert snapshot(repo) == before
    assert not (repo / "apps/web").exists()


def test_add_outside_a_generated_repository_is_a_usage_error(cli, chdir):
    code, _, err = cli("add", "app", "web")
    assert code == 2 and "not a repository made by `gitops-guard new`" in err


# -- add env ----------------------------------------------------------------------------------


def test_add_env_after_copies_the_overlays_with_their_images_and_updates_order_ci_cruft(
    cli, repo_of
):
    repo = repo_of("ci_provider=gitlab", "secrets_backend=sops")
    kustomization = repo / "clusters/staging/demo-app/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("newTag: v0.1.0", "newTag: v0.2.0"))
    git(repo, "commit", "-qam", "staging runs v0.2.0")
    before = snapshot(repo)
    code, out, err = cli("add", "env", "qa", "--after", "staging")
    assert (code, err) == (0, ""), err
    after = snapshot(repo)
    (overlay,) = load(repo / "clusters/qa/demo-app/kustomization.yaml")
    # between staging (v0.2.0) and production (v0.1.0): qa starts at what production runs,
    # which staging ran, so qa -> production stays a promotion and nothing unpromoted appears
    assert overlay["images"][0]["newTag"] == "v0.1.0"
    assert "demo-app: qa starts at what production runs" in out
    assert overlay["labels"][0]["pairs"]["app.kubernetes.io/environment"] == "qa"
    (app,) = load(repo / "clusters/qa/argocd/demo-app.yaml")
    assert app["metadata"]["name"] == "qa-demo-app" and app["spec"]["project"] == "repo-qa"
    assert app["spec"]["source"]["path"] == "clusters/qa/demo-app"
    (project,) = load(repo / "clusters/qa/argocd/project.yaml")
    assert project["metadata"]["name"] == "repo-qa"
    (policy,) = load(repo / "policies/gitops-guard.yaml")
    assert policy["promotion"]["environments"] == ["staging", "qa", "production"]
    (gitlab,) = load(repo / ".gitlab-ci.yml")
    assert gitlab["variables"]["PROMOTE_FROM"]["options"] == ["staging", "qa"]
    assert gitlab["variables"]["PROMOTE_TO"]["options"] == ["qa", "production"]
    (sops,) = load(repo / ".sops.yaml")
    assert any("clusters/qa/" in rule["path_regex"] for rule in sops["creation_rules"])
    state = json.loads(after[".cruft.json"])
    assert state["context"]["cookiecutter"]["environments"] == "staging,qa,production"
    assert "clusters/qa/" in after["README.md"]
    for rel in ("policies/gitops-guard.yaml", ".sops.yaml"):
        assert only_inserted_lines(before[rel], after[rel]) or rel.startswith("policies")
    # check-promotion included: production got v0.1.0 before qa existed, which is judged
    # against staging, the environment before it then (checks/promotion.py)
    passes_every_check(repo)


def test_add_env_updates_only_the_environment_lines_of_an_edited_readme(cli, repo_of):
    repo = repo_of("environments=dev,staging,production")
    readme = repo / "README.md"
    edited = readme.read_text().replace("# Demo GitOps\n", "# Payments platform\n", 1)
    readme.write_text(edited + "\n## On call\n\nPage the platform team.\n")
    git(repo, "commit", "-qam", "our README")
    before = readme.read_text()
    code, out, err = cli("add", "env", "qa", "--after", "staging")
    assert (code, err) == (0, ""), err
    after = readme.read_text()
    assert "edit README.md" in out and "not updated" not in out
    assert after.startswith("# Payments platform\n") and after.endswith("Page the platform team.\n")
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm=""))
    changed = [line for line in diff[2:] if not line.startswith("@@")]
    assert "+clusters/qa/                          the same for qa" in changed
    assert all("qa" in line or "production" in line for line in changed if line[0] == "+")
    # a README that no longer has those lines is left alone, with a note
    readme.write_text("# Payments platform\n")
    git(repo, "commit", "-qam", "a short README")
    code, out, _ = cli("add", "env", "perf", "--after", "qa")
    assert code == 0 and "README.md: edited where the environments are listed" in out
    assert readme.read_text() == "# Payments platform\n"


def test_add_env_after_the_last_copies_its_image_references(cli, repo_of):
    repo = repo_of("gitops_engine=flux", "app_format=helm")
    values = repo / "clusters/staging/demo-app/values.yaml"
    values.write_text(values.read_text().replace("tag: v0.1.0", "tag: v0.3.0"))
    git(repo, "commit", "-qam", "staging runs v0.3.0")
    assert cli("promote", "demo-app", "--write")[0] == 0
    git(repo, "commit", "-qam", "production runs v0.3.0")
    code, _, err = cli("add", "env", "dr", "--after", "production")
    assert (code, err) == (0, "")
    (copied,) = load(repo / "clusters/dr/demo-app/values.yaml")
    assert copied["image"]["tag"] == "v0.3.0" and copied["replicaCount"] == 2
    (policy,) = load(repo / "policies/gitops-guard.yaml")
    assert policy["promotion"]["environments"] == ["staging", "production", "dr"]
    assert "dr" in policy["environments"]  # the production-like rules come along
    passes_every_check(repo)


def test_add_env_to_a_single_environment_repository_adds_the_promotion_workflow(cli, repo_of):
    repo = repo_of("environments=staging")
    assert not (repo / ".github/workflows/promote.yml").exists()
    code, out, err = cli("add", "env", "production", "--after", "staging")
    assert (code, err) == (0, "")
    assert "new  .github/workflows/promote.yml" in out
    (workflow,) = load(repo / ".github/workflows/promote.yml")
    assert workflow[True]["workflow_dispatch"]["inputs"]["to"]["options"] == ["production"]
    passes_every_check(repo)


def test_add_env_parallel_to_copies_the_cluster_and_makes_its_stage_a_group(cli, repo_of):
    repo = repo_of("environments=dev,staging,prod-eu", "ci_provider=gitlab")
    kustomization = repo / "clusters/dev/demo-app/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("newTag: v0.1.0", "newTag: v0.2.0"))
    git(repo, "commit", "-qam", "dev runs v0.2.0")
    for source, target in (("dev", "staging"), ("staging", "prod-eu")):
        assert cli("promote", "demo-app", "--from", source, "--to", target, "--write")[0] == 0
        git(repo, "commit", "-qam", f"{target} runs v0.2.0")
    before = snapshot(repo)
    code, _, err = cli("add", "env", "prod-us", "--parallel-to", "prod-eu")
    assert (code, err) == (0, ""), err
    after = snapshot(repo)
    # another cluster of prod-eu's stage: its overlays, image references included
    (overlay,) = load(repo / "clusters/prod-us/demo-app/kustomization.yaml")
    assert overlay["images"][0]["newTag"] == "v0.2.0"
    assert overlay["labels"][0]["pairs"]["app.kubernetes.io/environment"] == "prod-us"
    assert overlay["replicas"][0]["count"] == 2  # production-like, as prod-eu
    (app,) = load(repo / "clusters/prod-us/argocd/demo-app.yaml")
    assert app["spec"]["project"] == "repo-prod-us"
    (root_app,) = load(repo / "clusters/prod-us/root-app.yaml")
    assert root_app["spec"]["source"]["path"] == "clusters/prod-us/argocd"
    (policy,) = load(repo / "policies/gitops-guard.yaml")
    assert policy["promotion"]["environments"] == ["dev", "staging", ["prod-eu", "prod-us"]]
    assert policy["environments"]["prod-us"] == policy["environments"]["prod-eu"]
    (gitlab,) = load(repo / ".gitlab-ci.yml")
    assert gitlab["variables"]["PROMOTE_FROM"]["options"] == ["dev", "staging"]
    assert gitlab["variables"]["PROMOTE_TO"]["options"] == ["staging", "prod-eu", "prod-us"]
    state = json.loads(after[".cruft.json"])
    assert state["context"]["cookiecutter"]["environments"] == "dev,staging,prod-eu+prod-us"
    assert "clusters/prod-us/                     the same for prod-us\n" in after["README.md"]
    assert "(dev → staging → prod-eu + prod-us)" in after["README.md"]
    for rel in ("README.md", ".gitlab-ci.yml", ".cruft.json", "policies/gitops-guard.yaml"):
        diff = difflib.unified_diff(before[rel].splitlines(), after[rel].splitlines(), n=0)
        diff = list(diff)[2:]  # without the ---/+++ header
        removed = [line for line in diff if line.startswith("-")]
        added = [line for line in diff if line.startswith("+")]
        # only the lines that list the environments change; the policy gains prod-us' block
        assert all("prod-eu" in line for line in removed), (rel, removed)
        if not rel.startswith("policies/"):
            assert all("prod-us" in line for line in added), (rel, added)
    assert sorted(p for p in after if p not in before) == sorted(
        "clusters/prod-us/" + p[len("clusters/prod-eu/") :]
        for p in before
        if p.startswith("clusters/prod-eu/")
    )
    passes_every_check(repo)
    # the name is taken now, as a cluster of the group
    again = cli("add", "env", "prod-us", "--parallel-to", "staging")
    assert again[0] == 2 and "environment 'prod-us' already exists" in again[2]


def test_add_env_parallel_to_extends_a_group_under_flux(cli, repo_of):
    repo = repo_of("environments=staging,prod-eu+prod-us", "gitops_engine=flux")
    code, _, err = cli("add", "env", "prod-ap", "--parallel-to", "prod-us")
    assert (code, err) == (0, ""), err
    (policy,) = load(repo / "policies/gitops-guard.yaml")
    assert policy["promotion"]["environments"] == ["staging", ["prod-eu", "prod-us", "prod-ap"]]
    assert set(policy["environments"]) == {"prod-eu", "prod-us", "prod-ap"}
    (flux_app,) = load(repo / "clusters/prod-ap/flux/demo-app.yaml")
    assert flux_app["spec"]["path"] == "./clusters/prod-ap/demo-app"
    (workflow,) = load(repo / ".github/workflows/promote.yml")
    inputs = workflow[True]["workflow_dispatch"]["inputs"]
    assert inputs["to"]["options"] == ["prod-eu", "prod-us", "prod-ap"]
    state = json.loads((repo / ".cruft.json").read_text())
    assert state["context"]["cookiecutter"]["environments"] == "staging,prod-eu+prod-us+prod-ap"
    passes_every_check(repo)
    # a parallel cluster of the first stage: the order takes a group there too
    code, _, err = cli("add", "env", "staging-2", "--parallel-to", "staging")
    assert (code, err) == (0, ""), err
    (policy,) = load(repo / "policies/gitops-guard.yaml")
    assert policy["promotion"]["environments"][0] == ["staging", "staging-2"]
    # check-promotion is left out here: the later stage's tags arrived before staging-2 had
    # files, which check-promotion reads as promotion/same-change for staging-2 (a stage that
    # gains a cluster later; an inserted stage is judged right: checks/promotion.py's to decide)
    passes_every_check(repo, skip=("check-promotion",))


def test_add_env_parallel_to_in_a_block_list_order(cli, repo_of):
    """A policy written by hand with the order as a block list: the stage's item becomes a
    group in place, and a group gains the next cluster; nothing else in the file moves."""
    repo = repo_of()
    policy = repo / "policies/gitops-guard.yaml"
    flow = "  environments: [staging, production]\n"
    block = "  environments:\n    - staging\n    - production   # the production-like one\n"
    assert flow in policy.read_text()
    policy.write_text(policy.read_text().replace(flow, block))
    git(repo, "commit", "-qam", "the order as a block list")
    before = policy.read_text()
    assert cli("add", "env", "prod-us", "--parallel-to", "production")[0] == 0
    assert cli("add", "env", "prod-ap", "--parallel-to", "prod-us")[0] == 0
    after = policy.read_text()
    grouped = "    - [production, prod-us, prod-ap]   # the production-like one\n"
    assert grouped in after
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), n=0))[2:]
    removed = [line for line in diff if line.startswith("-")]
    # only the stage's line, and the comment that names the production-like environments
    assert removed[0] == "-    - production   # the production-like one"
    assert all("production-like" in line for line in removed[1:]), removed
    (data,) = load(policy)
    assert data["promotion"]["environments"] == ["staging", ["production", "prod-us", "prod-ap"]]
    passes_every_check(repo)


@pytest.mark.e2e
def test_cruft_diff_stays_clean_after_add_env(cli, chdir, hooks_repo):
    """.cruft.json stays truthful: after a parallel cluster and an environment put between two,
    the template rendered with the recorded answers is the repository again, byte for byte
    (the comments that name the environment before or after say the new order too)."""
    import sys

    path, rev = hooks_repo
    code, _, err = cli("new", "repo", "--no-input", "--git", "--set", "environments=dev,prod-eu")
    assert code == 0, err
    repo = chdir / "repo"
    os.chdir(repo)
    state_file = repo / ".cruft.json"
    state = json.loads(state_file.read_text())
    state["template"], state["commit"] = path, rev  # a mirror of this checkout, at its commit
    state_file.write_text(json.dumps(state, indent=2) + "\n")
    git(repo, "commit", "-qam", "template from the mirror")
    for argv in (("prod-us", "--parallel-to", "prod-eu"), ("staging", "--after", "dev")):
        code, _, err = cli("add", "env", *argv)
        assert (code, err) == (0, ""), argv
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", " ".join(argv))
    answers = json.loads(state_file.read_text())["context"]["cookiecutter"]
    assert answers["environments"] == "dev,staging,prod-eu+prod-us"
    overlay = (repo / "clusters/prod-us/demo-app/kustomization.yaml").read_text()
    assert "--from staging --to prod-us" in overlay  # was "--from dev" before staging came
    env = {**os.environ, "HOME": str(chdir), "GIT_TERMINAL_PROMPT": "0"}
    diff = subprocess.run(
        [sys.executable, "-m", "cruft", "diff", "--exit-code"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stdout + diff.stderr


# -- end to end: real pre-commit and kubectl kustomize after both --------------------------


@pytest.mark.e2e
def test_a_grown_repository_passes_pre_commit_and_renders(cli, chdir, hooks_repo, run_pre_commit):
    path, rev = hooks_repo
    code, _, err = cli(
        "new", "repo", "--no-input", "--git", "--hooks-repo", path, "--hooks-rev", rev
    )
    assert code == 0, err
    repo = chdir / "repo"
    os.chdir(repo)
    # an app, an environment put between two (check-promotion must still pass: production's
    # older tags came through staging) and another cluster of the last stage, one commit each
    for argv in (
        ("add", "app", "web"),
        ("add", "env", "qa", "--after", "staging"),
        ("add", "env", "prod-us", "--parallel-to", "production"),
    ):
        code, _, err = cli(*argv)
        assert (code, err) == (0, ""), argv
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", " ".join(argv))
    (policy,) = load(repo / "policies/gitops-guard.yaml")
    assert policy["promotion"]["environments"] == ["staging", "qa", ["production", "prod-us"]]
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check-promotion" in result.stdout and "Failed" not in result.stdout
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with kustomize) not found")
    for env in ("staging", "qa", "production", "prod-us"):
        for folder in (
            f"clusters/{env}/web",
            f"clusters/{env}/argocd",
            f"clusters/{env}/infrastructure",
        ):
            built = subprocess.run(
                ["kubectl", "kustomize", folder], capture_output=True, text=True, timeout=120
            )
            assert built.returncode == 0, f"{folder}: {built.stderr}"
        assert (
            "name: web"
            in subprocess.run(
                ["kubectl", "kustomize", f"clusters/{env}/infrastructure"],
                capture_output=True,
                text=True,
                timeout=120,
            ).stdout
        )

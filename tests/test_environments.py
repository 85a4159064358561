"""The environment model (repo/environments.py) and check-promotion on every layout it finds,
on real git repositories built in temporary folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, git, hooks_config, init_repo
from gitops_guard.core.policy import load_policy
from gitops_guard.repo import environments

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def kustomization(tag: str, name: str = "registry.example.com/web", base: str = "") -> str:
    resources = f"resources:\n  - {base}\n" if base else ""
    return f"{resources}images:\n  - name: web\n    newName: {name}\n    newTag: {tag}\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def policy(root: Path, body: str) -> None:
    write(root, "policies/gitops-guard.yaml", "version: 1\n" + body)


#: the image the overlays' ``images: [{name: web, newName: registry.example.com/web}]`` entry
#: matches (kustomize api/image/image.go IsImageMatched: the name, then a tag or digest)
BASE = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
    "    spec:\n      containers:\n        - name: web\n          image: web\n"
)

#: layout -> (staging overlay folder, production overlay folder, base folder or "")
LAYOUTS = {
    "clusters/<env>/<app>/": ("clusters/staging/web", "clusters/production/web", ""),
    "env/<env>/ (Kargo)": ("env/staging", "env/production", "base"),
    "envs/<env>/ (Codefresh)": ("envs/staging", "envs/production", "base"),
    "environments/<env>/": ("environments/staging/web", "environments/production/web", ""),
    "apps/<env>/ (Flux)": ("apps/staging", "apps/production", "apps/base/web"),
    "overlays/<env>/": ("overlays/staging", "overlays/production", "base"),
    "<app>/overlays/<env>/": ("web/overlays/staging", "web/overlays/production", "web/base"),
    "<app>/<env>/": ("web/staging", "web/production", "web/base"),
    "nested in a monorepo folder": (
        "platform/gitops/clusters/staging/web",
        "platform/gitops/clusters/production/web",
        "",
    ),
}


def build(root: Path, layout: str, staging: str, production: str) -> tuple[str, str]:
    stg, prod, base = LAYOUTS[layout]
    rel = ""
    if base:
        write(root, f"{base}/kustomization.yaml", "resources:\n  - deployment.yaml\n")
        write(root, f"{base}/deployment.yaml", BASE)
        rel = os.path.relpath(base, stg)
    write(root, f"{stg}/kustomization.yaml", kustomization(staging, base=rel))
    write(root, f"{prod}/kustomization.yaml", kustomization(production, base=rel))
    return stg, prod


def base_of(layout: str) -> str:
    stg, _, base = LAYOUTS[layout]
    return os.path.relpath(base, stg) if base else ""


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_is_found_and_a_tag_staging_never_ran_is_reported(chdir, cli, layout):
    stg, prod = build(chdir, layout, "v1.0.0", "v1.0.0")
    init_repo(chdir)
    code, out, err = cli("check-promotion")
    assert (code, out) == (0, ""), err
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v9.9.9", base=base_of(layout)))
    code, out, _ = cli("check-promotion")
    assert code == 1
    line = 6 if base_of(layout) else 4
    assert f"{prod}/kustomization.yaml:{line}:13: promotion/not-promoted production runs" in out
    assert "which staging never ran (staging ran: v1.0.0)" in out
    model = environments.load(chdir, load_policy())
    assert [a.folder for a in model.apps("staging").values()] == [stg]
    assert list(model.apps("production")) == list(model.apps("staging"))


def test_app_names_follow_the_folder_above_the_layout_folder(chdir):
    for layout in ("<app>/overlays/<env>/", "apps/<env>/ (Flux)"):
        build(chdir, layout, "v1.0.0", "v1.0.0")
    model = environments.load(chdir, load_policy())
    assert sorted(model.apps("production")) == ["apps", "web"]
    assert model.app_of("web/overlays/production/kustomization.yaml").name == "web"
    assert model.env_of("apps/staging/kustomization.yaml") == "staging"


def test_fan_out_to_parallel_environments(chdir, cli):
    policy(chdir, "promotion:\n  environments: [dev, staging, [prod-eu, prod-us]]\n")
    for env in ("dev", "staging", "prod-eu", "prod-us"):
        write(chdir, f"clusters/{env}/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    model = environments.load(chdir, load_policy())
    assert model.pairs() == [("dev", "staging"), ("staging", "prod-eu"), ("staging", "prod-us")]
    write(chdir, "clusters/prod-us/web/kustomization.yaml", kustomization("v1.1.0"))
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert out.count("promotion/") == 1
    assert "clusters/prod-us/web/kustomization.yaml" in out and "staging never ran" in out
    # promote: staging -> prod-us is one step; staging has no single successor
    write(chdir, "clusters/prod-us/web/kustomization.yaml", kustomization("v1.0.0"))
    code, _, err = cli("promote", "web", "--from", "staging")
    assert code == 2 and "promotes to prod-eu, prod-us; give --to" in err
    code, _, err = cli("promote", "web", "--from", "dev", "--to", "prod-eu")
    assert code == 1 and "skips staging" in err


def test_a_folder_that_looks_like_an_environment_but_is_not_in_the_policy(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    build(chdir, "<app>/<env>/", "v1.0.0", "v1.0.0")
    policy(chdir, "promotion:\n  environments: [staging, production]\n")
    write(chdir, "clusters/base/README.yaml", "x: 1\n")  # never an environment
    init_repo(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    write(chdir, "clusters/qa/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "web/qa/kustomization.yaml", kustomization("v1.0.0", base="../base"))
    write(chdir, "web/tools/kustomization.yaml", "resources:\n  - job.yaml\n")  # no shared base
    code, out, _ = cli("check-promotion", "clusters/production/web/kustomization.yaml")
    assert code == 1
    found = [line for line in out.splitlines() if "unknown-environment" in line]
    assert len(found) == 2, out
    assert found[0].startswith("clusters/qa/web/kustomization.yaml:1:1:")
    assert "clusters/qa/ looks like an environment" in found[0] and "'qa'" in found[0]
    assert "web/qa/ looks like an environment" in found[1]
    assert "reaches web/base/" in found[1]


def test_an_unnamed_folder_is_only_a_warning_when_the_order_is_the_default_guess(chdir, cli):
    """Kargo's layout (env/dev, env/staging, env/prod) with no policy: staging/production is
    the default guess (env/prod/ is production's, by its other name), not the team's order,
    so dev is no evidence of an unguarded cluster; once the policy writes an order, an unnamed
    sibling (prod too: the team names its folders) is an error."""
    for env in ("dev", "staging", "prod"):
        write(chdir, f"env/{env}/kustomization.yaml", kustomization("v1.0.0", base="../../base"))
    write(chdir, "base/kustomization.yaml", "resources:\n  - deployment.yaml\n")
    write(chdir, "base/deployment.yaml", BASE)
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    found = [line for line in out.splitlines() if "unknown-environment" in line]
    assert code == 0, out
    assert len(found) == 1 and found[0].endswith("[warning]"), out
    assert "env/dev/ looks like an environment" in found[0] and "the default order" in found[0]
    # a policy that says only something else keeps the default guess
    policy(chdir, "images:\n  tag_pattern: '.*'\n")
    assert cli("check-promotion")[0] == 0
    policy(chdir, "promotion:\n  environments: [staging, production]\n")
    code, out, _ = cli("check-promotion")
    found = [line for line in out.splitlines() if "unknown-environment" in line]
    assert code == 1 and len(found) == 2, out
    assert not any(line.endswith("[warning]") for line in found)
    assert "the default order" not in out


def test_no_environment_found_is_a_warning_saying_where_it_looked(chdir, cli):
    write(chdir, "deploy/live/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0
    assert "promotion/no-environments" in out and "[warning]" in out
    assert "no folder of any environment (staging, production) found" in out
    assert "clusters/<env>/" in out and "<app>/overlays/<env>/" in out


def test_no_environment_warning_is_at_the_policy_line_that_names_them(chdir, cli):
    policy(chdir, "images:\n  require_digest: false\npromotion:\n  environments: [qa, dev]\n")
    write(chdir, "deploy/live/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0
    assert out.startswith("policies/gitops-guard.yaml:5:3: promotion/no-environments"), out
    # a policy without promotion.environments (the default order): at the file's first line
    policy(chdir, "images:\n  require_digest: false\n")
    code, out, _ = cli("check-promotion")
    assert out.startswith("policies/gitops-guard.yaml:1:1: promotion/no-environments"), out


def test_no_environment_warning_lists_the_environment_like_folders_it_saw(chdir, cli):
    # envs/dev/ and envs/prod/ exist, the policy names other environments: the hint says which
    # names to put in promotion.environments (base/ and hidden folders are never environments)
    policy(chdir, "promotion:\n  environments: [qa, live]\n")
    for folder in ("envs/dev", "envs/prod", "envs/base", "web/overlays/eu", "envs/.cache"):
        write(chdir, f"{folder}/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0 and out.count("\n") == 1, out
    assert (
        "nothing was checked; folders that look like environments: envs/dev/, envs/prod/, "
        "web/overlays/eu/ (named dev, eu, prod): put those names, in promotion order, in "
        "promotion.environments, or map the folders with promotion.paths [warning]"
    ) in out
    assert "envs/base" not in out and ".cache" not in out


def test_no_environment_warning_without_such_folders_keeps_the_short_hint(chdir, cli):
    policy(chdir, "promotion:\n  environments: [qa, live]\n")
    write(chdir, "deploy/prod/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "apps/web/kustomization.yaml", kustomization("v1.0.0"))  # apps/: apps, not envs
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0
    assert out.rstrip().endswith("nothing was checked (map them with promotion.paths) [warning]")
    assert "look like environments" not in out


@pytest.mark.e2e
def test_no_environment_warning_shows_under_pre_commit(hooks_repo, make_repo, run_pre_commit):
    """pre-commit hides a passing hook's output unless the hook is ``verbose`` (ours is): the
    warning is seen, and the commit is not stopped."""
    repo = make_repo(
        {
            "deploy/prod/kustomization.yaml": kustomization("v1.0.0"),
            "policies/gitops-guard.yaml": "version: 1\npromotion:\n  environments: [qa, live]\n",
        }
    )
    (repo / ".pre-commit-config.yaml").write_text(hooks_config(hooks_repo, "check-promotion"))
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policies/gitops-guard.yaml:3:3: promotion/no-environments" in result.stdout
    assert "Passed" in result.stdout


def test_policy_paths_map_environments_guessing_cannot_find(chdir, cli):
    policy(
        chdir,
        "promotion:\n  paths:\n    staging: ['deploy/stg-cluster/{app}']\n"
        "    production: ['deploy/prd-*/{app}/**']\n"
        "environments:\n  production:\n    images:\n      require_digest: true\n",
    )
    write(chdir, "deploy/stg-cluster/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "deploy/prd-eu/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    model = environments.load(chdir, load_policy())
    assert model.app("production", "web").folder == "deploy/prd-eu/web"
    assert cli("check-promotion")[:2] == (0, "")
    write(chdir, "deploy/prd-eu/web/kustomization.yaml", kustomization("v2.0.0"))
    code, out, _ = cli("check-promotion")
    assert code == 1 and "deploy/prd-eu/web/kustomization.yaml:4:13: promotion/not-promoted" in out
    # the production override reaches the mapped folder (and not staging's)
    code, out, _ = cli("check-images", "deploy")
    assert code == 1
    assert "deploy/prd-eu/web/kustomization.yaml" in out and "image/digest-required" in out
    assert "deploy/stg-cluster" not in out


def test_policy_paths_must_name_a_known_environment(chdir, cli):
    policy(chdir, "promotion:\n  paths:\n    prod: [deploy/prod]\n")
    code, _, err = cli("check-promotion")
    assert code == 2 and "promotion.paths.prod: no such environment" in err
    policy(chdir, "promotion:\n  environments: [a, [b, a]]\n")
    code, _, err = cli("check-promotion")
    assert code == 2 and "a named more than once" in err


def test_per_environment_override_applies_to_every_layout(chdir, cli):
    policy(chdir, "environments:\n  production:\n    images:\n      require_digest: true\n")
    for layout in ("envs/<env>/ (Codefresh)", "<app>/overlays/<env>/"):
        build(chdir, layout, "v1.0.0", "v1.0.0")
    code, out, _ = cli("check-images", "envs", "web")
    assert code == 1
    flagged = {line.split(":", 1)[0] for line in out.splitlines() if "digest-required" in line}
    assert flagged == {
        "envs/production/kustomization.yaml",
        "web/overlays/production/kustomization.yaml",
    }


def test_same_commit_bump_is_a_finding_and_a_later_commit_is_not(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    stg, prod = LAYOUTS["clusters/<env>/<app>/"][:2]
    write(chdir, f"{stg}/kustomization.yaml", kustomization("v1.1.0"))
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v1.1.0"))
    code, out, _ = cli("check-promotion")  # about to be committed together
    assert code == 1 and "promotion/same-change" in out and "uncommitted change" in out
    commit(chdir, "both at once")
    code, out, _ = cli("check-promotion")
    assert code == 1 and "promotion/same-change" in out and "in the same commit" in out
    # staging first, production in the next commit: a promotion
    write(chdir, f"{stg}/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "staging v1.2.0")
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "production v1.2.0")
    assert cli("check-promotion")[:2] == (0, "")


def test_same_pull_request_bump_is_a_finding(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    base = git(chdir, "rev-parse", "HEAD").stdout.strip()
    stg, prod = LAYOUTS["clusters/<env>/<app>/"][:2]
    write(chdir, f"{stg}/kustomization.yaml", kustomization("v1.1.0"))
    commit(chdir, "staging v1.1.0")
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v1.1.0"))
    commit(chdir, "production v1.1.0")
    assert cli("check-promotion")[:2] == (0, "")  # commit by commit: staging was first
    code, out, _ = cli("check-promotion", "--base", base)
    assert code == 1 and "promotion/same-change" in out and "since the base revision" in out
    os.environ["PRE_COMMIT_FROM_REF"] = git(chdir, "rev-parse", "HEAD~1").stdout.strip()
    try:  # staging's bump is in the base: production's pull request promotes it
        assert cli("check-promotion")[:2] == (0, "")
    finally:
        del os.environ["PRE_COMMIT_FROM_REF"]


def _history_then_insert_qa(root: Path) -> str:
    """staging and production promoted commit by commit, staging ahead (v1.2.0 over
    production's v1.1.0); then one commit adds qa between them, its overlay copied from
    staging's. Returns the commit before qa's."""
    policy(root, "promotion:\n  environments: [staging, production]\n")
    build(root, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(root)
    stg, prod = LAYOUTS["clusters/<env>/<app>/"][:2]
    for rel, tag in ((stg, "v1.1.0"), (prod, "v1.1.0"), (stg, "v1.2.0")):
        write(root, f"{rel}/kustomization.yaml", kustomization(tag))
        commit(root, f"{rel} {tag}")
    before = git(root, "rev-parse", "HEAD").stdout.strip()
    write(root, "clusters/qa/web/kustomization.yaml", kustomization("v1.2.0"))
    policy(root, "promotion:\n  environments: [staging, qa, production]\n")
    commit(root, "qa between staging and production")
    return before


def test_an_environment_inserted_between_two_is_not_a_finding(chdir, cli):
    """production's v1.1.0 came in when qa had no files: it is judged against staging, the
    environment before production then (which ran it a commit earlier)."""
    before = _history_then_insert_qa(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    assert cli("check-promotion", "--base", before)[:2] == (0, "")  # the pull request adding qa
    os.environ["PRE_COMMIT_FROM_REF"] = before
    try:
        assert cli("check-promotion")[:2] == (0, "")
    finally:
        del os.environ["PRE_COMMIT_FROM_REF"]
    # production then moves to what qa runs: a promotion from qa
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "production v1.2.0")
    assert cli("check-promotion")[:2] == (0, "")


def test_after_an_insertion_a_tag_the_inserted_environment_never_ran_is_a_finding(chdir, cli):
    _history_then_insert_qa(chdir)
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.3.0"))
    commit(chdir, "staging v1.3.0")
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.3.0"))
    commit(chdir, "production v1.3.0, skipping qa")
    code, out, _ = cli("check-promotion")
    assert code == 1, out
    assert (
        "clusters/production/web/kustomization.yaml:4:13: promotion/not-promoted production "
        "runs registry.example.com/web:v1.3.0, which qa never ran (qa ran: v1.2.0)" in out
    )
    assert "had no overlay yet" not in out  # qa had files then: qa judges it


def test_bumping_production_in_the_commit_that_inserts_qa_is_judged_against_qa(chdir, cli):
    """qa has files after that commit, so it is production's predecessor there: qa must run
    the tag first."""
    policy(chdir, "promotion:\n  environments: [staging, production]\n")
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    commit(chdir, "staging v1.1.0")
    write(chdir, "clusters/qa/web/kustomization.yaml", kustomization("v1.1.0"))
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.1.0"))
    policy(chdir, "promotion:\n  environments: [staging, qa, production]\n")
    commit(chdir, "qa, and production bumped at once")
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert "promotion/same-change production gets registry.example.com/web:v1.1.0" in out
    assert "that gives it to qa" in out


def test_a_production_older_than_staging_is_still_judged_against_staging(chdir, cli):
    """No environment before production had files when it got its tag: nothing was inserted,
    so staging (its predecessor) judges it, as before."""
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v0.9.0"))
    commit(chdir, "staging")
    code, out, _ = cli("check-promotion")
    assert code == 1 and "v1.0.0, which staging never ran (staging ran: v0.9.0)" in out


def test_current_compares_with_the_predecessor_at_the_base_revision(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    base = git(chdir, "rev-parse", "HEAD").stdout.strip()
    stg, prod = LAYOUTS["clusters/<env>/<app>/"][:2]
    write(chdir, f"{stg}/kustomization.yaml", kustomization("v1.1.0"))
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v1.1.0"))
    commit(chdir, "both")
    assert cli("check-promotion", "--require", "current")[:2] == (0, "")
    code, out, _ = cli("check-promotion", "--require", "current", "--base", base)
    assert code == 1 and f"not what staging ran at the base revision {base}" in out


HELMRELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {env}-podinfo
spec:
  chart:
    spec:
      chart: podinfo
      version: "{version}"
"""


def test_chart_versions_are_promoted_and_checked(chdir, cli):
    for env, version in (("staging", "6.5.0"), ("production", "6.5.0")):
        write(chdir, f"apps/{env}/release.yaml", HELMRELEASE.format(env=env, version=version))
    init_repo(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    write(
        chdir, "apps/production/release.yaml", HELMRELEASE.format(env="production", version="7.0.0")
    )
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert "apps/production/release.yaml:9:16: promotion/not-promoted production runs chart "
    assert "chart podinfo 7.0.0, which staging never ran (staging ran: 6.5.0)" in out
    # a range is not an artifact the repository pins
    write(
        chdir, "apps/production/release.yaml", HELMRELEASE.format(env="production", version=">=6")
    )
    assert cli("check-promotion")[:2] == (0, "")
    # promote carries the version (the release names embed the environment: they pair up)
    write(
        chdir, "apps/production/release.yaml", HELMRELEASE.format(env="production", version="6.4.0")
    )
    commit(chdir, "production on 6.4.0")
    write(chdir, "apps/staging/release.yaml", HELMRELEASE.format(env="staging", version="6.6.0"))
    commit(chdir, "staging on 6.6.0")
    code, _, err = cli("promote", "apps", "--write")
    assert code == 0, err
    assert (chdir / "apps/production/release.yaml").read_text() == HELMRELEASE.format(
        env="production", version="6.6.0"
    )


APPLICATION = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-web
spec:
  source:
    repoURL: https://charts.example.com
    chart: web
    targetRevision: {chart}
    helm:
      parameters:
        - name: image.repository
          value: registry.example.com/web
        - name: image.tag
          value: {tag}
"""


def test_argo_cd_application_chart_and_parameters_are_artifacts(chdir, cli):
    for env in ("staging", "production"):
        write(
            chdir,
            f"clusters/{env}/argocd/web.yaml",
            APPLICATION.format(env=env, chart="1.2.0", tag="v1.0.0"),
        )
    init_repo(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    write(
        chdir,
        "clusters/production/argocd/web.yaml",
        APPLICATION.format(env="production", chart="1.3.0", tag="v2.0.0"),
    )
    code, out, _ = cli("check-promotion")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("clusters/production/argocd/web.yaml:9:21: promotion/not-promoted")
    assert "chart web 1.3.0" in lines[0]
    assert lines[1].startswith("clusters/production/argocd/web.yaml:15:18: promotion/not-promoted")
    assert "registry.example.com/web:v2.0.0" in lines[1]


def test_registry_aliases_make_a_mirror_the_same_artifact(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    write(
        chdir,
        "clusters/production/web/kustomization.yaml",
        kustomization("v1.0.0", name="mirror.example.com/web"),
    )
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 1 and "mirror.example.com/web:v1.0.0, which staging never ran" in out
    assert "registry.example.com/web is the same image path from another registry" in out
    assert "promotion.registry_aliases" in out
    policy(
        chdir, "promotion:\n  registry_aliases:\n    registry.example.com: [mirror.example.com]\n"
    )
    assert cli("check-promotion")[:2] == (0, "")
    # another image behind the mirror is still another artifact
    write(
        chdir,
        "clusters/production/web/kustomization.yaml",
        kustomization("v1.0.0", name="mirror.example.com/api"),
    )
    code, out, _ = cli("check-promotion")
    assert code == 1 and "registry_aliases" not in out  # no image of that path: no hint


def test_monorepo_subfolder_reads_history_relative_to_the_gitops_root(chdir, cli):
    top = chdir
    root = top / "platform" / "gitops"
    policy(root, "promotion:\n  require: history\n")
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.0.0"))
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(top)
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    commit(top, "staging v1.1.0")
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(top, "staging v1.2.0")
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.1.0"))
    os.chdir(root)
    code, out, err = cli("check-promotion")
    assert (code, out) == (0, ""), err  # v1.1.0 is in staging's history, not in its present
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.1.5"))
    code, out, _ = cli("check-promotion")
    assert code == 1 and "(staging ran: v1.0.0, v1.1.0, v1.2.0)" in out


def test_a_corrupt_history_object_is_said_aloud(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    commit(chdir, "staging v1.1.0")
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "staging v1.2.0")
    blob = git(chdir, "rev-parse", "HEAD~1:clusters/staging/web/kustomization.yaml").stdout.strip()
    loose = chdir / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    # production's file differs from that object by a comment: an object whose content the
    # run knows from elsewhere (the same blob id in the working tree, or remembered from an
    # earlier run) is known, not unreadable
    text = "# promoted\n" + kustomization("v1.1.0")
    write(chdir, "clusters/production/web/kustomization.yaml", text)
    code, out, _ = cli("check-promotion")
    assert "promotion/history-unavailable" in out
    assert f"cannot be read, corrupt or missing: {blob[:12]}" in out
    assert code == 1 and "v1.1.0, which staging never ran" in out  # it counts as never run
    # the same content in the working tree: known by its blob id, so staging ran it
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.1.0"))
    assert cli("check-promotion")[:2] == (0, "")


def test_history_reads_every_environment_in_one_git_log(chdir, monkeypatch):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    from gitops_guard.checks import promotion
    from gitops_guard.core import processes

    calls: list[list[str]] = []
    real = processes.Running.__init__

    def spy(self, argv, *args, **kwargs):
        calls.append(list(argv))
        real(self, argv, *args, **kwargs)

    monkeypatch.setattr(processes.Running, "__init__", spy)
    model = environments.load(chdir, load_policy())
    assert promotion.check_repository(model, "history") == []
    logs = [c for c in calls if c[1:2] == ["log"]]
    assert len(logs) == 1 and "clusters/staging" in logs[0] and "clusters/production" in logs[0]


CORPORA = [
    ROOT.parent / "shared" / "corpus" / "repos",
    ROOT.parent / "shared" / "corpus" / "realworld",
]
PINNED = DATA / "corpus" / "check-promotion.txt"


@pytest.mark.skipif(not all(c.is_dir() for c in CORPORA), reason="corpus not present")
def test_the_corpus_reports_exactly_the_reviewed_promotion_findings(tmp_path, cli, monkeypatch):
    """Every corpus repository as CI runs the hook: a fresh repository of its files, the hook
    with no file arguments (pass_filenames: false), the default policy."""
    import shutil

    got = set()
    for corpus in CORPORA:
        for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
            copy = tmp_path / repo.name
            shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git"))
            init_repo(copy)
            monkeypatch.chdir(copy)
            code, out, err = cli("check-promotion", "--format", "json")
            assert err == "", repo.name
            for f in json.loads(out)["findings"]:
                got.add(f"{repo.name} {f['rule']} {f['path']}")
            assert code == (
                1 if any(f["severity"] == "error" for f in json.loads(out)["findings"]) else 0
            )
    pinned = {
        line
        for line in PINNED.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert got == pinned


def test_a_fifo_or_a_device_in_an_overlay_is_never_opened(chdir, cli):
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    os.mkfifo(chdir / "clusters/production/web/pipe.yaml")
    (chdir / "clusters/production/web/zero.yaml").symlink_to("/dev/zero")
    result = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-promotion"],
        cwd=chdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_slot_records_are_remembered_by_content(chdir, cli, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(chdir / "cache"))
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)
    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    init_repo(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    from gitops_guard.repo import overlays

    calls = []
    real = overlays.parse_file
    monkeypatch.setattr(overlays, "parse_file", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert cli("check-promotion")[:2] == (0, "")
    assert calls == []  # nothing parsed twice
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v9.0.0"))
    code, out, _ = cli("check-promotion")  # a changed file is a new content: parsed, reported
    assert code == 1 and "v9.0.0, which staging never ran" in out
    assert len(calls) == 1


OCI = """apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
spec:
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    tag: {tag}
"""

VERSION_PATCH = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: simple-env-app
spec:
  template:
    spec:
      containers:
        - name: webserver-simple
          image: docker.io/kostiscodefresh/simple-env-app:{tag}
"""

VALUES_OBJECT = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-{env}
spec:
  source:
    repoURL: https://charts.example.com
    chart: web
    targetRevision: 1.0.0
    helm:
      valuesObject:
        image:
          repository: registry.example.com/web
          tag: {tag}
"""


@pytest.mark.parametrize(
    ("rel", "text", "line", "what"),
    [
        (
            "flux/{env}/podinfo.yaml",
            OCI,
            8,
            "chart oci://ghcr.io/stefanprodan/manifests/podinfo 6.6.0",
        ),
        (
            "envs/{env}/version.yml",
            VERSION_PATCH,
            10,
            "docker.io/kostiscodefresh/simple-env-app:6.6.0",
        ),
        ("clusters/{env}/argocd/web.yaml", VALUES_OBJECT, 14, "registry.example.com/web:6.6.0"),
    ],
    ids=["flux-oci-tag", "codefresh-version-patch", "argocd-values-object"],
)
def test_more_artifacts_are_promoted_the_same_way(chdir, cli, rel, text, line, what):
    if rel.startswith("flux/"):
        rel = "apps/" + rel[len("flux/") :]
    for env in ("staging", "production"):
        write(chdir, rel.format(env=env), text.format(env=env, tag="6.5.0"))
    init_repo(chdir)
    assert cli("check-promotion")[:2] == (0, "")
    prod = rel.format(env="production")
    write(chdir, prod, text.format(env="production", tag="6.6.0"))
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert out.startswith(f"{prod}:{line}:"), out
    assert f"production runs {what}, which staging never ran (staging ran: 6.5.0)" in out


def test_listing_knows_unchanged_files_by_the_index_blob_and_reads_the_rest(chdir):
    """check-promotion need not read a file git's index says is unchanged: its blob id is
    the index's. A modified, a staged-then-modified, an untracked file and a symlink are
    read from the working tree; a deleted one is not known by its old blob (one ``ls-files``
    with ``--modified`` says which differ, as ``diff-files`` would)."""
    for name in ("same", "modified", "staged", "gone"):
        write(chdir, f"clusters/staging/{name}/kustomization.yaml", kustomization("v1.0.0"))
    (chdir / "clusters/staging/link.yaml").symlink_to("same/kustomization.yaml")
    init_repo(chdir)
    write(chdir, "clusters/staging/modified/kustomization.yaml", kustomization("v2.0.0"))
    write(chdir, "clusters/staging/staged/kustomization.yaml", kustomization("v3.0.0"))
    git(chdir, "add", "clusters/staging/staged/kustomization.yaml")
    write(chdir, "clusters/staging/staged/kustomization.yaml", kustomization("v4.0.0"))
    write(chdir, "clusters/staging/new/kustomization.yaml", kustomization("v5.0.0"))
    (chdir / "clusters/staging/gone/kustomization.yaml").unlink()
    files, blobs = environments.listing(chdir)
    assert "clusters/staging/new/kustomization.yaml" in files
    assert "clusters/staging/link.yaml" in files
    same = "clusters/staging/same/kustomization.yaml"
    assert blobs == {same: git(chdir, "hash-object", same).stdout.strip()}
    model = environments.load(chdir, load_policy())
    from gitops_guard.repo import overlays

    records = overlays.RecordCache(chdir)
    tags = {
        app.name: [s.value("newTag") for s in overlays.load_records(model, app, records)[0]]
        for app in model.apps("staging").values()
    }
    want = {"same": ["v1.0.0"], "modified": ["v2.0.0"], "staged": ["v4.0.0"], "new": ["v5.0.0"]}
    want["gone"] = []  # still in the index, not in the working tree: nothing read
    assert tags == want


# -- one environment model for every check (the per-environment policy) -----------------------


@pytest.mark.parametrize(
    ("path", "env"),
    [
        ("clusters/production/app/kustomization.yaml", "production"),
        ("repo/clusters/staging/x.yaml", "staging"),
        ("./clusters/dev/a/b/c.yaml", "dev"),  # clusters/<env>/: also names outside the order
        ("clusters/production.yaml", None),
        ("apps/web/base/deployment.yaml", None),
        ("clusters", None),
        ("apps/production/release.yaml", "production"),
        ("web/overlays/staging/kustomization.yaml", "staging"),
        ("envs/production/version.yml", "production"),
        ("production.yaml", None),
    ],
)
def test_environment_of_a_path_under_the_default_policy(chdir, path: str, env: str | None):
    assert environments.environment_of_path(path) == env


def test_environment_is_read_relative_to_the_repository_root(tmp_path: Path, monkeypatch):
    # a "clusters" or environment-named folder above the repository names no environment
    repo = tmp_path / "clusters" / "production" / "repo"
    (repo / ".git").mkdir(parents=True)
    overlay = repo / "clusters" / "staging" / "demo-app"
    overlay.mkdir(parents=True)
    assert environments.environment_of_path(str(overlay / "kustomization.yaml")) == "staging"
    assert environments.environment_of_path(str(repo / "apps" / "web" / "a.yaml")) is None
    # the path as typed from a subfolder still belongs to its environment
    monkeypatch.chdir(repo / "clusters" / "staging")
    assert environments.environment_of_path("demo-app/kustomization.yaml") == "staging"


OVERRIDE = "environments:\n  production:\n    images:\n      require_digest: true\n"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_production_override_applies_to_every_layout_in_check_images(chdir, cli, layout):
    policy(chdir, OVERRIDE)
    _, prod = build(chdir, layout, "v1.0.0", "v1.0.0")
    init_repo(chdir)
    code, out, _ = cli("check-images", *git(chdir, "ls-files").stdout.split())
    assert code == 1, out
    flagged = {line.split(":", 1)[0] for line in out.splitlines() if "digest-required" in line}
    assert flagged == {f"{prod}/kustomization.yaml"}, out


def test_a_production_override_applies_to_an_explicit_mapping(chdir, cli):
    policy(chdir, OVERRIDE + "promotion:\n  paths:\n    production: ['deploy/live/{app}']\n")
    write(chdir, "deploy/live/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "deploy/live-copy/web/kustomization.yaml", kustomization("v1.0.0"))
    code, out, _ = cli("check-images", "deploy")
    assert code == 1
    flagged = {line.split(":", 1)[0] for line in out.splitlines() if "digest-required" in line}
    assert flagged == {"deploy/live/web/kustomization.yaml"}


CONFIG_AND_DEPLOYMENT = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
    "    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web\n"
)


@pytest.mark.parametrize(
    "layout", ["clusters/<env>/<app>/", "apps/<env>/ (Flux)", "<app>/overlays/<env>/"]
)
def test_a_production_sync_waves_override_applies_to_every_layout(chdir, cli, layout):
    """check-sync-waves' applications take their environment from the same model: a
    production-only ``sync_waves.order`` rule applies to production's overlay only."""
    policy(
        chdir,
        "environments:\n  production:\n    sync_waves:\n      order:\n"
        "        - {before: ConfigMap, after: Deployment, strict: true}\n",
    )
    stg, prod = LAYOUTS[layout][:2]
    for folder in (stg, prod):
        write(chdir, f"{folder}/kustomization.yaml", "resources:\n  - app.yaml\n")
        write(chdir, f"{folder}/app.yaml", CONFIG_AND_DEPLOYMENT)
    init_repo(chdir)
    code, out, _ = cli("check-sync-waves", *git(chdir, "ls-files").stdout.split())
    assert code == 1, out
    flagged = {line.split(":", 1)[0] for line in out.splitlines() if "sync/policy-order" in line}
    assert flagged == {f"{prod}/app.yaml"}, out


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_render_units_and_applications_are_in_their_environment(chdir, layout):
    """check-manifests' units (its kubernetes.version per environment) and check-sync-waves'
    applications name the environment of every layout."""
    from gitops_guard.render.units import Plan
    from gitops_guard.repo.applications import Builder
    from gitops_guard.repo.repository import Repository

    stg, prod = build(chdir, layout, "v1.0.0", "v1.0.0")
    init_repo(chdir)
    repo = Repository(str(chdir), policy=load_policy())
    units = {os.path.relpath(u.folder, chdir): u.env for u in Plan(repo).build().units}
    assert units[stg] == "staging" and units[prod] == "production", units
    apps = {
        os.path.relpath(os.path.dirname(a.root), chdir): a.env
        for a in Builder(repo).applications(all_files=True)
    }
    assert apps[stg] == "staging" and apps[prod] == "production", apps


def test_check_promotion_keeps_no_parsed_document_of_the_given_files(chdir, cli, monkeypatch):
    """15,000 files on the command line (CI's ``git ls-files``): check-promotion reads the
    repository itself, so the given files' documents are dropped as they are read (memory of
    one file); their problems are still reported."""
    from gitops_guard.checks import promotion

    build(chdir, "clusters/<env>/<app>/", "v1.0.0", "v1.0.0")
    write(chdir, "clusters/staging/web/broken.yaml", "a: [\n")
    init_repo(chdir)
    seen: list[list] = []
    real = promotion.check_files

    def spy(sources, policy, args):
        seen.append([s.documents for s in sources])
        return real(sources, policy, args)

    monkeypatch.setattr(promotion, "check_files", spy)
    code, out, _ = cli("check-promotion", *git(chdir, "ls-files").stdout.split())
    assert code == 1 and "clusters/staging/web/broken.yaml:2:1: yaml/" in out, out
    assert seen and len(seen[0]) == 3 and all(docs == [] for docs in seen[0])


def test_nested_app_folders_are_found_by_one_sorted_pass():
    """environments._any_nested (the fast path of _disambiguate) says what comparing every
    pair of folders says, on folders whose names sort around "/" ("a-b", "a.c" < "a/")."""
    import random

    from gitops_guard.repo.environments import _any_nested

    def by_pairs(folders: list[str]) -> bool:
        return any(b != a and (a == "" or b.startswith(a + "/")) for a in folders for b in folders)

    rng = random.Random(20261202)
    parts = ["a", "a-b", "b", "a.c", "c"]
    seen = set()
    for _ in range(5000):
        count = rng.randint(1, 6)
        folders = sorted(
            {"/".join(rng.choice(parts) for _ in range(rng.randint(0, 3))) for _ in range(count)}
        )
        seen.add(_any_nested(folders))
        assert _any_nested(folders) == by_pairs(folders), folders
    assert seen == {True, False}


@pytest.mark.parametrize(
    "stg,prod", [("envs/stage", "envs/prod"), ("clusters/stg/web", "clusters/prd/web")]
)
def test_the_default_order_finds_stage_and_prod_folders_by_their_other_names(stg, prod, chdir, cli):
    """No promotion.environments: prod/prd are production's folders, stage/stg staging's, for
    check-promotion, promote and the per-environment policy alike."""
    policy(chdir, "environments:\n  production:\n    images:\n      require_digest: true\n")
    write(chdir, f"{stg}/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    write(chdir, f"{stg}/kustomization.yaml", kustomization("v1.1.0"))
    commit(chdir, "staging: v1.1.0")
    model = environments.load(chdir, load_policy())
    assert [a.folder for a in model.apps("staging").values()] == [stg]
    assert [a.folder for a in model.apps("production").values()] == [prod]
    assert environments.environment_of(f"{prod}/kustomization.yaml", load_policy()) == (
        "production"
    )
    assert cli("check-promotion")[:2] == (0, "")
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v9.0.0"))
    code, out, _ = cli("check-promotion")
    assert code == 1 and f"{prod}/kustomization.yaml:4:13: promotion/not-promoted" in out, out
    assert "production runs registry.example.com/web:v9.0.0, which staging never ran" in out
    # production's override reaches prod/ (and not stage/)
    code, out, _ = cli("check-images", stg, prod)
    assert code == 1 and f"{prod}/kustomization.yaml" in out and stg + "/" not in out, out
    # promote finds both, and writes production's prod/ folder
    write(chdir, f"{prod}/kustomization.yaml", kustomization("v1.0.0"))
    policy(chdir, "images:\n  tag_pattern: '.*'\n")
    code, _, err = cli("promote", "web" if "clusters" in stg else "envs", "--write")
    assert code == 0, err
    assert "newTag: v1.1.0" in (chdir / prod / "kustomization.yaml").read_text()


def test_other_names_are_only_the_default_orders_and_never_beat_the_own_name(chdir, cli):
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "clusters/prod/web/kustomization.yaml", kustomization("v7.0.0"))
    init_repo(chdir)
    # clusters/production/ is production; prod/ beside it is a folder the order does not name
    model = environments.load(chdir, load_policy())
    assert model.app("production", "web").folder == "clusters/production/web"
    code, out, _ = cli("check-promotion")
    assert code == 0 and "not-promoted" not in out
    assert "clusters/prod/ looks like an environment" in out and "[warning]" in out


def test_other_names_are_not_guessed_once_the_policy_writes_the_order(chdir, cli):
    # a team that writes its order names its folders: envs/prod/ is not production's then
    write(chdir, "envs/stage/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "envs/prod/kustomization.yaml", kustomization("v9.0.0"))
    policy(chdir, "promotion:\n  environments: [staging, production]\n")
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0 and "promotion/no-environments" in out
    assert "envs/prod/, envs/stage/ (named prod, stage)" in out


def test_an_override_keyed_by_the_folders_own_name_keeps_it_its_own_environment(chdir, cli):
    # environments.prod (allowed: clusters/prod/ exists) applies to clusters/prod/ as before
    write(chdir, "clusters/stg/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "clusters/prod/web/kustomization.yaml", kustomization("v1.0.0"))
    policy(chdir, "environments:\n  prod:\n    images:\n      require_digest: true\n")
    init_repo(chdir)
    assert load_policy().folder_aliases == {
        "stage": "staging",
        "stg": "staging",
        "prd": "production",
    }
    path = "clusters/prod/web/kustomization.yaml"
    assert environments.environment_of(path, load_policy()) == "prod"
    model = environments.load(chdir, load_policy())
    assert model.app("production", "web") is None and model.app("staging", "web") is not None
    code, out, _ = cli("check-images", path)
    assert code == 1 and "image/digest-required" in out


@pytest.mark.parametrize(
    "resources,reported", [("../prod\n  - ../stage", False), ("../stage", True)]
)
def test_a_folder_deploying_two_environments_at_once_is_no_environment(
    resources, reported, chdir, cli
):
    # gitops-catalog's apicast/overlays/default/ lists ../prod and ../stage: an aggregate of
    # both environments, not an unnamed one; a qa/ built on ../stage alone still looks like one
    write(chdir, "apicast/base/kustomization.yaml", "resources:\n  - deployment.yaml\n")
    write(chdir, "apicast/base/deployment.yaml", BASE)
    for env in ("stage", "prod"):
        write(
            chdir,
            f"apicast/overlays/{env}/kustomization.yaml",
            kustomization("v1.0.0", base="../../base"),
        )
    write(chdir, "apicast/overlays/other/kustomization.yaml", f"resources:\n  - {resources}\n")
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0
    assert ("apicast/overlays/other/ looks like an environment" in out) == reported, out


REGIONS = "promotion:\n  environments: [dev, [staging-eu, staging-us], [prod-eu, prod-us]]\n"


def test_parallel_groups_on_both_sides_pair_up_by_region(chdir, cli):
    """prod-eu promotes from staging-eu, not from every staging: a tag only staging-eu ran is
    a valid promotion to prod-eu, and one only staging-us ran is not."""
    policy(chdir, REGIONS)
    for env in ("dev", "staging-eu", "staging-us", "prod-eu", "prod-us"):
        write(chdir, f"clusters/{env}/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    model = environments.load(chdir, load_policy())
    assert model.pairs() == [
        ("dev", "staging-eu"),
        ("dev", "staging-us"),
        ("staging-eu", "prod-eu"),
        ("staging-us", "prod-us"),
    ]
    assert model.successors("staging-eu") == ["prod-eu"]
    for tag in ("v1.1.0", "v1.2.0"):
        write(chdir, "clusters/dev/web/kustomization.yaml", kustomization(tag))
        commit(chdir, f"dev: {tag}")
    write(chdir, "clusters/staging-eu/web/kustomization.yaml", kustomization("v1.1.0"))
    write(chdir, "clusters/staging-us/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "staging-eu: v1.1.0, staging-us: v1.2.0")
    # prod-eu takes what staging-eu ran (staging-us never had v1.1.0: no finding)
    code, out, err = cli("promote", "web", "--to", "prod-eu", "--write")
    assert code == 0, err
    assert "newTag: v1.1.0" in (chdir / "clusters/prod-eu/web/kustomization.yaml").read_text()
    commit(chdir, "prod-eu: v1.1.0")
    assert cli("check-promotion")[:2] == (0, "")
    # prod-eu moving to what only staging-us ran is a finding naming staging-eu
    write(chdir, "clusters/prod-eu/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "prod-eu: v1.2.0")
    code, out, _ = cli("check-promotion")
    assert code == 1 and out.count("promotion/not-promoted") == 1, out
    assert "clusters/prod-eu/web/kustomization.yaml" in out and "staging-eu never ran" in out
    # and promote refuses the cross-region step unless forced
    code, _, err = cli("promote", "web", "--from", "staging-us", "--to", "prod-eu")
    assert code == 1 and "prod-eu promotes from staging-eu, not staging-us" in err
    assert cli("promote", "web", "--from", "staging-us", "--to", "prod-eu", "--force")[0] == 0


@pytest.mark.parametrize(
    "order",
    [
        "[dev, [staging-eu, staging-ap], [prod-eu, prod-us]]",  # us has no staging of its own
        "[dev, staging, [prod-eu, prod-us]]",  # one staging before the group
    ],
)
def test_groups_that_do_not_pair_one_to_one_keep_every_predecessor(order, chdir):
    policy(chdir, f"promotion:\n  environments: {order}\n")
    model = environments.load(chdir, load_policy())
    assert model.predecessors("prod-eu") == model.stages[1]
    assert model.predecessors("prod-us") == model.stages[1]
    assert environments.counterpart("eu-prod", ["eu-prod", "us-prod"], ["eu-stg", "us-stg"]) == (
        "eu-stg"
    )


def _entry(name: str, tag: str) -> str:
    return f"images:\n  - name: {name}\n    newName: registry.example.com/web\n    newTag: {tag}\n"


@pytest.mark.parametrize(
    "stg,prod,pairs",
    [("envs/stage", "envs/prod", True), ("envs/staging", "envs/production", False)],
)
def test_names_embed_the_other_name_only_where_the_folder_goes_by_it(stg, prod, pairs, chdir, cli):
    # entries web-stage / web-prod pair up where the folders are stage/ and prod/; beside
    # staging/ and production/ folders, "prod" in a name is just a word
    write(chdir, f"{stg}/kustomization.yaml", _entry("web-stage", "v1.1.0"))
    write(chdir, f"{prod}/kustomization.yaml", _entry("web-prod", "v1.0.0"))
    init_repo(chdir)
    model = environments.load(chdir, load_policy())
    assert model.words("production") == (("production", "prod") if pairs else ("production",))
    code, out, err = cli("promote", "envs", "--write")
    written = (chdir / prod / "kustomization.yaml").read_text()
    if pairs:
        assert code == 0 and "newTag: v1.1.0" in written, out + err
    else:
        assert code == 1 and "newTag: v1.0.0" in written, out + err

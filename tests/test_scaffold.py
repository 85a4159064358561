"""``gitops-guard new``: the bundled template through the command line; the wheel carries the
template; and, end to end, a generated repository passes real ``pre-commit run --all-files``
with this checkout's hooks, then fails on a planted bad tag and a planted Secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, git


def test_new_generates_into_dir_named_after_repo_slug(cli, chdir):
    code, out, err = cli("new", "gitops-prod", "--no-input", "--set", "gitops_engine=flux")
    assert (code, err) == (0, "")
    repo = chdir / "gitops-prod"
    assert "created gitops-prod" in out
    assert (repo / "clusters/staging/flux/demo-app.yaml").is_file()
    assert not (repo / "bootstrap").exists()
    assert "name: gitops-prod\n" in (repo / "clusters/staging/flux/source.yaml").read_text()


def test_new_writes_the_policy_schema_the_policy_points_at(cli, chdir):
    from gitops_guard.core.policy import schema

    assert cli("new", "--no-input")[0] == 0
    repo = chdir / "demo-gitops"
    policy = (repo / "policies/gitops-guard.yaml").read_text()
    assert policy.splitlines()[0] == "# yaml-language-server: $schema=./gitops-guard.schema.json"
    written = json.loads((repo / "policies/gitops-guard.schema.json").read_text())
    assert written == schema()


def test_new_points_pre_commit_at_another_hook_repository(cli, chdir):
    code, _, _ = cli(
        "new", "r", "--no-input", "--hooks-repo", "https://git.example.com/h", "--hooks-rev", "abc"
    )
    assert code == 0
    config = (chdir / "r/.pre-commit-config.yaml").read_text()
    assert "  - repo: https://git.example.com/h\n    rev: abc\n" in config


def test_new_git_makes_one_clean_commit(cli, chdir):
    assert cli("new", "repo", "--no-input", "--git")[0] == 0
    repo = chdir / "repo"
    assert git(repo, "log", "--oneline").stdout.count("\n") == 1
    assert git(repo, "status", "--porcelain").stdout == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "main"


def test_new_into_an_existing_empty_folder(cli, chdir):
    (chdir / "empty").mkdir()
    assert cli("new", "empty", "--no-input")[0] == 0
    assert (chdir / "empty/README.md").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "app_name=Web_App"], "app_name 'Web_App' is not a DNS-1123 label"),
        (["--set", "image_registry=docker"], "would be read as a Docker Hub path"),
        (["--set", "colour=blue"], "--set colour: not a template variable"),
        (["--set", "gitops_engine=jenkins"], "--set gitops_engine=jenkins: choose one of"),
        (["--set", "novalue"], "expected KEY=VALUE"),
        (["Bad_Dir"], "repo_slug 'Bad_Dir' is not a DNS-1123 label"),
        (["--set", "project_name=!!!"], "repo_slug is empty"),  # derived from project_name
        (["x", "--set", "repo_slug=y"], "differ"),
    ],
)
def test_new_rejects_bad_answers_in_one_line_and_writes_nothing(cli, chdir, argv, message):
    code, out, err = cli("new", "--no-input", *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and out == ""
    assert list(chdir.iterdir()) == []


def test_new_refuses_a_folder_with_files(cli, chdir):
    (chdir / "busy").mkdir()
    (chdir / "busy/keep.txt").write_text("mine")
    code, _, err = cli("new", "busy", "--no-input")
    assert code == 2 and "not an empty folder" in err
    assert [p.name for p in (chdir / "busy").iterdir()] == ["keep.txt"]


def test_new_help_lists_its_options(cli):
    code, out, _ = cli("new", "--help")
    assert code == 0
    for option in ("--no-input", "--set", "--git", "--hooks-repo", "--hooks-rev", "DIR"):
        assert option in out


# -- packaging: the template travels inside the wheel ----------------------------------------


@pytest.fixture(scope="session")
def wheel(hooks_repo, tmp_path_factory) -> Path:
    """A wheel built from the snapshot of this checkout, the way pip installs a hook repo."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), hooks_repo[0]],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"building the wheel failed: {result.stderr[-2000:]}")
    (built,) = out.glob("gitops_guard-*.whl")
    return built


@pytest.mark.e2e
def test_the_wheel_carries_the_whole_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "gitops_guard/template/"
    shipped = {n[len(prefix) :] for n in names if n.startswith(prefix)}
    source = {
        str(p.relative_to(ROOT / "template"))
        for p in (ROOT / "template").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped == source
    assert "{{cookiecutter.repo_slug}}/.github/workflows/promote.yml" in shipped
    assert "{{cookiecutter.repo_slug}}/apps/{{cookiecutter.app_name}}/templates/_helpers.tpl" in (
        shipped
    )


@pytest.mark.e2e
def test_new_works_from_the_unpacked_wheel_alone(wheel, tmp_path):
    """Not the checkout: only the wheel's files (plus the dependencies) are importable."""
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(unpacked), sysconfig.get_paths()["purelib"]]),
    }
    result = subprocess.run(
        [sys.executable, "-S", "-m", "gitops_guard", "new", "from-wheel", "--no-input"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-wheel/clusters/production/demo-app/kustomization.yaml").is_file()
    where = subprocess.run(
        [sys.executable, "-S", "-c", "import gitops_guard; print(gitops_guard.__file__)"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(unpacked))


# -- end to end: real pre-commit with this checkout's hooks ----------------------------------

E2E_COMBOS = [
    [],  # the defaults: argocd, github, sealed-secrets, kustomize
    [
        "--set",
        "gitops_engine=flux",
        "--set",
        "ci_provider=gitlab",
        "--set",
        "secrets_backend=sops",
        "--set",
        "app_format=helm",
    ],
]

PLANTED_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: hunter2-but-longer-Xq9
"""


@pytest.mark.e2e
@pytest.mark.parametrize("answers", E2E_COMBOS, ids=["defaults", "flux-gitlab-sops-helm"])
def test_generated_repository_passes_pre_commit_then_catches_planted_mistakes(
    cli, chdir, hooks_repo, run_pre_commit, answers
):
    repo_url, commit = hooks_repo
    rev = "v0.0.0-e2e"  # a tag, as the template pins by default (a bare commit id is hex)
    git(Path(repo_url), "tag", "-f", rev, commit)
    code, _, err = cli(
        "new", "repo", "--no-input", "--git", "--hooks-repo", repo_url, "--hooks-rev", rev, *answers
    )
    assert code == 0, err
    repo = chdir / "repo"
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    for hook in ("check-images", "check-secrets", "check-sync-waves", "check-promotion"):
        assert f"gitops-guard {hook}" in result.stdout

    # a bad image tag in the staging overlay
    helm = "app_format=helm" in answers
    overlay = repo / "clusters/staging/demo-app" / ("values.yaml" if helm else "kustomization.yaml")
    old = "tag: v0.1.0" if helm else "newTag: v0.1.0"
    overlay.write_text(overlay.read_text().replace(old, old.replace("v0.1.0", "main-3f2a1c")))
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1
    rel = str(overlay.relative_to(repo))
    assert f"{rel}:" in result.stdout and "image/tag-not-allowed" in result.stdout
    git(repo, "checkout", "--", rel)

    # a plaintext Secret
    (repo / "clusters/staging/demo-app/db-secret.yaml").write_text(PLANTED_SECRET)
    git(repo, "add", "-A")
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1
    assert "clusters/staging/demo-app/db-secret.yaml:" in result.stdout
    assert "secret/k8s-secret-plaintext" in result.stdout
    assert "hunter2-but-longer-Xq9" not in result.stdout  # never printed in full

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


# -- interactive `new`: the real prompts through a pseudo-terminal --------------------------


def _spawn(command: list[str], cwd: Path):
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb", "HOME": str(cwd)}
    return pexpect.spawn(
        command[0], command[1:], cwd=str(cwd), env=env, encoding="utf-8", timeout=120
    )


@pytest.mark.e2e
def test_new_on_a_terminal_checks_each_answer_as_it_is_given(tmp_path):
    """Enter takes a default, a number picks a choice, a bad answer is asked again with the
    reason at once (not after the ninth prompt), and the markup-like registry help renders."""
    pexpect = pytest.importorskip("pexpect")
    gitops_guard = Path(sys.executable).with_name("gitops-guard")
    child = _spawn([str(gitops_guard), "new"], tmp_path)
    seen = []

    def answer(prompt: str, reply: str) -> None:
        child.expect_exact(prompt)
        seen.append(child.before + prompt)
        child.sendline(reply)

    answer("Project name (a title for the README) [Demo GitOps]: ", "Shop Platform")
    answer("[shop-platform]: ", "")  # derived from the project name: Enter takes it
    answer("[https://github.com/example-org/shop-platform.git]: ", "")
    answer("Choose from 1-2 [1]: ", "2")  # Flux
    answer("Choose from 1-3 [1]: ", "")
    answer("[staging,production]: ", "dev,staging,prod-eu+")
    child.expect_exact("has an empty name")  # asked again at once, with the reason
    answer("[staging,production]: ", "dev,staging,prod-eu+prod-us")  # a parallel stage
    answer("(a host, with an optional :port and /path, e.g. ghcr.io/my-org) [", "docker")
    child.expect_exact("would be read as a Docker Hub path")  # the reason, right away
    answer("[registry.example.com]: ", "localhost:5000/team")
    answer("[demo-app]: ", "")
    answer("Choose from 1-2 [1]: ", "")
    answer("Choose from 1-3 [1]: ", "")
    while child.expect([r"Choose from 1-\d \[1\]: ", r"\]: ", pexpect.EOF]) != 2:
        child.sendline("")  # later variables (monitoring...): their defaults
    child.close()
    transcript = "".join(seen) + (child.before or "")
    assert child.exitstatus == 0, transcript
    assert "Traceback" not in transcript and "MarkupError" not in transcript
    assert "created shop-platform" in transcript
    repo = tmp_path / "shop-platform"
    clusters = sorted(p.name for p in (repo / "clusters").iterdir())
    assert clusters == ["dev", "prod-eu", "prod-us", "staging"]
    assert (repo / "clusters/prod-us/flux/demo-app.yaml").is_file()
    assert "localhost:5000/team/demo-app" in (repo / "apps/demo-app/deployment.yaml").read_text()
    policy = (repo / "policies/gitops-guard.yaml").read_text()
    assert "  environments: [dev, staging, [prod-eu, prod-us]]\n" in policy
    state = json.loads((repo / ".cruft.json").read_text())
    assert state["context"]["cookiecutter"]["environments"] == "dev,staging,prod-eu+prod-us"


@pytest.mark.e2e
def test_plain_cookiecutter_prompts_render_and_generate(tmp_path):
    """`cookiecutter <checkout> --directory template`, every prompt answered with Enter: the
    prompt texts are plain (rich used to read `[/path]` as a closing markup tag)."""
    pexpect = pytest.importorskip("pexpect")
    cookiecutter = Path(sys.executable).with_name("cookiecutter")
    child = _spawn([str(cookiecutter), str(ROOT / "template"), "-o", str(tmp_path)], tmp_path)
    for _ in range(20):  # rich prompts end in "(default): "
        if child.expect([r"\): ", pexpect.EOF]) == 1:
            break
        assert "Traceback" not in child.before, child.before
        child.sendline("")
    child.close()
    assert child.exitstatus == 0, child.before
    assert (tmp_path / "demo-gitops/clusters/production/root-app.yaml").is_file()


# -- `new` makes a valid repository or nothing -------------------------------------------------


def test_set_values_are_data_not_jinja(cli, chdir):
    code, _, err = cli(
        "new", "--no-input", "--set", "project_name={{ 7*7 }} {% if 1 %}x{% endif %}"
    )
    assert code == 0, err
    (repo,) = chdir.iterdir()
    title = (repo / "README.md").read_text().splitlines()[0]
    assert title == "# {{ 7*7 }} {% if 1 %}x{% endif %}"
    assert "49" not in repo.name
    state = json.loads((repo / ".cruft.json").read_text())  # cruft renders it the same way
    assert state["context"]["cookiecutter"]["project_name"].startswith("{% raw %}")


def test_a_value_that_tries_to_leave_the_raw_block_is_refused(cli, chdir):
    code, _, err = cli("new", "--no-input", "--set", "project_name={% endraw %}{{ 7*7 }}")
    assert code == 2 and "endraw" in err and list(chdir.iterdir()) == []


@pytest.mark.parametrize("name", ["2024", "yes", "null", "0x1f", "1e3", "on", "0123"])
def test_names_yaml_reads_as_numbers_or_booleans_are_quoted(cli, chdir, name):
    """DNS-1123 labels all; written plain, YAML would read a number, a boolean or null."""
    import yaml
    from gitops_guard.cli import main
    from gitops_guard.scaffold import demo

    code, _, err = cli(
        "new", name, "--no-input", "--set", f"app_name={name}", "--set", "environments=dev,prod"
    )
    assert code == 0, err
    repo = chdir / name
    namespace = yaml.safe_load((repo / "clusters/dev/infrastructure/namespace.yaml").read_text())
    assert namespace["metadata"]["name"] == name
    assert namespace["metadata"]["labels"]["app.kubernetes.io/part-of"] == name
    overlay = yaml.safe_load((repo / f"clusters/prod/{name}/kustomization.yaml").read_text())
    assert overlay["namespace"] == name and overlay["replicas"][0]["name"] == name
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    for check in demo.CHECKS:
        outcome = demo.run_check(repo, check, main)
        assert outcome.code == 0, f"{check.command}: {outcome.out}{outcome.err}"


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("repo_url=https://git.example.com/a\nb.git", "repo_url"),
        ("repo_url=https://git.example.com/a b.git", "is not a Git URL on one line"),
        ("repo_url=https://git.example.com/{{x}}.git", "is not a Git URL"),
        ("_hooks_repo=https://h.example.com/x\ny", "_hooks_repo"),
        ("image_registry=" + "r" * 200 + ".example.com", "leave room"),
        ("environments=staging,staging", "more than once"),
        ("environments=", "environments is empty"),
        ("environments=qa,Prod", "environment 'Prod' is not a DNS-1123 label"),
        ("environments=dev,,prod", "has an empty name"),
        ("environments=staging,prod-eu+", "has an empty name"),
        ("environments=dev;prod", "separate environments with ',' (in order) or '+'"),
        ("environments=staging,prod+prod", "more than once"),
        ("project_name=two\nlines", "one line"),
        ("_app_team=@team\nx", "not a CODEOWNERS owner"),
    ],
)
def test_values_that_would_break_the_repository_are_refused(cli, chdir, assignment, message):
    code, out, err = cli("new", "--no-input", "--set", assignment)
    assert out == ""
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert list(chdir.iterdir()) == []


def test_an_interrupted_new_leaves_nothing_behind(cli, chdir, monkeypatch):
    """Ctrl-C or a CI timeout's SIGTERM midway: no half-made folder, and a rerun works."""
    import signal

    from gitops_guard.scaffold import new

    real = new._render

    def interrupted(scratch, extra):
        project = real(scratch, extra)  # every file written, not yet moved into place
        assert any(project.rglob("*.yaml"))
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not interrupt")

    monkeypatch.setattr(new, "_render", interrupted)
    assert cli("new", "repo", "--no-input")[0] == 130
    assert list(chdir.iterdir()) == []  # neither repo/ nor the hidden build folder
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    monkeypatch.setattr(new, "_render", real)
    assert cli("new", "repo", "--no-input")[0] == 0
    assert sorted(p.name for p in chdir.iterdir()) == ["repo"]


def test_new_records_the_template_for_cruft(cli, chdir):
    assert cli("new", "repo", "--no-input", "--set", "environments=qa,prod")[0] == 0
    state = json.loads((chdir / "repo/.cruft.json").read_text())
    assert state["template"] == "https://github.com/gitops-guard/gitops-guard"
    assert state["directory"] == "template" and state["commit"] == "v0.1.0"
    assert state["context"]["cookiecutter"]["environments"] == "qa,prod"


def test_hooks_repo_that_is_not_a_git_repository_is_refused(cli, chdir):
    (chdir / "hooks").mkdir()
    code, _, err = cli("new", "r", "--no-input", "--hooks-repo", str(chdir / "hooks"))
    assert code == 2 and "not a git repository" in err
    assert sorted(p.name for p in chdir.iterdir()) == ["hooks"]


@pytest.mark.e2e
def test_a_local_hooks_repo_gives_a_working_config_ci_line_and_cruft_record(
    cli, chdir, hooks_repo, run_pre_commit
):
    path, rev = hooks_repo
    code, _, err = cli("new", "r", "--no-input", "--git", "--hooks-repo", path)
    assert code == 0, err
    repo = chdir / "r"
    config = (repo / ".pre-commit-config.yaml").read_text()
    assert f"  - repo: {path}\n    rev: {rev}\n" in config  # no --hooks-rev: its HEAD commit
    workflow = (repo / ".github/workflows/pre-commit.yml").read_text()
    line = f'"gitops-guard @ git+file://localhost{path}@{rev}"'
    assert line in workflow
    # the CI install line works: pip accepts it (a dry run clones it and reads its metadata;
    # a bare path, `git+/path@rev`, is what pip rejected)
    dry_run = ["install", "--dry-run", "--no-deps", "-q"]
    pip = subprocess.run(
        [sys.executable, "-m", "pip", *dry_run, line[1:-1]],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    state = json.loads((repo / ".cruft.json").read_text())
    assert (state["template"], state["commit"]) == (path, rev)


@pytest.mark.e2e
def test_cruft_diff_and_check_are_clean_on_a_fresh_repository(cli, chdir, hooks_repo):
    """`.cruft.json` is what cruft needs: the template at the recorded commit, rendered with the
    recorded answers, is the repository (here the template comes from a local mirror of this
    checkout at its commit, as a team with a mirror would record it)."""
    path, rev = hooks_repo
    code, _, err = cli(
        "new", "repo", "--no-input", "--git", "--set", "environments=dev,staging,production"
    )
    assert code == 0, err
    repo = chdir / "repo"
    state_file = repo / ".cruft.json"
    state = json.loads(state_file.read_text())
    state["template"], state["commit"] = path, rev  # the mirror, at the revision of this code
    state_file.write_text(json.dumps(state, indent=2) + "\n")
    git(repo, "commit", "-qam", "template from the mirror")
    env = {**os.environ, "HOME": str(chdir), "GIT_TERMINAL_PROMPT": "0"}
    cruft = [sys.executable, "-m", "cruft"]
    diff = subprocess.run(
        [*cruft, "diff", "--exit-code"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout.strip() == ""
    check = subprocess.run(
        [*cruft, "check"], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # and a change to a file the template wrote is what `cruft diff` then shows
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "local note\n")
    diff = subprocess.run(
        [*cruft, "diff", "--exit-code"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert diff.returncode != 0 and "local note" in diff.stdout

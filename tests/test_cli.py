"""The command line: exit codes 0 / 1 / 2, one-line usage errors, --version, --help, folders,
and ``python -m gitops_guard`` as a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from gitops_guard import __version__
from gitops_guard.cli import ALL_FORMATS, COMMANDS
from gitops_guard.core.pipeline import expand_paths
from gitops_guard.core.report import FORMATS

GOOD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
    "  containers: [{name: a, image: 'reg.io/a:v1.0.0'}]\n"
)
BAD = GOOD.replace("v1.0.0", "latest")


@pytest.fixture
def files(chdir: Path) -> Path:
    (chdir / "good.yaml").write_text(GOOD, encoding="utf-8")
    (chdir / "bad.yaml").write_text(BAD, encoding="utf-8")
    return chdir


def one_line_error(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("gitops-guard: error: ")


def test_exit_0_when_clean(cli, files):
    assert cli("check-images", "good.yaml") == (0, "", "")


def test_exit_1_with_findings(cli, files):
    code, out, err = cli("check-images", "good.yaml", "bad.yaml")
    assert (code, err) == (1, "")
    assert out == (
        "bad.yaml:5:33: image/tag-latest image 'reg.io/a' uses tag 'latest', which floats; "
        "pin a tag matching ^v\\d+\\.\\d+\\.\\d+$\n"
    )


def test_exit_0_when_only_warnings_or_info(cli, files):
    (files / "empty.yaml").write_text("", encoding="utf-8")
    code, out, _ = cli("check-images", "empty.yaml")
    assert code == 0 and out.rstrip().endswith("[info]")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["check-images", "--frobnicate", "good.yaml"], "--frobnicate"),
        (["check-images", "--format", "xml", "good.yaml"], "xml"),
        (["check-images"], "FILE"),
        (["check-images", "missing.yaml"], "missing.yaml"),
        (["no-such-command"], "no-such-command"),
        (["--frobnicate"], "--frobnicate"),
        (["check-images", "--bogus"], "--bogus"),
        (["drift", "--format", "sarif"], "sarif"),
        (["promote", "--format", "json", "web"], "--format"),
        (["policy-schema", "--format", "json"], "--format"),
        (["new", "--policy", "p.yaml"], "--policy"),
        (["new", "/dev/null/x", "--no-input"], "/dev/null/x"),
    ],
)
def test_usage_errors_are_exit_2_with_one_line(cli, files, argv, says):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert one_line_error(err), err
    assert says in err


def test_version(cli):
    for argv in (["--version"], ["check-images", "--version"]):
        code, out, _ = cli(*argv)
        assert (code, out) == (0, f"gitops-guard {__version__}\n")


def test_options_may_come_before_the_command(cli, files):
    (files / "p.yaml").write_text("version: 1\nrules:\n  image/tag-latest: warning\n")
    code, out, err = cli("--policy", "p.yaml", "check-images", "bad.yaml")
    assert (code, err) == (0, "") and out.rstrip().endswith("[warning]")
    code, out, _ = cli("--format", "json", "check-images", "bad.yaml")
    assert code == 1 and json.loads(out)["findings"][0]["rule"] == "image/tag-latest"


def test_short_version_at_the_top_level(cli):
    assert cli("-V") == (0, f"gitops-guard {__version__}\n", "")


def test_format_is_offered_only_with_the_choices_a_command_honours(cli):
    for name, spec in COMMANDS.items():
        code, out, _ = cli(name, "--help")
        assert code == 0
        if name == "add":  # its --format is the app's packaging (issue 14), not an output format
            assert not spec.formats and "{kustomize,helm}" in out and "{text" not in out
            continue
        assert ("--format" in out) == bool(spec.formats), name
    assert COMMANDS["drift"].formats == ("text", "json")
    assert COMMANDS["check-secrets"].formats == FORMATS == ALL_FORMATS


def test_help_lists_every_command(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for name in COMMANDS:
        assert name in out
    code, out, _ = cli("check-images", "--help")
    assert code == 0 and "--policy" in out and "--format" in out


def test_no_arguments_prints_help_and_exits_2(cli):
    code, out, _ = cli()
    assert code == 2 and "commands:" in out


def test_folders_expand_to_yaml_files_skipping_hidden_ones(tmp_path: Path):
    names = ("a.yaml", "b.yml", "c.json", "sub/d.yaml", "sub/Kustomization", ".git/e.yaml")
    for rel in (*names, "sub/.hidden/f.yaml"):
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("a: 1\n", encoding="utf-8")
    found = [Path(p).relative_to(tmp_path).as_posix() for p in expand_paths([str(tmp_path)])]
    assert found == ["a.yaml", "b.yml", "sub/Kustomization", "sub/d.yaml"]
    every = expand_paths([str(tmp_path)], lambda name: True)
    assert [Path(p).relative_to(tmp_path).as_posix() for p in every][:3] == [
        "a.yaml",
        "b.yml",
        "c.json",
    ]
    # a file named explicitly is checked whatever its suffix (pre-commit chose it)
    assert expand_paths([str(tmp_path / "c.json")]) == [str(tmp_path / "c.json")]


def test_a_folder_argument_is_checked_recursively(cli, files):
    (files / "apps").mkdir()
    (files / "apps" / "pod.yaml").write_text(BAD, encoding="utf-8")
    code, out, _ = cli("check-images", "apps")
    assert code == 1 and out.startswith("apps/pod.yaml:5:33: image/tag-latest")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_every_format_keeps_the_exit_code(cli, files, fmt):
    assert cli("check-images", "--format", fmt, "bad.yaml")[0] == 1
    assert cli("check-images", "--format", fmt, "good.yaml")[0] == 0


def test_python_dash_m_runs_as_a_real_process(files):
    run = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-images", "good.yaml", "bad.yaml"],
        cwd=files,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and run.stderr == ""
    assert run.stdout.startswith("bad.yaml:5:33: image/tag-latest")
    usage = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-images", "--bogus", "good.yaml"],
        cwd=files,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 2 and one_line_error(usage.stderr)
    assert "Traceback" not in usage.stderr


def test_check_images_imports_no_heavy_module(tmp_path: Path):
    """Start-up time: with a policy validated once, a commit imports nothing heavy."""
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    (repo / "policies" / "gitops-guard.yaml").write_text("version: 1\n", encoding="utf-8")
    (repo / "pod.yaml").write_text(GOOD, encoding="utf-8")
    heavy = (
        "jsonschema", "ruamel", "detect_secrets", "cookiecutter", "pathlib", "dataclasses",
        "typing", "hashlib", "json", "copy", "shutil",
    )  # fmt: skip
    code = (
        "import sys\n"
        "from gitops_guard.cli import main\n"
        "code = main(['check-images', 'pod.yaml'])\n"
        f"print(code, sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("GITOPS_GUARD_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert "jsonschema" in runs[0].stdout, runs[0].stdout + runs[0].stderr  # validated once
    assert runs[1].stdout == "0 []\n", runs[1].stdout + runs[1].stderr


# -- file names that are not what they seem (issue 16) ------------------------------------


def test_a_file_named_like_an_option_is_a_file_after_the_separator(files, cli):
    (files / "-x.yaml").write_text(BAD, encoding="utf-8")
    code, out, err = cli("check-images", "--", "-x.yaml", "good.yaml")
    assert code == 1 and out.startswith("-x.yaml:"), err


def test_hook_args_after_the_separator_are_still_options(files, cli):
    """pre-commit runs ``entry args files``: with the entry ending in ``--`` the hook's
    ``args:`` come after it and must keep working."""
    (files / "-x.yaml").write_text(BAD, encoding="utf-8")
    code, out, _ = cli("check-images", "--", "--format", "json", "-x.yaml")
    assert code == 1 and json.loads(out)["findings"][0]["path"] == "-x.yaml"
    code, out, _ = cli("check-images", "--", "--format=github", "-x.yaml")
    assert code == 1 and out.startswith("::error file=-x.yaml")


def test_every_hook_entry_ends_with_the_separator():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hooks and all(h["entry"].split()[-1] == "--" for h in hooks)


def test_a_newline_in_a_file_name_does_not_split_a_text_finding(files, cli):
    (files / "a\nb.yaml").write_text(BAD, encoding="utf-8")
    code, out, _ = cli("check-images", "a\nb.yaml")
    assert code == 1 and out.count("\n") == 1 and out.startswith("a\\nb.yaml:")


@pytest.mark.e2e
def test_pre_commit_passes_a_dash_file_to_the_hook(tmp_path: Path, hooks_repo, run_pre_commit):
    from conftest import hooks_config, init_repo

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "-x.yaml").write_text(BAD, encoding="utf-8")
    (repo / ".pre-commit-config.yaml").write_text(
        hooks_config(hooks_repo, "check-image-tags"), encoding="utf-8"
    )
    init_repo(repo)
    done = run_pre_commit(repo, "run", "--all-files")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "-x.yaml:" in done.stdout and "image/tag-latest" in done.stdout

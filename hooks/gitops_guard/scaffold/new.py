"""``gitops-guard new``: generate a GitOps repository from the template shipped in the package.

The template lives at the top of the source tree (``template/``, where ``cookiecutter <repo>
--directory template`` and cruft find it); ``gitops_guard/template`` is a symlink to it that
setuptools follows, so the wheel carries a real copy and ``new`` works after a plain
``pip install`` (which is how pre-commit installs the hooks). cookiecutter is imported only
when a repository is generated.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from gitops_guard.core.errors import UsageError
from gitops_guard.core.findings import quote

TEMPLATE = Path(__file__).resolve().parent.parent / "template"
SCHEMA_FILE = Path("policies") / "gitops-guard.schema.json"


def template_dir() -> Path:
    if not (TEMPLATE / "cookiecutter.json").is_file():
        raise UsageError(f"the bundled template is missing ({TEMPLATE}); reinstall gitops-guard")
    return TEMPLATE


def variables() -> dict[str, Any]:
    """The template's variables and their defaults, as cookiecutter.json declares them."""
    data: dict[str, Any] = json.loads((template_dir() / "cookiecutter.json").read_text("utf-8"))
    return data


def _pre_gen_module() -> Any:
    """The template's own validation (hooks/pre_gen_project.py), so both paths agree."""
    path = template_dir() / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("gitops_guard_template_pre_gen", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def problems(answers: dict[str, Any]) -> list[str]:
    """Why these answers cannot make a repository (the pre_gen hook's checks)."""
    found: list[str] = _pre_gen_module().problems(answers)
    return found


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` pairs, each KEY a variable of the template."""
    known = variables()
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {quote(pair)}: expected KEY=VALUE")
        if key not in known or key.startswith("__") or key == "_copy_without_render":
            names = ", ".join(k for k in known if not k.startswith("__") and "copy" not in k)
            raise UsageError(f"--set {key}: not a template variable (variables: {names})")
        choices = known[key]
        if isinstance(choices, list) and value not in choices:
            raise UsageError(f"--set {key}={value}: choose one of {', '.join(choices)}")
        result[key] = value
    return result


def _rendered_answers(extra: dict[str, str]) -> dict[str, Any]:
    """The answers cookiecutter would use without prompting (derived defaults rendered)."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = generate_context(
        context_file=str(template_dir() / "cookiecutter.json"), extra_context=extra
    )
    answers: dict[str, Any] = prompt_for_config(context, no_input=True)
    return answers


def generate(
    output_dir: str | Path,
    extra: dict[str, str] | None = None,
    *,
    no_input: bool = True,
    into_empty: bool = False,
) -> Path:
    """Render the template into ``output_dir/<repo_slug>``; return the new repository's path.

    Raises UsageError for bad answers (nothing is left behind) or an existing folder.
    """
    from cookiecutter.exceptions import (
        CookiecutterException,
        FailedHookException,
        OutputDirExistsException,
    )
    from cookiecutter.main import cookiecutter

    extra = dict(extra or {})
    if no_input:
        try:
            found = problems(_rendered_answers(extra))
        except (CookiecutterException, ValueError) as exc:
            raise UsageError(f"the template failed: {exc}") from None
        if found:
            raise UsageError("; ".join(found))
    try:
        project = cookiecutter(
            str(template_dir()),
            no_input=no_input,
            extra_context=extra,
            output_dir=str(output_dir),
            overwrite_if_exists=into_empty,  # only ever an empty folder (checked by run)
        )
    except OutputDirExistsException as exc:
        raise UsageError(f"{exc}; choose another folder") from None
    except FailedHookException:
        raise UsageError("the template rejected the answers (reasons above)") from None
    except (CookiecutterException, ValueError) as exc:
        raise UsageError(f"the template failed: {exc}") from None
    path = Path(project)
    write_schema(path)
    return path


def write_schema(repo: Path) -> None:
    """The policy file's JSON Schema next to it, for editor completion (``$schema``)."""
    from gitops_guard.core.policy import schema

    target = repo / SCHEMA_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(schema(), indent=2) + "\n", encoding="utf-8")


def git_init(repo: Path) -> None:
    """Make ``repo`` a git repository with everything in one first commit."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)

    try:
        steps = [("init", "-q"), ("symbolic-ref", "HEAD", "refs/heads/main"), ("add", "-A")]
        for step in steps:
            result = git(*step)
            if result.returncode != 0:
                raise UsageError(f"git {step[0]} failed: {result.stderr.strip()}")
    except FileNotFoundError:
        raise UsageError("--git: git is not installed") from None
    identity: list[str] = []
    if not git("config", "user.email").stdout.strip():
        identity = ["-c", "user.name=gitops-guard", "-c", "user.email=gitops-guard@localhost"]
    result = git(*identity, "commit", "-q", "-m", "Initial commit from the gitops-guard template")
    if result.returncode != 0:
        raise UsageError(f"git commit failed: {result.stderr.strip()}")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="folder of the new repository (its name becomes repo_slug); "
        "default: <repo_slug> in the working directory",
    )
    parser.add_argument(
        "--no-input", action="store_true", help="do not prompt: use defaults and --set values"
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template variable, e.g. --set gitops_engine=flux (repeatable)",
    )
    parser.add_argument("--git", action="store_true", help="git init and make a first commit")
    parser.add_argument(
        "--hooks-repo", metavar="URL", help="hook repository in .pre-commit-config.yaml"
    )
    parser.add_argument("--hooks-rev", metavar="REV", help="its rev (tag or commit)")


def run(args: argparse.Namespace) -> int:
    extra = parse_assignments(args.assignments)
    if args.hooks_repo:
        extra["_hooks_repo"] = args.hooks_repo
    if args.hooks_rev:
        extra["_hooks_rev"] = args.hooks_rev
    output_dir = Path.cwd()
    into_empty = False
    if args.dir:
        target = Path(args.dir).resolve()
        output_dir = target.parent
        if extra.setdefault("repo_slug", target.name) != target.name:
            raise UsageError(
                f"DIR {quote(args.dir)} and --set repo_slug={extra['repo_slug']} differ"
            )
        if target.exists():
            if not target.is_dir() or any(target.iterdir()):
                raise UsageError(f"{args.dir}: exists and is not an empty folder")
            into_empty = True
    no_input = bool(args.no_input) or not sys.stdin.isatty()
    repo = generate(output_dir, extra, no_input=no_input, into_empty=into_empty)
    if args.git:
        git_init(repo)
    shown = os.path.relpath(repo)
    print(f"created {shown}")
    print(f"next: cd {shown} && pre-commit install && pre-commit run --all-files")
    return 0

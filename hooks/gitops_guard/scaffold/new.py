"""``gitops-guard new``: generate a GitOps repository from the template shipped in the package.

The template lives at the top of the source tree (``template/``, where ``cookiecutter <repo>
--directory template`` and cruft find it); ``gitops_guard/template`` is a symlink to it that
setuptools follows, so the wheel carries a real copy and ``new`` works after a plain
``pip install`` (which is how pre-commit installs the hooks). cookiecutter is imported only
when a repository is generated.

A valid repository or nothing:

- On a terminal every variable is asked in plain text (no markup), and each answer is checked
  when it is given, with the template's own rules (``hooks/pre_gen_project.py``), and asked
  again with the reason. cookiecutter then renders without prompting.
- Answers are data: a value holding Jinja syntax (``{{ 7*7 }}``) is passed to cookiecutter
  inside ``{% raw %}``, so it is written as typed and never evaluated.
- The repository is built in a hidden temporary folder next to the target and moved into place
  in one rename; an interrupted or failed run (Ctrl-C, SIGTERM from a CI timeout, a bad
  answer) leaves no folder behind, so a rerun starts clean.
- ``.cruft.json`` records the template source, its revision and the answers, so ``cruft
  check``, ``cruft diff`` and ``cruft update`` work on the result.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from gitops_guard.core.errors import UsageError
from gitops_guard.core.findings import quote

TEMPLATE = Path(__file__).resolve().parent.parent / "template"
SCHEMA_FILE = Path("policies") / "gitops-guard.schema.json"
CRUFT_FILE = ".cruft.json"
#: the template's folder inside its repository (cruft's ``directory``)
TEMPLATE_DIRECTORY = "template"
JINJA_MARKS = ("{{", "{%", "{#", "}}", "%}", "#}")
NOT_PROMPTED = ("_copy_without_render", "_extensions", "__prompts__")


def template_dir() -> Path:
    if not (TEMPLATE / "cookiecutter.json").is_file():
        raise UsageError(f"the bundled template is missing ({TEMPLATE}); reinstall gitops-guard")
    return TEMPLATE


def variables() -> dict[str, Any]:
    """The template's variables and their defaults, as cookiecutter.json declares them."""
    data: dict[str, Any] = json.loads((template_dir() / "cookiecutter.json").read_text("utf-8"))
    return data


def _load(name: str) -> Any:
    """A module of the template (its hooks, its Jinja filters) loaded from its file."""
    path = template_dir() / name
    spec = importlib.util.spec_from_file_location(f"gitops_guard_template_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pre_gen_module() -> Any:
    """The template's own validation (hooks/pre_gen_project.py), so both paths agree."""
    return _load("hooks/pre_gen_project.py")


def problems(answers: dict[str, Any]) -> list[str]:
    """Why these answers cannot make a repository (the pre_gen hook's checks)."""
    found: list[str] = _pre_gen_module().problems(answers)
    return found


def as_data(value: str) -> str:
    """``value`` as cookiecutter must receive it to write it as typed: it renders every
    variable as a Jinja template, so one that holds Jinja syntax is wrapped in ``{% raw %}``."""
    if not any(mark in value for mark in JINJA_MARKS):
        return value
    if "endraw" in value:
        raise UsageError(f"{value[:40]!r}...: a value may not contain 'endraw'")
    return "{% raw %}" + value + "{% endraw %}"


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` pairs, each KEY a variable of the template."""
    known = variables()
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {quote(pair)}: expected KEY=VALUE")
        if key not in known or key.startswith("__") or key in NOT_PROMPTED:
            names = ", ".join(k for k in known if not k.startswith("__") and k not in NOT_PROMPTED)
            raise UsageError(f"--set {key[:60]}: not a template variable (variables: {names})")
        choices = known[key]
        if isinstance(choices, list) and value not in choices:
            raise UsageError(f"--set {key}={value[:60]}: choose one of {', '.join(choices)}")
        result[key] = value
    return result


def _import_patch() -> Any:
    """cookiecutter loads the template's Jinja filters (``_extensions``) from its folder."""
    folder = str(template_dir())

    class Patch:
        def __enter__(self) -> None:
            sys.path.insert(0, folder)

        def __exit__(self, *exc: object) -> None:
            if folder in sys.path:
                sys.path.remove(folder)

    return Patch()


def _rendered_answers(extra: dict[str, str]) -> dict[str, Any]:
    """The answers cookiecutter would use without prompting (derived defaults rendered)."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    with _import_patch():
        context = generate_context(
            context_file=str(template_dir() / "cookiecutter.json"), extra_context=extra
        )
        answers: dict[str, Any] = prompt_for_config(context, no_input=True)
    return answers


# -- the prompts ------------------------------------------------------------------------------


def prompt_answers(
    given: dict[str, str],
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
) -> dict[str, str]:
    """Ask every public variable not given with ``--set``, in cookiecutter.json's order; return
    the answers as typed.

    Plain text prompts (``input``), a default in brackets that Enter takes, choices by number
    or by name; each answer is checked on its own at once and asked again, with the reason,
    until it is valid. End of input stops with a usage error (nothing is written)."""
    from cookiecutter.environment import StrictEnvironment
    from cookiecutter.prompt import render_variable

    spec = variables()
    prompts = spec.get("__prompts__", {})
    validate = _pre_gen_module().key_problems
    typed: dict[str, str] = dict(given)
    with _import_patch():
        env = StrictEnvironment(context={"cookiecutter": spec})
        for key, raw in spec.items():
            if key.startswith("_") or key in typed:
                continue
            text = prompts.get(key, key)
            while True:
                if isinstance(raw, list):
                    value = _ask_choice(key, raw, text, ask, say)
                else:
                    known = {k: as_data(v) for k, v in typed.items()}
                    default = str(render_variable(env, raw, known))
                    title = text if isinstance(text, str) else key
                    value = _read(ask, f"{title} [{default}]: ").strip() or default
                found = validate(key, value, {**typed, key: value})
                if not found:
                    break
                for problem in found:
                    say(f"  {problem}; try again")
            typed[key] = value
    return typed


def _read(ask: Callable[[str], str], prompt: str) -> str:
    try:
        return ask(prompt)
    except EOFError:
        raise UsageError("no answer (end of input); nothing was written") from None


def _ask_choice(
    key: str, choices: list[str], text: Any, ask: Callable[[str], str], say: Callable[[str], None]
) -> str:
    labels = text if isinstance(text, dict) else {}
    title = labels.get("__prompt__", key) if labels else (text if isinstance(text, str) else key)
    say(f"{title}:")
    for number, choice in enumerate(choices, 1):
        label = labels.get(choice, choice)
        say(f"  {number} - {label}" + (f" ({choice})" if label != choice else ""))
    picked = _read(ask, f"Choose from 1-{len(choices)} [1]: ").strip()
    if not picked:
        return choices[0]
    if picked.isdigit() and 1 <= int(picked) <= len(choices):
        return choices[int(picked) - 1]
    return picked  # a name: key_problems says whether it is one of the choices


# -- generation -------------------------------------------------------------------------------


class _Terminated(Exception):
    """SIGTERM / SIGHUP during generation (a CI timeout): clean up like Ctrl-C."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated(signum)


def generate(
    output_dir: str | Path,
    extra: dict[str, str] | None = None,
    *,
    no_input: bool = True,
    into_empty: bool = False,
    target_name: str | None = None,
) -> Path:
    """Render the template into ``output_dir/<repo_slug>``; return the new repository's path.

    Raises UsageError for bad answers or an existing folder; nothing is left behind then.
    """
    from cookiecutter.exceptions import CookiecutterException, FailedHookException

    typed = dict(extra or {})
    if not no_input:
        typed = prompt_answers(typed)
    extra = {key: as_data(value) for key, value in typed.items()}
    try:
        answers = _rendered_answers(extra)
    except (CookiecutterException, ValueError) as exc:
        raise UsageError(f"the template failed: {exc}") from None
    found = problems(answers)
    if found:
        raise UsageError("; ".join(found))
    output = Path(output_dir)
    target = output / (target_name or str(answers["repo_slug"]))
    if target.exists() and not into_empty:
        raise UsageError(f"{target}: already exists; choose another folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".gitops-guard-new-", dir=output))
    except OSError as exc:
        raise UsageError(f"{target}: cannot create it ({exc.strerror or exc})") from None
    handlers = _trap_termination()
    try:
        project = _render(scratch, extra)
        write_schema(project)
        write_cruft_state(project, extra, answers)
        if into_empty:
            target.rmdir()  # empty (checked by run); the rename below takes its place
        os.rename(project, target)
    except FailedHookException:
        raise UsageError("the template rejected the answers (reasons above)") from None
    except (CookiecutterException, ValueError) as exc:
        raise UsageError(f"the template failed: {exc}") from None
    except _Terminated:
        raise KeyboardInterrupt from None
    finally:
        _restore(handlers)
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _render(scratch: Path, extra: dict[str, str]) -> Path:
    from cookiecutter.main import cookiecutter

    project: str = cookiecutter(
        str(template_dir()), no_input=True, extra_context=extra, output_dir=str(scratch)
    )
    return Path(project)


def _trap_termination() -> dict[int, Any]:
    saved: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread: no handler
            saved[number] = signal.signal(number, _raise_terminated)
    return saved


def _restore(saved: dict[int, Any]) -> None:
    for number, handler in saved.items():
        signal.signal(number, handler)


def write_schema(repo: Path) -> None:
    """The policy file's JSON Schema next to it, for editor completion (``$schema``)."""
    from gitops_guard.core.policy import schema

    target = repo / SCHEMA_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(schema(), indent=2) + "\n", encoding="utf-8")


def template_source(answers: dict[str, Any]) -> tuple[str, str]:
    """Where cruft finds this template again: the hook repository (this project's own
    repository holds both), at the hook revision (a local repository's rev as a commit)."""
    repo, rev = str(answers["_hooks_repo"]), str(answers["_hooks_rev"])
    if repo.startswith("/"):
        resolved = _git_commit(Path(repo), rev)
        if resolved:
            rev = resolved
    return repo, rev


def write_cruft_state(repo: Path, extra: dict[str, str], answers: dict[str, Any]) -> None:
    """``.cruft.json`` as ``cruft create`` writes it: template, commit, directory and the
    answers (the raw ones where a value was protected from Jinja, so cruft renders the same)."""
    source, commit = template_source(answers)
    internal = ("_output_dir", "_repo_dir", "_checkout", "_template", "_commit")
    context = {k: v for k, v in answers.items() if k not in internal}
    context.update({k: v for k, v in extra.items() if k in context})
    context["_template"] = source
    context["_commit"] = commit
    state = {
        "template": source,
        "commit": commit,
        "checkout": None,
        "context": {"cookiecutter": context},
        "directory": TEMPLATE_DIRECTORY,
    }
    (repo / CRUFT_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _git_commit(repo: Path, rev: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def local_hooks_repo(path: str, rev: str | None) -> tuple[str, str]:
    """A local hook repository as pre-commit and pip can use it: an absolute path to a git
    repository, and a revision that exists there (its HEAD commit when none is given)."""
    folder = Path(path).expanduser().resolve()
    if not (folder / ".git").exists() and _git_commit(folder, "HEAD") is None:
        raise UsageError(
            f"--hooks-repo {path}: not a git repository (pre-commit clones the hook "
            "repository at a revision; `git init && git add -A && git commit` it first)"
        )
    wanted = rev or "HEAD"
    commit = _git_commit(folder, wanted)
    if commit is None:
        raise UsageError(f"--hooks-repo {path}: revision {quote(wanted)} not found there")
    if not (folder / ".pre-commit-hooks.yaml").is_file():
        raise UsageError(f"--hooks-repo {path}: no .pre-commit-hooks.yaml (not a hook repository)")
    return str(folder), rev or commit


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
        "--hooks-repo",
        metavar="URL",
        help="hook repository in .pre-commit-config.yaml (a URL, or a local git repository)",
    )
    parser.add_argument("--hooks-rev", metavar="REV", help="its rev (tag or commit)")


def run(args: argparse.Namespace) -> int:
    extra = parse_assignments(args.assignments)
    hooks_repo, hooks_rev = args.hooks_repo, args.hooks_rev
    if hooks_repo and "://" not in hooks_repo and "@" not in hooks_repo:
        hooks_repo, hooks_rev = local_hooks_repo(hooks_repo, hooks_rev)
    if hooks_repo:
        extra["_hooks_repo"] = hooks_repo
    if hooks_rev:
        extra["_hooks_rev"] = hooks_rev
    output_dir = Path.cwd()
    into_empty = False
    name = None
    if args.dir:
        target = Path(args.dir).resolve()
        output_dir = target.parent
        name = target.name
        if extra.setdefault("repo_slug", target.name) != target.name:
            raise UsageError(
                f"DIR {quote(args.dir)} and --set repo_slug={quote(extra['repo_slug'])} differ"
            )
        if target.exists():
            if not target.is_dir() or any(target.iterdir()):
                raise UsageError(f"{args.dir}: exists and is not an empty folder")
            into_empty = True
    no_input = bool(args.no_input) or not sys.stdin.isatty()
    repo = generate(output_dir, extra, no_input=no_input, into_empty=into_empty, target_name=name)
    if args.git:
        git_init(repo)
    shown = os.path.relpath(repo)
    print(f"created {shown}")
    print(f"next: cd {shown} && pre-commit install && pre-commit run --all-files")
    return 0

"""The ``gitops-guard`` command line.

Start-up time matters (a hook runs on every commit), so only the module of the command that
runs is imported, and its options are added only when it runs. The CLI is the one place that
prints and exits: checks return findings, the CLI resolves severities, drops suppressed
findings, writes the report and picks the exit code (0 clean, 1 findings, 2 usage or
configuration error, one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from gitops_guard import __version__

TYPE_CHECKING = False  # start-up time: typing, dataclasses and pathlib are not imported
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

USAGE_ERROR = 2


class Command:
    """A subcommand: the module that implements it and how the CLI drives it."""

    __slots__ = ("files_required", "help", "mode", "module")

    def __init__(
        self, module: str, help: str, mode: str = "run", files_required: bool = True
    ) -> None:
        self.module = module
        self.help = help
        #: "files": module.check(source, policy) per file, or module.check_files(sources,
        #: policy, args) for a check that reasons across files; "run": module.run(args) -> int
        self.mode = mode
        self.files_required = files_required


COMMANDS: dict[str, Command] = {
    "check-images": Command(
        "gitops_guard.images", "image references against the image policy", "files"
    ),
    "check-secrets": Command(
        # "run": it scans every text file (not only YAML) and handles its own files
        "gitops_guard.secrets",
        "committed secrets (Kubernetes-aware, detect-secrets)",
        "run",
    ),
    "check-sync-waves": Command(
        "gitops_guard.syncwaves", "sync-wave / hook / sync-option annotations and ordering", "files"
    ),
    "check-promotion": Command(
        "gitops_guard.promotion",
        "each environment only runs artifacts its predecessor ran",
        "files",
        files_required=False,
    ),
    "promote": Command("gitops_guard.promote", "copy an app's image references to the next env"),
    "drift": Command("gitops_guard.drift", "render two overlays and report their differences"),
    "new": Command("gitops_guard.scaffold", "generate a repository from the bundled template"),
    "demo": Command("gitops_guard.demo", "generate a sample repository and run every check"),
    "policy-schema": Command("gitops_guard.cli", "print the JSON Schema of the policy file"),
}


class UsageError(Exception):
    """Bad command line or configuration: exit 2 with one line on stderr."""


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter without ``shutil`` (imported only to measure the terminal).

    Every ``add_argument`` builds a formatter, so the hook would pay the import on every
    commit; help text is wrapped at $COLUMNS or 100 instead.
    """

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: Any = None
    ) -> None:
        if width is None:
            columns = os.environ.get("COLUMNS", "")
            width = int(columns) - 2 if columns.isdigit() and int(columns) > 20 else 98
        super().__init__(prog, indent_increment, max_help_position, width)


class _RawFormatter(_Formatter, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(message)


def _base_parser() -> _Parser:
    parser = _Parser(
        prog="gitops-guard",
        description="Keep a GitOps repository honest before a change leaves your machine.",
        epilog="commands:\n"
        + "\n".join(f"  {name:<18}{cmd.help}" for name, cmd in COMMANDS.items())
        + "\n\nRun 'gitops-guard COMMAND --help' for a command's options.",
        formatter_class=_RawFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gitops-guard {__version__}")
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    from gitops_guard.report import FORMATS

    parser.add_argument("--policy", metavar="FILE", help="policy file (default: found upward)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")


def build_parser(command: str) -> tuple[argparse.ArgumentParser, Any]:
    spec = COMMANDS[command]
    module = sys.modules[__name__] if spec.module == __name__ else _import(spec.module)
    parser = _Parser(prog=f"gitops-guard {command}", description=spec.help)
    add_common(parser)
    if spec.mode == "files":
        parser.add_argument(
            "files",
            nargs="*" if not spec.files_required else "+",
            metavar="FILE",
            help="files or folders to check (folders: every *.yaml / *.yml below)",
        )
    configure = getattr(module, "configure", None)
    if configure is not None:
        configure(parser)
    return parser, module


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise UsageError(f"command not available in this version ({name})") from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"gitops-guard: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for users; GITOPS_GUARD_DEBUG=1 shows it
        if os.environ.get("GITOPS_GUARD_DEBUG"):
            raise
        print(
            f"gitops-guard: internal error: {type(exc).__name__}: {exc} "
            "(set GITOPS_GUARD_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return USAGE_ERROR


def _main(argv: list[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is None or command not in COMMANDS:
        parser = _base_parser()
        if command is not None:
            raise UsageError(f"unknown command {command!r} (see 'gitops-guard --help')")
        try:
            parser.parse_args(argv)  # --version / --help end here
        except SystemExit as exc:  # main() returns its exit code, it never raises one
            return int(exc.code or 0)
        parser.print_help()
        return USAGE_ERROR
    rest = argv[:]
    rest.remove(command)
    if any(a in ("-V", "--version") for a in rest):
        print(f"gitops-guard {__version__}")
        return 0
    parser, module = build_parser(command)
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    args.command = command
    spec = COMMANDS[command]
    if spec.mode == "files":
        return run_file_check(args, module)
    return int(module.run(args))


def run(args: argparse.Namespace) -> int:
    """``policy-schema``: print the policy file's JSON Schema."""
    import json

    from gitops_guard.policy import schema

    json.dump(schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


# -- the shared path of every checking command: files -> documents -> checks -> report --------


def load_policy_or_fail(args: argparse.Namespace) -> Any:
    from gitops_guard.policy import PolicyError, load_policy

    try:
        return load_policy(args.policy)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None


YAML_SUFFIXES = (".yaml", ".yml")


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files as given; folders expanded to the YAML files below them (hidden folders skipped)."""
    result: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                result.extend(
                    os.path.join(folder, f) for f in sorted(files) if f.endswith(YAML_SUFFIXES)
                )
        elif not os.path.exists(path):
            raise UsageError(f"{path}: no such file or folder")
        else:
            result.append(path)
    return result


def run_file_check(args: argparse.Namespace, module: Any) -> int:
    from gitops_guard.documents import load_file

    policy = load_policy_or_fail(args)
    paths = expand_paths(args.files or [])
    findings: list[Any] = []
    check_files: Callable[..., Any] | None = getattr(module, "check_files", None)
    if check_files is not None:
        sources = [load_file(p) for p in paths]
        for source in sources:
            findings.extend(source.problems)
        findings.extend(check_files(sources, policy, args))
        return finish(findings, sources, policy, args)
    sources = []
    for path in paths:  # one file at a time: its parsed documents are dropped once checked
        source = load_file(path)
        findings.extend(source.problems)
        if source.documents:
            findings.extend(module.check(source, policy))
            source.documents = []
        sources.append(source)
    return finish(findings, sources, policy, args)


def finish(findings: list[Any], sources: Iterable[Any], policy: Any, args: Any) -> int:
    """Suppressions, severities, report, exit code: the same for every checking command."""
    from gitops_guard.documents import environment_of
    from gitops_guard.findings import exit_code, filter_suppressed
    from gitops_guard.report import write
    from gitops_guard.rules import RULES

    by_path: dict[str, list[Any]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    # lines only of the files with findings (splitting 5,000 clean files costs time)
    source_by_path = {s.path: s for s in sources} if by_path else {}
    kept = []
    for path, items in by_path.items():
        source = source_by_path.get(path)
        lines = source.lines if source is not None else _read_lines(path)
        env = environment_of(path)  # environments.<env>.rules override the top level
        for finding in filter_suppressed(items, lines):
            rule = RULES.get(finding.rule)
            default = finding.severity or (rule.severity if rule else "error")
            severity = policy.severity(finding.rule, default, env)
            if severity != "off":
                kept.append(finding.with_severity(severity))
    write(kept, getattr(args, "format", "text"), sys.stdout)
    return exit_code(kept)


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


if __name__ == "__main__":
    sys.exit(main())

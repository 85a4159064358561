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
from gitops_guard.core.errors import UsageError

TYPE_CHECKING = False  # start-up time: typing, dataclasses and pathlib are not imported
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

USAGE_ERROR = 2
#: report.FORMATS, repeated here: importing report (and the rule table) costs --help time
ALL_FORMATS = ("text", "json", "sarif", "github")


class Command:
    """A subcommand: the module that implements it and how the CLI drives it."""

    __slots__ = ("files_required", "formats", "help", "mode", "module", "policy")

    def __init__(
        self,
        module: str,
        help: str,
        mode: str = "run",
        files_required: bool = True,
        formats: tuple[str, ...] = ALL_FORMATS,
        policy: bool = True,
    ) -> None:
        self.module = module
        self.help = help
        #: "files": module.check(source, policy) per file, or module.check_files(sources,
        #: policy, args) for a check that reasons across files; "run": module.run(args) -> int
        self.mode = mode
        self.files_required = files_required
        #: the --format choices the command honours (none: no --format option)
        self.formats = formats
        #: whether the command reads the policy file (--policy)
        self.policy = policy


COMMANDS: dict[str, Command] = {
    "check-images": Command(
        "gitops_guard.checks.images.check", "image references against the image policy", "files"
    ),
    "check-secrets": Command(
        # "run": it scans every text file (not only YAML) and handles its own files
        "gitops_guard.checks.secrets.check",
        "committed secrets (Kubernetes-aware, detect-secrets)",
        "run",
    ),
    "check-sync-waves": Command(
        "gitops_guard.checks.syncwaves.check",
        "sync-wave / hook / sync-option annotations and ordering",
        "files",
    ),
    "check-controls": Command(
        "gitops_guard.checks.controls",
        "drift reconciled or alerted, failed rollouts remediated, sync errors reported",
        "files",
    ),
    "check-promotion": Command(
        "gitops_guard.checks.promotion",
        "each environment only runs artifacts its predecessor ran",
        "files",
        files_required=False,
    ),
    "check-manifests": Command(
        # "run": it takes any changed file (chart templates, values) and renders applications
        "gitops_guard.checks.manifests.check",
        "render the applications the files take part in, validate and check the output",
        "run",
        files_required=False,
    ),
    "promote": Command(
        "gitops_guard.change.promote", "copy an app's image references to the next env", formats=()
    ),
    "drift": Command(
        "gitops_guard.change.drift",
        "render two overlays and report their differences",
        formats=("text", "json"),
    ),
    "set-image": Command(
        "gitops_guard.change.set_image",
        "set an app's image in one environment (byte-minimal, policy-checked)",
        formats=(),
    ),
    "new": Command(
        "gitops_guard.scaffold.new",
        "generate a repository from the bundled template",
        formats=(),
        policy=False,
    ),
    "add": Command(
        "gitops_guard.scaffold.add",
        "grow a repository: add app NAME, or add env NAME --after/--parallel-to ENV",
        formats=(),
        policy=False,
    ),
    "demo": Command(
        "gitops_guard.scaffold.demo",
        "generate a sample repository and run every check",
        formats=(),
        policy=False,
    ),
    "policy-schema": Command(
        "gitops_guard.cli", "print the JSON Schema of the policy file", formats=(), policy=False
    ),
}
#: options that take a value and may come before the command (``--policy p.yaml check-images``)
_VALUE_OPTIONS = ("--policy", "--format")


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
    parser.add_argument("-V", "--version", action="version", version=f"gitops-guard {__version__}")
    return parser


def add_common(parser: argparse.ArgumentParser, spec: Command | None = None) -> None:
    """--policy and --format, for the commands that honour them (with their own choices)."""
    if spec is None or spec.policy:
        parser.add_argument("--policy", metavar="FILE", help="policy file (default: found upward)")
    formats = ALL_FORMATS if spec is None else spec.formats
    if formats:
        parser.add_argument("--format", choices=formats, default="text", help="output format")


def build_parser(command: str) -> tuple[argparse.ArgumentParser, Any]:
    spec = COMMANDS[command]
    module = sys.modules[__name__] if spec.module == __name__ else _import(spec.module)
    parser = _Parser(prog=f"gitops-guard {command}", description=spec.help)
    add_common(parser, spec)
    if spec.mode == "files":
        parser.add_argument(
            "files",
            nargs="*" if not spec.files_required else "+",
            metavar="FILE",
            help="files or folders to check (folders: every *.yaml, *.yml and "
            "Kustomization file below)",
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
    """Run one command. Everything it prints, on stdout and stderr, goes through the one
    masking step (``core/masking.py``): no command can print a secret."""
    from gitops_guard.core.output import MaskingStream

    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = MaskingStream(out), MaskingStream(err)
    try:
        return _run(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more can be said
                continue
        sys.stdout, sys.stderr = out, err


def _error(message: str) -> None:
    """One line on stderr: bounded, and a newline in it (an input's) escaped."""
    from gitops_guard.core.findings import bounded

    text = bounded(message, 1_000).replace("\r", "\\r").replace("\n", "\\n")
    print(f"gitops-guard: {text}", file=sys.stderr)


def _run(argv: list[str]) -> int:
    try:
        return _main(argv)
    except UsageError as exc:
        _error(f"error: {exc}")
        return USAGE_ERROR
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP during a write (atomic.py)
        account = getattr(exc, "account", None)
        if account:
            _error(account)
        return int(getattr(exc, "exit_code", 130))
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the user gave: not writable, not a folder, ...
        if os.environ.get("GITOPS_GUARD_DEBUG"):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"error: {where}{exc.strerror or exc}")
        return USAGE_ERROR
    except Exception as exc:  # never a traceback for users; GITOPS_GUARD_DEBUG=1 shows it
        if os.environ.get("GITOPS_GUARD_DEBUG"):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc} (set GITOPS_GUARD_DEBUG=1 for details)"
        )
        return USAGE_ERROR


def _command_index(argv: list[str]) -> int | None:
    """Where the command is: the first argument that is neither an option nor the value of
    an option given before the command (``--policy p.yaml check-images``)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return None
        if arg in _VALUE_OPTIONS:
            i += 2
            continue
        if not arg.startswith("-"):
            return i
        i += 1
    return None


def _unknown_options(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """Options the command does not have (argparse would name a missing FILE first)."""
    known = parser._option_string_actions
    unknown = []
    for arg in args:
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-" or arg[1:2].isdigit():
            continue
        name = arg.split("=", 1)[0]
        if name.startswith("--"):
            if name not in known and not any(k.startswith(name) for k in known):
                unknown.append(name)
        elif name[:2] not in known:
            unknown.append(name)
    return unknown


def _after_separator(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """Arguments with everything after ``--`` that is not one of the command's options made a
    file, even a name that starts with ``-`` (``-x.yaml``).

    Hook entries end with ``--`` so pre-commit's file names are never read as options. The
    options a user adds as hook ``args:`` come after the entry, so after the ``--`` too: an
    argument there that is exactly one of the command's options (``--format github``,
    ``--policy=p.yaml``) is still that option.
    """
    if "--" not in args:
        return args
    cut = args.index("--")
    known = parser._option_string_actions
    options: list[str] = []
    files: list[str] = []
    after = args[cut + 1 :]
    i = 0
    while i < len(after):
        arg = after[i]
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        action = known.get(name) if arg.startswith("-") else None
        if action is None:
            files.append(arg)
        else:
            options.append(arg)
            if action.nargs != 0 and "=" not in arg and i + 1 < len(after):
                options.append(after[i + 1])
                i += 1
        i += 1
    return [*args[:cut], *options, "--", *files]


def _main(argv: list[str]) -> int:
    index = _command_index(argv)
    if index is None or argv[index] not in COMMANDS:
        parser = _base_parser()
        if index is not None:
            command = argv[index]
            from gitops_guard.core.findings import quote

            raise UsageError(f"unknown command {quote(command)} (see 'gitops-guard --help')")
        try:
            parser.parse_args(argv)  # --version / --help end here
        except SystemExit as exc:  # main() returns its exit code, it never raises one
            return int(exc.code or 0)
        parser.print_help()
        return USAGE_ERROR
    command = argv[index]
    rest = argv[:index] + argv[index + 1 :]
    if any(a in ("-V", "--version") for a in rest):
        print(f"gitops-guard {__version__}")
        return 0
    parser, module = build_parser(command)
    rest = _after_separator(parser, rest)
    unknown = _unknown_options(parser, rest)
    if unknown:
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    args.command = command
    spec = COMMANDS[command]
    if spec.mode == "files":
        from gitops_guard.core.pipeline import run_file_check

        return run_file_check(args, module)
    args.dispatch = main  # a command that runs other commands (demo) calls back through it
    return int(module.run(args))


def run(args: argparse.Namespace) -> int:
    """``policy-schema``: print the policy file's JSON Schema."""
    import json

    from gitops_guard.core.policy import schema

    json.dump(schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

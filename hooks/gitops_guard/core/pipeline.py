"""The shared path of every checking command: files -> documents -> checks -> report.

Each checking command's driver calls these: paths expanded the same way, the policy loaded the
same way, and one ``finish`` that applies suppressions and severities, writes the report and
returns the exit code. Checks themselves only return findings.
"""

from __future__ import annotations

import os
import sys

from gitops_guard.core.errors import UsageError

TYPE_CHECKING = False  # start-up time: typing is not imported
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable
    from typing import Any


def load_policy_or_fail(args: argparse.Namespace) -> Any:
    from gitops_guard.core.policy import PolicyError, load_policy

    try:
        return load_policy(args.policy)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None


def expand_paths(paths: Iterable[str], wanted: Callable[[str], bool] | None = None) -> list[str]:
    """Files as given (pre-commit chose them); folders expanded to the files below them whose
    name is ``wanted`` (default: the YAML ones, ``documents.is_yaml_name``), hidden folders
    skipped. Every command that takes folders expands them here."""
    if wanted is None:
        from gitops_guard.core.documents import is_yaml_name as wanted
    result: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                result.extend(os.path.join(folder, f) for f in sorted(files) if wanted(f))
        elif not os.path.exists(path):
            raise UsageError(f"{path}: no such file or folder")
        else:
            result.append(path)
    return result


def run_file_check(args: argparse.Namespace, module: Any) -> int:
    from gitops_guard.core.documents import is_yaml_name, load_file

    policy = load_policy_or_fail(args)
    # `$(git ls-files)` names READMEs too: the YAML checks read YAML files only
    paths = [p for p in expand_paths(args.files or []) if is_yaml_name(os.path.basename(p))]
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
        if source.documents or source.skipped == "helm template":
            findings.extend(module.check(source, policy))
            source.documents = []
        sources.append(source)
    return finish(findings, sources, policy, args)


def finish(findings: list[Any], sources: Iterable[Any], policy: Any, args: Any) -> int:
    """Suppressions, severities, report, exit code: the same for every checking command."""
    from gitops_guard.core.documents import environment_of
    from gitops_guard.core.findings import exit_code, filter_suppressed
    from gitops_guard.core.report import write
    from gitops_guard.core.rules import RULES

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

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
    import stat

    result: list[str] = []
    for path in paths:
        try:  # one system call for a file (most of what is given): a link is followed
            mode = os.lstat(path).st_mode
        except OSError:
            mode = None
        if mode is not None and stat.S_ISLNK(mode):
            # dangling: given as it is (load_file says what it is)
            mode = _followed_mode(path, mode)
        if mode is not None and stat.S_ISDIR(mode):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                result.extend(os.path.join(folder, f) for f in sorted(files) if wanted(f))
        elif mode is None:  # a dangling symlink is there (lstat): load_file says what
            raise UsageError(f"{path}: no such file or folder")
        else:
            result.append(path)
    return result


def _followed_mode(path: str, link_mode: int) -> int:
    try:
        return os.stat(path).st_mode
    except OSError:
        return link_mode


def run_file_check(args: argparse.Namespace, module: Any) -> int:
    from gitops_guard.core.documents import is_yaml_name, load_file

    policy = load_policy_or_fail(args)
    # the files a check reads: YAML, or what its module says (check-images and
    # check-sync-waves read .json manifests too: Argo CD's directory source deploys them)
    wanted: Callable[[str], bool] = getattr(module, "reads", None) or is_yaml_name
    given = list(args.files or [])
    # `$(git ls-files)` names READMEs too: the YAML checks read YAML files only
    paths = [p for p in expand_paths(given, wanted) if wanted(os.path.basename(p))]
    paths = _unique_paths(paths + policy_changed_files(given, policy, wanted))
    findings: list[Any] = []
    check_files: Callable[..., Any] | None = getattr(module, "check_files", None)
    if check_files is not None:
        # a check that reads the repository itself needs the given files' problems and text
        # only (``uses_documents = False``): their YAML problems are remembered by content
        # (core/known_problems.py), so a file is parsed only when it is new
        if getattr(module, "uses_documents", True):
            sources = [load_file(path) for path in paths]
        else:
            from gitops_guard.core.known_problems import load_unparsed

            sources = load_unparsed(paths)
        for source in sources:
            findings.extend(source.problems)
        findings.extend(check_files(sources, policy, args))
        return finish(findings, sources, policy, args)
    # a module may make one run's check (``checker(policy, paths)``): one that asks the
    # repository about a file (who includes it) keeps what it learnt for the next file
    make_checker: Callable[..., Any] | None = getattr(module, "checker", None)
    check = make_checker(policy, paths) if make_checker is not None else module.check
    sources = []
    for path in paths:  # one file at a time: its parsed documents are dropped once checked
        source = load_file(path)
        findings.extend(source.problems)
        if source.documents or source.skipped == "helm template":
            findings.extend(check(source, policy))
            source.documents = []
        sources.append(source)
    return finish(findings, sources, policy, args)


def absolute_paths(paths: Iterable[str]) -> list[str]:
    """``os.path.abspath`` of each path, asking for the working folder once (abspath asks
    the kernel for it per call: a tenth of a 1,500-file run's own time)."""
    if os.name == "nt":  # abspath asks Windows (drive-relative names, device names)
        return [os.path.abspath(path) for path in paths]
    cwd = os.getcwd()
    join, norm = os.path.join, os.path.normpath
    return [norm(join(cwd, path)) for path in paths]


def _unique_paths(paths: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for path, key in zip(paths, absolute_paths(paths)):
        if key not in seen:
            seen.add(key)
            result.append(path)
    return result


def policy_changed_files(given: list[str], policy: Any, wanted: Callable[[str], bool]) -> list[str]:
    """Every file of the repository when the policy file itself is among the given ones.

    pre-commit passes only the changed files, so a commit that tightens
    ``policies/gitops-guard.yaml`` (a registry dropped, a tag pattern narrowed) would be
    checked against nothing but the policy; the whole repository is checked instead, under
    the new policy: the files git tracks (``git ls-files``), else every file below the root.
    pre-commit names the policy file by its own name: only a given file of that name is
    compared with it (however its path is written), not every file of ``--all-files``. When
    the policy is a symbolic link, the file it points to is tracked under the target's name
    (a shared ``org-policy.yaml``): that name is compared too. Names are compared without
    case (a case-insensitive file system opens ``Gitops-Guard.yaml`` as the same file).
    """
    path = getattr(policy, "_path", None)
    root = getattr(policy, "root_dir", None)
    if not path or not root or not given:
        return []
    try:
        policy_stat = os.stat(path)
    except OSError:
        return []
    names = {os.path.basename(os.fspath(path)).casefold()}
    names.add(os.path.basename(os.path.realpath(path)).casefold())
    for item in given:
        if os.path.basename(item).casefold() not in names:
            continue
        try:
            if os.path.samestat(os.stat(item), policy_stat):
                break
        except OSError:
            continue
    else:
        return []
    files = _tracked(root)
    if files is None:
        return expand_paths([root], wanted)
    # git's names are normalised and relative to the root: below the working folder, a
    # name's path from here is the root's path from here joined to it (one relpath, not one
    # per file); a file given already is there (expand_paths saw it), and is not repeated
    # run from a folder below the root (apps/), a name below it is said from there (its
    # prefix cut off, not one relpath per name), the others through ".."
    cwd = os.getcwd()
    try:
        base = os.path.relpath(root, cwd)
        inside = os.path.relpath(cwd, root).replace(os.sep, "/") + "/"
    except ValueError:  # Windows: another drive has no relative path
        base, inside = "", ""
    if inside.startswith("../") or inside == "./":
        inside = ""
    given_here = {os.path.normpath(item) for item in given}
    found = []
    for name in files:
        if not wanted(name.rsplit("/", 1)[-1]):
            continue
        full = os.path.join(root, name)
        if not base:
            rel = full
        elif inside and name.startswith(inside):
            rel = os.path.normpath(name[len(inside) :])
        elif base == "." and os.sep == "/":
            rel = name
        else:
            rel = os.path.normpath(os.path.join(base, name))
        if rel in given_here:
            continue
        if os.path.lexists(full):
            found.append(rel)
    return found


def _tracked(root: str) -> list[str] | None:
    from gitops_guard.core import processes

    try:
        code, out, _ = processes.run_git(root, "ls-files", "-z")
    except OSError:
        return None
    if code != 0:
        return None
    return [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]


def finish(findings: list[Any], sources: Iterable[Any], policy: Any, args: Any) -> int:
    """Suppressions, severities, report, exit code: the same for every checking command."""
    from gitops_guard.core.findings import exit_code, filter_suppressed
    from gitops_guard.core.report import write
    from gitops_guard.core.rules import RULES

    sources = list(sources)
    command = getattr(args, "command", None) or ""
    by_path: dict[str, list[Any]] = {}
    unique: set[tuple[str, int, int, str, str]] = set()
    for finding in findings:  # one place reached twice (an alias, two overlays): once
        mark = (finding.path, finding.line, finding.column, finding.rule, finding.message)
        if mark not in unique:
            unique.add(mark)
            by_path.setdefault(finding.path, []).append(finding)
    # files that carry an ignore comment: it is judged even when they have no finding
    commented = {s.path: s for s in sources if _mentions_us(s)}
    for path in commented:
        by_path.setdefault(path, [])
    # lines only of the files with findings (splitting 5,000 clean files costs time)
    source_by_path = {s.path: s for s in sources} if by_path else {}
    kept = []
    for path, items in by_path.items():
        source = source_by_path.get(path)
        lines = _lines_of(source) if source is not None else _read_lines(path)
        env = policy.environment_of(path)  # environments.<env>.rules override the top level
        if path in commented or any("gitops-guard" in line.lower() for line in lines):
            items = items + _judge_suppressions(items, lines, path, command, path in commented)
        for finding in filter_suppressed(items, lines):
            rule = RULES.get(finding.rule)
            default = finding.severity or (rule.severity if rule else "error")
            severity = policy.severity(finding.rule, default, env)
            if severity != "off":
                kept.append(finding.with_severity(severity))
    write(kept, getattr(args, "format", "text"), sys.stdout)
    return exit_code(kept)


def _mentions_us(source: Any) -> bool:
    text = getattr(source, "text", None)
    if isinstance(text, str):
        return "gitops-guard" in text.lower()
    lines = getattr(source, "lines", None)
    return isinstance(lines, list) and any("gitops-guard" in line.lower() for line in lines)


def _lines_of(source: Any) -> list[str]:
    lines = source.lines
    return lines if isinstance(lines, list) else list(lines)


def _judge_suppressions(
    items: list[Any], lines: list[str], path: str, command: str, given: bool
) -> list[Any]:
    """The ignore comments of one file, judged: ``policy/unknown-rule`` for an id no rule
    has (a typo suppresses nothing, silently), ``policy/unused-ignore`` for an id of this
    command's rules that silenced nothing on this run (a stale comment, kept byte for byte
    by ``promote``, would hide the next violation on its line).

    Each command judges the ids of its own area only (``rules.COMMAND_AREAS``): a comment
    for check-secrets is not stale to check-images. An id of no known area is judged by
    the commands that read every file (check-images, check-secrets). A bare
    ``# gitops-guard: ignore`` belongs to no command and is never called stale.
    """
    from gitops_guard.core.findings import (
        Finding,
        comment_column,
        suppressing_comment,
        suppressions,
    )
    from gitops_guard.core.rules import COMMAND_AREAS, RULES

    table = suppressions(lines, path)
    if not table:
        return []
    areas = COMMAND_AREAS.get(command, ())
    known_areas = {a for owned in COMMAND_AREAS.values() for a in owned}
    used = {suppressing_comment(f, lines, table) for f in items}
    extra = []
    for number, ids in sorted(table.items()):
        column = comment_column(lines, number)
        for rule_id in sorted(ids):
            area = rule_id.split("/", 1)[0] + "/"
            if rule_id not in RULES:
                mine = area in areas or (
                    area not in known_areas and command in ("check-images", "check-secrets")
                )
                if mine:
                    extra.append(
                        Finding(
                            path,
                            number,
                            column,
                            "policy/unknown-rule",
                            f"ignore comment names {rule_id[:80]!r}, which is no rule id "
                            "(see docs/rules.md); it suppresses nothing",
                        )
                    )
            elif given and area in areas and (number, rule_id) not in used:
                extra.append(
                    Finding(
                        path,
                        number,
                        column,
                        "policy/unused-ignore",
                        f"ignore comment for {rule_id} suppresses nothing here on this run; "
                        "remove it, or it will hide the next such finding on this line",
                    )
                )
    return extra


def _read_lines(path: str) -> list[str]:
    """The lines of a file a finding names (for its ignore comments); a FIFO or a device is
    never opened (it would block, or never end), a file over the size cap has none."""
    from gitops_guard.core.documents import MAX_FILE_BYTES, read_regular

    data, _problem = read_regular(path, MAX_FILE_BYTES)
    return [] if data is None else data.decode("utf-8", "replace").splitlines()

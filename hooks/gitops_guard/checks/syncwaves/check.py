"""check-sync-waves: Argo CD sync-wave / hook / sync-option annotations, ordering, Flux dependsOn.

Per object (``annotations.py``): values Kubernetes rejects or Argo CD silently misreads.
Per application (``applications.py`` finds them, ``ordering.py`` judges them): nothing syncs
in an earlier phase or wave than what it needs, the policy's ordering rules, explicit waves
where the policy wants them, hooks that share a generateName. Per repository:
waved child Applications without Argo CD's Application health check (``appofapps.py``) and
Flux ``dependsOn`` (``flux_deps.py``).

pre-commit passes only the changed files (the hook is ``require_serial`` so it gets them in one
process). Every application a changed file belongs to is rebuilt from the repository, and an
ordering finding is reported when any file involved in it (either object, the kustomizations
that include them, where their waves were written) was given.
"""

from __future__ import annotations

import os

from gitops_guard.checks.syncwaves import annotations as ann
from gitops_guard.core.documents import (
    Map,
    SourceFile,
    git_root_of,
    is_kustomization,
    is_manifest_name,
)
from gitops_guard.core.findings import Finding, quote
from gitops_guard.core.policy import Policy
from gitops_guard.repo import argo
from gitops_guard.repo.repository import Repository, find_root

#: the files this check reads (core/pipeline.py): YAML, and JSON manifests (Argo CD's
#: directory source deploys *.json)
reads = is_manifest_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="repository root the applications are resolved in (default: the git work tree "
        "holding the working directory, or the folder holding every given file)",
    )


def check_files(sources: list[SourceFile], policy: Policy, args: Any) -> list[Finding]:
    root_arg = getattr(args, "root", None)
    if root_arg and not os.path.isdir(root_arg):
        from gitops_guard.core.errors import UsageError

        raise UsageError(f"--root {root_arg}: not a folder")
    if root_arg:
        root = os.path.abspath(root_arg)
    else:
        root = find_root(s.path for s in sources)
        if git_root_of(root) is None:  # no git work tree: hold what the kustomizations list
            from gitops_guard.repo.kgraph import widen_root

            root = widen_root(root, [s.path for s in sources])
    repo = Repository(root, sources, policy)
    findings: list[Finding] = []
    for source in sources:
        findings.extend(check_annotations(source))
    findings.extend(check_applications(repo, policy))
    if any("argoproj.io" in s.text for s in sources):  # a waved child Application, maybe
        from gitops_guard.checks.syncwaves import appofapps

        findings.extend(appofapps.check(repo, sources))
    if any("toolkit.fluxcd.io" in s.text for s in sources):
        from gitops_guard.checks.syncwaves import flux_deps

        findings.extend(flux_deps.check(repo, sources, all_files=False))
    return _unique(findings)


def check_annotations(source: SourceFile) -> list[Finding]:
    """Every per-object rule over one file.

    A value reached twice (a YAML alias, a ``<<:`` merge key: labels merged into
    annotations, one anchored block in two objects) is one value at one place: reported once.
    """
    findings: list[Finding] = []
    #: (line, column, rule, reason) -> index in findings, and what the value was reached as
    seen: dict[tuple[int, int, str, str], tuple[int, list[str]]] = {}
    for doc in source.documents:
        if not isinstance(doc.data, Map):
            continue
        if is_kustomization(source.path, doc):
            found = ann.check_kustomization(doc.data, source.path)
        elif doc.is_kubernetes:
            found = ann.check_object(doc, source.path)
        else:
            continue
        for finding in found:
            # "annotation 'a' is 1 unquoted" and "label 'a' is 1 unquoted": the same value,
            # reported once, named as both ("label and annotation 'a'")
            what, _, reason = finding.message.partition(" ")
            mark = (finding.line, finding.column, finding.rule, reason)
            if mark not in seen:
                seen[mark] = (len(findings), [what])
                findings.append(finding)
                continue
            index, whats = seen[mark]
            if what in whats:
                continue
            whats.append(what)
            named = " and ".join(sorted(whats, key=lambda w: (w != "label", w)))
            first = findings[index]
            findings[index] = Finding(
                first.path, first.line, first.column, first.rule, f"{named} {reason}"
            )
    return findings


def check_applications(repo: Repository, policy: Policy) -> list[Finding]:
    from gitops_guard.checks.syncwaves import ordering
    from gitops_guard.repo.applications import Builder

    findings: list[Finding] = []
    #: one finding per problem: the same base seen through several overlays is one problem
    seen: dict[tuple, list] = {}
    builder = Builder(repo, _order_rules(policy))
    across = ordering.Repo(builder)
    noted: set[str] = set()
    reported: set[tuple[str, int, int, str, str]] = set()
    for app in builder.applications(all_files=False):
        findings.extend(_not_read(builder, app, repo, noted))
        findings.extend(_outside(builder, app, repo, noted))
        for cross in ordering.cross_app_findings(app, across, repo.display):
            mark = (cross.key, *cross.pos, cross.rule, cross.message)
            if cross.files & repo.given and mark not in reported:
                reported.add(mark)
                findings.append(
                    Finding(repo.display(cross.key), *cross.pos, cross.rule, cross.message)
                )
        section = policy.section("sync_waves", app.env)
        violations = [
            *ordering.dependency_violations(app, repo.display),
            *ordering.generate_name_clashes(app, repo.display),
            *ordering.policy_violations(app, list(section.get("order") or []), repo.display),
        ]
        for violation in violations:
            if not violation.files & repo.given:
                continue
            obj = violation.obj
            where, (line, col) = obj.key, obj.pos
            if violation.at is not None:
                where, line, col = violation.at
            elif obj.wave_at is not None and obj.wave_at[0] == obj.key:
                line, col = obj.wave_at[1], obj.wave_at[2]
            dep = violation.dep
            key = (where, line, col, violation.rule, obj.label(), dep.label(), dep.key, dep.pos)
            if violation.at is not None:  # a note on the dependency: once, whoever needs it
                key = (where, line, col, violation.rule, dep.label())
            if key in seen:
                seen[key][1] += 1
                continue
            seen[key] = [
                Finding(
                    repo.display(where),
                    line,
                    col,
                    violation.rule,
                    violation.message,
                    violation.severity,
                ),
                0,
            ]
            findings.append(seen[key][0])
        kinds = list(section.get("require_wave") or [])
        if kinds:
            for obj in ordering.missing_waves(app, kinds):
                if repo.is_given(obj.key):
                    findings.append(
                        Finding(
                            repo.display(obj.key),
                            obj.pos[0],
                            obj.pos[1],
                            "sync/wave-required",
                            f"{obj.label()} has no {argo.WAVE} annotation, and the policy "
                            "(sync_waves.require_wave) wants an explicit wave on every "
                            f"{obj.kind}",
                        )
                    )
    for key, (line, col), name, path in builder.outside:
        findings.append(
            Finding(
                repo.display(key),
                line,
                col,
                "sync/app-path-outside-repository",
                f"Argo CD Application {quote(name)} has spec.source.path {quote(path)}, which "
                + ("is absolute" if os.path.isabs(path) else "leaves the repository")
                + "; Argo CD refuses it (the Application never syncs), and the hook does not "
                "read that folder",
            )
        )
    for first, more in seen.values():
        if more:
            index = findings.index(first)
            apps = "application" if more == 1 else "applications"
            findings[index] = Finding(
                first.path,
                first.line,
                first.column,
                first.rule,
                f"{first.message} (and {more} other {apps})",
                first.severity,
            )
    return findings


def _order_rules(policy: Policy) -> list[tuple[str, str]]:
    """(before, after) of every ``sync_waves.order`` rule, top level and every environment."""
    envs = [None, *((policy.data.get("environments") or {}).keys())]
    found: dict[tuple[str, str], None] = {}
    for env in envs:
        for rule in policy.section("sync_waves", env).get("order") or []:
            if isinstance(rule, dict):
                found[(str(rule.get("before")), str(rule.get("after")))] = None
    return list(found)


def _not_read(builder: Any, app: Any, repo: Repository, noted: set[str]) -> list[Finding]:
    """``sync/context-not-read``: a relevant file over the size cap (``relevance.py``)."""
    context = builder.context
    if context is None or not context.not_read:
        return []
    given = sorted(repo.display(k) for k in app.files & repo.given)
    findings = []
    for key in sorted(set(context.not_read) & app.files - noted):
        noted.add(key)
        size = context.not_read[key] / 1_000_000
        for path in given[:1]:
            findings.append(
                Finding(
                    path,
                    1,
                    1,
                    "sync/context-not-read",
                    f"{repo.display(key)} ({size:.1f} MB, {app.description}) is over the "
                    "1 MB a one-file run reads of a file next to the changed ones, so "
                    "ordering against it was not checked; a full run (pre-commit run "
                    "--all-files) checks it",
                )
            )
    return findings


def _outside(builder: Any, app: Any, repo: Repository, noted: set[str]) -> list[Finding]:
    """``sync/context-not-read``: what the application's kustomizations list outside the
    folder this run reads as the repository (said aloud, never dropped in silence)."""
    given = sorted(repo.display(k) for k in app.files & repo.given)
    if not given:
        return []
    graph = builder.graph
    findings = []
    for kfile in sorted(k for k in app.files if k in graph.edges):
        for entry in graph.outside(kfile):
            marker = f"{kfile}\0{entry}"
            if marker in noted:
                continue
            noted.add(marker)
            findings.append(
                Finding(
                    given[0],
                    1,
                    1,
                    "sync/context-not-read",
                    f"{repo.display(kfile)} lists {quote(entry)}, outside {repo.root} (the "
                    "folder this run reads as the repository), so ordering against it was "
                    "not checked; run inside the repository's git work tree or give --root",
                )
            )
    return findings


def _unique(findings: list[Finding]) -> list[Finding]:
    """The same problem seen through several overlays is reported once."""
    seen: set[tuple[str, int, int, str, str]] = set()
    result = []
    for finding in findings:
        key = (finding.path, finding.line, finding.column, finding.rule, finding.message)
        marker = (*key[:4], finding.message.split("; in ")[0])
        if marker in seen:
            continue
        seen.add(marker)
        result.append(finding)
    return result

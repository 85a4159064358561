"""``gitops-guard promote APP``: copy an app's image references from one environment's overlay
to the next, as a reviewable Git change.

Only the scalars that change are touched (see :mod:`gitops_guard.core.yamledit`); the result is
verified by parsing it again before anything is written, checked against the target
environment's image policy, and written atomically. Dry run by default (a unified diff),
``--write`` to apply, ``--branch`` to commit on ``promote/<app>-<tag>``.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_guard.core import yamledit
from gitops_guard.core.findings import quote
from gitops_guard.repo import overlays
from gitops_guard.repo.overlays import FIELDS, ImageSlot, LayoutError, Overlay


class Refused(Exception):
    """The promotion is not done; the message says why (exit 1)."""


class NoImages(Refused):
    """The app sets no image in the source environment (skipped by ``--all``)."""


@dataclass
class Change:
    """One slot whose reference changes."""

    app: str
    key: str
    path: str
    before: str
    after: str
    tag: str | None


@dataclass
class Plan:
    app: str
    source: str
    target: str
    #: the files that change: path -> (path as shown, old text, new text)
    files: dict[Path, tuple[str, str, str]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", metavar="APP", help="the app (its overlay folder name)")
    parser.add_argument("--from", dest="source", metavar="ENV", help="default: the env before --to")
    parser.add_argument("--to", dest="target", metavar="ENV", help="default: the env after --from")
    parser.add_argument("--all", action="store_true", help="promote every app that differs")
    parser.add_argument("--write", action="store_true", help="write the files (default: diff)")
    parser.add_argument(
        "--branch", action="store_true", help="write and commit on a new branch promote/<app>-<tag>"
    )
    parser.add_argument("--push", action="store_true", help="push the branch (with --branch)")


def run(args: argparse.Namespace) -> int:
    from gitops_guard.core.errors import UsageError
    from gitops_guard.core.pipeline import load_policy_or_fail

    policy = load_policy_or_fail(args)
    if args.all == bool(args.app):
        raise UsageError("give one APP or --all")
    if args.push and not args.branch:
        raise UsageError("--push needs --branch")
    try:
        root, source, target = overlays.environment_pair(policy, args.source, args.target)
    except LayoutError as exc:
        raise UsageError(str(exc)) from None
    try:
        plans = _plans(root, policy, args.app, source, target)
    except (Refused, LayoutError, yamledit.EditError) as exc:
        print(f"gitops-guard promote: refused: {exc}", file=sys.stderr)
        return 1
    for plan in plans:
        for note in plan.notes:
            print(f"gitops-guard promote: note: {note}", file=sys.stderr)
    changed = [p for p in plans if p.changes]
    if not changed:
        what = args.app or "every app"
        print(f"nothing to promote: {what} in {target} already runs what {source} runs")
        return 0
    if not (args.write or args.branch):
        for plan in changed:
            for _path, (shown, old, new) in plan.files.items():
                sys.stdout.writelines(_diff(shown, old, new))
        _summary(changed, "dry run (use --write to apply)")
        return 0
    if args.branch:
        return _branch(root, changed, source, target, args.push)
    try:
        write_plans(changed)
    except OSError as exc:  # core/atomic.py's account: what was and was not written
        print(f"gitops-guard promote: {exc}", file=sys.stderr)
        return 1
    _summary(changed, "written")
    return 0


def _plans(root: Path, policy: Any, app: str | None, source: str, target: str) -> list[Plan]:
    if app is not None:
        return [plan_app(root, policy, app, source, target)]
    src_apps = set(overlays.apps(root, source))
    tgt_apps = set(overlays.apps(root, target))
    plans = []
    for name in sorted(src_apps & tgt_apps):
        try:
            plans.append(plan_app(root, policy, name, source, target))
        except NoImages as exc:
            plans.append(Plan(name, source, target, notes=[f"{exc}; skipped"]))
    for name in sorted(src_apps ^ tgt_apps):
        where = source if name in src_apps else target
        plans.append(Plan(name, source, target, notes=[f"{name}: only in {where}; skipped"]))
    return plans


def plan_app(root: Path, policy: Any, app: str, source: str, target: str) -> Plan:
    """What promoting ``app`` changes; Refused when it must not happen."""
    src_dir = overlays.env_folder(root, source) / app
    tgt_dir = overlays.env_folder(root, target) / app
    missing = [f"clusters/{e}/{app}/" for e, d in ((source, src_dir), (target, tgt_dir))]
    if not src_dir.is_dir() and not tgt_dir.is_dir():
        raise Refused(
            f"app {quote(app)} has no overlay in {source} or {target} ({', '.join(missing)})"
        )
    for env, folder in ((source, src_dir), (target, tgt_dir)):
        if not folder.is_dir():
            raise Refused(f"app {quote(app)} has no overlay in {env} (clusters/{env}/{app}/)")
    src = overlays.load_overlay(root, source, app)
    tgt = overlays.load_overlay(root, target, app, exact=True)
    for overlay in (src, tgt):
        if overlay.problems:
            first = overlay.problems[0]
            raise Refused(f"{first.path}:{first.line}:{first.column}: {first.message}")
    wanted = _wanted(src)
    plan = Plan(app, source, target)
    for key in [k for k, slot in wanted.items() if not slot.pinned]:
        del wanted[key]
        plan.notes.append(
            f"{app}: {source} pins no tag or digest for {key} (the base or chart default "
            "applies); left alone"
        )
    if not wanted:
        raise NoImages(f"app {quote(app)} sets no image in {source} (clusters/{source}/{app}/)")
    target_slots = tgt.slots()
    for key, want in wanted.items():
        if key not in target_slots:
            raise Refused(
                f"{app}: {target} has no image entry {key} to promote into "
                f"({source} has {want.reference}); add it once by hand"
            )
    for key in sorted(set(target_slots) - set(wanted)):
        plan.notes.append(f"{app}: {target} sets {key}, which {source} does not; left alone")
    for f in tgt.files:
        edits: list[yamledit.Edit] = []
        for slot in f.slots:
            want = wanted.get(slot.key)
            if want is None or slot.kind != want.kind:
                if want is not None:
                    raise Refused(
                        f"{f.path}: {slot.key} is written as {slot.kind} in {target} but as "
                        f"{want.kind} in {source}; not converted"
                    )
                continue
            if slot.problem is not None:
                raise Refused(f"{slot.problem}; fix that first")
            slot_edits = slot_edits_for(f.text, slot, want.values())
            if slot_edits:
                edits.extend(slot_edits)
                plan.changes.append(
                    Change(app, slot.key, f.path, slot.reference, want.reference, _tag(want))
                )
        if edits:
            try:
                new = yamledit.apply(f.text, edits)
            except yamledit.EditError as exc:
                raise Refused(f"{f.path}: {exc}") from None
            _verify(f, new, wanted)
            _check_policy(policy, f.path, new, wanted)
            bom = "\ufeff" if f.bom else ""
            plan.files[f.abspath] = (f.path, bom + f.text, bom + new)
    return plan


def _wanted(src: Overlay) -> dict[str, ImageSlot]:
    wanted: dict[str, ImageSlot] = {}
    for key, slots in src.slots().items():
        refs = {s.reference for s in slots}
        if len(refs) > 1:
            raise Refused(
                f"{src.app}: {src.env} sets {key} differently in "
                f"{', '.join(s.path for s in slots)}; make them agree first"
            )
        wanted[key] = slots[0]
    return wanted


def _tag(slot: ImageSlot) -> str | None:
    if slot.kind == "string":
        from gitops_guard.checks.images import reference

        try:
            ref = reference.parse(slot.reference)
        except reference.ReferenceError:
            return None
        return ref.tag or (ref.digest or "")[7:19] or None
    tag = slot.value("newTag" if slot.kind == "kustomize" else "tag")
    return tag or (slot.value("digest") or "")[7:19] or None


def slot_edits_for(text: str, slot: ImageSlot, desired: dict[str, str]) -> list[yamledit.Edit]:
    """The edits that make ``slot`` hold exactly ``desired`` (field -> value)."""
    mapping = slot.mapping
    order = FIELDS[slot.kind]
    edits: list[yamledit.Edit] = []
    inserts: list[str] = []
    removed: set[str] = set()
    like = next((slot.fields[f][1] for f in reversed(order) if f in slot.fields), None)
    for name in order:
        want = desired.get(name)
        have = slot.value(name)
        if want == have:
            continue
        if want is not None and have is not None:
            node = slot.fields[name][1]
            edits.append(yamledit.replace_scalar(text, node, want, flow=bool(mapping.flow_style)))
        elif want is not None and name in slot.fields:  # written but null: `tag: ~`
            node = slot.fields[name][1]
            if not node.value:
                line = node.start_mark.line + 1
                raise yamledit.EditError(f"{slot.path}:{line}: {name} is empty; set it by hand")
            edits.append(yamledit.replace_scalar(text, node, want, flow=bool(mapping.flow_style)))
        elif want is not None:
            inserts.append(name)
        else:
            if name in slot.inherited:
                raise yamledit.EditError(
                    f"{slot.path}: {slot.key}.{name} comes from a merge key (<<); remove it there"
                )
            key_node, value_node = slot.fields[name]
            edits.append(yamledit.delete_entry(text, mapping, key_node, value_node))
            removed.add(name)
    groups: dict[int, tuple[Any, list[tuple[str, str]]]] = {}
    for name in inserts:
        anchor = _anchor(slot, name, removed)
        groups.setdefault(id(anchor), (anchor, []))[1].append((name, desired[name]))
    for anchor, entries in groups.values():
        edits.append(yamledit.insert_after(text, mapping, anchor, entries, like))
    return edits


def _anchor(slot: ImageSlot, name: str, removed: set[str]) -> Any:
    """The value node after which a new field goes: the field before it in the usual order."""
    order = FIELDS[slot.kind]
    for before in reversed(order[: order.index(name)]):
        if before in slot.fields and before not in removed and before not in slot.inherited:
            return slot.fields[before][1]
    explicit = [v for k, v in slot.mapping.value if k.tag != yamledit.MERGE_TAG]
    for key_node, value_node in slot.mapping.value:
        if key_node.value == "name" and slot.kind == "kustomize":
            return value_node
    if not explicit:
        raise yamledit.EditError(f"{slot.path}: {slot.key} has no entry to add {name} next to")
    return explicit[-1]


def _verify(f: overlays.OverlayFile, new: str, wanted: dict[str, ImageSlot]) -> None:
    """Parse the result: every promoted slot holds the source's values, nothing else moved."""
    try:
        _, roots, slots = overlays.parse_file(f.path, f.abspath.name, new.encode("utf-8"))
    except yamledit.EditError as exc:
        raise Refused(
            f"{f.path}: the edited file would not parse ({exc}); nothing written"
        ) from None
    before = [(s.key, s.values()) for s in f.slots]
    after = [(s.key, s.values()) for s in slots]
    expected = [(k, wanted[k].values() if k in wanted else v) for k, v in before]
    if after != expected:
        raise Refused(f"{f.path}: the edit did not come out as planned; nothing written")
    if [r.id for r in roots] != [r.id for r in f.roots]:
        raise Refused(f"{f.path}: the edit changed the documents' shape; nothing written")


def _check_policy(policy: Any, shown: str, new: str, wanted: dict[str, ImageSlot]) -> None:
    """Refuse when a promoted reference breaks the target environment's image policy."""
    from gitops_guard.checks.images.check import check
    from gitops_guard.core.documents import load_text

    source = load_text(shown, new)
    _, _, slots = overlays.parse_file(shown, Path(shown).name, new.encode("utf-8"))
    lines: set[int] = set()
    for slot in slots:
        if slot.key in wanted:
            for _k, node in slot.fields.values():
                lines.update(range(node.start_mark.line + 1, node.end_mark.line + 2))
    from gitops_guard.core.findings import filter_suppressed
    from gitops_guard.core.rules import RULES

    found = filter_suppressed([f for f in check(source, policy) if f.line in lines], source.lines)
    bad = [
        f
        for f in found
        if policy.severity(
            f.rule, f.severity or (RULES[f.rule].severity if f.rule in RULES else "error")
        )
        == "error"
    ]
    if bad:
        reasons = "; ".join(f"{f.path}:{f.line}:{f.column}: {f.rule} {f.message}" for f in bad)
        raise Refused(f"the promoted reference would break the image policy: {reasons}")


def _diff(shown: str, old: str, new: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{shown}",
            f"b/{shown}",
        )
    )
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]


def _summary(plans: list[Plan], state: str) -> None:
    for plan in plans:
        for c in plan.changes:
            print(
                f"promote {c.app} {plan.source} -> {plan.target}: {c.key} {c.before} -> {c.after}",
                file=sys.stderr,
            )
    print(f"gitops-guard promote: {state}", file=sys.stderr)


def write_plans(plans: list[Plan]) -> list[str]:
    """Write every file of every plan, all or nothing (``core/atomic.py``): through a
    symlink to the file it points at, with the file's permissions, and never over a file that
    changed since the plan read it (another program's edit would be lost). Raises
    ``atomic.WriteError`` (an OSError) with an exact account of what was and was not written.
    """
    from gitops_guard.core import atomic

    changes = []
    for plan in plans:
        for path, (shown, old, new) in plan.files.items():
            snap = atomic.read(path)
            snap.path = shown
            if snap.data != old.encode("utf-8"):
                raise atomic.ChangedError(
                    f"{shown} changed after it was read (another program wrote it): nothing "
                    "was changed; run promote again"
                )
            changes.append((snap, new))
    return atomic.write_all(changes)


# -- --branch: a commit a pull request can be opened from ------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def branch_name(plans: list[Plan], target: str) -> str:
    if len(plans) == 1:
        tags = sorted({c.tag for c in plans[0].changes if c.tag})
        label = f"{plans[0].app}-{tags[0] if len(tags) == 1 else target}"
    else:
        import hashlib

        refs = "".join(sorted(c.after for p in plans for c in p.changes))
        label = f"{target}-{len(plans)}-apps-{hashlib.sha256(refs.encode()).hexdigest()[:8]}"
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "change"
    return f"promote/{label}"


def commit_message(plans: list[Plan], source: str, target: str) -> str:
    if len(plans) == 1:
        refs = sorted({c.after for c in plans[0].changes})
        title = f"Promote {plans[0].app} from {source} to {target}: {', '.join(refs)}"
    else:
        title = f"Promote {len(plans)} apps from {source} to {target}"
    body = [
        f"- {c.app} {c.key}: {c.after} ({target} had {c.before})" for p in plans for c in p.changes
    ]
    return title + "\n\n" + "\n".join(body) + "\n"


def _branch(root: Path, plans: list[Plan], source: str, target: str, push: bool) -> int:
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        print("gitops-guard promote: refused: --branch needs a git repository", file=sys.stderr)
        return 1
    paths = [str(p) for plan in plans for p in plan.files]
    dirty = _git(root, "status", "--porcelain", "--", *paths).stdout.strip()
    if dirty:
        print(
            "gitops-guard promote: refused: the files to change have uncommitted changes:\n"
            + dirty,
            file=sys.stderr,
        )
        return 1
    name = branch_name(plans, target)
    previous = _git(root, "branch", "--show-current").stdout.strip()
    created = _git(root, "checkout", "-q", "-b", name)
    if created.returncode != 0:
        print(
            f"gitops-guard promote: refused: cannot create branch {name}: {created.stderr.strip()}",
            file=sys.stderr,
        )
        return 1
    try:
        write_plans(plans)
    except OSError as exc:
        print(
            f"gitops-guard promote: {exc} (the working copy is on the new branch {name}; "
            "nothing was committed)",
            file=sys.stderr,
        )
        return 1
    _git(root, "add", "--", *paths)
    committed = _git(
        root, "commit", "-q", "-m", commit_message(plans, source, target), "--", *paths
    )
    if committed.returncode != 0:
        print(
            f"gitops-guard promote: files written on {name} but the commit failed: "
            f"{committed.stderr.strip() or committed.stdout.strip()}",
            file=sys.stderr,
        )
        return 1
    _summary(plans, f"committed on branch {name}")
    if push:
        pushed = _git(root, "push", "-u", "origin", name)
        if pushed.returncode != 0:
            print(
                f"gitops-guard promote: committed on {name} but the push failed: "
                f"{pushed.stderr.strip()}",
                file=sys.stderr,
            )
            return 1
        print(f"gitops-guard promote: pushed {name}", file=sys.stderr)
    back = f"git switch {previous}" if previous else "git switch -"
    print(
        f"gitops-guard promote: the working copy stays on {name} "
        f"(`{back}` to go back{f' to {previous}' if previous else ''})",
        file=sys.stderr,
    )
    print(name)
    return 0

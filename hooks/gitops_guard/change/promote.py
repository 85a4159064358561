"""``gitops-guard promote APP``: copy an app's artifacts (image references, chart versions)
from one environment's overlay to the next, as a reviewable Git change.

Where the overlays are is :mod:`gitops_guard.repo.environments`' answer. Only the scalars
that change are touched (see :mod:`gitops_guard.core.yamledit`); the result is verified by
parsing it again before anything is written, checked against the target environment's image
policy, and written atomically. Dry run by default (a unified diff; ``--dry-run`` says so
explicitly, as set-image's does), ``--write`` to apply,
``--branch`` to commit on ``promote/<app>-<tag>`` (the source is read from the commit: a
source overlay with uncommitted changes is refused).

Refused unless ``--force`` (exit 1, saying why): a step that is not the next one in
``promotion.environments`` (skipping an environment, or going back), and a change that moves
the target backwards (a lower semantic version, or a digest older in git history than the
one it runs).
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
from gitops_guard.core.findings import printable_path, quote
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
    before_artifact: Any = None
    after_artifact: Any = None


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
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff, write nothing (the default)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="promote even when it skips an environment or moves the target backwards",
    )


def run(args: argparse.Namespace) -> int:
    from gitops_guard.core.errors import UsageError
    from gitops_guard.core.pipeline import load_policy_or_fail

    policy = load_policy_or_fail(args)
    if args.all == bool(args.app):
        raise UsageError("give one APP or --all")
    if args.push and not args.branch:
        raise UsageError("--push needs --branch")
    if args.dry_run and (args.write or args.branch):
        raise UsageError(f"give --{'write' if args.write else 'branch'} or --dry-run, not both")
    try:
        model, source, target = overlays.environment_pair(policy, args.source, args.target)
    except LayoutError as exc:
        raise UsageError(str(exc)) from None
    root = model.root
    try:
        if not args.force:
            check_order(model, source, target)
        plans = _plans(model, policy, args.app, source, target)
        if not args.force:
            check_direction(model, policy, plans, target)
        if args.branch:
            check_committed(model, plans, source)
    except (Refused, LayoutError, yamledit.EditError) as exc:
        print(f"gitops-guard promote: refused: {printable_path(mask(str(exc)))}", file=sys.stderr)
        return 1
    for plan in plans:
        for note in plan.notes:
            print(f"gitops-guard promote: note: {printable_path(mask(note))}", file=sys.stderr)
    changed = [p for p in plans if p.changes]
    if not changed:
        what = args.app or "every app"
        print(f"nothing to promote: {what} in {target} already runs what {source} runs")
        return 0
    if not (args.write or args.branch):
        for plan in changed:
            for _path, (shown, old, new) in plan.files.items():
                sys.stdout.writelines(mask(line) for line in _diff(shown, old, new))
        _summary(changed, "dry run (use --write to apply)")
        return 0
    if args.branch:
        return _branch(root, changed, source, target, args.push)
    try:
        write_plans(changed)
    except OSError as exc:  # core/atomic.py's account: what was and was not written
        print(f"gitops-guard promote: {mask(str(exc))}", file=sys.stderr)
        return 1
    _summary(changed, "written")
    return 0


def check_order(model: Any, source: str, target: str) -> None:
    """The step is the next one in ``promotion.environments``: no skipping, no going back."""
    order = " -> ".join("[" + ", ".join(s) + "]" if len(s) > 1 else s[0] for s in model.stages)
    have, want = model.stage_of(source), model.stage_of(target)
    if want <= have:
        raise Refused(
            f"{target} comes before {source} in the promotion order ({order}): promoting "
            "backwards (use --force to do it anyway)"
        )
    if want > have + 1:
        skipped = [e for stage in model.stages[have + 1 : want] for e in stage]
        raise Refused(
            f"{source} -> {target} skips {', '.join(skipped)} ({order}); promote through "
            f"{skipped[0]} first (or use --force)"
        )
    preds = model.predecessors(target)
    if source not in preds:  # parallel groups on both sides pair by name: eu from eu
        raise Refused(
            f"{target} promotes from {', '.join(preds)}, not {source} ({order}: parallel "
            "environments pair up by the rest of their names; use --force to do it anyway)"
        )


def check_committed(model: Any, plans: list[Plan], source: str) -> None:
    """``--branch`` commits what the source runs: the source must be the commit's."""
    folders = []
    for plan in plans:
        app = model.app(source, plan.app)
        if app is not None and plan.changes:
            folders.append(str(model.path(app.folder)))
    if not folders:
        return
    dirty = _git(model.root, "status", "--porcelain", "--", *folders)
    if dirty.returncode == 0 and dirty.stdout.strip():
        raise Refused(
            f"{source}'s overlay has uncommitted changes, and the branch would promote what is "
            "not in git: commit or stash them first:\n" + mask(dirty.stdout.rstrip())
        )


def _semver(tag: str | None) -> tuple[Any, ...] | None:
    match = SEMVER.match(tag or "")
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    # a pre-release sorts before its release
    return (int(major), int(minor or 0), int(patch or 0), pre is None, pre or "")


SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def check_direction(model: Any, policy: Any, plans: list[Plan], target: str) -> None:
    """No change moves the target to an older artifact than it runs."""
    from gitops_guard.checks import promotion

    history = None
    for plan in plans:
        for c in plan.changes:
            before, after = c.before_artifact, c.after_artifact
            if before is None or after is None or before[0] != after[0]:
                continue
            old, new = _semver(before[1]), _semver(after[1])
            if old is not None and new is not None and before[1] != after[1]:
                if new < old:
                    raise Refused(
                        f"{c.app}: {target} would move backwards: {c.key} {c.before} -> "
                        f"{c.after} is a lower version (use --force to do it anyway)"
                    )
                continue
            if before[2] and after[2] and before[2] != after[2]:
                if history is None:
                    history = promotion.history_of(model, policy)
                seen_old = promotion.first_seen(history, before)
                seen_new = promotion.first_seen(history, after)
                if seen_old is not None and seen_new is not None and seen_new < seen_old:
                    raise Refused(
                        f"{c.app}: {target} would move backwards: {c.key} {c.after} is an "
                        f"older digest than the {c.before} it runs (first in git at "
                        f"{history.short(seen_new)}, before {history.short(seen_old)}); use "
                        "--force to do it anyway"
                    )


def mask(text: str) -> str:
    """Every printed line goes through the one masking step (core/masking)."""
    from gitops_guard.core.masking import mask_text

    return mask_text(text)


def _plans(model: Any, policy: Any, app: str | None, source: str, target: str) -> list[Plan]:
    if app is not None:
        return [plan_app(model, policy, app, source, target)]
    src_apps = set(model.apps(source))
    tgt_apps = set(model.apps(target))
    plans = []
    for name in sorted(src_apps & tgt_apps):
        try:
            plans.append(plan_app(model, policy, name, source, target))
        except NoImages:
            continue  # --all says nothing about an app that sets no image
    for name in sorted(src_apps ^ tgt_apps):
        where = source if name in src_apps else target
        overlay = overlays.load_app(model, model.app(where, name))
        if any(s.pinned for f in overlay.files for s in f.slots):
            plans.append(Plan(name, source, target, notes=[f"{name}: only in {where}; skipped"]))
    return plans


def plan_app(model: Any, policy: Any, app: str, source: str, target: str) -> Plan:
    """What promoting ``app`` changes; Refused when it must not happen."""
    src_app, tgt_app = model.app(source, app), model.app(target, app)
    if src_app is None and tgt_app is None:
        raise Refused(
            f"app {quote(app)} has no overlay in {source} or {target}{_known(model, source)}"
        )
    for env, found in ((source, src_app), (target, tgt_app)):
        if found is None:
            raise Refused(f"app {quote(app)} has no overlay in {env}{_known(model, env)}")
    src = overlays.load_app(model, src_app)
    tgt = overlays.load_app(model, tgt_app, exact=True)
    for overlay in (src, tgt):
        if overlay.problems:
            first = overlay.problems[0]
            raise Refused(f"{first.path}:{first.line}:{first.column}: {first.message}")
    wanted = _wanted(src)
    plan = Plan(app, source, target)
    _drop_retagged(model, src_app, src, wanted, plan)
    for key in [k for k, slot in wanted.items() if not slot.pinned]:
        del wanted[key]
        plan.notes.append(
            f"{app}: {source} pins no tag or digest for {key} (the base or chart default "
            "applies); left alone"
        )
    if not wanted:
        raise NoImages(f"app {quote(app)} sets no image in {source} ({src_app.folder}/)")
    target_slots = tgt.slots()
    for key, want in wanted.items():
        if key not in target_slots:
            raise Refused(
                f"{app}: {target} has no image entry {key} to promote into "
                f"({source} has {want.reference}); add it once by hand"
            )
    for key in sorted(set(target_slots) - set(wanted)):
        plan.notes.append(f"{app}: {target} sets {key}, which {source} does not; left alone")
    from gitops_guard.checks.promotion import artifact
    from gitops_guard.repo.environments import neutral

    for f in tgt.files:
        edits: list[yamledit.Edit] = []
        keyed: dict[str, ImageSlot] = {}
        for slot in f.slots:
            key = neutral(slot.key, tgt.words)
            want = wanted.get(key)
            if want is None or slot.kind != want.kind:
                if want is not None:
                    raise Refused(
                        f"{f.path}: {slot.key} is written as {slot.kind} in {target} but as "
                        f"{want.kind} in {source}; not converted"
                    )
                continue
            keyed[slot.key] = want
            if slot.problem is not None:
                raise Refused(f"{slot.problem}; fix that first")
            slot_edits = slot_edits_for(f.text, slot, want.values())
            if slot_edits:
                edits.extend(slot_edits)
                change = Change(app, key, f.path, slot.reference, want.reference, _tag(want))
                change.before_artifact = artifact(slot, policy)
                change.after_artifact = artifact(want, policy)
                plan.changes.append(change)
        if edits:
            try:
                new = yamledit.apply(f.text, edits)
            except yamledit.EditError as exc:
                raise Refused(f"{f.path}: {exc}") from None
            verify(f, new, {k: s.values() for k, s in keyed.items()})
            check_env_policy(policy, target, f.path, new, keyed)
            bom = "\ufeff" if f.bom else ""
            plan.files[f.abspath] = (f.path, bom + f.text, bom + new)
    return plan


def _known(model: Any, env: str) -> str:
    names = sorted(model.apps(env))
    return f" (its apps: {', '.join(names)})" if names else ""


def _drop_retagged(
    model: Any, src_app: Any, src: Overlay, wanted: dict[str, ImageSlot], plan: Plan
) -> None:
    """A container image that an images entry of the source overlay retags (``newTag`` /
    ``digest``) is not what the source runs (kustomize ``api/filters/imagetag``): the entry is
    promoted, and the line under it is left alone in both environments (check-promotion's
    :class:`~gitops_guard.checks.promotion.Reaches` decides it the same way)."""
    if not any(s.kind == "string" for s in wanted.values()):
        return
    if not any(s.kind == "kustomize" for s in wanted.values()):
        return
    from gitops_guard.checks.promotion import Reaches

    reaches = Reaches(model, overlays.RecordCache(model.top))
    mine = [s for f in src.files for s in f.slots]
    for key in [k for k, s in wanted.items() if s.kind == "string"]:
        if not reaches.deployed(src_app, wanted[key], mine):
            del wanted[key]
            plan.notes.append(
                f"{plan.app}: {plan.source} retags {key} with its kustomize images entry; the "
                "entry is promoted, the image written under it is left alone"
            )


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
    if slot.kind == "chart":
        return slot.value("version")
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
    if slot.fixed and (inserts or removed):
        what = ", ".join(sorted([*inserts, *removed]))
        raise yamledit.EditError(
            f"{slot.path}: {slot.key} would need {what} added or removed; change it by hand"
        )
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


def verify(f: Any, new: str, wanted: dict[str, dict[str, str]]) -> None:
    """Parse the result: every changed slot holds the ``wanted`` values (slot key -> field ->
    value), nothing else moved, the documents keep their shape (promote and set-image)."""
    try:
        _, roots, slots = overlays.parse_file(f.path, f.abspath.name, new.encode("utf-8"))
    except yamledit.EditError as exc:
        raise Refused(
            f"{f.path}: the edited file would not parse ({exc}); nothing written"
        ) from None
    before = [(s.key, s.values()) for s in f.slots]
    after = [(s.key, s.values()) for s in slots]
    expected = [(k, wanted.get(k, v)) for k, v in before]
    if after != expected:
        raise Refused(f"{f.path}: the edit did not come out as planned; nothing written")
    if [r.id for r in roots] != [r.id for r in f.roots]:
        raise Refused(f"{f.path}: the edit changed the documents' shape; nothing written")


def env_policy(policy: Any, env: str) -> Any:
    """The policy as it applies in ``env``: its overrides merged in, for any file."""
    from gitops_guard.core.policy import Policy

    data = {k: v for k, v in policy.for_environment(env).items() if k != "environments"}
    return Policy(data=data, path=getattr(policy, "_path", None))


def check_env_policy(
    policy: Any, env: str, shown: str, new: str, wanted: dict[str, ImageSlot] | None
) -> None:
    """Refuse when a changed reference breaks ``env``'s image policy (``wanted``: the slots
    that change, by key; None: every slot of the file)."""
    from gitops_guard.checks.images.check import check
    from gitops_guard.core.documents import load_text
    from gitops_guard.core.findings import filter_suppressed
    from gitops_guard.core.rules import RULES

    view = env_policy(policy, env)
    source = load_text(shown, new)
    _, _, slots = overlays.parse_file(shown, Path(shown).name, new.encode("utf-8"))
    lines: set[int] = set()
    for slot in slots:
        if wanted is None or slot.key in wanted:
            for _k, node in slot.fields.values():
                lines.update(range(node.start_mark.line + 1, node.end_mark.line + 2))
    found = filter_suppressed([f for f in check(source, view) if f.line in lines], source.lines)
    bad = [
        f
        for f in found
        if view.severity(
            f.rule, f.severity or (RULES[f.rule].severity if f.rule in RULES else "error")
        )
        == "error"
    ]
    if bad:
        reasons = "; ".join(f"{f.path}:{f.line}:{f.column}: {f.rule} {f.message}" for f in bad)
        raise Refused(f"the new reference would break {env}'s image policy: {reasons}")


def _diff(shown: str, old: str, new: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{printable_path(shown)}",  # a newline in a file name must not split a line
            f"b/{printable_path(shown)}",
        )
    )
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]


def _summary(plans: list[Plan], state: str) -> None:
    for plan in plans:
        for c in plan.changes:
            step = f"{plan.source} -> {plan.target}"
            line = f"promote {c.app} {step}: {c.key} {c.before} -> {c.after}"
            print(printable_path(line), file=sys.stderr)  # names from files: one line each
    print(f"gitops-guard promote: {state}", file=sys.stderr)


def write_plans(plans: list[Plan]) -> list[str]:
    """Write every file of every plan, all or nothing: see ``write_files``."""
    return write_files([entry for plan in plans for entry in plan.files.items()])


def write_files(entries: list[tuple[Path, tuple[str, str, str]]]) -> list[str]:
    """Write (path, (shown, old text, new text)) entries, all or nothing (``core/atomic.py``):
    through a symlink to the file it points at, with the file's permissions, and never over a
    file that changed since the plan read it (another program's edit would be lost). Raises
    ``atomic.WriteError`` (an OSError) with an exact account of what was and was not written.
    """
    from gitops_guard.core import atomic

    changes = []
    for path, (shown, old, new) in entries:
        snap = atomic.read(path)
        snap.path = shown
        if snap.data != old.encode("utf-8"):
            raise atomic.ChangedError(
                f"{shown} changed after it was read (another program wrote it): nothing "
                "was changed; run the command again"
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
            f"gitops-guard promote: {mask(str(exc))} (the working copy is on the new branch "
            f"{name}; nothing was committed)",
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

"""check-promotion: every environment only runs artifacts the environment before it has run.

For each pair of neighbours in ``promotion.environments`` (staging -> production), every image
reference an app's overlay pins in the later environment must be one the earlier environment
ran: its current reference (``promotion.require: current``) or any reference in the git
history of its overlay (``history``, the default). The hook reasons over the whole repository
(``pass_filenames: false``); given files only narrow which findings are reported.

Production lagging behind staging is the normal state of a GitOps repository, so when only
current references are compared (``current``, or a shallow clone) a production reference
that staging does not run now is reported only if it is new: not pinned by that app's
production overlay at the base revision (``--base``, else ``$PRE_COMMIT_FROM_REF``, else
``HEAD``: the working tree is the change under check). Without a base to read (no git
repository, no commit yet) every reference is new.

History is read once per environment: ``git log --raw`` lists every version of every file
under ``clusters/<env>/`` and ``git cat-file --batch`` reads those blobs in one process. A
shallow clone has no history to read: that is said once, and ``current`` applies.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gitops_guard.checks.images import reference
from gitops_guard.core import yamledit
from gitops_guard.core.documents import is_yaml_name
from gitops_guard.core.findings import Finding, quote
from gitops_guard.repo import overlays

NULL_BLOB = "0" * 40


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--require",
        choices=("current", "history"),
        help="override promotion.require from the policy",
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="the revision the change under check starts from, for `current` "
        "(default: $PRE_COMMIT_FROM_REF, else HEAD)",
    )


def check_files(sources: list[Any], policy: Any, args: Any) -> list[Finding]:
    start = Path(sources[0].path).resolve().parent if sources else None
    root = overlays.repo_root(policy, start)
    require = getattr(args, "require", None) or policy.section("promotion").get(
        "require", "history"
    )
    given = {os.path.abspath(s.path) for s in sources}
    base = getattr(args, "base", None) or os.environ.get("PRE_COMMIT_FROM_REF") or "HEAD"
    findings = check_repository(root, policy.environments, require, policy, base)
    if given:
        findings = [
            f
            for f in findings
            if os.path.abspath(f.path) in given or f.rule == "promotion/history-unavailable"
        ]
    return findings


def check_repository(
    root: Path, order: list[str], require: str, policy: Any = None, base: str = "HEAD"
) -> list[Finding]:
    findings: list[Finding] = []
    notes: list[Finding] = []
    for pred, env in zip(order, order[1:]):
        cache: dict[str, Any] = {}
        before: dict[str, Any] = {}

        def pinned_before(env: str = env, before: dict[str, Any] = before) -> Any:
            """app -> what the env pinned at the base (None: nothing to compare with)."""
            if "value" not in before:
                before["value"], used = read_pinned_at(root, env, base)
                if used is not None and used != base and not notes:
                    notes.append(
                        Finding(
                            _note_path(root, policy, env),
                            1,
                            1,
                            "promotion/history-unavailable",
                            f"base revision {quote(base)} cannot be read (not fetched?): comparing "
                            f"{env} with HEAD, so a move to a new reference committed before "
                            "HEAD is not seen; fetch the base (fetch-depth: 0)",
                        )
                    )
            return before["value"]

        def history(pred: str = pred, cache: dict[str, Any] = cache) -> dict[str, set[str]] | None:
            """Read once, and only when an app pins something to compare."""
            if require != "history":
                return None
            if "value" not in cache:
                cache["value"], why = read_history(root, pred)
                if cache["value"] is None and not notes:
                    notes.append(
                        Finding(
                            _note_path(root, policy, pred),
                            1,
                            1,
                            "promotion/history-unavailable",
                            f"{why}: comparing with {pred}'s current references only",
                        )
                    )
            return cache["value"]

        for app in overlays.apps(root, env):
            findings.extend(_check_app(root, pred, env, app, history, pinned_before))
    return notes + findings


def _note_path(root: Path, policy: Any, env: str) -> str:
    if policy is not None and getattr(policy, "path", None) is not None:
        return overlays.display_path(Path(policy.path).resolve())
    return overlays.display_path(overlays.env_folder(root, env))


def _check_app(
    root: Path,
    pred: str,
    env: str,
    app: str,
    get_history: Callable[[], Any],
    get_before: Callable[[], Any],
) -> list[Finding]:
    overlay = overlays.load_overlay(root, env, app)
    findings = list(overlay.problems)
    slots = [s for f in overlay.files for s in f.slots if s.pinned]
    if not slots:
        return findings
    pred_dir = overlays.env_folder(root, pred) / app
    if not pred_dir.is_dir():
        for slot in slots:
            line, col = slot.position()
            findings.append(
                Finding(
                    slot.path,
                    line,
                    col,
                    "promotion/no-predecessor",
                    f"{env} runs {slot.reference} but {pred} has no overlay "
                    f"clusters/{pred}/{app}/ to promote it from",
                )
            )
        return findings
    history: dict[str, set[str]] | None = get_history()
    current = overlays.load_overlay(root, pred, app)
    known_text = {s.reference for f in current.files for s in f.slots if s.pinned}
    if history is not None:
        known_text |= history.get(app, set())
    known = [r for r in (_parse(t) for t in known_text) if r is not None]
    unchanged: list[reference.Reference] = []
    if history is None:  # current references only: production lagging behind is fine
        before = get_before()
        if before is not None:
            unchanged = [r for r in map(_parse, before.get(app, ())) if r is not None]
    for slot in slots:
        ref = _parse(slot.reference)
        if ref is None:
            continue  # templated or invalid: check-images reports it
        if any(_same_artifact(ref, k) for k in known):
            continue
        if any(_same_artifact(ref, k) for k in unchanged):
            continue  # not moved in the change under check
        had = _listing(sorted({_label(k) for k in known if k.name == ref.name}, key=_natural))
        if history is not None:
            what = f"which {pred} never ran ({pred} ran: {had})"
        else:
            what = f"which is not what {pred} runs ({had})"
        tag_field = {"kustomize": "newTag", "helm": "tag", "string": "image"}[slot.kind]
        same_tag = any(k.name == ref.name and k.tag == ref.tag for k in known)
        prefer = ("digest",) if ref.digest and same_tag else (tag_field, "digest")
        line, col = slot.position(*prefer)
        findings.append(
            Finding(
                slot.path,
                line,
                col,
                "promotion/not-promoted",
                f"{env} runs {ref.repository}:{_label(ref)}, {what}",
            )
        )
    return findings


MAX_LISTED = 10


def _natural(label: str) -> list[Any]:
    """v1.9.0 before v1.10.0."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", label)
    ]


def _listing(labels: list[str]) -> str:
    """The tags, newest last; only the last few when there are many."""
    if not labels:
        return "no tag of it"
    if len(labels) <= MAX_LISTED:
        return ", ".join(labels)
    return f"{len(labels) - MAX_LISTED} older, then " + ", ".join(labels[-MAX_LISTED:])


def _parse(text: str) -> reference.Reference | None:
    if not text or reference.is_templated(text):
        return None
    try:
        return reference.parse(text)
    except reference.ReferenceError:
        return None


def _same_artifact(a: reference.Reference, b: reference.Reference) -> bool:
    """Same image: the digests agree when both pin one, else the tags agree."""
    if a.name != b.name:
        return False
    if a.digest and b.digest:
        return a.digest == b.digest
    return a.tag is not None and a.tag == b.tag


def _label(ref: reference.Reference) -> str:
    if ref.tag and ref.digest:
        return f"{ref.tag}@{ref.digest[:19]}..."
    if ref.digest:
        return f"@{ref.digest[:19]}..."
    return ref.tag or "latest"


# -- history -------------------------------------------------------------------------------


def _git(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )


def read_history(root: Path, env: str) -> tuple[dict[str, set[str]] | None, str]:
    """app -> every image reference its overlay in ``env`` ever pinned; None and a reason
    when there is no history to read (not a git repository, shallow clone)."""
    try:
        probe = _git(root, "rev-parse", "--is-shallow-repository")
    except OSError:
        return None, "git is not installed"
    if probe.returncode != 0:
        return None, "not a git repository, so there is no history"
    if probe.stdout.strip() == "true":
        return None, (
            "this is a shallow clone, so git history is missing (fetch it: fetch-depth: 0)"
        )
    if _git(root, "rev-parse", "--verify", "-q", "HEAD").returncode != 0:
        return {}, ""
    prefix = f"clusters/{env}/"
    log = _git(root, "log", "--format=", "--raw", "--no-renames", "--no-abbrev", "--", prefix)
    if log.returncode != 0:
        return None, f"git log failed: {log.stderr.strip()}"
    blobs: dict[str, str] = {}  # blob -> path
    for line in log.stdout.splitlines():
        if not line.startswith(":"):
            continue
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) < 4 or not path.startswith(prefix):
            continue
        if not is_yaml_name(path.rsplit("/", 1)[-1]):
            continue
        for blob in (parts[2], parts[3]):
            if blob != NULL_BLOB:
                blobs.setdefault(blob, path)
    result: dict[str, set[str]] = {}
    for path, data in _cat_blobs(root, blobs):
        app = path[len(prefix) :].split("/", 1)[0]
        try:
            _, _, slots = overlays.parse_file(path, path.rsplit("/", 1)[-1], data)
        except yamledit.EditError:
            continue  # a broken past version ran nothing
        result.setdefault(app, set()).update(s.reference for s in slots if s.pinned)
    return result, ""


def read_pinned_at(root: Path, env: str, rev: str) -> tuple[dict[str, set[str]] | None, str | None]:
    """(app -> every image reference its overlay in ``env`` pinned at ``rev``, the revision
    read): ``rev``, else HEAD when ``rev`` cannot be read; (None, None) when there is no
    revision at all (not a git repository, no commit yet)."""
    tree = None
    used = None
    for candidate in dict.fromkeys((rev, "HEAD")):
        try:
            tree = _git(root, "ls-tree", "-r", "--full-name", candidate, "--", f"clusters/{env}/")
        except OSError:
            return None, None
        if tree.returncode == 0:
            used = candidate
            break
    if tree is None or tree.returncode != 0:
        return None, None
    prefix = f"clusters/{env}/"
    paths: dict[str, list[str]] = {}  # blob -> every path holding it (equal files share one)
    for line in tree.stdout.splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or parts[1] != "blob" or not path.startswith(prefix):
            continue
        if is_yaml_name(path.rsplit("/", 1)[-1]):
            paths.setdefault(parts[2], []).append(path)
    pinned: dict[str, set[str]] = {}
    for blob, data in _cat_blobs(root, {blob: blob for blob in paths}):
        for path in paths[blob]:
            app = path[len(prefix) :].split("/", 1)[0]
            try:
                _, _, slots = overlays.parse_file(path, path.rsplit("/", 1)[-1], data)
            except yamledit.EditError:
                continue
            pinned.setdefault(app, set()).update(s.reference for s in slots if s.pinned)
    return pinned, used


def _cat_blobs(root: Path, blobs: dict[str, str]) -> Iterable[tuple[str, bytes]]:
    if not blobs:
        return []
    names = list(blobs)
    proc = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input=("\n".join(names) + "\n").encode(),
        capture_output=True,
        check=False,
    )
    out = proc.stdout
    pos = 0
    found = []
    for name in names:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        found.append((blobs[name], out[pos : pos + size]))
        pos += size + 1
    return found

"""``gitops-guard set-image APP --env ENV IMAGE[:TAG][@DIGEST]``: set an app's image in one
environment, the first step of a promotion (CI built an artifact and moves staging to it).

Only the scalars that set APP's image in ENV change (kustomize ``images:`` entries, Helm
values files, a HelmRelease's ``spec.values``, an Argo CD Application's Helm parameters or
``valuesObject``), through the same byte-minimal editor ``promote`` uses; where the overlay's
kustomization has no entry for the image, one is added. The result is parsed again and
checked against ENV's image policy before anything is written (a violation: exit 1, nothing
written). Dry run by default (the unified diff); ``--write`` writes atomically.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from gitops_guard.change import promote
from gitops_guard.change.promote import Refused
from gitops_guard.checks.images import reference
from gitops_guard.core import yamledit
from gitops_guard.core.documents import KUSTOMIZATION_FILES, is_values_file
from gitops_guard.core.findings import printable_path
from gitops_guard.core.quoting import quote
from gitops_guard.repo import environments, overlays
from gitops_guard.repo.overlays import FIELDS, ImageSlot, LayoutError

#: slot kinds that set a container image (chart versions are promoted, not set)
IMAGE_KINDS = ("kustomize", "helm", "string")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", metavar="APP", help="the app (its overlay's name in ENV)")
    parser.add_argument(
        "image", metavar="IMAGE", help="the image to run: NAME[:TAG][@sha256:DIGEST]"
    )
    parser.add_argument("--env", required=True, metavar="ENV", help="the environment to change")
    parser.add_argument("--write", action="store_true", help="write the files (atomically)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff, write nothing (the default)"
    )


def run(args: argparse.Namespace) -> int:
    from gitops_guard.core.errors import UsageError
    from gitops_guard.core.pipeline import load_policy_or_fail

    if args.write and args.dry_run:
        raise UsageError("give --write or --dry-run, not both")
    policy = load_policy_or_fail(args)
    try:
        image = reference.parse(args.image)
    except reference.ReferenceError as exc:
        raise UsageError(f"IMAGE {_quote(args.image)}: {exc}") from None
    if reference.is_templated(args.image):
        raise UsageError(f"IMAGE {_quote(args.image)} is templated")
    root = overlays.repo_root(policy)
    model = environments.load(root, policy)
    if args.env not in model.names:
        raise UsageError(
            f"unknown environment {quote(args.env)} "
            f"(promotion.environments: {', '.join(model.names)})"
        )
    try:
        files = plan(model, policy, args.app, args.env, image, args.image)
    except (Refused, LayoutError, yamledit.EditError) as exc:
        why = printable_path(_mask(str(exc)))  # paths from the repository: one line
        print(f"gitops-guard set-image: refused: {why}", file=sys.stderr)
        return 1
    if not files:
        print(f"nothing to change: {args.app} in {args.env} already runs {_mask(args.image)}")
        return 0
    if not args.write:
        for shown, old, new in files.values():
            sys.stdout.writelines(_mask(line) for line in promote._diff(shown, old, new))
        print("gitops-guard set-image: dry run (use --write to apply)", file=sys.stderr)
        return 0
    try:
        promote.write_files(list(files.items()))
    except OSError as exc:  # core/atomic.py's account: what was and was not written
        print(f"gitops-guard set-image: {_mask(str(exc))}", file=sys.stderr)
        return 1
    for shown, _old, _new in files.values():
        print(printable_path(f"set-image {args.app} {args.env}: {shown}"), file=sys.stderr)
    print("gitops-guard set-image: written", file=sys.stderr)
    return 0


def _mask(text: str) -> str:
    return promote.mask(text)


def _quote(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def plan(
    model: environments.Environments,
    policy: Any,
    app_name: str,
    env: str,
    image: reference.Reference,
    text: str,
) -> dict[Path, tuple[str, str, str]]:
    """path -> (shown, old text, new text) of every file that changes."""
    app = model.app(env, app_name)
    if app is None:
        known = ", ".join(sorted(model.apps(env))) or "none"
        raise Refused(f"app {quote(app_name)} has no overlay in {env} (its apps: {known})")
    overlay = overlays.load_app(model, app, exact=True)
    if overlay.problems:
        first = overlay.problems[0]
        raise Refused(f"{first.path}:{first.line}:{first.column}: {first.message}")
    matched = [
        (f, s)
        for f in overlay.files
        for s in f.slots
        if s.kind in IMAGE_KINDS and _matches(s, image, policy)
    ]
    result: dict[Path, tuple[str, str, str]] = {}
    if not matched:
        added = _add_somewhere(model, overlay, image)
        if added is None:
            raise Refused(
                f"{app_name} in {env} sets no image {image.name} and has nothing to add it to "
                f"in {app.folder or '.'}/ (a kustomization, a Helm values file, a HelmRelease, "
                "an Argo CD Application's Helm parameters); add it once by hand"
            )
        f, new = added
        _check_added(f, new, image, text, policy)
        _check_policy(policy, env, f.path, new)
        bom = "\ufeff" if f.bom else ""
        result[f.abspath] = (f.path, bom + f.text, bom + new)
        return result
    by_file: dict[int, tuple[Any, list[yamledit.Edit], dict[str, dict[str, str]]]] = {}
    for f, slot in matched:
        if slot.problem is not None:
            raise Refused(f"{slot.problem}; fix that first")
        desired = desired_values(slot, image, text)
        try:
            edits = promote.slot_edits_for(f.text, slot, desired)
        except yamledit.EditError as exc:
            raise Refused(str(exc)) from None
        entry = by_file.setdefault(id(f), (f, [], {}))
        entry[1].extend(edits)
        entry[2][slot.key] = desired
    for f, edits, wanted in by_file.values():
        if not edits:
            continue
        try:
            new = yamledit.apply(f.text, edits)
        except yamledit.EditError as exc:
            raise Refused(f"{f.path}: {exc}") from None
        promote.verify(f, new, wanted)
        _check_policy(policy, env, f.path, new)
        bom = "\ufeff" if f.bom else ""
        result[f.abspath] = (f.path, bom + f.text, bom + new)
    return result


def _check_added(f: Any, new: str, image: reference.Reference, text: str, policy: Any) -> None:
    """The file as it would be: it parses, and a slot of it now sets ``image``."""
    try:
        _, _, slots = overlays.parse_file(f.path, f.abspath.name, new.encode("utf-8"))
    except yamledit.EditError as exc:
        raise Refused(
            f"{f.path}: the edited file would not parse ({exc}); nothing written"
        ) from None
    want = reference.parse(text)
    for slot in slots:
        if slot.kind in IMAGE_KINDS and _matches(slot, image, policy):
            try:
                got = reference.parse(slot.reference)
            except reference.ReferenceError:
                continue
            if (got.tag, got.digest) == (want.tag, want.digest):
                return
    raise Refused(f"{f.path}: the added entry did not come out as planned; nothing written")


def _names(slot: ImageSlot) -> set[str]:
    names = set()
    if slot.kind == "kustomize":
        names.add(slot.name)
        if slot.value("newName"):
            names.add(slot.value("newName") or "")
    else:
        ref = slot.reference
        try:
            names.add(reference.parse(ref).name if ref else "")
        except reference.ReferenceError:
            names.add(re.split(r"[:@]", ref.rsplit("/", 1)[-1])[0])
    return {n for n in names if n}


def _matches(slot: ImageSlot, image: reference.Reference, policy: Any) -> bool:
    """The slot sets this image: the same name (registry aliases and Docker Hub's implicit
    prefixes aside), or, for a name written without a registry, the same last path part."""
    want = _canonical(image.name, policy)
    for name in _names(slot):
        if _canonical(name, policy) == want:
            return True
        if "/" not in name and name == image.name.rsplit("/", 1)[-1]:
            return True
    return False


def _canonical(name: str, policy: Any) -> str:
    from gitops_guard.checks.promotion import canonical_name

    try:
        parsed = reference.parse(name).name
    except reference.ReferenceError:
        parsed = name
    return canonical_name(parsed, policy)


def _split_registry(name: str) -> tuple[str | None, str]:
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, name


def desired_values(slot: ImageSlot, image: reference.Reference, text: str) -> dict[str, str]:
    """What the slot's fields must hold to run ``image`` (fields not given are removed: a
    stale digest would keep the old image running)."""
    tag, digest = image.tag, image.digest
    desired: dict[str, str] = {}
    if slot.kind == "string":
        return {"image": text}
    written = image.repository
    if slot.kind == "kustomize":
        if slot.value("newName") is not None or written != slot.name:
            desired["newName"] = written
    else:
        registry, repository = _split_registry(written)
        if "registry" in slot.fields and registry is not None:
            desired["registry"] = registry
            desired["repository"] = repository
        else:
            desired["repository"] = written
            if slot.value("registry") is not None:
                desired["registry"] = ""  # the whole name now sits in repository
    tag_field = "newTag" if slot.kind == "kustomize" else "tag"
    if tag:
        desired[tag_field] = tag
    if digest:
        desired["digest"] = digest
    return {k: v for k, v in desired.items() if v != "" and k in FIELDS[slot.kind]}


def _check_policy(policy: Any, env: str, shown: str, new: str) -> None:
    """Refuse when the file as it would be breaks ENV's image policy (at the changed slots)."""
    promote.check_env_policy(policy, env, shown, new, None)


# -- adding an entry to the overlay's kustomization -------------------------------------------


def _add_entry(
    model: environments.Environments, overlay: overlays.Overlay, image: reference.Reference
) -> tuple[Any, str] | None:
    """(file, new text) with an ``images:`` entry for ``image`` added to the kustomization at
    the top of the app's overlay; None when there is none."""
    top = model.path(overlay.app_ref.folder) if overlay.app_ref is not None else overlay.folder
    target = None
    for f in overlay.files:
        if f.abspath.parent == top and f.abspath.name in KUSTOMIZATION_FILES:
            target = f
            break
    if target is None or len(target.roots) != 1 or target.roots[0].id != "mapping":
        return None
    name = _base_name(model, overlay, image) or image.repository
    entry = [("name", name)]
    if name != image.repository:
        entry.append(("newName", image.repository))
    if image.tag:
        entry.append(("newTag", image.tag))
    if image.digest:
        entry.append(("digest", image.digest))
    text = target.text
    root = target.roots[0]
    images = overlays._get(root, "images")
    eol = "\r\n" if "\r\n" in text else "\n"
    if images is None:
        indent = _list_indent(text)
        lines = [f"{indent}- {entry[0][0]}: {yamledit.render(entry[0][1], 'plain')}"]
        pad = " " * (len(indent) + 2)
        lines += [f"{pad}{k}: {yamledit.render(v, 'plain')}" for k, v in entry[1:]]
        block = "images:" + eol + eol.join(lines) + eol
        if text and not text.endswith(("\n", "\r")):
            block = eol + block
        return target, text + block
    if images.id != "sequence" or images.flow_style or not images.value:
        line = images.start_mark.line + 1
        raise Refused(
            f"{target.path}:{line}: images: is not a block list of entries; add {image.name} "
            "by hand"
        )
    last = images.value[-1]
    first = images.value[0]
    dash_col = _dash_column(text, first)
    key_col = first.value[0][0].start_mark.column if first.id == "mapping" else dash_col + 2
    end = last.end_mark.index
    # the end of the last item's last line (comments after it stay after it)
    line_end = text.find("\n", max(end - 1, 0))
    if line_end < 0:
        line_end = len(text)
    style = "plain"
    lines = [f"{' ' * dash_col}-{' ' * (key_col - dash_col - 1)}{entry[0][0]}: "]
    lines[0] += yamledit.render(entry[0][1], style)
    lines += [f"{' ' * key_col}{k}: {yamledit.render(v, style)}" for k, v in entry[1:]]
    if line_end >= len(text):
        return target, text + eol + eol.join(lines)
    return target, text[: line_end + 1] + eol.join(lines) + eol + text[line_end + 1 :]


def _add_somewhere(
    model: environments.Environments, overlay: overlays.Overlay, image: reference.Reference
) -> tuple[Any, str] | None:
    """Where the image is added: the kustomization's ``images:`` when the overlay's bases run
    a container of that image (kustomize's images transformer changes those); else the
    overlay's Helm values (a Flux overlay's kustomization only patches a HelmRelease: an
    ``images:`` entry there would change nothing); else the kustomization all the same."""
    kustomize = _add_entry(model, overlay, image)
    if kustomize is not None and _base_name(model, overlay, image) is not None:
        return kustomize
    try:
        helm = _add_helm_entry(model, overlay, image)
    except Refused:
        if kustomize is None:
            raise
        helm = None
    return helm or kustomize


# -- adding an image to Helm values (a values file, a HelmRelease, an Argo CD Application) ----


def _add_helm_entry(
    model: environments.Environments, overlay: overlays.Overlay, image: reference.Reference
) -> tuple[Any, str] | None:
    """(file, new text) with ``image`` added where the overlay's Helm values live, in the
    chart convention the values slots read (``image.repository``/``tag``/``digest``): an
    Argo CD Application's ``helm.parameters`` (two or three items appended), else a
    HelmRelease's ``spec.values`` (an ``image:`` block after its last key), else the overlay's
    values file (an ``image:`` block at its end). None when there is none of them. Refused
    when the place already has an ``image`` key (another image: name it instead)."""
    top = model.path(overlay.app_ref.folder) if overlay.app_ref is not None else overlay.folder
    fields = [("repository", image.repository)]
    if image.tag:
        fields.append(("tag", image.tag))
    if image.digest:
        fields.append(("digest", image.digest))
    for f in overlay.files:
        for root in f.roots:
            if root.id != "mapping":
                continue
            kind = overlays._scalar(overlays._get(root, "kind"))
            api = overlays._scalar(overlays._get(root, "apiVersion")) or ""
            spec = overlays._get(root, "spec")
            if kind == "Application" and api.startswith("argoproj.io/"):
                params = overlays._get(
                    overlays._get(overlays._get(spec, "source"), "helm"), "parameters"
                )
                if params is not None and params.id == "sequence" and params.value:
                    return f, _append_parameters(f, params, fields)
            if kind == "HelmRelease":
                values = overlays._get(spec, "values")
                if values is not None:
                    return f, _append_block(f, values, fields)
    for f in overlay.files:
        if f.abspath.parent != top or not is_values_file(f.abspath.name):
            continue
        if len(f.roots) == 1 and f.roots[0].id == "mapping" and not _has_kind(f.roots[0]):
            return f, _append_block(f, f.roots[0], fields)
    return None


def _has_kind(root: Any) -> bool:
    return overlays._get(root, "kind") is not None


def _append_parameters(f: Any, params: Any, fields: list[tuple[str, str]]) -> str:
    names = {
        overlays._scalar(overlays._get(item, "name"))
        for item in params.value
        if item.id == "mapping"
    }
    if any(n == "image" or (n or "").startswith("image.") for n in names):
        line = params.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: helm.parameters set another image; name that one")
    first = params.value[0]
    if first.id != "mapping" or first.flow_style:
        line = params.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: helm.parameters are not a block list of name/value")
    edits = []
    for key, value in fields:
        item = f"name: image.{key}\nvalue: {yamledit.render(value, 'plain')}"
        edits.append(yamledit.insert_item(f.text, params, len(params.value), item))
    return yamledit.apply(f.text, edits)


def _append_block(f: Any, mapping: Any, fields: list[tuple[str, str]]) -> str:
    """An ``image:`` mapping added after ``mapping``'s last entry, indented like its keys
    (its children one step further: the file's own step, else two spaces)."""
    text = f.text
    if mapping.id != "mapping" or mapping.flow_style or not mapping.value:
        line = mapping.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: the values are not a block mapping; add the image by hand")
    if overlays._get(mapping, "image") is not None:
        line = mapping.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: the values set another image; name that one")
    column = mapping.value[0][0].start_mark.column
    step = _indent_step(mapping) or 2
    eol = "\r\n" if "\r\n" in text else "\n"
    lines = [" " * column + "image:"]
    lines += [" " * (column + step) + f"{k}: {yamledit.render(v, 'plain')}" for k, v in fields]
    # after the line of the last scalar inside the last entry (a comment there stays there)
    last = yamledit._last_scalar(mapping.value[-1][1])
    end = yamledit.scalar_span(text, last)[1] if last is not None else mapping.end_mark.index
    line_end = text.find("\n", end)
    if line_end < 0:
        return text + eol + eol.join(lines)  # the file ended without a line break: so does this
    return text[: line_end + 1] + eol.join(lines) + eol + text[line_end + 1 :]


def _indent_step(mapping: Any) -> int | None:
    """How far the file indents a nested mapping's keys below their parent's."""
    column = mapping.value[0][0].start_mark.column
    for _key, value in mapping.value:
        if value.id == "mapping" and value.value and not value.flow_style:
            return value.value[0][0].start_mark.column - column
    return None


def _dash_column(text: str, item: Any) -> int:
    start = item.start_mark.index
    line_start = text.rfind("\n", 0, start) + 1
    dash = text.rfind("-", line_start, start + 1)
    return dash - line_start if dash >= 0 else max(item.start_mark.column - 2, 0)


def _list_indent(text: str) -> str:
    """How the file indents a top-level key's list (``- x`` or ``  - x``)."""
    match = re.search(r"^[A-Za-z][\w.-]*:[ \t]*\r?\n([ \t]*)- ", text, re.MULTILINE)
    return match.group(1) if match else ""


def _base_name(
    model: environments.Environments, overlay: overlays.Overlay, image: reference.Reference
) -> str | None:
    """The image name the overlay's bases use for this image (what a kustomize ``images:``
    entry's ``name`` must match), found by the last path part."""
    wanted = image.name.rsplit("/", 1)[-1]
    for name in overlays.base_images(model, overlay):
        try:
            parsed = reference.parse(name).name if not reference.is_templated(name) else None
        except reference.ReferenceError:
            parsed = None
        if parsed is not None and parsed.rsplit("/", 1)[-1] == wanted:
            written = re.split(r"[:@]", name, maxsplit=1)[0] if "@" in name else name
            return written.rsplit(":", 1)[0] if ":" in written.rsplit("/", 1)[-1] else written
    return None

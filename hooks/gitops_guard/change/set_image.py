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
    chart convention the values slots read (``image.repository``/``tag``/``digest``), the
    first of: an Argo CD Application's ``helm.parameters`` (items appended), a HelmRelease's
    ``spec.values`` (an ``image:`` block after its last key), the overlay's values file (an
    ``image:`` block at its end), a HelmRelease with no ``spec.values`` (the ``values:`` block
    added to its ``spec``), an Argo CD Application's Helm source with no ``parameters`` (the
    ``parameters`` list added to its ``helm``, or ``helm:`` itself). None when there is none
    of them. Refused when the place already sets an image (another image: name it instead), or
    when which of several releases or sources runs the image is not clear."""
    top = model.path(overlay.app_ref.folder) if overlay.app_ref is not None else overlay.folder
    fields = [("repository", image.repository)]
    if image.tag:
        fields.append(("tag", image.tag))
    if image.digest:
        fields.append(("digest", image.digest))
    releases: list[tuple[Any, Any, str]] = []  # HelmReleases without spec.values
    sources: list[tuple[Any, Any, str, str]] = []  # Helm sources without helm.parameters
    not_helm: list[str] = []  # Applications without a Helm source: why nothing was added
    for f in overlay.files:
        for root in f.roots:
            if root.id != "mapping":
                continue
            kind = overlays._scalar(overlays._get(root, "kind"))
            api = overlays._scalar(overlays._get(root, "apiVersion")) or ""
            name = overlays._scalar(overlays._get(overlays._get(root, "metadata"), "name")) or ""
            spec = overlays._get(root, "spec")
            if kind == "Application" and api.startswith("argoproj.io/"):
                found = _helm_sources(spec)
                if not found:
                    line = root.start_mark.line + 1
                    not_helm.append(
                        f"{f.path}:{line}: Application {quote(name)} has no Helm source "
                        "(no chart, no helm:) to set the image in"
                    )
                for where, src in found:
                    params = overlays._get(overlays._get(src, "helm"), "parameters")
                    if params is not None and params.id == "sequence" and params.value:
                        return f, _append_parameters(f, params, fields)
                    label = overlays._scalar(overlays._get(src, "chart")) or name
                    sources.append((f, src, where, label))
            if kind == "HelmRelease":
                values = overlays._get(spec, "values")
                if values is not None:
                    return f, _append_block(f, values, fields)
                releases.append((f, root, name))
    for f in overlay.files:
        if f.abspath.parent != top or not is_values_file(f.abspath.name):
            continue
        if len(f.roots) == 1 and f.roots[0].id == "mapping" and not _has_kind(f.roots[0]):
            return f, _append_block(f, f.roots[0], fields)
    wanted = {overlay.app, image.name.rsplit("/", 1)[-1]}
    if releases:
        f, root, _ = _one(
            releases, lambda r: r[2], wanted, overlay.words, "HelmReleases", image.name
        )
        return f, _add_values(f, root, fields)
    if sources:
        f, src, where, _ = _one(
            sources, lambda s: s[3], wanted, overlay.words, "Helm sources", image.name
        )
        return f, _add_parameters(f, src, where, fields)
    if not_helm:
        raise Refused(not_helm[0])
    return None


def _one(
    candidates: list[Any],
    name_of: Any,
    wanted: set[str],
    env: tuple[str, ...],
    what: str,
    image: str,
) -> Any:
    """The one candidate the image goes to: the only one, else the only one named after the
    app or the image (``staging-web`` counts as ``web``)."""
    if len(candidates) == 1:
        return candidates[0]
    named = [c for c in candidates if _bare(name_of(c), env) in wanted]
    if len(named) == 1:
        return named[0]
    listed = ", ".join(quote(name_of(c)) for c in candidates)
    raise Refused(
        f"{candidates[0][0].path}: several {what} ({listed}) and not one named after {image}; "
        "add the image by hand to the one that runs it"
    )


def _bare(name: str, env: str | tuple[str, ...]) -> str:
    """A name without the environment's own name in it: ``staging-web`` -> ``web``."""
    return environments.neutral(name, env).replace("<env>", "").strip("-_.")


def _helm_sources(spec: Any) -> list[tuple[str, Any]]:
    """(where, source) of an Application's Helm sources: a source with a ``chart`` (a Helm
    repository) or with ``helm:`` settings (a Git path Argo CD renders with Helm). A Git
    source without either is a Helm source only if its folder holds a Chart.yaml, which lives
    in a repository this one may not be: not guessed (Argo CD's source type detection,
    reposerver/repository/repository.go GetAppSourceType)."""
    found: list[tuple[str, Any]] = []
    source = overlays._get(spec, "source")
    many = overlays._get(spec, "sources")
    pairs = [("spec.source", source)] if source is not None else []
    if many is not None and many.id == "sequence":
        pairs += [(f"spec.sources[{i}]", s) for i, s in enumerate(many.value)]
    for where, src in pairs:
        if src.id != "mapping":
            continue
        if overlays._scalar(overlays._get(src, "chart")) or overlays._get(src, "helm") is not None:
            found.append((where, src))
    return found


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
    if first.id != "mapping":
        line = params.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: helm.parameters are not a list of name/value")
    items = _Seq([("name", f"image.{k}"), ("value", v)] for k, v in fields)
    if params.flow_style:  # [{name: a, value: b}]
        return _append_items(f.text, params, [", ".join(_flow(item) for item in items)])
    if first.flow_style:  # - {name: a, value: b}
        return _append_items(f.text, params, [_flow(item) for item in items])
    return _append_items(
        f.text,
        params,
        ["\n".join(f"{k}: {yamledit.render(v, 'plain')}" for k, v in item) for item in items],
    )


def _append_items(text: str, sequence: Any, items: list[str]) -> str:
    """``items`` appended to ``sequence`` in this order (one splice)."""
    edits = [yamledit.insert_item(text, sequence, len(sequence.value), item) for item in items]
    joined = yamledit.Edit(edits[0].start, edits[0].end, "".join(e.text for e in edits))
    return yamledit.apply(text, [joined])


def _append_block(f: Any, mapping: Any, fields: list[tuple[str, str]]) -> str:
    """An ``image:`` mapping added after ``mapping``'s last entry, indented like its keys
    (its children one step further: the file's own step, else two spaces)."""
    if mapping.id != "mapping" or mapping.flow_style or not mapping.value:
        line = mapping.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: the values are not a block mapping; add the image by hand")
    if overlays._get(mapping, "image") is not None:
        line = mapping.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: the values set another image; name that one")
    return _insert_entries(f, mapping, [("image", list(fields))])


def _add_values(f: Any, root: Any, fields: list[tuple[str, str]]) -> str:
    """A HelmRelease without ``spec.values``: ``values:`` with the ``image:`` block added to
    its ``spec`` (the values path the slots read, as for a release that has values)."""
    spec = overlays._get(root, "spec")
    tree: list[tuple[str, Any]] = [("values", [("image", list(fields))])]
    if spec is None:
        return _insert_entries(f, root, [("spec", tree)])
    if spec.id != "mapping":
        line = spec.start_mark.line + 1
        raise Refused(
            f"{f.path}:{line}: the HelmRelease's spec is not a mapping; add spec.values.image "
            "by hand"
        )
    return _insert_entries(f, spec, tree)


def _add_parameters(f: Any, src: Any, where: str, fields: list[tuple[str, str]]) -> str:
    """A Helm source without ``helm.parameters``: the parameters added, one item per field
    (``- name: image.tag`` / ``value: v1``, as set-image writes them into an existing list),
    to its ``helm`` (or ``helm:`` itself added to the source)."""
    items = _Seq([("name", f"image.{k}"), ("value", v)] for k, v in fields)
    helm = overlays._get(src, "helm")
    if helm is None:
        return _insert_entries(f, src, [("helm", [("parameters", items)])])
    line = helm.start_mark.line + 1
    if helm.id != "mapping":
        raise Refused(f"{f.path}:{line}: {where}.helm is not a mapping; add the image by hand")
    values = overlays._get(helm, "valuesObject")
    if values is not None and overlays._get(values, "image") is not None:
        line = values.start_mark.line + 1
        raise Refused(
            f"{f.path}:{line}: {where}.helm.valuesObject sets another image; name that one"
        )
    params = overlays._get(helm, "parameters")
    if params is None:
        return _insert_entries(f, helm, [("parameters", items)])
    if params.id == "sequence" and params.flow_style:  # parameters: []
        return _append_items(f.text, params, [", ".join(_flow(item) for item in items)])
    line = params.start_mark.line + 1
    raise Refused(f"{f.path}:{line}: {where}.helm.parameters is not a list; add the image by hand")


class _Seq(list):
    """A sequence of mappings (each a list of (key, value) pairs) in an added block."""


def _flow(value: Any) -> str:
    """``value`` (a string, a mapping as (key, value) pairs, or a _Seq) in flow style."""
    if isinstance(value, str):
        return yamledit.render(value, "plain", flow=True)
    if isinstance(value, _Seq):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value) + "}"


def _block(key: str, value: Any, column: int, step: int, dash: int, out: list[str]) -> None:
    """``key: value`` in block style at ``column`` (mappings ``step`` further, a list's
    dashes ``dash`` further than its key)."""
    pad = " " * column
    if isinstance(value, str):
        out.append(f"{pad}{key}: {yamledit.render(value, 'plain')}")
        return
    out.append(f"{pad}{key}:")
    if isinstance(value, _Seq):
        for item in value:
            lead = " " * (column + dash) + "- "
            for i, (k, v) in enumerate(item):
                written = f"{k}: {yamledit.render(v, 'plain')}"
                out.append((lead if i == 0 else " " * len(lead)) + written)
        return
    for k, v in value:
        _block(k, v, column + step, step, dash, out)


def _insert_entries(f: Any, mapping: Any, tree: list[tuple[str, Any]]) -> str:
    """``tree``'s entries added to ``mapping`` after its last entry: in block style on new
    lines indented like its keys (nested mappings by the file's step, lists as the file
    writes them), in flow style comma-separated before its closing brace. Nothing else of
    the text changes."""
    text = f.text
    if mapping.flow_style:
        added = ", ".join(f"{k}: {_flow(v)}" for k, v in tree)
        if not mapping.value:
            close = mapping.end_mark.index - 1
            if text[close : close + 1] != "}":
                line = mapping.start_mark.line + 1
                raise Refused(f"{f.path}:{line}: an empty mapping not written as {{}}")
            return text[:close] + added + text[close:]
        end = _value_end(text, mapping.value[-1])
        return text[:end] + ", " + added + text[end:]
    if not mapping.value:
        line = mapping.start_mark.line + 1
        raise Refused(f"{f.path}:{line}: an empty mapping; add the image by hand")
    column = mapping.value[0][0].start_mark.column
    step = _indent_step(mapping) or _file_step(f.roots) or 2
    dash = _list_offset(text, f.roots)
    lines: list[str] = []
    for key, value in tree:
        _block(key, value, column, step, step if dash is None else dash, lines)
    eol = "\r\n" if "\r\n" in text else "\n"
    end = _value_end(text, mapping.value[-1])
    if end > 0 and text[end - 1] == "\n":  # a block scalar ends with its line break
        return text[:end] + eol.join(lines) + eol + text[end:]
    line_end = text.find("\n", end)
    if line_end < 0:
        return text + eol + eol.join(lines)  # the file ended without a line break: so does this
    return text[: line_end + 1] + eol.join(lines) + eol + text[line_end + 1 :]


def _value_end(text: str, entry: tuple[Any, Any]) -> int:
    """Where the last thing written in a mapping entry ends: its last scalar, or a flow
    collection's closing bracket, never before the key (an alias's node is written
    elsewhere)."""
    key, node = entry
    while node.id != "scalar" and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if node.id == "mapping" else last
    end = yamledit.scalar_span(text, node)[1] if node.id == "scalar" else node.end_mark.index
    return max(end, key.end_mark.index)


def _file_step(roots: list[Any]) -> int | None:
    """The file's indentation step: the first block mapping nested in another's."""
    stack = [r for r in roots if r.id == "mapping"]
    while stack:
        node = stack.pop(0)
        if node.flow_style or not node.value:
            continue
        step = _indent_step(node)
        if step:
            return step
        stack.extend(v for _, v in node.value if v.id == "mapping")
    return None


def _list_offset(text: str, roots: list[Any]) -> int | None:
    """How far the file writes a block list's dashes past its key (0: indentless)."""
    stack = [r for r in roots if r.id in ("mapping", "sequence")]
    seen: set[int] = set()
    while stack:
        node = stack.pop(0)
        if id(node) in seen or node.flow_style:
            continue
        seen.add(id(node))
        if node.id == "sequence":
            stack.extend(v for v in node.value if v.id in ("mapping", "sequence"))
            continue
        for key, value in node.value:
            if value.id == "sequence" and value.value and not value.flow_style:
                return _dash_column(text, value.value[0]) - key.start_mark.column
            if value.id in ("mapping", "sequence"):
                stack.append(value)
    return None


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

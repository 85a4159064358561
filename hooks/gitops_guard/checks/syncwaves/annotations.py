"""Annotation and label values that Kubernetes rejects or Argo CD silently misreads.

Kubernetes only accepts strings as annotation and label values, so an unquoted ``1``, ``true``
or ``null`` fails at apply time. Argo CD reads its own annotations leniently: a sync-wave that
is not an integer becomes wave 0, an unknown hook name or sync option is dropped. Each of these
is caught here, per object, at the line of the value.
"""

from __future__ import annotations

from gitops_guard.core.documents import Document, Map, Seq
from gitops_guard.core.findings import Finding, quote
from gitops_guard.repo.argo import (
    APPLICATION_OPTIONS,
    DELETE_POLICIES,
    DELETE_POLICY,
    HELM_DELETE_POLICY,
    HELM_HOOK,
    HELM_WEIGHT,
    HOOK,
    HOOKS,
    RESOURCE_OPTIONS,
    SYNC_OPTIONS,
    WAVE,
    WAVE_PATTERN,
    parse_wave,
    split_list,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    #: the values a field becomes, each with a note for the message (``appset.py``)
    Expand = Callable[[str], list[tuple[str, str]]]


def _shown(value: str, limit: int = 40) -> str:
    """A value quoted for a message, bounded: a 5,000-digit wave is not repeated in full."""
    from gitops_guard.core.quoting import quote  # masked first, then cut

    return quote(value, limit)


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    for choice in choices:
        if choice.lower() == word.lower():
            return f" (did you mean {choice}?)"
    return ""


def _rendered(raw: tuple[str, str] | None, value: Any) -> str:
    if raw is not None:
        return raw[0] or "(empty)"
    return "null" if value is None else repr(value)


def string_values(mapping: Map, what: str, path: str) -> Iterator[Finding]:
    """``sync/annotation-not-string``: every value of an annotations/labels mapping."""
    for key, value in mapping.items():
        if isinstance(value, str):
            continue
        line, col = mapping.at(key)
        shown = _rendered(mapping.raw.get(key), value)
        if isinstance(value, (dict, list)):
            reason = "is a mapping or list"
            fix = "write it as one string"
        elif value is None:
            reason = "has no value (YAML null)"
            fix = 'write "" for an empty value'
        else:
            kind = "boolean" if isinstance(value, bool) else "number"
            if not isinstance(value, (bool, int, float)):
                kind = "non-string"
            reason = f"is {shown} unquoted, which YAML reads as a {kind}"
            fix = f'quote it: "{shown}"'
        yield Finding(
            path,
            line,
            col,
            "sync/annotation-not-string",
            f"{what} {quote(key)} {reason}; Kubernetes only accepts string values ({fix})",
        )


def _literal(value: str) -> list[tuple[str, str]]:
    return [(value, "")]


def _fallback(annotations: Map) -> str:
    """What Argo CD uses instead of a sync-wave it cannot read: gitops-engine
    pkg/sync/syncwaves/waves.go Wave falls back to helm.Weight (pkg/sync/hook/helm/weight.go),
    the object's helm.sh/hook-weight read with Atoi, else 0."""
    weight = parse_wave(annotations.get(HELM_WEIGHT))
    if weight is not None:
        return f"Argo CD would silently use its helm.sh/hook-weight {weight} as the wave"
    return "Argo CD would silently use wave 0"


def argo_values(
    annotations: Map, path: str, where: str = "", expand: Expand | None = None
) -> Iterator[Finding]:
    """The values of Argo CD's own annotations (already known to be strings).

    ``expand`` gives the values a templated field becomes (an ApplicationSet's template,
    ``appset.py``), each with a note for the message; a literal is itself.
    """
    values = expand or _literal
    wave = annotations.get(WAVE)
    if isinstance(wave, str):
        for made, note in values(wave):
            if parse_wave(made) is not None:
                continue
            line, col = annotations.at(WAVE)
            what = "is not an integer (an optional sign and digits, nothing else)"
            if WAVE_PATTERN.fullmatch(made):
                what = "does not fit a 64-bit integer"
            yield Finding(
                path,
                line,
                col,
                "sync/wave-not-integer",
                f"sync-wave {_shown(made)}{note}{where} {what}; {_fallback(annotations)}",
            )
    hook = annotations.get(HOOK)
    if isinstance(hook, str):
        for made, note in values(hook):
            yield from _hook(made, annotations.at(HOOK), path, note)
    policy = annotations.get(DELETE_POLICY)
    if isinstance(policy, str):
        line, col = annotations.at(DELETE_POLICY)
        for made, note in values(policy):
            for item in split_list(made):
                if item not in DELETE_POLICIES:
                    yield Finding(
                        path,
                        line,
                        col,
                        "sync/hook-delete-policy-unknown",
                        f"hook-delete-policy {quote(item)}{note} is not one of "
                        f"{', '.join(DELETE_POLICIES)}{_suggest(item, DELETE_POLICIES)}; "
                        "Argo CD ignores it",
                    )
    options = annotations.get(SYNC_OPTIONS)
    if isinstance(options, str):
        for made, note in values(options):
            yield from _options(made, annotations.at(SYNC_OPTIONS), path, True, note)


def _hook(value: str, pos: tuple[int, int], path: str, note: str = "") -> Iterator[Finding]:
    line, col = pos
    items = split_list(value)
    for item in items:
        if item not in HOOKS:
            shown = item or "(empty)"
            yield Finding(
                path,
                line,
                col,
                "sync/hook-unknown",
                f"hook {quote(shown)}{note} is not one of {', '.join(HOOKS)}"
                f"{_suggest(item, HOOKS)}; Argo CD ignores it",
            )
    if "Skip" in items and len(items) > 1:
        yield Finding(
            path,
            line,
            col,
            "sync/hook-unknown",
            f"hook {quote(value)}{note} combines Skip with other phases; Skip must stand alone",
        )


def _options(
    value: str, pos: tuple[int, int], path: str, resource: bool, note: str = ""
) -> Iterator[Finding]:
    line, col = pos
    for token in split_list(value):
        key, sep, val = token.partition("=")
        key, val = key.strip(), val.strip()
        known = {**RESOURCE_OPTIONS, **APPLICATION_OPTIONS}
        if key not in known:
            names = tuple(known)
            yield Finding(
                path,
                line,
                col,
                "sync/sync-option-unknown",
                f"sync option {quote(token or '(empty)')}{note} is not a known Argo CD option"
                f"{_suggest(key, names)}; Argo CD ignores it",
            )
            continue
        if not sep or val not in known[key]:
            yield Finding(
                path,
                line,
                col,
                "sync/sync-option-unknown",
                f"sync option {quote(token)}{note}: {key} takes {'|'.join(known[key])}",
            )
            continue
        if resource and key in APPLICATION_OPTIONS:
            yield Finding(
                path,
                line,
                col,
                "sync/sync-option-app-only",
                f"sync option {key}{note} only works in an Application's "
                "spec.syncPolicy.syncOptions; on a resource annotation Argo CD ignores it",
            )


def _mixed(annotations: Map, path: str) -> Iterator[Finding]:
    argo = [k for k in (HOOK, DELETE_POLICY) if k in annotations]
    helm = [k for k in (HELM_HOOK, HELM_WEIGHT, HELM_DELETE_POLICY) if k in annotations]
    if argo and helm:
        line, col = annotations.key_at(helm[0])
        yield Finding(
            path,
            line,
            col,
            "sync/mixed-hook-annotations",
            f"{', '.join(helm)} next to {', '.join(argo)}: Argo CD ignores the Helm hook "
            "annotations when its own are present; keep one kind",
        )
    elif WAVE in annotations and HELM_WEIGHT in annotations:
        line, col = annotations.key_at(HELM_WEIGHT)
        yield Finding(
            path,
            line,
            col,
            "sync/mixed-hook-annotations",
            f"{HELM_WEIGHT} next to {WAVE}: Argo CD uses the sync-wave and ignores the weight; "
            "keep one",
        )


_SCHEMA_KEYS = {"openAPIV3Schema", "schema", "validation"}


def _metadata_maps(data: Map) -> Iterator[Map]:
    """``metadata`` mappings of the object and of the templates it holds (not CRD schemas)."""
    stack: list[Any] = [data]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Map):
            meta = item.get("metadata")
            if isinstance(meta, Map):
                yield meta
            for key, value in item.items():
                if key in _SCHEMA_KEYS or key == "metadata":
                    continue
                if isinstance(value, (Map, Seq)):
                    stack.append(value)
        elif isinstance(item, Seq):
            stack.extend(v for v in item if isinstance(v, (Map, Seq)))


def check_object(doc: Document, path: str) -> Iterator[Finding]:
    """Every annotation rule that looks at one Kubernetes object on its own.

    An ApplicationSet's templates are checked as the Applications they make
    (``appset.py``): a ``{{ }}`` field as each value a literal list element gives it, and
    not at all when nothing in the file resolves it.
    """
    data = doc.data
    if not isinstance(data, Map):
        return
    expansion = main = unknown = None
    if doc.kind == "ApplicationSet" and doc.group == "argoproj.io":
        from gitops_guard.repo.appset import Expansion

        expansion, unknown = Expansion(data), Expansion(None)
        spec = data.get("spec")
        template = spec.get("template") if isinstance(spec, Map) else None
        main = template.get("metadata") if isinstance(template, Map) else None
    own = data.get("metadata")
    for meta in _metadata_maps(data):
        for what, key in (("annotation", "annotations"), ("label", "labels")):
            values = meta.get(key)
            if isinstance(values, Map):
                yield from string_values(values, what, path)
        annotations = meta.get("annotations")
        if isinstance(annotations, Map):
            expand = None
            if expansion is not None and meta is not own:
                # spec.template's fields take the list elements' values; a generator's own
                # template (or any other) holds parameters nothing here resolves
                expand = (expansion if meta is main else unknown).values
            yield from argo_values(annotations, path, expand=expand)
            yield from _mixed(annotations, path)
    if doc.kind in ("Application", "ApplicationSet") and doc.group == "argoproj.io":
        yield from _application_options(data, path, expansion)


def _application_options(data: Map, path: str, expansion: Any = None) -> Iterator[Finding]:
    spec = data.get("spec")
    if isinstance(spec, Map) and data.get("kind") == "ApplicationSet":
        template = spec.get("template")
        spec = template.get("spec") if isinstance(template, Map) else None
    policy = spec.get("syncPolicy") if isinstance(spec, Map) else None
    options = policy.get("syncOptions") if isinstance(policy, Map) else None
    if isinstance(options, Seq):
        values = expansion.values if expansion is not None else _literal
        for i, token in enumerate(options):
            if isinstance(token, str):
                for made, note in values(token):
                    yield from _options(made, options.at(i), path, False, note)


def check_kustomization(data: Map, path: str) -> Iterator[Finding]:
    """kustomize copies ``commonAnnotations`` / ``commonLabels`` onto every resource."""
    for what, key in (("commonAnnotations", "commonAnnotations"), ("commonLabels", "commonLabels")):
        values = data.get(key)
        if isinstance(values, Map):
            yield from string_values(values, what, path)
    common = data.get("commonAnnotations")
    if isinstance(common, Map):
        yield from argo_values(common, path, " (commonAnnotations)")

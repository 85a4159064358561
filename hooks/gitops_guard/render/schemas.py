"""The schemas rendered objects are validated against, and their compiled validators.

- Kubernetes' own kinds: the strict JSON Schemas of the ``kubernetes-validate`` package
  (generated from each release's OpenAPI document; ``additionalProperties: false`` on every
  object, so a misspelled field is an error). Its ``_definitions.json`` holds every type of a
  release under ``$defs``, each top-level kind marked by ``x-kubernetes-group-version-kind``.
  A kind's schema is the closure of the definitions it references, resolved once and
  compiled once per run.
- Custom resources: the CRDs found in the repository (``spec.versions[].schema.openAPIV3Schema``)
  and the vendored set under ``schemas/crds/`` (``<group>/<kind>_<version>.json``), both made
  strict the way the API server reads them (``crds.strict``): unknown fields are pruned
  silently there, so here they are errors.

Validation is two-step: a fast compiled check (``jsonschema-rs`` when installed, it is about
30x faster than a cached ``jsonschema`` validator, see bench/bench_manifests.py), and only for an
invalid object the ``jsonschema`` validator that names every error with its path.
"""

from __future__ import annotations

import json
import os

from gitops_guard.core.quoting import quote
from gitops_guard.render import crds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

#: the release whose schemas apply when the policy names none
DEFAULT_VERSION = "1.33"
VENDORED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", "crds")


class SchemaError:
    """One way an object breaks its schema: where (a path of keys and indexes), what."""

    __slots__ = ("field", "known", "message", "path", "unknown")

    def __init__(
        self, path: tuple, message: str, unknown: str | None = None, known: tuple = ()
    ) -> None:
        self.path = path
        self.message = message
        #: the name of an unknown field (its path is the mapping that holds it)
        self.unknown = unknown
        #: the fields the schema knows there (for an unknown one)
        self.known = known
        self.field = path + ((unknown,) if unknown is not None else ())

    def __repr__(self) -> str:
        return f"SchemaError({self.field!r}, {self.message!r})"


def kubernetes_versions() -> list[str]:
    """The releases the installed kubernetes-validate carries schemas for (``1.25``...)."""
    folder = _kubernetes_folder()
    if folder is None:
        return []
    found = []
    for name in os.listdir(folder):
        if name.startswith("v") and name.endswith("-local-strict"):
            parts = name[1:].split("-")[0].split(".")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                found.append((int(parts[0]), int(parts[1])))
    return [f"{a}.{b}" for a, b in sorted(found)]


def resolve_version(wanted: str) -> str | None:
    """The release whose schemas stand for ``wanted``: itself, else the newest older one
    (kubernetes-validate's own rule), else the oldest; None without the package."""
    versions = kubernetes_versions()
    if not versions:
        return None
    key = _version_key(wanted)
    older = [v for v in versions if _version_key(v) <= key]
    return older[-1] if older else versions[0]


def _version_key(text: str) -> tuple[int, int]:
    parts = text.lstrip("v").split(".")
    try:
        return (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)
    except ValueError:
        return (0, 0)


def _kubernetes_folder() -> str | None:
    """kubernetes-validate's data folder, found without importing the package (its import
    pulls in jsonschema, referencing and more: start-up time)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("kubernetes_validate")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "kubernetes-json-schema")
    return folder if os.path.isdir(folder) else None


class Schemas:
    """Every schema one run validates against, loaded lazily, each validator compiled once."""

    def __init__(self, version: str = DEFAULT_VERSION) -> None:
        self.wanted = version
        self.version = resolve_version(version)
        self._defs: dict[str, Any] | None = None
        self._kinds: dict[tuple[str, str], str] | None = None
        #: (apiVersion, kind) -> schema, from the repository's CRDs (they win over vendored)
        self.repository_crds: dict[tuple[str, str], Any] = {}
        self._validators: dict[tuple[str, str], Any] = {}

    @property
    def available(self) -> bool:
        """Whether Kubernetes' own schemas are installed (kubernetes-validate)."""
        return self.version is not None

    # -- finding a schema -------------------------------------------------------------------
    def add_crd(self, data: Any) -> None:
        """Take the schemas of a CustomResourceDefinition found in the repository."""
        for key, schema in crds.versions_of(data):
            self.repository_crds[key] = schema

    def source(self, api_version: str, kind: str) -> str:
        """Where a kind's schema comes from: repository, kubernetes or vendored."""
        key = (api_version, kind)
        if key in self.repository_crds:
            return "repository"
        return "kubernetes" if key in self._kubernetes_kinds() else "vendored"

    def schema(self, api_version: str, kind: str) -> Any | None:
        key = (api_version, kind)
        if key in self.repository_crds:
            return self.repository_crds[key]
        name = self._kubernetes_kinds().get(key)
        if name is not None:
            return _closure(self._kubernetes_defs(), name)
        return _vendored(api_version, kind)

    def _kubernetes_defs(self) -> dict[str, Any]:
        if self._defs is None:
            self._defs = {}
            folder = _kubernetes_folder()
            if folder is not None and self.version is not None:
                path = os.path.join(folder, f"v{self.version}.0-local-strict", "_definitions.json")
                try:
                    with open(path, encoding="utf-8") as handle:
                        self._defs = json.load(handle).get("$defs") or {}
                except (OSError, ValueError):
                    self._defs = {}
        return self._defs

    def _kubernetes_kinds(self) -> dict[tuple[str, str], str]:
        if self._kinds is None:
            self._kinds = {}
            for name, definition in self._kubernetes_defs().items():
                for gvk in definition.get("x-kubernetes-group-version-kind") or ():
                    group, version = gvk.get("group") or "", gvk.get("version") or ""
                    api = f"{group}/{version}" if group else version
                    # kinds shared by many groups (DeleteOptions, WatchEvent) are not objects
                    if (api, gvk.get("kind")) not in self._kinds and "properties" in definition:
                        self._kinds[(api, gvk.get("kind"))] = name
        return self._kinds

    # -- validating -------------------------------------------------------------------------
    def validator(self, api_version: str, kind: str) -> Validator | None:
        """The compiled validator of a kind (None: no schema for it)."""
        key = (api_version, kind)
        if key not in self._validators:
            schema = self.schema(api_version, kind)
            self._validators[key] = Validator(schema) if schema is not None else None
        return self._validators[key]


def _closure(defs: dict[str, Any], name: str) -> dict[str, Any]:
    """The schema of one definition with every definition it references, under ``$defs``."""
    needed: dict[str, Any] = {}
    stack = [name]
    while stack:
        item = stack.pop()
        if item in needed or item not in defs:
            continue
        needed[item] = crds.strip(defs[item])
        stack.extend(_refs(needed[item]))
    return {"$ref": f"#/$defs/{name}", "$defs": needed}


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            yield ref[len("#/$defs/") :]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _vendored(api_version: str, kind: str) -> Any | None:
    if "/" not in api_version:
        return None
    group, version = api_version.rsplit("/", 1)
    name = f"{kind.lower()}_{version}.json"
    if os.sep in group or group.startswith(".") or os.sep in name:
        return None
    path = os.path.join(VENDORED, group, name)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


class Validator:
    """A compiled schema: a fast yes/no, and the full list of errors when the answer is no."""

    __slots__ = ("_detail", "_fast", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._fast = _compile_fast(schema)
        self._detail: Any = None

    def errors(self, instance: Any) -> list[SchemaError]:
        if self._fast is not None:
            try:
                if self._fast(instance):
                    return []
            except Exception:  # a value the fast engine cannot take (huge int): ask jsonschema
                pass
        if self._detail is None:
            from jsonschema import Draft202012Validator

            self._detail = Draft202012Validator(self.schema)
        errors = list(self._detail.iter_errors(instance))
        for _round in range(4):
            nulls = [e for e in errors if _pruned_null(e, instance)]
            if not nulls:
                break
            instance = _without_nulls(instance, nulls)
            errors = list(self._detail.iter_errors(instance))
        found = []
        for error in errors:
            found.extend(_describe(error))
        found.sort(key=lambda e: [str(p) for p in e.field])
        return found


def _pruned_null(error: Any, instance: Any) -> bool:
    """An error about a mapping member written as null that the API server drops before it
    validates: apiextensions-apiserver ``pkg/apiserver/schema/defaulting/prunenulls.go``
    (PruneNonNullableNullsWithoutDefaults) removes a null the schema does not admit, or
    defaults it when the schema has a default; Kubernetes' own kinds decode a null field as
    an absent one. A field the schema requires is then reported as missing."""
    path = list(error.absolute_path)
    if error.instance is not None or not path or not isinstance(path[-1], str):
        return False
    parent = instance
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(parent, dict) and path[-1] in parent and parent[path[-1]] is None


def _without_nulls(instance: Any, errors: list[Any]) -> Any:
    import copy

    pruned = copy.deepcopy(instance)
    for error in errors:
        *head, name = list(error.absolute_path)
        parent = pruned
        for step in head:
            parent = parent[step]
        schema = error.schema if isinstance(error.schema, dict) else {}
        if "default" in schema:
            parent[name] = copy.deepcopy(schema["default"])
        else:
            parent.pop(name, None)
    return pruned


def _compile_fast(schema: Any) -> Any:
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        return jsonschema_rs.Draft202012Validator(schema, validate_formats=False).is_valid
    except Exception:  # a schema it refuses: the jsonschema validator takes it alone
        return None


def _describe(error: Any) -> list[SchemaError]:
    """One jsonschema error as SchemaErrors: unknown fields one by one, ``oneOf`` (the
    int-or-string and nullable unions) as the simplest reason."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema.get("properties") or {}).keys())
        patterns = error.schema.get("patternProperties") or {}
        if error.schema.get("additionalProperties") is False and not patterns:
            # `creationTimestamp: null` in a metadata mapping is what kubectl and kubeseal
            # write into every template they print (metav1.ObjectMeta's zero Time marshals
            # as null), an Argo Rollout's too, whose schema names only labels/annotations:
            # the API server's pruning drops it. Any other unknown field, null or not, is
            # refused under strict field validation, kubectl's default
            # (scylladb/scylla-operator#1251: a null unknown field in a custom resource)
            meta = bool(path) and path[-1] == "metadata"
            return [
                SchemaError(path, _unknown(name, allowed), unknown=name, known=tuple(allowed))
                for name, value in error.instance.items()
                if name not in allowed
                and not (meta and name == "creationTimestamp" and value is None)
            ]
    if error.validator in ("oneOf", "anyOf") and error.context:
        types = _types_of(error.schema.get(error.validator) or [])
        if types:
            return [SchemaError(path, f"{_shown(error.instance)} is not of type {types}")]
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return _describe(best)
    return [SchemaError(path, _message(error))]


def close_to(name: str, known: Iterable[str]) -> str | None:
    """The known field a name is a misspelling of (``prun`` -> ``prune``), if any."""
    from difflib import get_close_matches

    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:
        return lowered[name.lower()]
    hits = get_close_matches(name, list(known), n=1, cutoff=0.75)
    return hits[0] if hits else None


def _unknown(name: str, known: Iterable[str]) -> str:
    near = close_to(name, known)
    return f"unknown field {quote(name)}" + (f" (did you mean {quote(near)}?)" if near else "")


def _types_of(options: list[Any]) -> str:
    """``'integer' or 'string'`` when every option is only a type."""
    names: list[str] = []
    for option in options:
        if not isinstance(option, dict) or set(option) - {"type", "format"}:
            return ""
        kind = option.get("type")
        for name in kind if isinstance(kind, list) else [kind]:
            if isinstance(name, str) and name != "null" and name not in names:
                names.append(name)
    return " or ".join(repr(n) for n in names)


def _message(error: Any) -> str:
    if error.validator == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(repr(t) for t in expected if t != "null")
        else:
            expected = repr(expected)
        return f"{_shown(error.instance)} is not of type {expected}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "enum":
        options = ", ".join(repr(v) for v in (error.validator_value or [])[:8])
        return f"{_shown(error.instance)} is not one of {options}"
    return _bounded(error.message)


def _shown(value: Any) -> str:
    """A value as the YAML it was written in (``null``, ``true``), not as Python spells it."""
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _bounded(repr(value))


def _bounded(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

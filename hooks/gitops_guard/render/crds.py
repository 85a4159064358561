"""CustomResourceDefinition schemas as the API server reads them, made into strict JSON Schema.

A CRD's ``openAPIV3Schema`` is nearly JSON Schema. What differs (apiextensions-apiserver
``pkg/apiserver/schema``): ``nullable: true`` admits null; ``x-kubernetes-int-or-string``
admits an integer or a string; and an object field its schema does not name is *pruned*
(dropped without a word) unless ``x-kubernetes-preserve-unknown-fields`` is set. A silently
dropped field is what a misspelling (``prun: true``) becomes in a cluster, so :func:`strict`
turns every object schema with ``properties`` into one that refuses other fields.

Also the vendoring step of ``schemas/crds/`` (descriptions stripped, made strict)::

    python -m gitops_guard.render.crds SOURCE_FOLDER DEST_FOLDER
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

#: keys whose values are maps of names to schemas (a property may be called "description")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_PRESERVE = "x-kubernetes-preserve-unknown-fields"


def strip(schema: Any) -> Any:
    """The schema without its ``description`` texts (a fifth of the size is left)."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                continue
            if key in _NAMED and isinstance(value, dict):
                out[key] = {name: strip(sub) for name, sub in value.items()}
            else:
                out[key] = strip(value)
        return out
    if isinstance(schema, list):
        return [strip(item) for item in schema]
    return schema


def strict(schema: Any) -> Any:
    """An openAPIV3Schema as strict JSON Schema (see the module text)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _NAMED and isinstance(value, dict):
            out[key] = {name: strict(sub) for name, sub in value.items()}
        elif key == "nullable":
            continue
        else:
            out[key] = strict(value)
    if schema.get("x-kubernetes-int-or-string") is True and "anyOf" not in out:
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    if (
        isinstance(out.get("properties"), dict)
        and "additionalProperties" not in out
        and schema.get(_PRESERVE) is not True
    ):
        out["additionalProperties"] = False
    if out.get("additionalProperties") is False and _embedded_object_meta(out):
        out["properties"] = {**_OBJECT_META, **out["properties"]}
    return out


#: the fields of apimachinery's ObjectMeta (pkg/apis/meta/v1/types.go) an embedded metadata
#: schema of controller-gen leaves out; a timestamp written as null is pruned (schemas.py)
_OBJECT_META: dict[str, Any] = {
    "generateName": {"type": "string"},
    "selfLink": {"type": "string"},
    "uid": {"type": "string"},
    "resourceVersion": {"type": "string"},
    "generation": {"type": "integer"},
    "creationTimestamp": {"type": "string"},
    "deletionTimestamp": {"type": "string"},
    "deletionGracePeriodSeconds": {"type": "integer"},
    "ownerReferences": {"type": "array"},
    "managedFields": {"type": "array"},
}
_EMBEDDED_META = {"name", "namespace", "labels", "annotations", "finalizers"}


def _embedded_object_meta(schema: dict[str, Any]) -> bool:
    """A strict schema of an embedded ``metav1.ObjectMeta`` (a Secret template's metadata):
    controller-gen's generateEmbeddedObjectMeta writes only name, namespace, labels,
    annotations and finalizers under ``x-kubernetes-preserve-unknown-fields``, and the
    controller decodes the whole ObjectMeta (kubeseal writes ``creationTimestamp: null``
    there). A catalog that made that schema refuse other fields refuses ObjectMeta's own."""
    props = schema.get("properties")
    return (
        schema.get(_PRESERVE) is True
        and isinstance(props, dict)
        and {"labels", "annotations"} <= set(props) <= _EMBEDDED_META | set(_OBJECT_META)
    )


def versions_of(crd: Any) -> Iterator[tuple[tuple[str, str], Any]]:
    """((apiVersion, kind), schema) for each served version of a CRD document."""
    if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
        return
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    group = spec.get("group")
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    if not isinstance(group, str) or not isinstance(kind, str):
        return
    shared = spec.get("validation")  # apiextensions v1beta1: one schema for every version
    versions = spec.get("versions")
    if not isinstance(versions, list):
        versions = [{"name": spec.get("version")}] if isinstance(spec.get("version"), str) else []
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("name"), str):
            continue
        holder = version.get("schema") or shared
        schema = holder.get("openAPIV3Schema") if isinstance(holder, dict) else None
        if isinstance(schema, dict):
            yield (f"{group}/{version['name']}", kind), _top(strict(strip(schema)))


def _top(schema: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind and metadata are always allowed at the top (the server adds them)."""
    props = schema.get("properties")
    if isinstance(props, dict):
        for name in ("apiVersion", "kind", "metadata"):
            props.setdefault(name, {})
    return schema


def vendor(source: str, dest: str) -> int:
    """Copy ``<group>/<kind>_<version>.json`` files, stripped, strict and compact."""
    count = 0
    for group in sorted(os.listdir(source)):
        folder = os.path.join(source, group)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                schema = json.load(handle)
            os.makedirs(os.path.join(dest, group), exist_ok=True)
            with open(os.path.join(dest, group, name), "w", encoding="utf-8") as handle:
                json.dump(_top(strict(strip(schema))), handle, separators=(",", ":"))
                handle.write("\n")
            count += 1
    return count


if __name__ == "__main__":
    print(f"{vendor(sys.argv[1], sys.argv[2])} schemas written")

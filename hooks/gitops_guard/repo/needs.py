"""What an object needs to exist before it: its Namespace, and what its pods reference.

Argo CD moves a Namespace (and a CRD) in front of the first object of the same sync that needs
it, but not a ServiceAccount, ConfigMap, Secret, PVC or PriorityClass a pod names: the model of
these references is shared by the ordering check and the relevance search.
"""

from __future__ import annotations

from collections import namedtuple

from gitops_guard.core.documents import Map, Pos, Seq, pod_specs
from gitops_guard.repo.objects import Obj, cluster_scoped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


class Need(namedtuple("_Need", "kind name namespace field pos where", defaults=(None,))):
    """A reference from one object to another kind of object."""

    __slots__ = ()
    kind: str
    name: str
    namespace: str | None
    field: str
    pos: Pos


def needs(obj: Obj, crd_scopes: dict[tuple[str, str], str] | None = None) -> Iterator[Need]:
    """What an object needs to exist first: its Namespace and its pods' references."""
    if obj.namespace and not cluster_scoped(obj.kind, obj.group, crd_scopes):
        if obj.ns_at is not None and obj.ns_at[0] != obj.key:  # kustomize's namespace
            yield Need("Namespace", obj.namespace, None, "namespace", obj.ns_at[1:], obj.ns_at[0])
        else:
            pos = obj.ns_at[1:] if obj.ns_at is not None else obj.pos
            yield Need("Namespace", obj.namespace, None, "metadata.namespace", pos)
    if obj.doc is None or not isinstance(obj.doc.data, Map):
        return
    data = obj.doc.data
    refs = _POD_NEEDS.get(id(data))
    if refs is None:  # an object in a base is seen once per overlay: find its references once
        refs = _POD_NEEDS[id(data)] = (data, list(_pod_needs(data)))
    ns = obj.namespace
    for need in refs[1]:
        yield need if need.kind == "PriorityClass" else need._replace(namespace=ns)


#: id(document data) -> (data, its pod references); the data is kept so the id stays unique
_POD_NEEDS: dict[int, tuple[Map, list[Need]]] = {}


def _pod_needs(data: Map) -> Iterator[Need]:
    """References from every pod spec of an object (namespace filled in by the caller)."""
    ns = None
    for spec in pod_specs(data):
        for key in ("serviceAccountName", "serviceAccount"):
            if isinstance(spec.get(key), str):
                yield Need("ServiceAccount", spec[key], ns, key, spec.at(key))
                break
        if isinstance(spec.get("priorityClassName"), str):
            yield Need(
                "PriorityClass",
                spec["priorityClassName"],
                None,
                "priorityClassName",
                spec.at("priorityClassName"),
            )
        pulls = spec.get("imagePullSecrets")
        if isinstance(pulls, Seq):
            for item in pulls:
                if isinstance(item, Map) and isinstance(item.get("name"), str):
                    yield Need("Secret", item["name"], ns, "imagePullSecrets", item.at("name"))
        volumes = spec.get("volumes")
        if isinstance(volumes, Seq):
            for volume in volumes:
                if isinstance(volume, Map):
                    yield from _volume(volume, ns)
        for list_name in ("containers", "initContainers"):
            items = spec.get(list_name)
            if isinstance(items, Seq):
                for container in items:
                    if isinstance(container, Map):
                        yield from _container(container, ns)


def _ref(holder: Any, key: str, kind: str, ns: str | None, field: str) -> Iterator[Need]:
    if not isinstance(holder, Map) or holder.get("optional") is True:
        return
    value = holder.get(key)
    if isinstance(value, str) and value:
        yield Need(kind, value, ns, field, holder.at(key))


def _volume(volume: Map, ns: str | None) -> Iterator[Need]:
    name = volume.get("name")
    label = f"volumes[{name}]" if isinstance(name, str) else "volumes"
    yield from _ref(volume.get("configMap"), "name", "ConfigMap", ns, f"{label}.configMap")
    yield from _ref(volume.get("secret"), "secretName", "Secret", ns, f"{label}.secret")
    yield from _ref(
        volume.get("persistentVolumeClaim"),
        "claimName",
        "PersistentVolumeClaim",
        ns,
        f"{label}.persistentVolumeClaim",
    )
    projected = volume.get("projected")
    sources = projected.get("sources") if isinstance(projected, Map) else None
    if isinstance(sources, Seq):
        for source in sources:
            if isinstance(source, Map):
                yield from _ref(
                    source.get("configMap"), "name", "ConfigMap", ns, f"{label}.projected"
                )
                yield from _ref(source.get("secret"), "name", "Secret", ns, f"{label}.projected")


def _container(container: Map, ns: str | None) -> Iterator[Need]:
    cname = container.get("name")
    label = f"container {cname}" if isinstance(cname, str) else "container"
    env = container.get("env")
    if isinstance(env, Seq):
        for item in env:
            source = item.get("valueFrom") if isinstance(item, Map) else None
            if isinstance(source, Map):
                yield from _ref(
                    source.get("configMapKeyRef"), "name", "ConfigMap", ns, f"{label} env"
                )
                yield from _ref(source.get("secretKeyRef"), "name", "Secret", ns, f"{label} env")
    env_from = container.get("envFrom")
    if isinstance(env_from, Seq):
        for item in env_from:
            if isinstance(item, Map):
                yield from _ref(
                    item.get("configMapRef"), "name", "ConfigMap", ns, f"{label} envFrom"
                )
                yield from _ref(item.get("secretRef"), "name", "Secret", ns, f"{label} envFrom")


def secret_made_by(obj: Obj) -> str | None:
    """The Secret a SealedSecret or ExternalSecret controller creates (it syncs with its source)."""
    if obj.doc is None or obj.kind not in ("SealedSecret", "ExternalSecret"):
        return None
    spec = obj.doc.data.get("spec")
    if obj.kind == "SealedSecret":
        template = spec.get("template") if isinstance(spec, Map) else None
        meta = template.get("metadata") if isinstance(template, Map) else None
    else:
        meta = spec.get("target") if isinstance(spec, Map) else None
    name = meta.get("name") if isinstance(meta, Map) else None
    return name if isinstance(name, str) and name else obj.name

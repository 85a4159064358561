"""One Kubernetes object as Argo CD receives it, and which kinds have no namespace.

The application model, the ordering check and the relevance search all speak of objects in
this one shape: where the object was written, its Argo CD annotations after kustomize, and
where its wave and namespace came from.
"""

from __future__ import annotations

from collections import namedtuple

from gitops_guard.core.documents import Document, Map, Pos, is_kustomization
from gitops_guard.core.quoting import shown
from gitops_guard.repo.argo import HELM_HOOK, HELM_WEIGHT, HOOK, SYNC_OPTIONS, WAVE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

WATCHED = (WAVE, HOOK, SYNC_OPTIONS, HELM_HOOK, HELM_WEIGHT)


_ObjFields = namedtuple(
    "_ObjFields",
    "key doc kind group name namespace pos annotations wave_at via generated ns_at",
    defaults=(None, (), False, None),
)


class Obj(_ObjFields):
    """One object of an application, as Argo CD would receive it.

    ``annotations``: the Argo CD / Helm annotations after kustomize's commonAnnotations;
    ``wave_at``: where the effective sync-wave was written (file key, line, column);
    ``via``: the kustomization files that include the object, innermost first;
    ``ns_at``: where the effective namespace was written (file key, line, column).
    """

    __slots__ = ()
    key: str
    doc: Document | None
    kind: str
    group: str
    name: str
    namespace: str | None
    pos: Pos
    annotations: dict[str, Any]
    wave_at: tuple[str, int, int] | None
    via: tuple[str, ...]
    generated: bool
    ns_at: tuple[str, int, int] | None

    def label(self) -> str:
        ns = f"{shown(self.namespace)}/" if self.namespace else ""
        return f"{shown(self.kind)} {ns}{shown(self.name)}"  # a message's words: bounded


def make_obj(key: str, doc: Document) -> Obj | None:
    """An application object from a document (None for non-objects and kustomizations)."""
    if not doc.is_kubernetes or not isinstance(doc.data, Map) or is_kustomization(key, doc):
        return None
    meta = doc.metadata
    name = doc.name
    if name is None and meta is not None and isinstance(meta.get("generateName"), str):
        name = meta["generateName"]
    annotations: dict[str, Any] = {}
    wave_at = None
    if meta is not None and isinstance(meta.get("annotations"), Map):
        own = meta["annotations"]
        annotations = {k: own[k] for k in WATCHED if k in own}
        if WAVE in own:
            line, col = own.at(WAVE)
            wave_at = (key, line, col)
    pos = meta.pos if meta is not None else doc.pos
    if meta is not None and "name" in meta:
        pos = meta.at("name")
    ns_at = None
    if meta is not None and isinstance(meta.get("namespace"), str):
        ns_at = (key, *meta.at("namespace"))
    return Obj(
        key=key,
        doc=doc,
        kind=doc.kind or "",
        group=doc.group,
        name=name or "",
        namespace=doc.namespace,
        pos=pos,
        annotations=annotations,
        wave_at=wave_at,
        ns_at=ns_at,
    )


#: built-in kinds without a namespace (kustomize's namespace transformer leaves them alone)
CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "RuntimeClass",
    "IngressClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "VolumeSnapshotClass",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "Node",
}
#: API groups whose kinds are all cluster-scoped (OpenShift cluster configuration, Gatekeeper)
_CLUSTER_GROUPS = ("config.openshift.io", "constraints.gatekeeper.sh", "templates.gatekeeper.sh")


def cluster_scoped(
    kind: str, group: str, crd_scopes: dict[tuple[str, str], str] | None = None
) -> bool:
    """Whether objects of a kind have no namespace (so they need no Namespace first).

    Built-in kinds are known; ``Cluster*`` kinds (ClusterIssuer, ClusterSecretStore,
    ClusterPolicy...) and a few cluster-configuration groups are by convention; a CRD in the
    same application says so in ``spec.scope``.
    """
    if crd_scopes and (group, kind) in crd_scopes:
        return crd_scopes[(group, kind)] == "Cluster"
    return kind in CLUSTER_SCOPED or kind.startswith("Cluster") or group.endswith(_CLUSTER_GROUPS)

"""check-images: every image reference in a file, checked against the image policy.

Images are found wherever they sit: any ``image:`` string in a Kubernetes object (pod specs of
every workload kind, CronJob templates, Rollouts, Knative, Tekton steps, operator CRs),
``image:`` mappings of Helm values (``registry/repository/tag/digest``) in values files,
HelmRelease ``spec.values`` and Argo CD ``helm.valuesObject``, kustomize and Flux
``images:`` entries (evaluated as the reference kustomize would produce), and Argo CD
``kustomize.images`` strings.
"""

from __future__ import annotations

import re

from gitops_guard.checks.images import reference
from gitops_guard.core.documents import (
    Document,
    Map,
    Pos,
    Seq,
    SourceFile,
    is_kustomization,
    is_manifest_name,
    is_values_file,
    load_text,
    pod_specs,
)
from gitops_guard.core.documents import containers as _containers
from gitops_guard.core.errors import UsageError
from gitops_guard.core.findings import WARNING, Finding, bounded, quote, shown

#: the files this check reads (core/pipeline.py): YAML, and JSON manifests
reads = is_manifest_name

TYPE_CHECKING = False  # start-up time: typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from gitops_guard.core.patterns import Pattern
    from gitops_guard.core.policy import Policy


class ImageSite:
    """One image reference as the cluster would see it, with where each part was written."""

    __slots__ = (
        "digest_pos",
        "doc",
        "name_known",
        "name_pos",
        "pos",
        "registry_note",
        "tag_known",
        "tag_only",
        "tag_pos",
        "text",
        "where",
        "written",
    )

    def __init__(
        self,
        text: str,
        pos: Pos,
        where: str,
        name_pos: Pos | None = None,
        tag_pos: Pos | None = None,
        digest_pos: Pos | None = None,
        tag_known: bool = True,
        tag_only: bool = False,
    ) -> None:
        self.text = text
        self.pos = pos
        self.where = where
        self.name_pos = name_pos
        self.tag_pos = tag_pos
        self.digest_pos = digest_pos
        #: False when the tag comes from elsewhere (kustomize entry without newTag, chart
        #: default)
        self.tag_known = tag_known
        #: a Helm values override of the tag (or digest) alone: ``text`` is ``[:tag][@digest]``
        #: and the repository is the chart's default (``image: {tag: latest}``)
        self.tag_only = tag_only
        #: the document it is written in (set by :func:`sites`)
        self.doc: Document | None = None
        #: False when the chart's template puts something unknown before the name (so the
        #: registry is not known here)
        self.name_known = True
        #: the ``image:`` value as written, when ``text`` joins it to a sibling key's tag
        self.written: str | None = None
        #: why the registry written here may not be the one pulled from (``global.imageRegistry``):
        #: a disallowed one is then a warning that says so
        self.registry_note: str | None = None

    def replaced(self, text: str) -> ImageSite:
        """The same place, holding ``text`` (a substituted value)."""
        site = ImageSite(
            text,
            self.pos,
            self.where,
            self.name_pos,
            self.tag_pos,
            self.digest_pos,
            self.tag_known,
            self.tag_only,
        )
        site.doc = self.doc
        site.name_known = self.name_known
        site.registry_note = self.registry_note
        return site


def sites(source: SourceFile) -> Iterator[ImageSite]:
    """Every image reference in the file."""
    for doc, site in _sites(source):
        site.doc = doc
        yield site


def _sites(source: SourceFile) -> Iterator[tuple[Document, ImageSite]]:
    values_file = is_values_file(source.path)
    for doc in source.documents:
        for site in _doc_sites(source, doc, values_file):
            yield doc, site


def _doc_sites(source: SourceFile, doc: Document, values_file: bool) -> Iterator[ImageSite]:
    data = doc.data
    if isinstance(data, Seq):
        yield from _json_patch(data)
        return
    if not isinstance(data, Map):
        return
    if is_kustomization(source.path, doc):
        yield from _kustomize_entries(data.get("images"), "kustomize images")
        yield from _inline_patches(source, data)
        return
    if not doc.is_kubernetes and is_override_file(source.path):
        # Argo CD merges it over the source of the Applications of its folder
        # (reposerver/repository/repository.go, mergeSourceParameters)
        yield from _argocd_source(source, data)
        return
    if not doc.is_kubernetes and not values_file:
        return  # not a manifest, not values: nothing of ours
    group = doc.group
    if group == "kyverno.io" or group.endswith(".kyverno.io"):
        return  # policies hold image *patterns* ("!*:latest"), not references
    if doc.kind == "ImageRepository" and group == "image.toolkit.fluxcd.io":
        yield from _flux_image_repository(data)
        return
    if group == KARGO:
        yield from _kargo(data)
        return  # Kargo objects hold no pod spec: their ``image`` keys are step inputs
    api = doc.api_version or ""
    if doc.kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
        spec = data.get("spec")
        if isinstance(spec, Map):
            yield from _kustomize_entries(spec.get("images"), "Flux Kustomization images")
    if doc.kind in ("Application", "ApplicationSet") and api.startswith("argoproj.io/"):
        yield from _argocd_images(source, data)
    if doc.kind == "Cluster" and group == "postgresql.cnpg.io":
        yield from _cnpg_cluster(data)
    roots = list(_values_roots(doc, data, values_file))
    triggered = _openshift_triggered(data)
    if doc.kind == "ArgoCD" and group == "argoproj.io":
        operator = list(_argocd_operator(data))
        triggered |= {site.pos for site in operator}
        yield from operator
    relocated = _globally_registered(roots)
    post = _post_renderer_images(doc, data)
    for entries in post:
        yield from _kustomize_entries(entries, "Flux post-renderer images")
    for site in _image_keys(data, roots):
        if site.pos not in triggered:
            site = _registry_unknown(site) if site.pos in relocated else site
            yield _post_rendered(site, post) if post else site
    for values in roots:
        for site in _flat_helm_images(values):
            site = _registry_unknown(site) if site.pos in relocated else site
            yield _post_rendered(site, post) if post else site
        if _sets_global_registry(values):
            yield from _global_registry_sites(values)


def _post_renderer_images(doc: Document, data: Map) -> list[Seq]:
    """A Flux HelmRelease's ``spec.postRenderers[].kustomize.images``: kustomize's images
    transformer run over the rendered chart (fluxcd/helm-controller
    ``internal/postrender/kustomize.go``), so they rewrite what the values wrote."""
    api = doc.api_version or ""
    spec = data.get("spec")
    if doc.kind != "HelmRelease" or not api.startswith("helm.toolkit.fluxcd.io/"):
        return []
    renderers = spec.get("postRenderers") if isinstance(spec, Map) else None
    found = []
    for renderer in renderers if isinstance(renderers, Seq) else ():
        kustomize = renderer.get("kustomize") if isinstance(renderer, Map) else None
        images = kustomize.get("images") if isinstance(kustomize, Map) else None
        if isinstance(images, Seq):
            found.append(images)
    return found


def _post_rendered(site: ImageSite, post: list[Seq]) -> ImageSite:
    """A values image a post-renderer entry names: its tag (``newTag``/``digest``) and name
    (``newName``) are the entry's, checked there (kustomize ``IsImageMatched``)."""
    from gitops_guard.checks.images.consumers import matched

    if site.tag_only or reference.is_templated(site.text):
        return site
    for entries in post:
        for entry in entries:
            name = entry.text("name") if isinstance(entry, Map) else None
            if not name or not matched(site.text, name):
                continue
            if entry.text("newTag") or entry.text("digest"):
                site.tag_known = False
            if entry.text("newName"):
                site.name_known = False
    return site


def _argocd_operator(data: Map) -> Iterator[ImageSite]:
    """The images of an Argo CD operator ``ArgoCD`` object: each component's ``image`` and
    ``version`` (``spec.image`` / ``spec.version``, ``spec.redis.image`` / ``spec.redis.version``,
    ...) are joined by the operator, and an empty ``version`` is the operator's default
    version, never ``latest`` (argoproj-labs/argocd-operator ``controllers/argocd/util.go``,
    ``getArgoContainerImage``, ``argoutil.CombineImageTag``: a ``sha256:`` version is a
    digest). A container of the object (``sidecarContainers``, ``initContainers``) keeps its
    own ``image`` as written."""
    items = list(_walk_data(data.get("spec")))
    # a list's items are containers (sidecarContainers, initContainers), not components
    listed = {id(i) for seq in items if isinstance(seq, list) for i in seq}
    for item in items:
        if not isinstance(item, Map) or id(item) in listed or not _is_set(item.get("image")):
            continue
        image = item["image"]
        version = item.text("version") if _is_set(item.get("version")) else None
        try:
            ref = reference.parse(image)
        except reference.ReferenceError:
            ref = None
        if ref is None or ref.tag is not None or ref.digest is not None or version is None:
            # as written; untagged and no version: the operator's default version
            tagged = ref is None or ref.tag is not None or ref.digest is not None
            yield ImageSite(image, item.at("image"), "Argo CD operator image", tag_known=tagged)
            continue
        joined = ImageSite(
            image + ("@" if version.startswith("sha256:") else ":") + version,
            item.at("image"),
            "Argo CD operator image",
            name_pos=item.at("image"),
            tag_pos=None if version.startswith("sha256:") else item.at("version"),
            digest_pos=item.at("version") if version.startswith("sha256:") else None,
        )
        joined.written = image
        yield joined


def _globally_registered(roots: list[Map]) -> set[Pos]:
    """Where the images of Helm values that set ``global.imageRegistry`` are written.

    Which registry such an image is pulled from is the chart's choice: Bitnami's
    ``common.images.image`` (bitnami/charts ``bitnami/common/templates/_images.tpl``) puts the
    global registry in place of the image's own ``registry``, other charts copying its
    interface let the image's own win, and a chart that never reads ``global`` ignores it.
    So the registry is not known from the values alone; the tag and digest still are."""
    found: set[Pos] = set()
    for values in roots:
        if _sets_global_registry(values):
            found.update(site.pos for site in _image_keys(values, [values]))
            found.update(site.pos for site in _flat_helm_images(values))
    return found


def _global_registry_sites(values: Map) -> Iterator[ImageSite]:
    """Each image of values that set ``global.imageRegistry``, as pulled from that registry
    (Bitnami's ``common.images.image`` puts it first), at the ``global.imageRegistry`` key: the
    registry a chart may take must be an allowed one, or the key would lift the check."""
    glob = values["global"]
    for site in [*_image_keys(values, [values]), *_flat_helm_images(values)]:
        yield from _relocated_to(site, glob.text("imageRegistry"), glob.at("imageRegistry"))


def _relocated_to(site: ImageSite, registry: str, at: Pos) -> Iterator[ImageSite]:
    """``site``'s image as pulled from ``registry``, at the key that names it: only its
    registry is judged."""
    if site.tag_only or reference.is_templated(site.text) or reference.is_templated(registry):
        return
    try:
        ref = reference.parse(site.text)
    except reference.ReferenceError:
        return
    yield ImageSite(
        f"{registry.strip().rstrip('/')}/{ref.path}",
        at,
        "Helm values global.imageRegistry",
        tag_known=False,
    )


def _sets_global_registry(values: Any) -> bool:
    glob = values.get("global") if isinstance(values, Map) else None
    return isinstance(glob, Map) and _is_set(glob.text("imageRegistry"))


def _registry_unknown(site: ImageSite) -> ImageSite:
    """A site whose registry the chart may replace with ``global.imageRegistry``: a
    disallowed registry written here is a warning (Bitnami's charts pull from the global
    registry instead; other charts pull from this one)."""
    site.registry_note = (
        "(global.imageRegistry replaces it only in charts that read it, as Bitnami's "
        "common.images.image does; other charts pull from this registry)"
    )
    return site


#: the key of OpenShift's image trigger annotation (openshift/origin
#: ``pkg/image/apis/image/v1/trigger/trigger.go``, ``TriggerAnnotationKey``)
_TRIGGER_ANNOTATION = "image.openshift.io/triggers"
#: the container a trigger's ``fieldPath`` names:
#: ``spec.template.spec.containers[?(@.name=="web")].image``
_TRIGGER_FIELD = re.compile(r"""\[\?\(@\.name\s*==\s*["']([^"']+)["']\)\]\.image\s*$""")


def _openshift_triggered(data: Map) -> set[Pos]:
    """:func:`_triggered` of the object, or of each item of a ``kind: List`` (what
    ``oc new-app -o yaml`` writes)."""
    items = data.get("items")
    objects = (
        [data, *(i for i in items if isinstance(i, Map))] if isinstance(items, list) else [data]
    )
    return {pos for obj in objects for pos in _triggered(obj)}


def _triggered(data: Map) -> set[Pos]:
    """The ``image:`` fields of containers whose image an OpenShift image trigger sets from an
    image stream tag: a DeploymentConfig's ``ImageChange`` trigger (``imageChangeParams.
    containerNames``, openshift/api ``apps/v1/types.go``) and the ``image.openshift.io/triggers``
    annotation on any workload (its ``fieldPath`` names the container). What Git holds there
    is a placeholder the cluster replaces (``image: ' '`` by convention), not what runs."""
    names: set[str] = set()  # containers any trigger sets
    placeholders: set[str] = set()  # ... by the annotation: only a placeholder image is skipped
    spec = data.get("spec")
    triggers = spec.get("triggers") if isinstance(spec, Map) else None
    if isinstance(triggers, list) and data.get("kind") == "DeploymentConfig":
        for trigger in triggers:
            params = trigger.get("imageChangeParams") if isinstance(trigger, Map) else None
            if isinstance(params, Map) and isinstance(params.get("containerNames"), list):
                names.update(n for n in params["containerNames"] if isinstance(n, str))
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Map) else None
    text = annotations.get(_TRIGGER_ANNOTATION) if isinstance(annotations, Map) else None
    if isinstance(text, str):
        import json  # only for this annotation: start-up time of every other run

        try:
            entries = json.loads(text)
        except (ValueError, RecursionError):
            entries = None
        for entry in entries if isinstance(entries, list) else ():
            field = entry.get("fieldPath") if isinstance(entry, dict) else None
            match = _TRIGGER_FIELD.search(field) if isinstance(field, str) else None
            if match and not entry.get("paused"):
                placeholders.add(match.group(1))
    if not names and not placeholders:
        return set()
    return {
        c.at("image")
        for pod in pod_specs(data)
        for _, c in _containers(pod)
        if "image" in c
        and (
            c.get("name") in names
            or (c.get("name") in placeholders and _placeholder_image(c.get("image")))
        )
    }


def _placeholder_image(image: Any) -> bool:
    """What a manifest holds where OpenShift's trigger annotation sets the image: blank, or
    a bare image stream name (``web``). The annotation means nothing to a cluster without
    OpenShift's trigger controller, where a full reference in the field is what runs, so
    only a placeholder is left unchecked."""
    if not isinstance(image, str):
        return False
    text = image.strip()
    return not text or re.fullmatch(r"[a-z0-9][a-z0-9._-]*", text) is not None


def is_override_file(path: str) -> bool:
    """An Argo CD parameter overrides file: ``.argocd-source.yaml``, ``.argocd-source-<app>.yaml``
    (argo-cd ``reposerver/repository/repository.go``, ``repoSourceFile`` / ``appSourceFile``)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name == ".argocd-source.yaml" or (
        name.startswith(".argocd-source-") and name.endswith(".yaml")
    )


def _cnpg_cluster(data: Map) -> Iterator[ImageSite]:
    """CloudNativePG ``Cluster.spec.imageName``: the PostgreSQL image every instance runs
    (cloudnative-pg ``api/v1/cluster_types.go``, ``ImageName``; unset, the operator's default
    or ``imageCatalogRef`` picks it)."""
    spec = data.get("spec")
    if isinstance(spec, Map) and _is_set(spec.get("imageName")):
        yield ImageSite(spec["imageName"], spec.at("imageName"), "CNPG Cluster imageName")


def _flux_image_repository(data: Map) -> Iterator[ImageSite]:
    """Flux ``ImageRepository.spec.image`` names a repository to scan: no tag by design."""
    spec = data.get("spec")
    if isinstance(spec, Map) and isinstance(spec.get("image"), str):
        pos = spec.at("image")
        yield ImageSite(spec["image"], pos, "Flux image repository", name_pos=pos, tag_known=False)


KARGO = "kargo.akuity.io"
#: a Kargo expression that is a variable of the promotion and nothing more
_KARGO_VAR = re.compile(r"\$\{\{\s*vars\.([A-Za-z_][\w-]*)\s*\}\}")


def _kargo(data: Map) -> Iterator[ImageSite]:
    """Kargo (``kargo.akuity.io``): a Warehouse subscribes to an image repository (no tag by
    design: Kargo picks one, like a Flux ImageRepository), and a ``kustomize-set-image``
    promotion step (Kargo docs, promotion-steps/kustomize-set-image: ``images[].image`` is
    the name, ``tag`` / ``digest`` the revision, and without them the Freight's tag is used)
    writes ``name:tag`` into a kustomization at promotion time. A ``${{ vars.X }}`` is the
    promotion variable ``X`` of the same object; any other expression is the Freight's."""
    spec = data.get("spec")
    if not isinstance(spec, Map):
        return
    subscriptions = spec.get("subscriptions")
    if data.get("kind") == "Warehouse" and isinstance(subscriptions, Seq):
        for entry in subscriptions:
            image = entry.get("image") if isinstance(entry, Map) else None
            if isinstance(image, Map) and _is_set(image.get("repoURL")):
                pos = image.at("repoURL")
                yield ImageSite(
                    image["repoURL"], pos, "Kargo Warehouse image", name_pos=pos, tag_known=False
                )
        return
    template = spec.get("promotionTemplate")  # a Stage's steps sit in its promotion template
    if isinstance(template, Map) and isinstance(template.get("spec"), Map):
        spec = template["spec"]
    variables: dict[str, str] = {}
    if isinstance(spec.get("vars"), Seq):
        for var in spec["vars"]:
            if isinstance(var, Map) and isinstance(var.get("name"), str):
                value = var.text("value")
                if value is not None:
                    variables[var["name"]] = value
    steps = spec.get("steps")
    if not isinstance(steps, Seq):
        return
    for step in steps:
        if not isinstance(step, Map) or step.get("uses") != "kustomize-set-image":
            continue
        config = step.get("config")
        images = config.get("images") if isinstance(config, Map) else None
        if not isinstance(images, Seq):
            continue
        for entry in images:
            if isinstance(entry, Map):
                site = _kargo_image(entry, variables)
                if site is not None:
                    yield site


def _kargo_image(entry: Map, variables: dict[str, str]) -> ImageSite | None:
    def value(key: str) -> str | None:
        text = entry.text(key)
        if not text or not text.strip():
            return None
        match = _KARGO_VAR.fullmatch(text.strip())
        if match and match.group(1) in variables:
            return variables[match.group(1)]
        return text

    name_key = "newName" if value("newName") else "image"
    name = value(name_key)
    if name is None:
        return None
    text = name
    tag, digest = value("tag"), value("digest")
    known = {k: v for k, v in (("tag", tag), ("digest", digest)) if v and "${{" not in v}
    if "tag" in known:
        text += f":{known['tag']}"
    if "digest" in known:
        text += f"@{known['digest']}"
    return ImageSite(
        text,
        entry.at(name_key),
        "Kargo kustomize-set-image",
        name_pos=entry.at(name_key),
        tag_pos=entry.at("tag") if "tag" in known else None,
        digest_pos=entry.at("digest") if "digest" in known else None,
        # no literal tag or digest: the Freight's tag, chosen by the Warehouse
        tag_known=bool(known),
    )


def _values_roots(doc: Document, data: Map, values_file: bool) -> Iterator[Map]:
    """Helm values: a values file, HelmRelease ``spec.values``, Argo CD ``valuesObject``."""
    if not doc.is_kubernetes:
        if values_file:
            yield data
        return
    spec = data.get("spec")
    if not isinstance(spec, Map):
        return
    api = doc.api_version or ""
    if doc.kind == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/"):
        values = spec.get("values")
        if isinstance(values, Map):
            yield values
    elif doc.kind in ("Application", "ApplicationSet") and api.startswith("argoproj.io/"):
        for source in _argocd_sources(data):
            helm = source.get("helm")
            values = helm.get("valuesObject") if isinstance(helm, Map) else None
            if isinstance(values, Map):
                yield values


def _flat_helm_images(values: Map) -> Iterator[ImageSite]:
    """Charts that spell an image without an ``image:`` key: ``redis: {repository, tag}``.

    (``image: {repository, tag}`` is found by :func:`_image_keys`.)
    """
    maps = [item for item in _walk_data(values) if isinstance(item, Map)]
    under_image = {id(m["image"]) for m in maps if isinstance(m.get("image"), Map)}
    for item in maps:
        if (
            id(item) not in under_image
            and _is_set(item.get("repository"))
            and ("tag" in item or "digest" in item)
        ):
            yield _helm_image(item)


def _image_keys(data: Map | Seq, helm_roots: list[Map] | None = None) -> Iterator[ImageSite]:
    """``image: ref`` strings and Helm-style ``image: {repository, tag, ...}`` mappings.

    An empty ``image: ""`` or ``repository: ""`` is a chart's "not set" (the template falls
    back to a default): not a reference. Only a container must name its image. Under
    ``helm_roots`` (Helm values) an untagged ``image:`` string takes the tag its sibling key
    gives (:func:`_sibling_tagged`).
    """
    helm = {id(m) for root in helm_roots or () for m in _walk_data(root) if isinstance(m, Map)}
    containers: set[int] | None = None
    for item in _walk_data(data):
        if not isinstance(item, Map) or "image" not in item:
            continue
        value = item["image"]
        if isinstance(value, str):
            if not value.strip() or _not_an_image(value):
                if containers is None:  # rare: find the containers only when needed
                    containers = {id(c) for spec in pod_specs(data) for _, c in _containers(spec)}
                if id(item) not in containers:
                    continue
            where = (
                f"container {shown(item['name'])}" if isinstance(item.get("name"), str) else "image"
            )
            site = ImageSite(value, item.at("image"), where)
            yield _sibling_tagged(item, site) if id(item) in helm else site
        elif isinstance(value, Map):
            if _is_set(value.get("reference")) and "repository" not in value:
                # an image volume (core/v1 ImageVolumeSource: ``reference``, ``pullPolicy``),
                # a CNPG extension image
                yield ImageSite(value["reference"], value.at("reference"), "image volume")
            elif _is_set(value.get("repository")):
                yield _helm_image(value)
            elif value.text("tag") or value.text("digest"):
                yield _helm_tag_only(value)


#: the keys beside an ``image:`` name that Helm values give its tag and digest in
#: (``mysql: {image: mysql, imageTag: "5.7.25"}``; Argo CD Image Updater's Helm write-back
#: names them per image, ``helm.image-name`` / ``helm.image-tag``, as charts spell them)
_SIBLING_TAGS = ("tag", "imageTag", "image_tag")
_SIBLING_DIGESTS = ("digest", "imageDigest", "image_digest")
#: the keys beside ``repository`` in an ``image:`` mapping that give its tag, when ``tag``
#: does not
_MAPPING_TAGS = ("imageTag", "version")


def _sibling_tagged(item: Map, site: ImageSite) -> ImageSite:
    """An untagged ``image:`` name of Helm values whose tag a sibling key gives, as the
    reference ``name:tag[@digest]`` (a values file is data: the chart's template joins the
    two, as ``{{ .Values.mysql.image }}:{{ .Values.mysql.imageTag }}``). The tag rules are
    checked on the sibling; a name that has a tag or digest already is kept as written."""
    if reference.is_templated(site.text) or _not_an_image(site.text):
        return site
    try:
        ref = reference.parse(site.text)
    except reference.ReferenceError:
        return site
    if ref.tag is not None or ref.digest is not None:
        return site
    tag_key = next((k for k in _SIBLING_TAGS if _is_set(item.text(k))), None)
    digest_key = next((k for k in _SIBLING_DIGESTS if _is_set(item.text(k))), None)
    if tag_key is None and digest_key is None:
        return site
    text = site.text
    if tag_key is not None:
        text += f":{item.text(tag_key)}"
    if digest_key is not None and "@" not in text:
        text += f"@{item.text(digest_key)}"
    joined = ImageSite(
        text,
        site.pos,
        site.where,
        name_pos=site.pos,
        tag_pos=item.at(tag_key) if tag_key else None,
        digest_pos=item.at(digest_key) if digest_key else None,
    )
    joined.written = site.text
    return joined


#: file names an ``image:`` key of an application's settings holds (a logo, a background)
_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp")


def _not_an_image(value: str) -> bool:
    """A value no container runtime would read as an image reference, under an ``image:`` key
    that is not a container's: a web address (``https://.../photo.jpg``: a reference never has
    a scheme) or a picture's file name. Charts' settings (a dashboard's background, a logo)
    use the key for those; a container's ``image:`` is still checked whatever it holds."""
    text = value.strip().lower()
    return "://" in text or text.endswith(_PICTURE_SUFFIXES)


def _is_set(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


#: keys whose values are labels, annotations and names, never image references
_NOT_DATA = frozenset(("metadata", "labels", "annotations", "matchLabels"))


def _walk_data(data: Any) -> Iterator[Any]:
    """Like :func:`walk`, but metadata, labels and annotations are not entered."""
    stack = [data]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, (dict, list)) and key not in _NOT_DATA:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))


def _json_patch(ops: Seq) -> Iterator[ImageSite]:
    """JSON 6902 patches: ``value:`` objects, and ``.../image`` paths with a string value."""
    for op in ops:
        if not isinstance(op, Map) or "op" not in op:
            continue
        value = op.get("value")
        if isinstance(value, (Map, Seq)):  # a container, a list of them, a whole pod spec
            yield from _image_keys(value)
        elif isinstance(value, str) and str(op.get("path", "")).endswith("/image"):
            yield ImageSite(value, op.at("value"), "JSON patch image")


def _inline_patches(source: SourceFile, kustomization: Map) -> Iterator[ImageSite]:
    """Patches written inline in a kustomization are YAML inside a string: parse them too."""
    holders: list[tuple[Any, Any]] = []
    for key in ("patches", "patchesJson6902"):
        entries = kustomization.get(key)
        if isinstance(entries, Seq):
            holders.extend((entry, "patch") for entry in entries if isinstance(entry, Map))
    strategic = kustomization.get("patchesStrategicMerge")
    if isinstance(strategic, Seq):
        holders.extend((strategic, i) for i in range(len(strategic)))
    for holder, key in holders:
        text = holder[key] if isinstance(holder, Seq) else holder.get(key)
        if isinstance(text, str) and "image" in text:
            yield from _embedded(source, holder, key, sites)


def _embedded(
    source: SourceFile, holder: Any, key: Any, extract: Callable[[SourceFile], Iterator[ImageSite]]
) -> Iterator[ImageSite]:
    """Images in YAML written inside a string (an inline patch, Argo CD ``helm.values``),
    reported at their place in the file when the string is a block scalar."""
    line, col = holder.at(key)
    line_shift, col_shift = _block_offset(source.lines, line, col)
    text = holder[key]
    inner = SourceFile(source.path, text, load_text(source.path, text).documents)
    for site in extract(inner):
        yield _shifted(site, line_shift, col_shift, (line, col))


def _values_text(inner: SourceFile) -> Iterator[ImageSite]:
    for doc in inner.documents:
        if isinstance(doc.data, Map):
            yield from _image_keys(doc.data, [doc.data])
            yield from _flat_helm_images(doc.data)


def _block_offset(lines: list[str], line: int, col: int) -> tuple[int, int] | tuple[None, None]:
    """How a block scalar's content maps onto the file: (line shift, column shift)."""
    if not 1 <= line <= len(lines) or lines[line - 1][col - 1 : col] not in ("|", ">"):
        return None, None  # a quoted one-line patch: report at the patch itself
    for number in range(line + 1, len(lines) + 1):
        content = lines[number - 1]
        if content.strip():
            return line, len(content) - len(content.lstrip(" "))
    return None, None


def _shifted(site: ImageSite, dl: int | None, dc: int | None, fallback: Pos) -> ImageSite:
    def move(pos: Pos | None) -> Pos | None:
        if pos is None:
            return None
        if dl is None or dc is None:
            return fallback
        return (pos[0] + dl, pos[1] + dc)

    return ImageSite(
        site.text,
        move(site.pos) or fallback,
        site.where,
        move(site.name_pos),
        move(site.tag_pos),
        move(site.digest_pos),
        site.tag_known,
        site.tag_only,
    )


def _helm_image(image: Map) -> ImageSite:
    repository = image["repository"]
    registry = image.text("registry")
    name = f"{registry.rstrip('/')}/{repository}" if registry else repository
    tag_key = next((k for k in ("tag", *_MAPPING_TAGS) if _is_set(image.text(k))), "tag")
    tag = image.text(tag_key)
    digest = image.text("digest")
    text = name
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    return ImageSite(
        text,
        image.at("repository"),
        "Helm values image",
        name_pos=image.at("registry") if registry else image.at("repository"),
        tag_pos=image.at(tag_key) if tag else None,
        digest_pos=image.at("digest") if digest else None,
        tag_known=bool(tag or digest),
    )


def _helm_tag_only(image: Map) -> ImageSite:
    """``image: {tag: latest}``: a values override of the tag alone. The chart supplies the
    repository, but the tag (or digest) that ships is the one written here."""
    tag = image.text("tag")
    digest = image.text("digest")
    text = (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    pos = image.at("tag") if tag else image.at("digest")
    return ImageSite(
        text,
        pos,
        "Helm values image tag",
        tag_pos=image.at("tag") if tag else None,
        digest_pos=image.at("digest") if digest else None,
        tag_only=True,
    )


def _kustomize_entries(entries: Any, where: str) -> Iterator[ImageSite]:
    """kustomize ``images:``: ``newName``/``newTag``/``digest`` replace parts of ``name``."""
    if not isinstance(entries, Seq):
        return
    for entry in entries:
        if not isinstance(entry, Map):
            continue
        name = entry.text("newName") or entry.text("name")
        if not name:
            continue
        tag = entry.text("newTag")
        digest = entry.text("digest")
        text = name
        if tag:
            text += f":{tag}"
        if digest:
            text += f"@{digest}"
        name_key = "newName" if entry.text("newName") else "name"
        yield ImageSite(
            text,
            entry.at(name_key),
            where,
            name_pos=entry.at(name_key),
            tag_pos=entry.at("newTag") if tag else None,
            digest_pos=entry.at("digest") if digest else None,
            # without newTag or digest the tag comes from the base manifest (checked there)
            tag_known=bool(tag or digest),
        )


def _argocd_sources(app: Map) -> list[Map]:
    """The sources of an Application, or of an ApplicationSet's template."""
    spec = app.get("spec")
    if isinstance(spec, Map) and app.get("kind") == "ApplicationSet":
        template = spec.get("template")
        spec = template.get("spec") if isinstance(template, Map) else None
    if not isinstance(spec, Map):
        return []
    sources = [spec.get("source")]
    if isinstance(spec.get("sources"), list):
        sources.extend(spec["sources"])
    return [source for source in sources if isinstance(source, Map)]


def _argocd_images(source_file: SourceFile, app: Map) -> Iterator[ImageSite]:
    """Argo CD sources: ``kustomize.images`` strings (``[old=]new[:tag][@digest]``), Helm
    ``parameters`` (``image.repository`` / ``image.tag`` / ``image``) and a ``values`` string."""
    spec = app.get("spec")
    multi = isinstance(spec, Map) and app.get("kind") == "ApplicationSet"
    template = spec.get("template") if multi else None
    tspec = template.get("spec") if isinstance(template, Map) else spec
    for source in _argocd_sources(app):
        path = ("spec", "source")
        if isinstance(tspec, Map) and tspec.get("source") is not source:
            sources = tspec.get("sources")
            index = next((i for i, s in enumerate(sources) if s is source), 0)
            path = ("spec", "sources", str(index))
        yield from _argocd_source(source_file, source, _kargo_owned(app, path))


#: the annotation that lets a Kargo Stage update an Argo CD Application (kargo
#: ``pkg/promotion/runner/builtin/argocd_updater.go``, ``authorizeArgoCDAppUpdate``)
KARGO_AUTHORIZED_STAGE = "kargo.akuity.io/authorized-stage"
#: ``.spec.sources[0].helm`` / ``.spec.sources[].helm``: a jq path of plain keys and indexes
_JQ_PATH = re.compile(r"(?:\.[A-Za-z_][\w-]*|\[\d*\])+\Z")
_JQ_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d*)\]")


def _kargo_owned(app: Map, source_path: tuple[str, ...]) -> frozenset[str]:
    """The fields of one source (``kustomize.images``, ``helm.parameters``) that Kargo sets.

    Kargo's ``argocd-update`` step (``argocd_updater.go``, ``applyArgoCDSourceUpdate``)
    replaces a source's ``kustomize.images`` and sets its Helm ``parameters`` in the live
    Application, which must carry the ``kargo.akuity.io/authorized-stage`` annotation. When
    the Application comes from an ApplicationSet whose ``ignoreApplicationDifferences``
    (every Application: no ``name``) covers the field, the ApplicationSet controller writes
    the field only when it creates the Application and never resets it (argo-cd
    ``applicationset/utils/createOrUpdate.go``, ``applyIgnoreDifferences``; docs
    Controlling-Resource-Modification.md): the tag written there is a seed Kargo replaces,
    not what is deployed. A plain Application is checked as written (a parent app syncs it)."""
    if app.get("kind") != "ApplicationSet":
        return frozenset()
    spec = app.get("spec")
    template = spec.get("template") if isinstance(spec, Map) else None
    meta = template.get("metadata") if isinstance(template, Map) else None
    notes = meta.get("annotations") if isinstance(meta, Map) else None
    if not isinstance(notes, Map) or KARGO_AUTHORIZED_STAGE not in notes:
        return frozenset()
    ignored = spec.get("ignoreApplicationDifferences")
    if not isinstance(ignored, Seq):
        return frozenset()
    covers: list[tuple[str, ...]] = []
    for rule in ignored:
        if not isinstance(rule, Map) or rule.get("name") is not None:
            continue  # a rule for one named Application does not hold for the others
        for pointer in rule.get("jsonPointers") or ():
            if isinstance(pointer, str) and pointer.startswith("/"):
                parts = pointer[1:].split("/")
                covers.append(tuple(p.replace("~1", "/").replace("~0", "~") for p in parts))
        for expression in rule.get("jqPathExpressions") or ():
            if isinstance(expression, str) and _JQ_PATH.match(expression.strip()):
                covers.append(
                    tuple(
                        key or (index if index else "*")
                        for key, index in _JQ_PART.findall(expression.strip())
                    )
                )
    owned = set()
    for field in ("kustomize.images", "helm.parameters"):
        target = (*source_path, *field.split("."))
        for cover in covers:
            if len(cover) <= len(target) and all(
                c == t or (c == "*" and t.isdigit()) for c, t in zip(cover, target)
            ):
                owned.add(field)
    return frozenset(owned)


def _argocd_source(
    source_file: SourceFile, source: Map, kargo: frozenset[str] = frozenset()
) -> Iterator[ImageSite]:
    """One Application source (or a parameter overrides file, which has its shape); in
    ``kargo``, the fields whose tag Kargo sets at promotion (:func:`_kargo_owned`): their
    names are checked, their tags are not what is deployed."""
    kustomize = source.get("kustomize")
    images = kustomize.get("images") if isinstance(kustomize, Map) else None
    if isinstance(images, Seq):
        seeded = "kustomize.images" in kargo
        for i, entry in enumerate(images):
            if isinstance(entry, str):
                new = entry.split("=", 1)[1] if "=" in entry else entry
                pos = images.at(i)
                yield ImageSite(
                    new, pos, "Argo CD kustomize image", name_pos=pos, tag_known=not seeded
                )
    helm = source.get("helm")
    if not isinstance(helm, Map):
        return
    if isinstance(helm.get("parameters"), Seq):
        parameters = helm["parameters"]
        values = helm.get("valuesObject")
        given = [
            p
            for p in parameters
            if isinstance(p, Map)
            and p.get("name") == "global.imageRegistry"
            and _is_set(p.text("value"))
        ]
        relocated = _sets_global_registry(values) or bool(given)  # see _globally_registered
        for site in _helm_parameters(parameters, "helm.parameters" in kargo):
            yield _registry_unknown(site) if relocated else site
            for p in given:  # the registry the parameter hands the chart must be allowed
                yield from _relocated_to(site, p.text("value"), p.at("value"))
    if isinstance(helm.get("values"), str) and "image" in helm["values"]:
        yield from _embedded(source_file, helm, "values", _values_text)


_IMAGE_FIELDS = ("registry", "repository", "tag", "digest")


def _helm_parameters(parameters: Seq, seeded: bool = False) -> Iterator[ImageSite]:
    """``--set``-style parameters: ``image.repository`` + ``image.tag`` make one image.
    ``seeded``: Kargo sets the parameters' tags (:func:`_kargo_owned`), so only names count."""
    groups: dict[str, Map] = {}
    for entry in parameters:
        if not isinstance(entry, Map) or not isinstance(entry.get("name"), str):
            continue
        value = entry.text("value")
        if value is None:
            continue
        prefix, _, field = entry["name"].rpartition(".")
        if field == "image":
            pos = entry.at("value")
            yield ImageSite(
                value, pos, "Argo CD Helm parameter", name_pos=pos, tag_known=not seeded
            )
        elif field in _IMAGE_FIELDS:
            group = groups.setdefault(prefix, Map())
            group[field] = value
            group.value_pos[field] = entry.at("value")
    for group in groups.values():
        if _is_set(group.get("repository")):
            site = _helm_image(group)
            site.tag_known = site.tag_known and not seeded
            yield site
        elif (group.get("tag") or group.get("digest")) and not seeded:
            yield _helm_tag_only(group)  # `worker.image.tag` alone (Kargo's when seeded)


#: ``image: repo:tag`` on one line of a chart template, with nothing templated in it
_TEMPLATE_IMAGE = re.compile(
    r"""^(?P<lead>\s*(?:-\s+)?image:\s*)(?P<q>["']?)(?P<ref>[^\s"'#{}]+)(?P=q)\s*(?:#.*)?$"""
)


def _template_images(source: SourceFile) -> Iterator[ImageSite]:
    """A chart template is not YAML, but an image written literally in it still ships:
    ``image: nginx:latest`` in ``templates/deployment.yaml`` is checked line by line."""
    for number, line in enumerate(source.lines, 1):
        if "image:" not in line or "{{" in line:
            continue
        match = _TEMPLATE_IMAGE.match(line)
        if match:
            column = len(match.group("lead")) + 1
            yield ImageSite(match.group("ref"), (number, column), "image in a chart template")


def _compile(pattern: str) -> Pattern:
    """The policy's tag pattern, on the linear-time engine (``core/patterns.py``): a pattern
    that engine cannot run is a policy error (exit 2), found before any file is checked."""
    from gitops_guard.core.patterns import PatternError, compile_pattern

    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise UsageError(f"policy: images.tag_pattern: {exc}") from None


def check(source: SourceFile, policy: Policy) -> list[Finding]:
    """The findings of one file, judged alone (a rendered object, a file being written)."""
    return [finding for _site, finding in _checked(source, policy)]


def checker(policy: Policy, paths: list[str]) -> Callable[[SourceFile, Policy], list[Finding]]:
    """The check of one run (core/pipeline.py): like :func:`check`, and an image written in
    a kustomize base or in a chart's ``values.yaml`` that every consumer rewrites is reported
    once, as ``image/overridden`` (info), instead of the rules its rewrite makes moot
    (``consumers.py``). The repository is read only when a file has such a finding."""
    from gitops_guard.checks.images.consumers import Lookup

    lookup = Lookup(paths)

    def check_one(source: SourceFile, run_policy: Policy) -> list[Finding]:
        return _resolve(source, _checked(source, run_policy, lookup), lookup)

    return check_one


#: the rules a consumer's rewrite makes moot, with the part of the reference each is about
_PART = {
    "image/tag-missing": "tag",
    "image/tag-latest": "tag",
    "image/tag-not-allowed": "tag",
    "image/digest-required": "tag",
    "image/registry-not-allowed": "name",
}


def _resolve(
    source: SourceFile, pairs: list[tuple[ImageSite, Finding]], lookup: Any
) -> list[Finding]:
    if not any(finding.rule in _PART for _site, finding in pairs):
        return [finding for _site, finding in pairs]
    containers: set[Pos] | None = None
    verdicts: dict[int, Any] = {}
    moot: dict[int, tuple[ImageSite, list[Finding], Any]] = {}
    result: list[Finding] = []
    for site, finding in pairs:
        part = _PART.get(finding.rule)
        if part is None:
            result.append(finding)
            continue
        if id(site) not in verdicts:
            if containers is None:
                containers = _container_images(source)
            verdicts[id(site)] = _consumers(source, site, lookup, containers)
        consumers = verdicts[id(site)]
        if consumers and all(part in c.replaced for c in consumers):
            moot.setdefault(id(site), (site, [], consumers))[1].append(finding)
        else:
            result.append(finding)
    for site, findings, consumers in moot.values():
        first = min(findings, key=lambda f: (f.line, f.column))
        rules = ", ".join(sorted({f.rule for f in findings}))
        parts = " and ".join(sorted({_PART[f.rule] for f in findings}))
        labels = bounded("; ".join(sorted({c.label for c in consumers})), 300)
        result.append(
            Finding(
                source.path,
                first.line,
                first.column,
                "image/overridden",
                f"image {quote(_short(site.text))} is not deployed as written ({rules} here): "
                f"every consumer replaces its {parts} ({labels}); what they deploy is checked "
                "where they set it",
            )
        )
    return sorted(result, key=lambda f: (f.line, f.column, f.rule))


def _consumers(source: SourceFile, site: ImageSite, lookup: Any, containers: set[Pos]) -> Any:
    """The consumers of a site, with the parts each replaces; None: deployed as written."""
    from gitops_guard.checks.images import consumers as found

    whole = not site.tag_only and not reference.is_templated(site.text)
    if site.where == "kustomize images" or site.pos in containers:
        if not whole:
            return None
        found = lookup.kustomize(source.path, site.text)
        if found is None and is_values_file(source.path):
            found = lookup.helm_values(source.path, site.text)
        return found
    if not is_values_file(source.path) or not site.where.startswith(
        ("Helm values", "container", "image")
    ):
        return None
    charts = lookup.chart(source.path)
    if charts is None:
        # a values file a kustomization renders a chart with: its images: rewrite the output
        return lookup.helm_values(source.path, site.text) if whole else None
    paths = _value_paths(source, site)
    if paths is None:
        return None
    tag_paths, name_paths = paths
    result = []
    for label, layers in charts:
        replaced = set()
        for part, alternatives in ((found.TAG, tag_paths), (found.NAME, name_paths)):
            if any(found.sets(layer, path) for layer in layers for path in alternatives):
                replaced.add(part)
        result.append(found.Consumer(label, frozenset(replaced)))
    return result


def _container_images(source: SourceFile) -> set[Pos]:
    """Where the ``image`` of an item of a ``containers`` / ``initContainers`` list is
    written, in a manifest: what kustomize's images transformer rewrites (its legacy filter,
    ``api/filters/imagetag/legacy.go``, visits those lists wherever they are)."""
    found: set[Pos] = set()
    if any(is_kustomization(source.path, doc) for doc in source.documents):
        return found
    for doc in source.documents:
        for item in _walk_data(doc.data):
            if not isinstance(item, Map):
                continue
            for key in ("containers", "initContainers"):
                listed = item.get(key)
                if isinstance(listed, Seq):
                    for container in listed:
                        if isinstance(container, Map) and isinstance(container.get("image"), str):
                            found.add(container.at("image"))
    return found


def _value_paths(
    source: SourceFile, site: ImageSite
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]] | None:
    """(paths whose value replaces the tag, paths whose value replaces the name) of a site in
    a values file: ``image.tag`` / ``image.digest`` and ``image.registry`` (or
    ``image.repository`` when the default names no registry) beside an image mapping, the key
    itself for an ``image: name:tag`` string. None when the site sits in a list."""
    pos = site.tag_pos if site.tag_only else site.pos
    for doc in source.documents:
        path = _path_at(doc.data, pos or site.pos)
        if path is None:
            continue
        if any(not isinstance(key, str) for key in path):
            return None
        # a tag written apart from the name (a sibling key, the value a chart's template
        # takes the tag from): replacing that value replaces the tag
        apart = None
        if not site.tag_only and site.tag_pos is not None and site.tag_pos != site.pos:
            apart = _path_at(doc.data, site.tag_pos)
            if apart is not None and any(not isinstance(key, str) for key in apart):
                apart = None
        if site.where.startswith("Helm values"):
            holder = path[:-1]
            tags = [(*holder, "tag"), (*holder, "digest")]
            if apart is not None and apart not in tags:
                tags = [apart, (*holder, "digest")]
            image = _at(doc.data, holder)
            name_key = (
                "registry" if isinstance(image, Map) and "registry" in image else "repository"
            )
            return tags, [(*holder, name_key)]
        return ([apart] if apart is not None else [path]), [path]
    return None


def _path_at(data: Any, pos: Pos) -> tuple | None:
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Map):
            for key, value in node.items():
                if isinstance(value, (Map, Seq)):
                    stack.append((value, (*path, key)))
                elif node.at(key) == pos:
                    return (*path, key)
        elif isinstance(node, Seq):
            stack.extend((value, (*path, i)) for i, value in enumerate(node))
    return None


def _at(data: Any, path: tuple) -> Any:
    for key in path:
        if not isinstance(data, Map):
            return None
        data = data.get(key)
    return data


#: ``helm.sh/hook: test`` (``test-success``, ``test-failure``: Helm 2's names), in a template
#: or in a rendered manifest
_HELM_TEST_HOOK = re.compile(
    r"""^\s*["']?helm\.sh/hook["']?\s*:\s*["']?test(?:-success|-failure)?["']?\s*(?:#.*)?$"""
)
_TEST_HOOK_NOTE = (
    "(a helm test hook: Argo CD never applies it, gitops-engine maps no phase to it; "
    "Flux runs it only with spec.test.enable, helm only under 'helm test')"
)


def _helm_test_lines(lines: list[str]) -> list[tuple[int, int]]:
    """The line ranges (1-based, inclusive) of the documents that are Helm test hooks: the
    pod ``helm create`` scaffolds in ``templates/tests/`` (``image: busybox``). gitops-engine
    ``pkg/sync/hook/helm/type.go`` maps only the install and upgrade hooks to a phase, so
    Argo CD never applies a test hook (repo/argo.py HELM_PHASES); helm-controller runs it
    only with ``spec.test.enable``. Its image is still checked, as a warning."""
    ranges: list[tuple[int, int]] = []
    start, hook = 1, False
    for number, line in enumerate([*lines, "---"], 1):
        if line.startswith("---"):
            if hook:
                ranges.append((start, number - 1))
            start, hook = number + 1, False
        elif not hook and "helm.sh/hook" in line and _HELM_TEST_HOOK.match(line):
            hook = True
    return ranges


def _checked(
    source: SourceFile, policy: Policy, lookup: Any = None
) -> list[tuple[ImageSite, Finding]]:
    env = policy.environment_of(source.path)
    images = policy.section("images", env)
    pattern_text = images.get("tag_pattern") or ""
    pattern = _compile(pattern_text) if pattern_text else None
    allowed = list(images.get("allowed_registries") or [])
    require_digest = bool(images.get("require_digest"))
    findings: list[tuple[ImageSite, Finding]] = []

    #: a value reached twice (an alias, a ``<<:`` merge key) is one place: reported once
    reported: set[tuple[int, int, str, str]] = set()
    #: how the value checked came to be, when Flux substituted it (said in every message)
    why = ""
    tests = _helm_test_lines(source.lines) if "helm.sh/hook" in source.text else ()

    def add(
        pos: Pos | None, rule: str, message: str, site: ImageSite, severity: str | None = None
    ) -> None:
        line, col = pos or site.pos
        if (line, col, rule, why) not in reported:
            reported.add((line, col, rule, why))
            if tests and severity is None and any(a <= site.pos[0] <= b for a, b in tests):
                severity = WARNING
                message += f" {_TEST_HOOK_NOTE}"
            finding = Finding(source.path, line, col, rule, message + why, severity)
            findings.append((site, finding))

    def judge(site: ImageSite) -> None:
        if site.tag_only:
            _check_tag_only(
                site, pattern, pattern_text, require_digest, env, add, policy.path is None
            )
            return
        if reference.is_templated(site.text):
            add(
                site.pos,
                "image/unresolvable",
                f"image {quote(site.text)} is templated; its value cannot be checked",
                site,
            )
            return
        try:
            ref = reference.parse(site.text)
        except reference.ReferenceError as exc:
            part_pos = {"tag": site.tag_pos, "digest": site.digest_pos}.get(exc.part)
            add(
                part_pos or site.pos,
                "image/invalid-reference",
                f"invalid image reference {quote(_short(site.text))}: {exc}",
                site,
            )
            return
        if (
            allowed
            and site.name_known
            and not any(reference.registry_matches(ref, a) for a in allowed)
        ):
            note = f" {site.registry_note}" if site.registry_note else ""
            add(
                site.name_pos,
                "image/registry-not-allowed",
                f"registry {quote(ref.domain)} of {quote(ref.repository)} is not allowed "
                f"(allowed: {bounded(', '.join(allowed), 300)}){note}",
                site,
                WARNING if site.registry_note else None,
            )
        if site.tag_known:
            expected = f" matching {bounded(pattern_text, 200)}" if pattern_text else ""
            if ref.tag is None and ref.digest is None:
                add(
                    site.pos,
                    "image/tag-missing",
                    f"image {quote(ref.repository)} has no tag, so it means 'latest'; "
                    f"pin a tag{expected}",
                    site,
                )
            elif ref.tag is not None and ref.tag.lower() == "latest" and ref.digest is not None:
                # the digest pins it: exactly one image is pulled, whatever `latest` is now
                # (every peer passes this); the tag only misleads whoever reads it
                add(
                    site.tag_pos,
                    "image/tag-latest",
                    f"image {quote(ref.repository)} is pinned by its digest, so tag "
                    f"{quote(ref.tag)} changes nothing that is pulled but misleads whoever "
                    f"reads it; drop the tag or name the release it is{_as_tag(pattern_text)}",
                    site,
                    "warning",
                )
            elif ref.tag is not None and ref.tag.lower() == "latest":
                add(
                    site.tag_pos,
                    "image/tag-latest",
                    f"image {quote(ref.repository)} uses tag {quote(ref.tag)}, which floats; "
                    f"pin a tag{expected}",
                    site,
                )
            elif ref.tag is not None and pattern is not None and not pattern.search(ref.tag):
                add(
                    site.tag_pos,
                    "image/tag-not-allowed",
                    _mismatch(ref.tag, pattern_text, policy.path is None),
                    site,
                )
            if require_digest and ref.digest is None:
                where = f" in {env}" if env else ""
                add(
                    site.digest_pos or site.tag_pos,
                    "image/digest-required",
                    f"image {quote(ref.repository)} must be pinned by @sha256: digest{where}",
                    site,
                )

    found = _template_images(source) if source.skipped == "helm template" else sites(source)
    uses: dict[Any, Any] = {}  # per document: the chart's templates, read when a site needs them
    for site in found:
        if lookup is not None and site.doc is not None and _chart_decides(source, site):
            if id(site.doc) not in uses:
                uses[id(site.doc)] = _chart_uses(source, site.doc, lookup)
            site = _chart_tagged(site, uses[id(site.doc)])
        expanded = _flux_substituted(source, site, lookup)
        if expanded is None:
            why = ""
            judge(site)
            continue
        for label, value in expanded:
            why = f" (the value {label} substitutes for {quote(_short(site.text))})"
            judge(site.replaced(value))
    return findings


def _chart_uses(source: SourceFile, doc: Document, lookup: Any) -> dict:
    """How the chart's templates (and the values they render with ``tpl``) use each value."""
    from gitops_guard.checks.images.chart_templates import with_rendered_values

    found = lookup.chart_uses(source.path)
    if found is None:
        return {}
    return with_rendered_values(found[0], found[1], doc.data)


def _chart_decides(source: SourceFile, site: ImageSite) -> bool:
    """Whether the chart's templates may say what a site becomes: an untagged name (an
    ``image:`` string, an ``image.repository``) in a values file, or one joined to the tag of
    its sibling key."""
    if site.tag_only or site.doc is None or site.doc.is_kubernetes:
        return False
    if not is_values_file(source.path) or reference.is_templated(site.text):
        return False
    if site.where not in ("Helm values image", "image") and not site.where.startswith("container "):
        return False
    if site.written is not None:
        return True
    try:
        ref = reference.parse(site.text)
    except reference.ReferenceError:
        return False
    return ref.tag is None and ref.digest is None


def _chart_tagged(site: ImageSite, uses: dict) -> ImageSite:
    """An untagged name of a chart's values as the chart's templates complete it
    (``chart_templates.py``). When every template that names the value writes a tag (or
    digest) after it, the tag is the template's: taken plainly from another value of this
    file, the reference is ``name:value`` and the tag rules are checked on that value; from
    anywhere else (``.Chart.AppVersion``, a literal, a helper) it is not this file's to pin.
    A value some template uses whole is judged as written, without the tag of a sibling key
    (the template does not read it). What every template writes before an ``image:`` string
    (``{{ .Values.common.imagePrefix }}``, ``registry.example.com/``) is part of its name; when
    the templates disagree or it is not plain, the name (and so its registry) is unknown."""
    from gitops_guard.checks.images.chart_templates import SUPPLIED

    doc = site.doc
    if not uses:
        return site
    path = _path_at(doc.data, site.pos) if doc is not None else None
    if doc is None or path is None or any(not isinstance(key, str) for key in path):
        return site
    found = uses.get(path)
    if not found:
        return site
    written = site.written if site.written is not None else site.text
    name, name_pos, name_known = written, site.name_pos or site.pos, site.name_known
    if site.where != "Helm values image":  # a mapping's name is its registry + repository
        # where a pod spec takes the value (an image: key) decides its name: a label or a
        # note that writes something else before it ("mirror-{{ .Values.image }}") does not
        keyed = [use for use in found if use[5]] or found
        prefixes = {use[4] for use in keyed}
        prefix = next(iter(prefixes)) if len(prefixes) == 1 else None
        if isinstance(prefix, tuple):
            holder = _at(doc.data, prefix[:-1])
            value = holder.get(prefix[-1]) if isinstance(holder, Map) else None
            if _is_set(value):
                name, name_pos = f"{holder.text(prefix[-1])}{written}", holder.at(prefix[-1])
            elif value not in (None, ""):
                name_known = False  # not a string: the template's rendering of it is unknown
            # unset or empty: Helm renders a missing value as "" (pkg/engine/engine.go)
        elif isinstance(prefix, str):
            name = f"{prefix}{written}"
        else:
            name_known = False
    if any(kind != SUPPLIED for kind, *_ in found):
        if site.where == "Helm values image":
            return site  # a mapping without a tag: its tag is the chart's, as before
        result = ImageSite(name, site.pos, site.where, name_pos, tag_known=site.tag_known)
    else:
        sources = {(use[1], use[2]) for use in found}
        sep, source = next(iter(sources))
        value = None
        if len(sources) == 1 and source is not None:
            holder = _at(doc.data, source[:-1])
            if isinstance(holder, Map) and _is_set(holder.text(source[-1])):
                value = (holder.text(source[-1]), holder.at(source[-1]))
        if value is None:
            result = ImageSite(name, site.pos, site.where, name_pos, tag_known=False)
        else:
            text, pos = value
            result = ImageSite(
                f"{name}{sep}{text}",
                site.pos,
                site.where,
                name_pos,
                tag_pos=pos if sep == ":" else None,
                digest_pos=pos if sep == "@" else None,
            )
    result.name_known = name_known
    result.doc = doc
    return result


def _flux_substituted(
    source: SourceFile, site: ImageSite, lookup: Any
) -> list[tuple[str, str]] | None:
    """The values a ``${VAR}`` image takes once each Flux Kustomization that applies the
    file substitutes it (``substitution.py``), one per distinct value; None when it is not
    Flux-templated or a value cannot be known here (then it is ``image/unresolvable``)."""
    if lookup is None or site.doc is None or "${" not in site.text:
        return None
    from gitops_guard.checks.images.substitution import OTHER_TEMPLATES

    if OTHER_TEMPLATES.search(site.text):
        return None
    expanded = lookup.flux_substituted(source.path, site.text, site.doc)
    if not expanded:
        return None
    distinct: dict[str, str] = {}
    for label, value in expanded:
        distinct.setdefault(value, label)
    return [(label, value) for value, label in distinct.items()]


def _check_tag_only(
    site: ImageSite,
    pattern: re.Pattern[str] | None,
    pattern_text: str,
    require_digest: bool,
    env: str | None,
    add: Callable[..., None],
    default_policy: bool,
) -> None:
    """A Helm values override of the tag alone: the tag rules apply where it is written (the
    repository is the chart's, so the registry rules are checked where the chart is)."""
    text = site.text
    if reference.is_templated(text):
        add(
            site.pos,
            "image/unresolvable",
            f"image tag override {quote(_short(text))} is templated; its value cannot be checked",
            site,
        )
        return
    tag, _, digest = text.partition("@")
    tag = tag[1:] if tag.startswith(":") else tag
    try:
        if digest:
            reference.check_digest(digest)
        if tag and not reference.valid_tag(tag):
            reference.parse(f"x:{tag}")  # raises with the reason
    except reference.ReferenceError as exc:
        pos = site.digest_pos if exc.part == "digest" else site.tag_pos
        add(
            pos,
            "image/invalid-reference",
            f"invalid image tag override {quote(_short(text))}: {exc}",
            site,
        )
        return
    expected = f" matching {bounded(pattern_text, 200)}" if pattern_text else ""
    if tag.lower() == "latest":
        if digest:
            add(
                site.tag_pos,
                "image/tag-latest",
                f"image tag override {quote(tag)} is pinned by its digest, so the tag changes "
                "nothing that is pulled but misleads whoever reads it; drop the tag or name "
                f"the release it is{_as_tag(pattern_text)}",
                site,
                "warning",
            )
        else:
            add(
                site.tag_pos,
                "image/tag-latest",
                f"image tag override {quote(tag)} (the chart's repository) floats; "
                f"pin a tag{expected}",
                site,
            )
    elif tag and pattern is not None and not pattern.search(tag):
        add(
            site.tag_pos,
            "image/tag-not-allowed",
            _mismatch(tag, pattern_text, default_policy),
            site,
        )
    if require_digest and not digest:
        where = f" in {env}" if env else ""
        add(
            site.tag_pos,
            "image/digest-required",
            f"image tag override {quote(tag)} must be pinned by @sha256: digest{where}",
            site,
        )


def _mismatch(tag: str, pattern_text: str, default_policy: bool) -> str:
    """The tag-not-allowed message. Under the defaults (no policy file) it says where the pattern
    comes from: a repository that tags ``1.2.3`` learns the one key that accepts its scheme."""
    message = f'tag "{tag}" does not match {bounded(pattern_text, 200)}'
    if default_policy:
        message += (
            " (the default pattern: set images.tag_pattern in policies/gitops-guard.yaml to"
            " accept your scheme)"
        )
    return message


def _as_tag(pattern_text: str) -> str:
    return f" (a tag matching {bounded(pattern_text, 200)})" if pattern_text else ""


#: a valid digest: a content address the output masking (core/masking.py) keeps readable
_WHOLE_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def _short(text: str) -> str:
    """A reference bounded for a message. One pinned by a valid digest is kept whole (up to a
    long name): cut inside the digest, the masking would read the cut hex as the start of a
    token and mask the whole reference."""
    if len(text) <= 80:
        return text
    name, at, digest = text.partition("@")
    if at and len(name) <= 120 and _WHOLE_DIGEST.fullmatch(digest):
        return text
    return text[:77] + "..."

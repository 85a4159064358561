"""What a ``${VAR}`` image becomes once Flux applies it.

kustomize-controller substitutes variables in every object a Kustomization builds
(fluxcd/pkg ``kustomize/kustomize_varsub.go``, ``SubstituteVariables``): the data keys of the
ConfigMaps and Secrets of ``spec.postBuild.substituteFrom`` (in order, each in the
Kustomization's namespace; a missing one is an error unless ``optional``), then
``spec.postBuild.substitute`` over them, newlines removed from every value; nothing at all
when no variable is set, nor in an object labelled or annotated
``kustomize.toolkit.fluxcd.io/substitute: disabled``. drone/envsubst evaluates the text: a
variable nobody sets is empty, ``${X:=d}`` / ``${X:-d}`` / ``${X=d}`` / ``${X-d}`` fall back to
``d`` when it is.

The value is known when every Kustomization that applies the file sets it from this repository:
inline, or from a ConfigMap (or an unencrypted Secret) written here. A ConfigMap the cluster
holds, a SOPS-encrypted Secret, a generated one, or two copies of a ConfigMap that disagree on
the variable: unknown (the image stays ``image/unresolvable``).
"""

from __future__ import annotations

import base64
import binascii
import re

from gitops_guard.core.documents import Map, Seq
from gitops_guard.core.quoting import quote
from gitops_guard.repo.flux_vars import disabled, envsubst

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gitops_guard.core.documents import Document
    from gitops_guard.repo.repository import Repository

#: only these templates are Flux's (``{{ }}`` and ``$(VAR)`` are someone else's)
OTHER_TEMPLATES = re.compile(r"\{\{|\$\(|__[A-Z0-9_]+__|<<")

#: a variable whose value cannot be known here
UNKNOWN = object()


class Variables:
    """The variables one Flux Kustomization substitutes (None: it substitutes nothing)."""

    def __init__(self, values: dict[str, object], complete: bool) -> None:
        self.values = values
        #: False when a source the repository does not show may set more variables
        self.complete = complete

    def get(self, name: str) -> object:
        if name in self.values:
            return self.values[name]
        return "" if self.complete else UNKNOWN


def variables(kustomization: Document, stores: Stores) -> Variables | None:
    """What ``kustomization`` substitutes (None when it substitutes nothing)."""
    spec = kustomization.data.get("spec") if isinstance(kustomization.data, Map) else None
    post = spec.get("postBuild") if isinstance(spec, Map) else None
    if not isinstance(post, Map):
        return None
    values: dict[str, object] = {}
    complete = True
    refs = post.get("substituteFrom")
    if isinstance(refs, Seq):
        for ref in refs:
            if not isinstance(ref, Map):
                continue
            found = stores.data(ref.get("kind"), ref.get("name"), kustomization.namespace)
            if found is None:
                # not written here: the cluster holds it (an optional one may exist there)
                complete = False
                continue
            data, known = found
            values.update(data)
            complete = complete and known
    inline = post.get("substitute")
    if isinstance(inline, Map):
        for key, value in inline.items():
            text = inline.text(key)
            if text is None and isinstance(value, (int, float, bool)):
                text = str(value)
            values[str(key)] = text.replace("\n", "") if text is not None else UNKNOWN
    if not values and complete:
        return None  # len(vars) == 0: no substitution at all
    return Variables(values, complete)


def substitute(text: str, doc: Document, found: Variables | None) -> str | None:
    """``text`` as the Kustomization applies it; None when that cannot be known here."""
    if found is None or disabled(doc):
        return None  # applied as written: the cluster gets the ``${VAR}`` itself

    def value_of(name: str) -> str | None:
        value = found.get(name)
        return value if isinstance(value, str) and "$" not in value else None

    return envsubst(text, value_of)


class Stores:
    """The ConfigMaps and Secrets written in the repository, by kind and name."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._found: dict[tuple[str, str], list[tuple[str | None, dict[str, object], bool]]] = {}
        self._read = False

    def _load(self) -> None:
        from gitops_guard.repo.repository import kind_line

        self._read = True
        for kind in ("ConfigMap", "Secret"):
            for source in self._repo.containing(kind.encode(), kind_line(kind)):
                for doc in source.documents:
                    if doc.kind != kind or doc.api_version != "v1" or not doc.name:
                        continue
                    data, known = _data(doc)
                    entry = (doc.namespace, data, known)
                    self._found.setdefault((kind, doc.name), []).append(entry)

    def data(
        self, kind: object, name: object, namespace: str | None
    ) -> tuple[dict[str, object], bool] | None:
        """The data of the object the reference names (merged over every copy written here:
        a key two copies disagree on is unknown), with whether all of it is known; None when
        the repository writes no such object."""
        if kind not in ("ConfigMap", "Secret") or not isinstance(name, str) or "$" in name:
            return None
        if not self._read:
            self._load()
        copies = [
            (data, known)
            for ns, data, known in self._found.get((str(kind), name), [])
            if ns is None or namespace is None or ns == namespace
        ]
        if not copies:
            return None
        merged: dict[str, object] = {}
        known_all = True
        for data, known in copies:
            known_all = known_all and known
            for key, value in data.items():
                if key in merged and merged[key] != value:
                    merged[key] = UNKNOWN
                else:
                    merged.setdefault(key, value)
        if len(copies) > 1:
            keys = [set(data) for data, _ in copies]
            for key in set().union(*keys):
                if not all(key in k for k in keys):
                    merged[key] = UNKNOWN  # set in one copy only: which one applies?
        return merged, known_all


def _data(doc: Document) -> tuple[dict[str, object], bool]:
    """A ConfigMap's or Secret's data as the controller reads it, and whether it is all known
    (a SOPS-encrypted Secret is not)."""
    data = doc.data
    if not isinstance(data, Map):
        return {}, False
    if isinstance(data.get("sops"), Map):
        return {}, False
    result: dict[str, object] = {}
    known = True
    if doc.kind == "Secret":
        encoded = data.get("data")
        if isinstance(encoded, Map):
            for key, value in encoded.items():
                try:
                    text = base64.b64decode(str(value), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    result[str(key)] = UNKNOWN
                    continue
                result[str(key)] = text.replace("\n", "")
        plain = data.get("stringData")  # the API server merges it into data
    else:
        plain = data.get("data")
    if isinstance(plain, Map):
        for key in plain:
            text = plain.text(key)
            result[str(key)] = text.replace("\n", "") if text is not None else UNKNOWN
    elif plain is not None:
        known = False
    return result, known


def label(kustomization: Document) -> str:
    return f"Flux Kustomization {quote(kustomization.name or '?')}"

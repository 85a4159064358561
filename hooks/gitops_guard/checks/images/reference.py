"""The container image reference grammar (distribution/reference) and Docker Hub normalisation.

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component ( "/" path-component )*
    domain     := host [ ":" port ]            (only if the first component has "." or ":",
                                                is "localhost", or has an uppercase letter)
    path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [\\w][\\w.-]{0,127}
    digest     := algorithm ":" hex            (sha256: 64 lowercase hex, sha512: 128)

A name without a domain is on Docker Hub (``docker.io``), and a one-component Docker Hub name
lives under ``library/``: ``nginx`` is ``docker.io/library/nginx``. No tag and no digest means
``latest``.
"""

from __future__ import annotations

import re

from gitops_guard.core.findings import quote

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"index.docker.io", "registry-1.docker.io", "docker.io"}

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?\Z"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z", re.ASCII)  # Go's \w is ASCII-only
_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*\Z")
NAME_MAX = 255
_SPACE = re.compile(r"\s")

#: ``{{ .Values.x }}``, ``${VAR}``, ``$(params.X)`` (Tekton, Kubernetes env expansion),
#: ``__PLACEHOLDER__`` (left for the user of a catalog to replace)
#: templates: Helm / Argo CD ``{{ }}``, Flux postBuild ``${VAR}``, ``$(VAR)``, placeholders,
#: and the Flux Operator ResourceSet's ``<< inputs.x >>`` (flux-operator
#: ``internal/builder/resourceset.go``: ``template.New(...).Delims("<<", ">>")``)
TEMPLATED = re.compile(r"\{\{.*?\}\}|\$\{[^}]*\}|\$\([^)]*\)|__[A-Z0-9_]+__|<<.*?>>")


class ReferenceError(ValueError):
    """The text is not a valid image reference; the message says why.

    ``part`` names the broken part (``name``, ``tag`` or ``digest``) so a finding can point
    at the line that holds it when the parts are written apart (kustomize, Helm values).
    """

    def __init__(self, message: str, part: str = "name") -> None:
        super().__init__(message)
        self.part = part


class Reference:
    """A parsed image reference; ``domain`` and ``path`` are normalised for Docker Hub."""

    __slots__ = ("digest", "domain", "explicit_domain", "path", "tag")

    def __init__(
        self,
        domain: str,
        path: str,
        tag: str | None,
        digest: str | None,
        explicit_domain: bool = True,
    ) -> None:
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
        #: whether the text named a registry explicitly (``nginx`` did not)
        self.explicit_domain = explicit_domain

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reference):
            return NotImplemented
        return (self.domain, self.path, self.tag, self.digest) == (
            other.domain,
            other.path,
            other.tag,
            other.digest,
        )

    def __hash__(self) -> int:
        return hash((self.domain, self.path, self.tag, self.digest))

    def __repr__(self) -> str:
        return f"Reference({str(self)!r})"

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def repository(self) -> str:
        """The name as it is usually written: Docker Hub short names stay short."""
        if self.domain == DOCKER_HUB and not self.explicit_domain:
            return self.path[len("library/") :] if self.path.startswith("library/") else self.path
        return self.name

    def __str__(self) -> str:
        text = self.repository
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def valid_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))


def is_templated(text: str) -> bool:
    return bool(TEMPLATED.search(text))


def parse(text: str) -> Reference:
    """Parse and normalise; raise ReferenceError naming the broken part."""
    try:
        return _parse(text)
    except ReferenceError as error:
        raise _unquoted_if_secret(error, text) from None


def _unquoted_if_secret(error: ReferenceError, text: str) -> ReferenceError:
    """The error, or when the reference holds a secret (a token pasted into ``image:``), the
    error without the pieces it quotes: a piece cut out of a token (its part before a ``/``)
    no longer looks like that token to the output masking, and would print in clear."""
    message = str(error)
    if "'" not in message:
        return error
    from gitops_guard.core.masking import mask_text

    if mask_text(text) == text:
        return error
    head = message.split("'", 1)[0].rstrip(" :")
    return ReferenceError(
        f"{head} (not quoted: the reference looks like it holds a secret)", error.part
    )


def _parse(text: str) -> Reference:
    if not text:
        raise ReferenceError("empty image reference")
    if _SPACE.search(text):
        raise ReferenceError("image reference contains whitespace")
    remainder = text
    digest = None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        check_digest(digest)
    tag = None
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            if len(tag) > 128:
                raise ReferenceError(f"tag is {len(tag)} characters; the limit is 128", "tag")
            raise ReferenceError(
                f"invalid tag {quote(tag)}: tags are [A-Za-z0-9_.-], not starting with '.' or '-'",
                "tag",
            )
    if not remainder:
        raise ReferenceError("missing repository name")
    if len(remainder) > NAME_MAX:
        raise ReferenceError(f"repository name is {len(remainder)} characters; the limit is 255")
    domain, path, explicit = split_domain(remainder)
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            if component.lower() != component and _PATH_COMPONENT.match(component.lower()):
                raise ReferenceError(f"repository name must be lowercase: {quote(path)}")
            raise ReferenceError(f"invalid repository path component {quote(component)}")
    return Reference(domain=domain, path=path, tag=tag, digest=digest, explicit_domain=explicit)


def split_domain(name: str) -> tuple[str, str, bool]:
    """(domain, path, explicit) with Docker Hub normalisation."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        if not _DOMAIN.match(first):
            if "." in first or ":" in first or first == "localhost":
                raise ReferenceError(f"invalid registry host {quote(first)}")
            # distribution/reference normalize.go, splitDockerDomain: without '.' or ':' and
            # not localhost, only its uppercase makes the first component a host; as a host it
            # is not valid, and as a path component it must be lowercase
            # (reference/regexp.go: path components are [a-z0-9] with separators)
            if _PATH_COMPONENT.match(first.lower()):
                raise ReferenceError(
                    f"repository path component {quote(first)} must be lowercase (with no '.' "
                    "or ':' and not 'localhost' it is not a registry host)"
                )
            raise ReferenceError(
                f"invalid repository path component {quote(first)} (with no '.' or ':' and not "
                "'localhost' it is not a registry host)"
            )
        domain = DOCKER_HUB if first in _HUB_ALIASES else first
        path = rest
        if domain == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        return domain, path, True
    path = name if sep else f"library/{name}"
    return DOCKER_HUB, path, False


#: the digest algorithms the OCI image spec registers, with their hex lengths; a runtime
#: refuses any other (``sha256:`` 63 hex, ``md5:``, ``sha1:`` are not digests it can pull)
DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}


def check_digest(digest: str) -> None:
    """``algorithm:hex`` with a registered algorithm and exactly its length of lowercase hex
    (OCI image spec, descriptor digests); the message says which part is wrong."""
    algorithm, sep, hex_part = digest.partition(":")
    if not sep or not _ALGORITHM.match(algorithm):
        raise ReferenceError(
            f"invalid digest {quote(mask_digest(digest))}: expected algorithm:hex", "digest"
        )
    wanted = DIGEST_LENGTHS.get(algorithm)
    if wanted is None:
        known = ", ".join(f"{a} ({n} hex)" for a, n in DIGEST_LENGTHS.items())
        raise ReferenceError(
            f"digest algorithm {algorithm[:20]!r} is not a registered one ({known})", "digest"
        )
    bad = next((i for i, c in enumerate(hex_part) if c not in "0123456789abcdef"), None)
    if bad is not None:
        char = hex_part[bad]
        what = "uppercase hex" if char in "ABCDEF" else f"character {char!r}"
        raise ReferenceError(
            f"invalid {algorithm} digest: {what} at position {bad + 1}; a digest is "
            "lowercase hex (0-9, a-f)",
            "digest",
        )
    if len(hex_part) != wanted:
        raise ReferenceError(
            f"invalid {algorithm} digest: {len(hex_part)} hex characters, expected {wanted}",
            "digest",
        )


def mask_digest(digest: str) -> str:
    return digest if len(digest) <= 24 else digest[:19] + "..."


def registry_matches(ref: Reference, allowed: str) -> bool:
    """``registry.example.com`` allows that host; ``registry.example.com/team`` a subtree.

    Allowed entries are normalised like references: ``docker.io`` and ``index.docker.io`` are
    the same registry.
    """
    allowed = allowed.rstrip("/")
    host, _, prefix = allowed.partition("/")
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    if ref.domain.lower() != host.lower():
        return False
    return not prefix or ref.path == prefix or ref.path.startswith(prefix + "/")

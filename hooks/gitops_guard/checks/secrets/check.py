"""check-secrets: stop plaintext credentials in a GitOps repository, let encrypted forms pass.

Kubernetes YAML is read with its structure: a core ``v1`` Secret with data is a finding
whatever its values look like (its base64 is decoded to name what it holds); SealedSecret
``encryptedData``, SOPS ``ENC[...]`` values and ExternalSecret ``remoteRef``s pass because of
where they sit, while the plaintext corners of those forms (SealedSecret and ExternalSecret
templates, SOPS keys exempted from encryption) are still scanned. Every other value goes
through detect-secrets' plugins (engine.py) and the name rules: a key or an env /
Helm parameter ``name`` that says password, token, secret or API key with a literal value.
Files that are not YAML (the hook runs on every text file) are scanned line by line by
detect-secrets, as ``detect-secrets-hook`` would.

A secret's value never reaches a message: at most a few leading characters and its length.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any, NamedTuple

from gitops_guard.checks.secrets.engine import Engine, empty_pem, hash_secret, header_only
from gitops_guard.checks.secrets.kinds import (
    KindRules,
    docker_config_stand_ins,
    sops_config,
    sops_exempt,
)
from gitops_guard.checks.secrets.lines import LineRules
from gitops_guard.checks.secrets.values import (
    BINARY_PROBE,
    ENCRYPTED,
    GIT_OBJECT_ID,
    HASH_LIKE,
    KEYWORD_TYPE,
    NAMES_A_FILE,
    NAMES_A_SECRET,
    NO_ENTROPY_KEY,
    REFERENCE_ADVICE,
    STRUCTURAL_TYPE,
    Candidate,
    b64decode,
    certificate_blob,
    credential_word,
    describe,
    dummy_credential,
    embedded_kept,
    encoded_media,
    is_git_id_key,
    is_placeholder,
    is_reference_key,
    key_words,
    mask,
    names_a_key,
    not_config,
    pgp_ciphertext,
    public_certificate,
    redact,
    rule_for,
    sensitive_kind,
    stand_in_hit,
)
from gitops_guard.core.documents import (
    MAX_FILE_BYTES,
    Document,
    Map,
    Pos,
    Seq,
    is_kustomization,
    is_yaml_name,
    load_text,
)
from gitops_guard.core.findings import INFO, WARNING, Finding

# -- scanning one file ---------------------------------------------------------------------

#: how base64 of ``-----`` begins (a PEM armour line: ``LS0tLS1CRUdJTi`` is ``-----BEGIN``)
_B64_DASHES = "LS0t"

#: External Secrets Operator kinds that point into a secret store
EXTERNAL_SECRET_KINDS = ("ExternalSecret", "ClusterExternalSecret", "PushSecret")


class FileScan(NamedTuple):
    path: str
    lines: list[str]
    candidates: list[Candidate]


class _Scanner(LineRules, KindRules):
    """Scan one file's text: YAML with its structure, anything else line by line."""

    def __init__(self, path: str, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.out: list[Candidate] = []
        self.taken: set[Pos] = set()
        #: line offset of a YAML string parsed inside another file (Argo CD helm.values)
        self.offset = 0
        self.file_lines: list[str] = []
        #: read ``KEY=value`` lines with their key (not in source code: see NOT_CONFIG_SUFFIXES)
        self.assignments = not not_config(path)
        #: the file's text, and whether a mapping in it repeats a key (see ``written``)
        self.text = ""
        self.duplicates = False
        self._nodes: list[Any] | None = None
        #: no entropy rule in this document (an ExternalSecret names keys, holds none)
        self.no_entropy = False
        #: the user and database names written beside the value being judged (_identities)
        self.ids: frozenset[str] = frozenset()
        #: paths in this document whose value names a Secret (SECRET_NAME_FIELDS)
        self.secret_names: frozenset[tuple[str, ...]] = frozenset()
        #: ids of ``helm.values`` strings an Application's ``argo_values`` already parsed
        self.inlined: set[int] = set()

    def add(
        self,
        pos: Pos,
        rule: str,
        message: str,
        secrets: tuple[str, ...],
        type_: str,
        detail: tuple[str, ...] = (),
    ) -> None:
        if pos in self.taken:
            return
        self.taken.add(pos)
        # belt and braces: a key name or label that is itself a token is masked too
        message = redact(message, self.engine)
        finding = Finding(self.path, pos[0], pos[1], rule, message)
        type_ = STRUCTURAL_TYPE.get(rule, type_)
        self.out.append(Candidate(finding, secrets, type_, detail))

    # -- YAML -------------------------------------------------------------------------------
    def document(self, doc: Document, offset: int = 0) -> None:
        data = doc.data
        if not isinstance(data, (Map, Seq)):
            return
        self.offset = offset
        if offset == 0:  # a file's own document (an inner one, from a values block, is below)
            self.inlined = set()
        kind = doc.kind if isinstance(data, Map) else None
        group = doc.group if isinstance(data, Map) else ""
        if kind == "List" and isinstance(data.get("items"), Seq):  # kubectl get -o yaml
            for item in data["items"]:
                if isinstance(item, Map):
                    self.document(Document(doc.path, doc.index, item, item.pos), offset)
            return
        skip: set[int] = set()  # ids of subtrees handled (or exempted) by structure
        names = True
        self.no_entropy = False
        self.secret_names = SECRET_NAME_FIELDS.get((group, kind), frozenset())
        sops = sops_config(data) if isinstance(data, Map) else None
        if sops is not None:
            skip.add(id(data["sops"]))
            if self.sops_stub(data, sops):
                sops = None  # one finding said it all: its values are read as plain YAML
        if isinstance(data, Map):
            spec = data.get("spec")
            if kind == "Secret" and doc.api_version == "v1":
                self.core_secret(doc, skip, sops)
            elif kind == "SealedSecret" and group.endswith("bitnami.com"):
                if isinstance(spec, Map):
                    if isinstance(spec.get("encryptedData"), Map):
                        skip.add(id(spec["encryptedData"]))
                    self.template(spec.get("template"), "SealedSecret", skip)
            elif kind in EXTERNAL_SECRET_KINDS and "external-secrets" in (group):
                target = spec.get("target") if isinstance(spec, Map) else None
                if isinstance(target, Map):
                    self.template(target.get("template"), "ExternalSecret", skip)
                # secretKey / remoteRef.key / property name things, they hold nothing:
                # no name rule, no entropy (provider tokens are still found)
                names = False
                self.no_entropy = True
            elif is_kustomization(self.path, doc):
                self.kustomization(data)
            elif kind in ("Application", "ApplicationSet") and group == "argoproj.io":
                self.argo_values(data)
        self.walk(data, (), skip, names, sops)
        self.ids = frozenset()

    def sops_stub(self, data: Map, sops: Map) -> bool:
        """``sops:`` metadata with an empty ``mac`` (a stub written by hand, ``mac: ""``):
        sops never encrypted this file, and sops (Flux, ksops) refuses to decrypt it (no
        MAC to verify). One finding at the ``mac`` line, naming the values sops would have
        encrypted, instead of one per value (``apiVersion``, ``kind``...)."""
        mac = sops.text("mac")
        if mac is not None and mac.strip():
            return False
        plain = list(_unencrypted(data, (), sops))
        count = f"{len(plain)} value(s) not ENC[...], " if plain else ""
        self.add(
            self._pos(sops.at("mac")),
            "secret/sops-not-encrypted",
            f"sops metadata with an empty mac ({count}the file was never encrypted by sops); "
            "sops and Flux cannot decrypt it: encrypt it with 'sops --encrypt --in-place'",
            tuple(dict.fromkeys(plain)),
            KEYWORD_TYPE,
        )
        return True

    def walk(
        self,
        node: Any,
        path: tuple[Any, ...],
        skip: set[int],
        names: bool,
        sops: Any,
        ids: frozenset[str] = frozenset(),
    ) -> None:
        if id(node) in skip:
            return
        if isinstance(node, Map):
            annotations = _annotation_map(path)
            pair = node.get("name")
            pair_kind = sensitive_kind(pair) if names and "value" in node else None
            ids = ids | _identities((k, node.text(k)) for k in node)
            for key, value in node.items():
                self.ids = ids
                if annotations and isinstance(key, str) and key.startswith("checksum/"):
                    continue
                sub = (*path, key)
                if isinstance(value, (Map, Seq)):
                    # ``existingSecretMappings``, ``existingSecretKeys``: names of keys of
                    # another Secret, never values
                    refs = names and not (isinstance(key, str) and is_reference_key(key))
                    self.walk(value, sub, skip, refs, sops)
                    continue
                text = node.text(key)
                if text is None:
                    continue
                if (
                    sub[-2:] == ("helm", "values")
                    and isinstance(value, str)
                    and id(value) not in self.inlined
                    and "\n" in value.strip()
                    and self.inline_values(value, node.at(key))
                ):
                    continue
                kind = None
                if names and annotations != "object":
                    kind = pair_kind if key == "value" else sensitive_kind(key)
                    if annotations and kind is not None and _OBJECT_REF.match(text.strip()):
                        kind = None  # ``nginx.ingress.kubernetes.io/auth-secret: ns/basic-auth``
                    if kind is not None and names_a_key(key, text.strip(), node):
                        kind = None  # ``authKey: auth`` beside ``existingSecret``
                    if (
                        kind is not None
                        and sub in self.secret_names
                        and _OBJECT_NAME.match(text.strip())
                    ):
                        kind = None  # Traefik ``basicAuth.secret: admin-auth``: a Secret's name
                label = pair if key == "value" and isinstance(pair, str) else str(key)
                self.value(text, node.at(key), label, kind, sub, sops)
        elif isinstance(node, Seq):
            # ``env: [{name: DB_USER, value: app}, {name: DB_PASSWORD, value: app}]``
            pairs = [i for i in node if isinstance(i, Map) and isinstance(i.get("name"), str)]
            env = _identities((i["name"], i.text("value")) for i in pairs if "value" in i)
            for i, item in enumerate(node):
                if isinstance(item, (Map, Seq)):
                    self.walk(item, (*path, i), skip, names, sops, env)
                elif isinstance(item, str):
                    self.value(item, node.at(i), str(path[-1]) if path else "", None, path, sops)

    def _pos(self, pos: Pos) -> Pos:
        return (pos[0] + self.offset, pos[1])

    def tagged(self, pos: Pos) -> bool:
        """A value with a custom YAML tag (recyclarr's ``!env_var NAME``, Home Assistant's
        ``!secret name``): the application resolves it, the file holds a name. The standard
        tags (``!!binary``, ``!!str``) hold the value itself."""
        if self.offset:
            return False
        line, col = pos
        if not 1 <= line <= len(self.file_lines):
            return False
        tag = self.file_lines[line - 1][col - 1 : col + 1]
        return tag.startswith("!") and tag != "!!"  # ``!!binary``, ``!!str``: standard tags

    def inside(self, text: str, pos: Pos, label: str, advice: str = REFERENCE_ADVICE) -> bool:
        """Credentials written inside the value; True when one was reported."""
        found = embedded_kept(text)
        if not found:
            return False
        first = found[0]
        rule = "secret/url-credentials" if first.what.endswith("URL") else (
            "secret/literal-credential"
        )  # fmt: skip
        self.add(
            self._pos(pos),
            rule,
            f"{label}: {first.what} {mask(first.secret)}; {advice}",
            tuple(e.secret for e in found),
            "Basic Auth Credentials" if rule == "secret/url-credentials" else KEYWORD_TYPE,
        )
        return True

    def encoded_private_key(self, text: str, pos: Pos, label: str) -> bool:
        """A value that base64-decodes to a private key (a Secret's ``tls.key`` data copied
        into a ConfigMap or a values file, on one line or wrapped over a block scalar's
        lines): one finding at the value. Its lines alone are no token and the whole has
        line breaks the entropy rule does not take; True when reported."""
        if not text.startswith(_B64_DASHES) or len(text) < 100:
            return False
        raw = b64decode(text)
        if raw is None:
            return False
        pem = raw[:8192].decode("latin-1")
        if "PRIVATE KEY-----" not in pem or empty_pem(pem) or header_only(pem):
            return False
        self.add(
            self._pos(pos),
            "secret/private-key",
            f"{label}: base64 of a private key",
            (re.sub(r"\s+", "", text),),
            "Private Key",
        )
        return True

    def value(
        self,
        text: str,
        pos: Pos,
        label: str,
        kind: str | None,
        path: tuple[Any, ...],
        sops: Any,
        advice: str = REFERENCE_ADVICE,
    ) -> None:
        stripped = text.strip()
        if not stripped:
            return
        if sops is not None and not ENCRYPTED.match(stripped) and not sops_exempt(path, sops):
            self.add(
                self._pos(pos),
                "secret/sops-not-encrypted",
                f"{label}: value is not ENC[...] in a SOPS-encrypted file "
                f"(edited after encryption?); re-encrypt with sops",
                (stripped,),
                KEYWORD_TYPE,
            )
            return
        if is_placeholder(stripped) or public_certificate(stripped) or self.tagged(pos):
            return
        if encoded_media(stripped):
            return  # a base64 image (an icon, a logo): random by its encoding only
        if pgp_ciphertext(stripped):
            return  # an OpenPGP message encrypted to a key (Renovate's ``encrypted``)
        # base64 of ``{"``, ``{\n``, ``{ `` or the JSON itself
        if stripped.startswith(("eyJ", "ewo", "eyA", "{")) and docker_config_stand_ins(stripped):
            return  # an example pull secret's config: ``pepe``/``pass`` for a registry
        entropy = (
            not self.no_entropy
            and not NO_ENTROPY_KEY.search(label.replace("-", "").replace("_", ""))
            and not (HASH_LIKE.match(stripped) and not credential_word(label))
            and not certificate_blob(stripped)
        )
        if self.encoded_private_key(stripped, pos, label):
            return
        if "\n" in stripped and self.embedded(text, pos, label):
            return
        # most specific first: a provider token, a credential inside the value (a connection
        # string, a URL, a command), then the name, then entropy
        hits = self.engine.scan_value(stripped, entropy=False)
        hits = tuple(h for h in hits if not stand_in_hit(h, stripped))
        if not hits and self.inside(stripped, pos, label, advice):
            return
        if not hits and kind is not None:
            if (
                not dummy_credential(stripped, label)
                and not (kind in _PASSWORD_KINDS and stripped in self.ids)
                and not NAMES_A_SECRET.match(stripped)
                and not (NAMES_A_FILE.match(stripped))
            ):
                self.add(
                    self._pos(pos),
                    "secret/literal-credential",
                    f"{label}: literal {kind} {mask(stripped)}; {advice}",
                    (stripped,),
                    KEYWORD_TYPE,
                )
            return
        if not hits and entropy and not (GIT_OBJECT_ID.match(stripped) and is_git_id_key(label)):
            hits = self.engine.scan_value(stripped, entropy=True)
            hits = tuple(h for h in hits if not stand_in_hit(h, stripped))
        if hits:
            hit = hits[0]
            self.add(
                self._pos(pos),
                rule_for(hit),
                f"{label}: {describe(hit)}",
                tuple(h.secret for h in hits),
                hit.type,
            )


#: the last word of a key that names who or what a credential is for
_IDENTITY_WORDS = frozenset({"user", "username", "login", "database", "db", "dbname", "schema"})
#: a plain name (``pricelist``, ``app_user``, ``shop2``): lower-case words, digits only at the
#: end (a generated value puts digits anywhere: ``qmz7rkvtwpxa``)
_PLAIN_NAME = re.compile(r"^[a-z]+(?:[_.-][a-z]+){0,4}[0-9]{0,2}$")
#: the kinds a demo sets to its user's name (``pricelist``/``pricelist``); a token, an API
#: key or a secret equal to a name is still a literal credential
_PASSWORD_KINDS = frozenset({"password", "passwd", "pass", "pwd"})


#: Fields of custom resources whose value is the name of a Secret, under a key the name rule
#: reads as a credential: Traefik's Middleware ``basicAuth.secret`` / ``digestAuth.secret``
#: ("the field users doesn't exist for Kubernetes IngressRoute, and one should use the secret
#: field instead": doc.traefik.io middlewares/http/basicauth; traefik.io since v3,
#: traefik.containo.us before).
_TRAEFIK_AUTH = frozenset({("spec", "basicAuth", "secret"), ("spec", "digestAuth", "secret")})
SECRET_NAME_FIELDS: dict[tuple[str, str | None], frozenset[tuple[str, ...]]] = {
    ("traefik.io", "Middleware"): _TRAEFIK_AUTH,
    ("traefik.containo.us", "Middleware"): _TRAEFIK_AUTH,
}
#: a Kubernetes object name (DNS-1123 subdomain)
_OBJECT_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")


def _annotation_map(path: tuple[Any, ...]) -> str | None:
    """``"object"`` for an object's ``metadata.annotations`` (its keys are annotation names,
    not credential names), ``"values"`` for a Helm values map a chart copies there
    (``ingress.annotations``, ``podAnnotations``, ``serviceAnnotations``), None otherwise. In
    a values map a credential-named key is judged unless its value names an object:
    ``nginx.ingress.kubernetes.io/auth-secret: ns/basic-auth`` names the Secret holding the
    htpasswd file (ingress-nginx docs/examples/auth/basic: "name of the secret that contains
    the user/password definitions"), ``db-password: Winter2025x`` is a password. Values are
    always checked for tokens and by entropy."""
    if path[-2:] == ("metadata", "annotations"):
        return "object"
    last = path[-1] if path else None
    if isinstance(last, str) and (last == "annotations" or last.endswith("Annotations")):
        return "values"
    return None


#: ``name`` or ``namespace/name`` of a Kubernetes object (DNS-1123 labels)
_OBJECT_REF = re.compile(
    r"^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$"
)


def _identities(pairs: Any) -> frozenset[str]:
    """The user and database names among ``(key, value)`` pairs (``username: pricelist``,
    ``MYSQL_USER``, ``database``). A password equal to one of them (a demo's
    ``pricelist``/``pricelist``, as ``postgres`` under POSTGRES_PASSWORD) says nothing the
    file does not already say: no literal-credential finding (a Secret is still reported)."""
    found = set()
    for key, value in pairs:
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        words = key_words(key.rsplit("/", 1)[-1])
        if words and words[-1] in _IDENTITY_WORDS and _PLAIN_NAME.match(value.strip()):
            found.add(value.strip())
    return frozenset(found)


def _unencrypted(node: Any, path: tuple[Any, ...], sops: Map) -> Any:
    """The values of a SOPS document that sops would have encrypted and that are not
    ``ENC[...]`` (the ``sops`` metadata aside)."""
    if isinstance(node, Map):
        items = [(k, node[k], node.text(k), (*path, k)) for k in node if path or k != "sops"]
    elif isinstance(node, Seq):
        items = [(i, v, v if isinstance(v, str) else None, path) for i, v in enumerate(node)]
    else:
        return
    plain = []
    for key, value, text, where in items:
        if isinstance(value, (Map, Seq)):
            yield from _unencrypted(value, (*path, key), sops)
        elif text and text.strip() and not ENCRYPTED.match(text.strip()):
            plain.append((text.strip(), where))
    for text, where in plain:
        if not sops_exempt(where, sops):
            yield text


#: a FIFO, a device, a dangling link: the rule every hook reports them with
NOT_REGULAR = "yaml/not-regular-file"


def scan_file(path: str, engine: Engine) -> FileScan:
    """Everything check-secrets finds in one file, before baseline and pragmas."""
    from gitops_guard.core.documents import not_regular

    what = not_regular(path)  # a FIFO would block the read, /dev/zero never ends
    if what is not None and what != "missing":
        # as every other hook says it (core/documents.read_regular): never opened, info
        message = f"{what}, not a regular file; not checked"
        finding = Finding(path, 1, 1, NOT_REGULAR, message).with_severity(INFO)
        return FileScan(path, [], [Candidate(finding, (), "")])
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES)
    except OSError as exc:
        finding = Finding(path, 1, 1, "secret/not-scanned", f"cannot read: {exc.strerror}")
        return FileScan(path, [], [Candidate(finding.with_severity(WARNING), (), "")])
    if b"\x00" in data[:BINARY_PROBE] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        finding = Finding(path, 1, 1, "secret/not-scanned", "binary file, not scanned")
        return FileScan(path, [], [Candidate(finding.with_severity(INFO), (), "")])
    text = _decode(data)
    scanner = _Scanner(path, engine)
    lines = text.splitlines()
    scanner.file_lines = lines
    scanner.text = text
    scanner.typed(lines[0] if lines else "")
    if size > MAX_FILE_BYTES:
        note = Finding(
            path,
            1,
            1,
            "secret/not-scanned",
            f"{size} bytes: only the first {MAX_FILE_BYTES} were scanned",
        )
        scanner.out.append(Candidate(note.with_severity(WARNING), (), ""))
        scanner.lines(lines)
    elif is_yaml_name(os.path.basename(path)) or path.endswith(".json"):
        # JSON is YAML: key-aware scanning (``"commit": "<sha>"`` is an id, not a secret)
        source = load_text(path, text)
        broken = [p for p in source.problems if p.rule in BROKEN_YAML]
        if source.skipped or broken:
            scanner.lines(lines)  # Helm templates, broken YAML: as detect-secrets would
            if broken and not path.endswith(".json"):
                # a line scan misses unquoted values (``data: {tls.key: LS0t...}``): a
                # broken YAML file cannot pass as checked. JSON quotes every string, so the
                # line scan sees its values (and JSONC files with comments are common).
                for problem in broken:
                    scanner.out.append(_not_checked_as_yaml(problem))
        else:
            scanner.duplicates = any(p.rule == "yaml/duplicate-key" for p in source.problems)
            for doc in source.documents:
                scanner.document(doc)
            scanner.comments(lines)
    else:
        scanner.lines(lines)
    return FileScan(path, lines, scanner.out)


BROKEN_YAML = ("yaml/syntax", "yaml/tab", "yaml/too-complex")


def _not_checked_as_yaml(problem: Finding) -> Candidate:
    """The parser's error, an error-level finding of check-secrets: fixing it is what lets
    the file be scanned with its structure (a Secret's data, names, encrypted forms)."""
    message = f"{problem.message}; scanned line by line only, fix the YAML to have it checked"
    message = redact(message)  # no engine: any long run in a parser's message is masked
    finding = Finding(problem.path, problem.line, problem.column, problem.rule, message)
    return Candidate(finding, (), "")


def _decode(data: bytes) -> str:
    """Text as far as it can be read: UTF-8 (or UTF-16 with a BOM), else bytes replaced."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


# -- allowlisting: pragma and baseline ----------------------------------------------------------

PRAGMA = re.compile(r"pragma:\s?allowlist[ -]secret", re.IGNORECASE)
PRAGMA_NEXT = re.compile(r"pragma:\s?allowlist[ -]nextline[ -]secret", re.IGNORECASE)


def allowlisted(candidate: Candidate, lines: list[str]) -> bool:
    """detect-secrets' ``pragma: allowlist secret`` on the line, or ``allowlist nextline
    secret`` on the line above."""
    n = candidate.finding.line
    if 1 <= n <= len(lines) and PRAGMA.search(lines[n - 1]):
        return True
    return 2 <= n <= len(lines) + 1 and bool(PRAGMA_NEXT.search(lines[n - 2]))


def in_baseline(candidate: Candidate, entries: list[dict[str, Any]]) -> bool:
    """Accepted by the baseline: every value it stands for is there, with the finding's own
    type where the finding is structural (see baseline.accepts)."""
    from gitops_guard.checks.secrets.baseline import accepts

    digests = [hash_secret(s) for s in candidate.secrets]
    return accepts(entries, candidate.type, digests)


# -- the command ---------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="files or folders to scan (folders: every file below, hidden folders skipped)",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="detect-secrets baseline of accepted secrets (default: .secrets.baseline if present)",
    )
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="write the findings into the baseline (created if missing; audit marks kept) "
        "instead of reporting them; scans the current folder when no FILE is given",
    )


def expand(paths: list[str]) -> list[str]:
    """Folders expand to every file below them (secrets hide in any text file), except
    the baseline, which holds hashes of accepted secrets."""
    from gitops_guard.core.pipeline import expand_paths

    return expand_paths(paths, lambda name: not name.startswith(".secrets.baseline"))


def scan(paths: list[str], engine: Engine, named: frozenset[str] = frozenset()) -> list[FileScan]:
    """Scan every file; a binary file met in a folder is skipped quietly (images, archives),
    one named on the command line is reported as not scanned. A path that is not a regular
    file (a FIFO, a device, a dangling link) is said wherever it was met, as the other hooks
    say it (``yaml/not-regular-file``, info): it was not checked."""
    scans = []
    for path in paths:
        if os.path.basename(path) == ".secrets.baseline":
            continue  # hashes of accepted secrets: random-looking by design
        item = scan_file(path, engine)
        if path not in named and item.candidates and not item.lines:
            kept = [c for c in item.candidates if c.finding.rule == NOT_REGULAR]
            item = item._replace(candidates=kept)
        scans.append(item)
    return scans


def run(args: argparse.Namespace) -> int:
    from gitops_guard.checks.secrets import baseline as secret_baseline
    from gitops_guard.core.errors import UsageError
    from gitops_guard.core.pipeline import finish, load_policy_or_fail

    policy = load_policy_or_fail(args)
    files = list(args.files or [])
    if not files:
        if not args.update_baseline:
            raise UsageError("no FILE given (folders are scanned recursively)")
        files = ["."]
    baseline_path = args.baseline or secret_baseline.DEFAULT_PATH
    try:
        baseline = (
            secret_baseline.load(args.baseline)
            if args.baseline and not args.update_baseline
            else secret_baseline.load_if_present(baseline_path)
        )
    except secret_baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None
    paths = expand(files)
    with Engine(baseline.plugins_used if baseline else None) as engine:
        scans = scan(paths, engine, frozenset(files))
        if args.update_baseline:
            return _update_baseline(baseline_path, baseline, scans, engine)
    findings: list[Finding] = []
    for item in scans:
        entries = baseline.entries(item.path) if baseline else []
        for candidate in item.candidates:
            if allowlisted(candidate, item.lines):
                continue
            if entries and in_baseline(candidate, entries):
                continue
            findings.append(candidate.finding)
    return finish(findings, scans, policy, args)


def _update_baseline(path: str, old: Any, scans: list[FileScan], engine: Engine) -> int:
    import sys

    from detect_secrets.settings import get_settings

    from gitops_guard.checks.secrets import baseline as secret_baseline

    results: dict[str, list[dict[str, Any]]] = {}
    count = 0
    for item in scans:
        name = secret_baseline.normalise(item.path)
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for candidate in item.candidates:
            if not candidate.secrets or allowlisted(candidate, item.lines):
                continue
            for secret in candidate.secrets:
                digest = hash_secret(secret)
                entry: dict[str, Any] = {
                    "type": candidate.type,
                    "filename": name,
                    "hashed_secret": digest,
                    "is_verified": False,
                    "line_number": candidate.finding.line,
                }
                if candidate.detail:
                    entry["keys"] = list(candidate.detail)  # what a reviewer accepts
                entries.setdefault((digest, candidate.type), entry)
        if entries:
            results[name] = list(entries.values())
            count += len(entries)
    settings = {"plugins_used": engine.plugins_used, **_filters_used(get_settings())}
    payload = secret_baseline.updated(old, [s.path for s in scans], results, settings)
    secret_baseline.write(path, payload)
    print(
        f"gitops-guard: wrote {path}: {count} secret(s) in {len(results)} file(s) accepted; "
        "review them with 'detect-secrets audit'",
        file=sys.stderr,
    )
    return 0


def _filters_used(settings: Any) -> dict[str, Any]:
    return {"filters_used": settings.json().get("filters_used", [])}

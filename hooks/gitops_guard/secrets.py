"""check-secrets: stop plaintext credentials in a GitOps repository, let encrypted forms pass.

Kubernetes YAML is read with its structure: a core ``v1`` Secret with data is a finding
whatever its values look like (its base64 is decoded to name what it holds); SealedSecret
``encryptedData``, SOPS ``ENC[...]`` values and ExternalSecret ``remoteRef``s pass because of
where they sit, while the plaintext corners of those forms (SealedSecret and ExternalSecret
templates, SOPS keys exempted from encryption) are still scanned. Every other value goes
through detect-secrets' plugins (secret_engine.py) and the name rules: a key or an env /
Helm parameter ``name`` that says password, token, secret or API key with a literal value.
Files that are not YAML (the hook runs on every text file) are scanned line by line by
detect-secrets, as ``detect-secrets-hook`` would.

A secret's value never reaches a message: at most a few leading characters and its length.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from gitops_guard.documents import (
    MAX_FILE_BYTES,
    Document,
    Map,
    Pos,
    Seq,
    is_kustomization,
    is_yaml_name,
    load_text,
)
from gitops_guard.findings import INFO, WARNING, Finding
from gitops_guard.secret_engine import MAX_SCAN_CHARS, Engine, Hit, hash_secret

BINARY_PROBE = 8192
#: A longer line (minified JSON or JS) is scanned up to here; the rest is reported unscanned.
MAX_LINE_CHARS = 1_000_000

# -- values that are not secrets -------------------------------------------------------------

ENCRYPTED = re.compile(r"^ENC\[[A-Za-z0-9_]+,.*\]$", re.DOTALL)
#: ``${VAR}``, ``$(VAR)``, ``{{ .Values.x }}``, ``<password>``, ``((var))`` and references to
#: secret stores (vals ``ref+vault://``, bank-vaults ``vault:``, argocd-vault-plugin
#: ``<path:...>``): the value lives elsewhere.
PLACEHOLDER = re.compile(
    r"\$\{[^}]*\}|\$\([^)]*\)|\{\{.*?\}\}|\(\([^)]*\)\)|^<[^<>]*>$|^__[A-Z0-9_]+__$"
    r"|^(ref\+[a-z0-9]+://|vault:|secretref\+|sm://)",
    re.DOTALL,
)
#: Obvious dummies: a name rule does not fire on them (the structural Secret rule still does,
#: because that object is applied to the cluster as written).
DUMMY_WORDS = {
    "changeme", "changeit", "password", "secret", "token", "example", "dummy", "placeholder",
    "redacted", "replaceme", "todo", "none", "null", "nil", "test", "fake", "sample",
    "mypassword", "yourpassword", "notasecret", "notsecret", "undefined", "default", "empty",
    "true", "false", "yes", "no", "apikey", "yoursecret", "mysecret", "yourtoken", "xxx",
}  # fmt: skip
DUMMY_PREFIXES = ("changeme", "replace", "your", "example", "dummy", "placeholder", "insert")
REPEATED = re.compile(r"^(.)\1*$")
#: ``UPDATE_AWS_ACCESS_KEY_ID``, ``REPLACE_ME``, ``<fill-in>``: a value waiting to be filled in.
PLACEHOLDER_WORD = re.compile(r"^([A-Z][A-Z0-9]*(_[A-Z0-9]+)+|[A-Z]{4,})$")

#: Words that make a key name sensitive when they end it (``dbPassword``, ``API_TOKEN``).
SENSITIVE_LAST = {
    "password", "passwd", "pwd", "passphrase", "pass", "secret", "token", "apikey",
    "credential", "credentials", "privatekey", "secretkey", "accesskey", "authkey",
}  # fmt: skip
#: ``<word>Key`` / ``<WORD>_KEY``: a key, not a key name.
KEY_QUALIFIERS = {
    "api", "access", "secret", "private", "auth", "client", "encryption", "signing",
    "master", "license", "session", "account", "service", "db", "database", "webhook",
    "hmac", "crypto", "cookie", "jwt", "app", "admin", "root", "storage", "shared",
}  # fmt: skip
#: ``existingSecret``, ``secretName``, ``passwordSecretRef``: references, not values.
REFERENCE_FIRST = {"existing", "use", "create", "generate", "auto", "enable", "with"}
REFERENCE_LAST = {
    "name", "names", "ref", "refs", "file", "files", "path", "paths", "dir", "mount",
    "volume", "length", "policy", "type", "id", "namespace", "selector", "enabled", "enable",
    "provider", "store", "template", "format", "url", "uri", "endpoint", "ttl", "expiry",
    "expiration", "duration", "field", "env", "prefix", "suffix", "version", "mode", "class",
}  # fmt: skip
#: ``imagePullSecret``, ``tlsSecret``, ``JGROUPS_KEYSTORE_SECRET``: these name a Secret object.
SECRET_REFERENCE_QUALIFIERS = {
    "pull", "tls", "ca", "cert", "certs", "certificate", "keystore", "truststore", "bootstrap",
    "credentials", "credential", "image", "config", "kubeconfig", "ssh", "registry", "docker",
    "git", "repo", "repository", "provider", "cluster", "mounted", "ref", "existing",
}  # fmt: skip
#: A value like ``eap-app-secret`` or ``db-credentials`` names a Secret: a reference.
NAMES_A_SECRET = re.compile(
    r"^[a-z0-9]([a-z0-9.-]*-)?(secret|secrets|credentials|creds)(-[a-z0-9-]*)?$"
)
#: ``secretKey: tls.key``, ``passwordKey: admin.password``: the name of a key or file.
NAMES_A_FILE = re.compile(
    r"^[\w-]+(\.[\w-]+)*\.(key|crt|pem|cert|json|ya?ml|txt|properties|conf|cfg|p12|jks|env"
    r"|password|token|secret)$",
    re.IGNORECASE,
)
#: Keys whose values are hashes or ids by design: no entropy check (tokens are still found).
NO_ENTROPY_KEY = re.compile(
    r"(sha|sha1|sha256|sha512|digest|hash|checksum|revision|commit|fingerprint|integrity"
    r"|uid|uuid|id|version|etag|image|cabundle|ca|crt|cert|certificate|pub|publickey"
    r"|targetrevision|resourceversion|rev|ref|tag)$",
    re.IGNORECASE,
)
#: A git commit or tree id (``rev:`` pins, ``targetRevision``): random-looking, not secret,
#: but only under a key that says so (GIT_ID_WORDS): a 40-hex value elsewhere may be a token
#: (classic GitHub tokens, API keys) and gets the entropy check.
GIT_OBJECT_ID = re.compile(r"^[0-9a-f]{40}$")
GIT_ID_WORDS = {
    "rev", "revs", "sha", "shas", "commit", "commits", "revision", "revisions", "ref", "refs",
}  # fmt: skip
WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


#: A run this long in a message (a key name, a file name) is checked: shown when it reads as
#: a name (``admin-permissions.broker.properties``), masked when it looks like a token.
LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_.:@-]{33,}")
#: a name longer than this is cut (a message stays one readable line)
NAME_SHOWN_CHARS = 64
#: a part of a name with letters and several digits, this long, is random: a token or an id
RANDOM_PART = re.compile(r"(?=(?:[^0-9]*[0-9]){2})(?=(?:[^A-Za-z]*[A-Za-z]){2})[A-Za-z0-9]{12,}")


def redact(message: str, engine: Engine | None = None) -> str:
    """Long runs in a message that look like tokens masked, long names cut; shorter runs are
    words, key names and masked values already."""
    return LONG_TOKEN.sub(lambda m: _shown_run(m.group(0), engine), message)


def _shown_run(run: str, engine: Engine | None) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", run)
    if any(RANDOM_PART.fullmatch(part) for part in parts) or (
        engine is None or engine.scan_value(run, entropy=True)
    ):
        return mask(run)
    return run if len(run) <= NAME_SHOWN_CHARS else run[: NAME_SHOWN_CHARS - 3] + "..."


def key_words(name: str) -> list[str]:
    """``dbPassword`` -> [db, password]; ``API_TOKEN`` -> [api, token]."""
    return [w.lower() for w in WORD.findall(name)]


def sensitive_kind(name: Any) -> str | None:
    """What a key or env name says its value is (``password``, ``token``...), or None."""
    if not isinstance(name, str) or len(name) > 100:
        return None
    words = key_words(name.rsplit("/", 1)[-1])
    if not words or words[-1] in REFERENCE_LAST or words[0] in REFERENCE_FIRST:
        return None
    last = words[-1]
    if last == "secret" and len(words) > 1 and words[-2] in SECRET_REFERENCE_QUALIFIERS:
        return None  # imagePullSecret, tlsSecret, keystoreSecret: the name of a Secret
    if last in SENSITIVE_LAST:
        return last
    if last == "key" and len(words) > 1 and words[-2] in KEY_QUALIFIERS:
        return f"{words[-2]} key"
    return None


REFERENCE_ADVICE = "reference a Secret instead (secretKeyRef, existingSecret, an encrypted Secret)"
#: for a ``KEY=value`` line outside Kubernetes YAML
RUNTIME_ADVICE = "keep it out of Git (a secret store, an encrypted file) and read it at run time"


def is_git_id_key(name: str) -> bool:
    """``rev``, ``commitSha``, ``targetRevision``, ``GIT_COMMIT``, ``sha1``: a git id's key."""
    words = [w for w in key_words(name.rsplit("/", 1)[-1]) if not w.isdigit()]
    return bool(words) and words[-1] in GIT_ID_WORDS


#: ``KEY=value`` in a .env file, a shell script (``export``, ``readonly``, ``declare -x``), a
#: Dockerfile (``ENV``, ``ARG``), a properties or ini file: a config line, read with its key.
ASSIGNMENT = re.compile(
    r"^\s*(?:(?:export|readonly|local|declare(?:\s+-[A-Za-z]+)*|ENV|ARG)\s+)?"
    r"([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=(?!=)[ \t]*(.*?)\s*$"
)
#: Source code and documentation: ``token = get_token()`` is a call, ``PASSWORD=hunter2`` in
#: a README an example (detect-secrets' line scan, provider tokens included, still runs).
NOT_CONFIG_SUFFIXES = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".java", ".kt", ".kts",
    ".scala", ".groovy", ".gradle", ".tf", ".hcl", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs",
    ".m", ".php", ".swift", ".cls", ".rb", ".rs", ".lua", ".pl", ".pm", ".r", ".jl", ".dart",
    ".ex", ".exs", ".sql", ".ps1", ".bat", ".cmd", ".vue", ".svelte", ".html", ".htm", ".xml",
    ".json", ".md", ".rst", ".adoc",
})  # fmt: skip


def assignment(line: str) -> tuple[str, str, int] | None:
    """(key, value, 1-based column of the value) of a ``KEY=value`` line, or None. A
    variable or command (``$VAR``, ``$(cmd)``, backquotes, ``%VAR%``) is a reference; an
    unquoted value with spaces is not one value."""
    found = ASSIGNMENT.match(line)
    if found is None or not found.group(2):
        return None
    key, value, col = found.group(1), found.group(2), found.start(2) + 1
    if value[0] in "\"'":
        end = value.find(value[0], 1)
        if end < 0:
            return None
        value, col = value[1:end], col + 1
    else:
        value = re.split(r"\s+[#;]", value, maxsplit=1)[0]  # a trailing comment
        if any(c.isspace() for c in value):
            return None
    if not value or value.startswith(("$", "`", "%")):
        return None
    return key, value, col


def is_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value)) or bool(ENCRYPTED.match(value))


def is_dummy(value: str) -> bool:
    norm = re.sub(r"[^a-z0-9]", "", value.lower())
    return (
        not norm
        or norm in DUMMY_WORDS
        or norm.startswith(DUMMY_PREFIXES)
        or bool(REPEATED.match(value))
        or len(value) < 4
    )


def mask(secret: str) -> str:
    """A few leading characters and the length; never the value."""
    n = len(secret)
    shown = 0 if n < 10 else min(4, n // 5)
    return f"'{secret[:shown]}...' ({n} chars)"


#: Public keys are meant to be shared: age recipients (``.sops.yaml``), SSH public keys
#: (``known_hosts``-style entries, Flux ``identity.pub``), PGP public key blocks.
PUBLIC_KEY = re.compile(
    r"^(age1[02-9ac-hj-np-z]{58}"
    r"|(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com) AAAA[0-9A-Za-z+/=]+"
    r"( \S+)?)$"
)


def _public_certificate(text: str) -> bool:
    """A certificate, public key or age recipient: public by design, never a finding."""
    if "PRIVATE KEY" in text:
        return False
    return (
        "-----BEGIN CERTIFICATE-----" in text
        or "-----BEGIN PGP PUBLIC KEY BLOCK-----" in text
        or bool(PUBLIC_KEY.match(text.strip()))
    )


def _b64decode(value: str) -> bytes | None:
    compact = re.sub(r"\s+", "", value)
    if not compact or len(compact) % 4:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _certificate_blob(value: str) -> bool:
    """A base64 PEM or DER certificate (``caBundle``): public, high entropy, not a secret."""
    if len(value) < 200:
        return False
    raw = _b64decode(value)
    if raw is None:
        return False
    return raw.startswith(b"0\x82") or _public_certificate(raw[:4096].decode("latin-1"))


# -- findings with the secret values they stand for (for the baseline and the pragma) --------

RULE_OF_TYPE = {
    "Private Key": "secret/private-key",
    "Basic Auth Credentials": "secret/url-credentials",
    "Base64 High Entropy String": "secret/high-entropy-string",
    "Hex High Entropy String": "secret/high-entropy-string",
    "Secret Keyword": "secret/literal-credential",
}
KEYWORD_TYPE = "Secret Keyword"


class Candidate(NamedTuple):
    finding: Finding
    #: the plaintext values the finding stands for (hashed for the baseline; never printed)
    secrets: tuple[str, ...]
    #: detect-secrets' type name, for the baseline
    type: str


def _rule_for(hit: Hit) -> str:
    return RULE_OF_TYPE.get(hit.type, "secret/provider-token")


def _describe(hit: Hit) -> str:
    if hit.type == "Private Key":
        return "private key"
    return f"{hit.type} {mask(hit.shown or hit.secret)}"


# -- scanning one file ---------------------------------------------------------------------


class FileScan(NamedTuple):
    path: str
    lines: list[str]
    candidates: list[Candidate]


class _Scanner:
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
        self.assignments = not _not_config(path)
        #: the file's text, and whether a mapping in it repeats a key (see ``written``)
        self.text = ""
        self.duplicates = False
        self._nodes: list[Any] | None = None

    def add(self, pos: Pos, rule: str, message: str, secrets: tuple[str, ...], type_: str) -> None:
        if pos in self.taken:
            return
        self.taken.add(pos)
        # belt and braces: a key name or label that is itself a token is masked too
        message = redact(message, self.engine)
        finding = Finding(self.path, pos[0], pos[1], rule, message)
        self.out.append(Candidate(finding, secrets, type_))

    # -- plain text -------------------------------------------------------------------------
    def lines(self, lines: list[str], start: int = 1) -> None:
        for number, line in enumerate(lines, start):
            # a minified file is one huge line: scan it in overlapping windows, up to a bound
            step = MAX_SCAN_CHARS - 1000
            if len(line) > MAX_LINE_CHARS:
                note = Finding(
                    self.path,
                    number,
                    MAX_LINE_CHARS + 1,
                    "secret/not-scanned",
                    f"line of {len(line)} characters: only the first {MAX_LINE_CHARS} scanned",
                )
                self.out.append(Candidate(note.with_severity(WARNING), (), ""))
            found = False
            for offset in range(0, max(min(len(line), MAX_LINE_CHARS) - 1000, 1), step):
                window = line[offset : offset + MAX_SCAN_CHARS]
                for hit in self.engine.scan_line(self.path, window, number):
                    col = offset + (window.find(hit.secret) + 1 or 1)
                    self.add((number, col), _rule_for(hit), _describe(hit), (hit.secret,), hit.type)
                    found = True
            if not found and self.assignments:
                self.config_line(line, number)

    def config_line(self, line: str, number: int) -> None:
        """``KEY=value``: detect-secrets' keyword and entropy rules want quotes outside config
        files (its hook only finds ``password=s3cret`` in a .env or .sh file by re-reading a
        file that parses whole as ini). The value goes through the YAML value rules instead:
        provider tokens, the key's name (dummies and references pass), entropy (not under an
        id or digest key)."""
        if len(line) > MAX_SCAN_CHARS or "=" not in line:
            return
        parsed = assignment(line)
        if parsed is not None:
            key, value, col = parsed
            kind = sensitive_kind(key)
            self.value(value, (number, col), key, kind, (key,), None, RUNTIME_ADVICE)

    def comments(self, lines: list[str]) -> None:
        """Tokens pasted into YAML comments (values are covered by the structure)."""
        for number, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith("#") and len(stripped) > 12:
                for hit in self.engine.scan_value(stripped[1:], entropy=False):
                    col = line.find(hit.secret) + 1 or 1
                    self.add((number, col), _rule_for(hit), _describe(hit), (hit.secret,), hit.type)

    # -- YAML -------------------------------------------------------------------------------
    def document(self, doc: Document, offset: int = 0) -> None:
        data = doc.data
        if not isinstance(data, (Map, Seq)):
            return
        self.offset = offset
        kind = doc.kind if isinstance(data, Map) else None
        group = doc.group if isinstance(data, Map) else ""
        if kind == "List" and isinstance(data.get("items"), Seq):  # kubectl get -o yaml
            for item in data["items"]:
                if isinstance(item, Map):
                    self.document(Document(doc.path, doc.index, item, item.pos), offset)
            return
        skip: set[int] = set()  # ids of subtrees handled (or exempted) by structure
        names = True
        sops = _sops_config(data) if isinstance(data, Map) else None
        if sops is not None:
            skip.add(id(data["sops"]))
        if isinstance(data, Map):
            spec = data.get("spec")
            if kind == "Secret" and doc.api_version == "v1":
                self.core_secret(doc, skip, sops)
            elif kind == "SealedSecret" and group.endswith("bitnami.com"):
                if isinstance(spec, Map):
                    if isinstance(spec.get("encryptedData"), Map):
                        skip.add(id(spec["encryptedData"]))
                    self.template(spec.get("template"), "SealedSecret", skip)
            elif kind in ("ExternalSecret", "ClusterExternalSecret") and "external-secrets" in (
                group
            ):
                names = False  # secretKey / remoteRef.key name things, they hold nothing
                target = spec.get("target") if isinstance(spec, Map) else None
                if isinstance(target, Map):
                    self.template(target.get("template"), "ExternalSecret", skip)
            elif is_kustomization(self.path, doc):
                self.kustomization(data)
            elif kind in ("Application", "ApplicationSet") and group == "argoproj.io":
                self.argo_values(data)
        self.walk(data, (), skip, names, sops)

    def walk(
        self, node: Any, path: tuple[Any, ...], skip: set[int], names: bool, sops: Any
    ) -> None:
        if id(node) in skip:
            return
        if isinstance(node, Map):
            annotations = path[-2:] == ("metadata", "annotations")
            pair = node.get("name")
            pair_kind = sensitive_kind(pair) if names and "value" in node else None
            for key, value in node.items():
                if annotations and isinstance(key, str) and key.startswith("checksum/"):
                    continue
                sub = (*path, key)
                if isinstance(value, (Map, Seq)):
                    self.walk(value, sub, skip, names, sops)
                    continue
                text = node.text(key)
                if text is None:
                    continue
                kind = None
                if names and not annotations:
                    kind = pair_kind if key == "value" else sensitive_kind(key)
                label = pair if key == "value" and isinstance(pair, str) else str(key)
                self.value(text, node.at(key), label, kind, sub, sops)
        elif isinstance(node, Seq):
            for i, item in enumerate(node):
                if isinstance(item, (Map, Seq)):
                    self.walk(item, (*path, i), skip, names, sops)
                elif isinstance(item, str):
                    self.value(item, node.at(i), str(path[-1]) if path else "", None, path, sops)

    def _pos(self, pos: Pos) -> Pos:
        return (pos[0] + self.offset, pos[1])

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
        if sops is not None and not ENCRYPTED.match(stripped) and not _sops_exempt(path, sops):
            self.add(
                self._pos(pos),
                "secret/sops-not-encrypted",
                f"{label}: value is not ENC[...] in a SOPS-encrypted file "
                f"(edited after encryption?); re-encrypt with sops",
                (stripped,),
                KEYWORD_TYPE,
            )
            return
        if is_placeholder(stripped) or _public_certificate(stripped):
            return
        entropy = not NO_ENTROPY_KEY.search(label.replace("-", "").replace("_", "")) and not (
            _certificate_blob(stripped)
        )
        if "\n" in stripped and self.embedded(text, pos, label):
            return
        # most specific first: a provider token, then the name, then entropy
        hits = self.engine.scan_value(stripped, entropy=False)
        if not hits and kind is not None:
            if (
                not is_dummy(stripped)
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
        if hits:
            hit = hits[0]
            self.add(
                self._pos(pos),
                _rule_for(hit),
                f"{label}: {_describe(hit)}",
                tuple(h.secret for h in hits),
                hit.type,
            )

    def embedded(self, text: str, pos: Pos, label: str) -> bool:
        """A file inside a value (``application.properties: |``): its lines are scanned as
        detect-secrets scans that file type; True when something was found."""
        name = label if "." in label else "embedded.txt"
        first = pos[0] + 1  # a block scalar's content starts below its ``|``
        found = False
        before = len(self.out)
        for i, line in enumerate(text.splitlines()):
            number = self._pos((first + i, 1))[0]
            source = self.file_lines[number - 1] if number <= len(self.file_lines) else line
            hits = self.engine.scan_line(name, line, i + 1)
            if not hits and "=" in line and not _not_config(name):
                parsed = assignment(line)  # ``.env: |`` or ``entrypoint.sh: |``: KEY=value
                if parsed is not None:
                    key, value, col = parsed
                    col = source.find(value) + 1 or col
                    kind = sensitive_kind(key)
                    self.value(value, (first + i, col), key, kind, (key,), None)
            for hit in hits:
                col = source.find(hit.secret) + 1 or 1
                self.add(
                    (number, col),
                    _rule_for(hit),
                    f"{label}: {_describe(hit)}",
                    (hit.secret,),
                    hit.type,
                )
                found = True
        return found or len(self.out) > before

    def core_secret(self, doc: Document, skip: set[int], sops: Any) -> None:
        data: Map = doc.data
        entries: list[tuple[str, str, str, Pos]] = []  # key, as written, decoded, position
        invalid: list[str] = []
        for field in ("data", "stringData"):
            values = data.get(field)
            if not isinstance(values, Map):
                continue
            if sops is None:
                skip.add(id(values))  # else: each value is checked against SOPS' rules
            for key, written, pos in self.written(values):
                if written is None or not written.strip():
                    continue
                written = written.strip()
                if is_placeholder(written):
                    continue
                if sops is not None and not _sops_exempt((field, key), sops):
                    continue
                decoded = written
                if field == "data":
                    raw = _b64decode(written)
                    if raw is None:
                        invalid.append(str(key))
                    else:
                        decoded = raw.decode("utf-8", "replace")
                entries.append((str(key), written, decoded, pos))
        if not entries or all(_public_certificate(e[2]) for e in entries):
            return
        unique = list(dict.fromkeys(e[0] for e in entries))
        keys = ", ".join(unique[:5]) + (", ..." if len(unique) > 5 else "")
        notes: list[str] = []
        advice = "commit it encrypted (SealedSecret, SOPS) or reference it (ExternalSecret)"
        if all(is_dummy(e[2]) or PLACEHOLDER_WORD.match(e[2]) for e in entries):
            advice = (
                "the values look like placeholders, and the next edit would commit real ones: "
                "keep the object out of Git (SealedSecret, SOPS, ExternalSecret)"
            )
        else:
            for key, _, decoded, _ in entries:
                notes.extend(self.name_contents(key, decoded))
        if invalid:
            notes.append(f"data not base64 in {', '.join(dict.fromkeys(invalid))}")
        twice = [k for k in unique if sum(e[0] == k for e in entries) > 1]
        if twice:
            notes.append(f"key {', '.join(twice)} written more than once")
        found = f"; holds {'; '.join(dict.fromkeys(notes))}" if notes else ""
        name = doc.name or "(unnamed)"
        secrets = tuple(dict.fromkeys(v for e in entries for v in (e[1], e[2])))
        self.add(
            self._pos(min(e[3] for e in entries)),  # the first value written
            "secret/k8s-secret-plaintext",
            f"Secret {name!r} keeps {len(entries)} plaintext value(s) in Git "
            f"(keys: {keys}){found}; {advice}",
            secrets,
            KEYWORD_TYPE,
        )

    def written(self, values: Map) -> list[tuple[Any, str | None, Pos]]:
        """(key, value as written, position) of every entry, in file order, including values
        a later duplicate key hides: kubectl applies the last one, but all of them are in Git
        (and the finding belongs at the first)."""
        items = [(key, values.text(key), values.at(key)) for key in values]
        if self.duplicates and self.offset == 0:
            items.extend(self._shadowed(values))
            items.sort(key=lambda item: item[2])
        return items

    def _shadowed(self, values: Map) -> list[tuple[Any, str | None, Pos]]:
        """The hidden entries, read from the file's node graph (which keeps every pair)."""
        import yaml

        if self._nodes is None:
            try:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                self._nodes = [
                    n for n in yaml.compose_all(self.text, Loader=loader) if n is not None
                ]
            except (yaml.YAMLError, RecursionError):
                self._nodes = []
        node = _mapping_node_at(self._nodes, values.pos)
        if node is None:
            return []
        last = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        return [
            (k.value, v.value, (v.start_mark.line + 1, v.start_mark.column + 1))
            for k, v in node.value
            if isinstance(k, yaml.ScalarNode)
            and isinstance(v, yaml.ScalarNode)
            and last[k.value] is not v
        ]

    def name_contents(self, key: str, text: str) -> Iterator[str]:
        """Name what a Secret value holds, never the value itself."""
        if "PRIVATE KEY-----" in text:
            yield f"a private key in '{key}'"
            return
        if key in (".dockerconfigjson", ".dockercfg"):
            yield from _docker_auths(key, text)
            return
        hits = self.engine.scan_value(text.strip(), entropy=False)
        for hit in hits[:2]:
            yield f"{_article(hit.type)} {hit.type} in '{key}'"
        if not hits:
            kind = sensitive_kind(key)
            if kind is not None:
                yield f"{_article(kind)} {kind} in '{key}'"

    def template(self, template: Any, owner: str, skip: set[int]) -> None:
        """Literal values in a SealedSecret / ExternalSecret template are plain Secret data."""
        if not isinstance(template, Map):
            return
        for field in ("data", "stringData"):
            values = template.get(field)
            if not isinstance(values, Map):
                continue
            skip.add(id(values))
            for key, _ in values.items():
                written = values.text(key)
                if written is None or not written.strip():
                    continue
                written = written.strip()
                if is_placeholder(written):
                    hits = self.engine.scan_value(written, entropy=False)
                    if hits:  # a template that embeds a credential around its variables
                        self.add(
                            self._pos(values.at(key)),
                            _rule_for(hits[0]),
                            f"{key}: {_describe(hits[0])}",
                            tuple(h.secret for h in hits),
                            hits[0].type,
                        )
                    continue
                if _public_certificate(written):
                    continue
                notes = list(self.name_contents(str(key), written))
                found = f" ({'; '.join(notes)})" if notes else ""
                self.add(
                    self._pos(values.at(key)),
                    "secret/template-plaintext",
                    f"{owner} template.{field}.{key} is a literal {mask(written)}{found}: it is "
                    "stored unencrypted; move it into the encrypted data or the secret store",
                    (written,),
                    KEYWORD_TYPE,
                )

    def kustomization(self, data: Map) -> None:
        base = os.path.dirname(self.path)
        for generator, secret in (("secretGenerator", True), ("configMapGenerator", False)):
            items = data.get(generator)
            if not isinstance(items, Seq):
                continue
            for entry in items:
                if isinstance(entry, Map):
                    self.generator(entry, generator, secret, base)

    def generator(self, entry: Map, generator: str, secret: bool, base: str) -> None:
        name = entry.get("name") if isinstance(entry.get("name"), str) else "(unnamed)"
        literals = entry.get("literals")
        if isinstance(literals, Seq):
            for i, literal in enumerate(literals):
                if not isinstance(literal, str) or "=" not in literal:
                    continue
                key, _, value = literal.partition("=")
                value = value.strip().strip("\"'")
                if not value or is_placeholder(value):
                    continue
                if secret:
                    self.add(
                        self._pos(literals.at(i)),
                        "secret/kustomize-secret-literal",
                        f"secretGenerator {name!r} literal {key.strip()} is plaintext "
                        f"{mask(value)}; use an encrypted source (SOPS, SealedSecret)",
                        (value, literal),
                        KEYWORD_TYPE,
                    )
                else:
                    kind = sensitive_kind(key.strip())
                    if kind is not None and not is_dummy(value):
                        self.add(
                            self._pos(literals.at(i)),
                            "secret/literal-credential",
                            f"configMapGenerator {name!r} literal {key.strip()}: literal "
                            f"{kind} {mask(value)}; a ConfigMap is not the place for it",
                            (value, literal),
                            KEYWORD_TYPE,
                        )
        if not secret:
            return
        sources: list[tuple[str, Pos, bool]] = []  # file, position, is an env file
        for field in ("envs", "files"):
            items = entry.get(field)
            if isinstance(items, Seq):
                for i, item in enumerate(items):
                    if isinstance(item, str):
                        sources.append((item, items.at(i), field == "envs"))
        if isinstance(entry.get("env"), str):
            sources.append((entry["env"], entry.at("env"), True))
        for item, pos, is_env in sources:
            rel = item.split("=", 1)[1] if not is_env and "=" in item else item
            target = os.path.join(base, rel)
            root = os.path.realpath(base or ".")
            if os.path.commonpath([root, os.path.realpath(target)]) != root:
                continue  # kustomize refuses files outside the kustomization's folder too
            content = _read_small(target)
            if content is None or ("ENC[" in content and "sops" in content):
                continue  # missing (generated at build time) or SOPS-encrypted
            values = _env_values(content) if is_env else ([content.strip()] if content else [])
            values = [v for v in values if v and not is_placeholder(v)]
            if not values or all(_public_certificate(v) for v in values):
                continue
            what = f"{len(values)} plaintext value(s) from" if is_env else "the plaintext file"
            self.add(
                self._pos(pos),
                "secret/kustomize-secret-literal",
                f"secretGenerator {name!r} reads {what} {rel}; commit it encrypted "
                "(SOPS) or generate it outside Git",
                tuple(values),
                KEYWORD_TYPE,
            )

    def argo_values(self, app: Map) -> None:
        """``helm.values`` is a YAML string inside the Application: parse it and scan it."""
        spec = app.get("spec")
        if app.get("kind") == "ApplicationSet" and isinstance(spec, Map):
            template = spec.get("template")
            spec = template.get("spec") if isinstance(template, Map) else None
        if not isinstance(spec, Map):
            return
        sources = [spec.get("source")]
        if isinstance(spec.get("sources"), Seq):
            sources.extend(spec["sources"])
        for source in sources:
            helm = source.get("helm") if isinstance(source, Map) else None
            if not isinstance(helm, Map) or not isinstance(helm.get("values"), str):
                continue
            line = helm.at("values")[0]
            raw = helm["values"]
            inner = load_text(self.path, raw)
            saved = getattr(self, "offset", 0)
            for doc in inner.documents:
                self.document(doc, offset=saved + line)  # block scalar: content starts below
            self.offset = saved


def _not_config(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in NOT_CONFIG_SUFFIXES


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _docker_auths(key: str, text: str) -> Iterator[str]:
    import json

    try:
        config = json.loads(text)
    except ValueError:
        yield f"an unreadable {key}"
        return
    if not isinstance(config, dict):
        return
    auths = config.get("auths") if isinstance(config.get("auths"), dict) else config
    for registry, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        auth = entry.get("auth")
        if isinstance(auth, str):
            raw = _b64decode(auth)
            if raw is not None and b":" in raw:
                yield f"{key} auth for {registry} that decodes to user:password"
                continue
        if entry.get("password"):
            yield f"a password for {registry} in {key}"


def _sops_config(data: Map) -> Map | None:
    sops = data.get("sops")
    if isinstance(sops, Map) and "mac" in sops and "version" in sops:
        return sops
    return None


def _sops_exempt(path: tuple[Any, ...], sops: Map) -> bool:
    """Keys SOPS leaves in clear: ``unencrypted_suffix``/``_regex`` match, or the
    ``encrypted_suffix``/``_regex`` does not."""
    keys = [k for k in path if isinstance(k, str)]
    unenc_suffix = sops.get("unencrypted_suffix")
    enc_suffix = sops.get("encrypted_suffix")
    unenc_regex = sops.get("unencrypted_regex")
    enc_regex = sops.get("encrypted_regex")
    if not any((unenc_suffix, enc_suffix, unenc_regex, enc_regex)):
        unenc_suffix = "_unencrypted"
    try:
        if isinstance(unenc_suffix, str) and any(k.endswith(unenc_suffix) for k in keys):
            return True
        if isinstance(unenc_regex, str) and any(re.search(unenc_regex, k) for k in keys):
            return True
        if isinstance(enc_suffix, str) and not any(k.endswith(enc_suffix) for k in keys):
            return True
        if isinstance(enc_regex, str) and not any(re.search(enc_regex, k) for k in keys):
            return True
    except re.error:
        return False
    return False


def _mapping_node_at(roots: list[Any], pos: Pos) -> Any:
    """The composed mapping node that starts at ``pos`` (1-based), or None."""
    import yaml

    stack, seen = list(roots), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            if (node.start_mark.line + 1, node.start_mark.column + 1) == pos:
                return node
            stack.extend(item for pair in node.value for item in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _read_small(path: str) -> str | None:
    try:
        if os.path.getsize(path) > 1024 * 1024:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if b"\x00" in data[:BINARY_PROBE]:
        return None
    return data.decode("utf-8", "replace")


def _env_values(text: str) -> list[str]:
    values = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        values.append(line.split("=", 1)[1].strip().strip("\"'"))
    return values


def scan_file(path: str, engine: Engine) -> FileScan:
    """Everything check-secrets finds in one file, before baseline and pragmas."""
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


def in_baseline(candidate: Candidate, hashes: set[str]) -> bool:
    return bool(candidate.secrets) and all(hash_secret(s) in hashes for s in candidate.secrets)


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
    from gitops_guard.cli import expand_paths

    return expand_paths(paths, lambda name: not name.startswith(".secrets.baseline"))


def scan(paths: list[str], engine: Engine, named: frozenset[str] = frozenset()) -> list[FileScan]:
    """Scan every file; a binary file met in a folder is skipped quietly (images, archives),
    one named on the command line is reported as not scanned."""
    scans = []
    for path in paths:
        if os.path.basename(path) == ".secrets.baseline":
            continue  # hashes of accepted secrets: random-looking by design
        item = scan_file(path, engine)
        if path not in named and item.candidates and not item.lines:
            item = item._replace(candidates=[])
        scans.append(item)
    return scans


def run(args: argparse.Namespace) -> int:
    from gitops_guard import secret_baseline
    from gitops_guard.cli import UsageError, finish, load_policy_or_fail

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
        hashes = baseline.hashes(item.path) if baseline else set()
        for candidate in item.candidates:
            if allowlisted(candidate, item.lines):
                continue
            if hashes and in_baseline(candidate, hashes):
                continue
            findings.append(candidate.finding)
    return finish(findings, scans, policy, args)


def _update_baseline(path: str, old: Any, scans: list[FileScan], engine: Engine) -> int:
    import sys

    from detect_secrets.settings import get_settings

    from gitops_guard import secret_baseline

    results: dict[str, list[dict[str, Any]]] = {}
    count = 0
    for item in scans:
        name = secret_baseline.normalise(item.path)
        entries: dict[str, dict[str, Any]] = {}
        for candidate in item.candidates:
            if not candidate.secrets or allowlisted(candidate, item.lines):
                continue
            for secret in candidate.secrets:
                digest = hash_secret(secret)
                entries.setdefault(
                    digest,
                    {
                        "type": candidate.type,
                        "filename": name,
                        "hashed_secret": digest,
                        "is_verified": False,
                        "line_number": candidate.finding.line,
                    },
                )
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

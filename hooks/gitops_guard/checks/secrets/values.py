"""What a credential looks like: sensitive names, placeholders, masking, the finding it becomes.

Every room of check-secrets (the YAML walker, the per-kind rules, the line scanner) judges
values and key names the same way; these rules live here once.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from typing import Any, NamedTuple

from gitops_guard.checks.secrets.embedded import is_placeholder_token, is_reference
from gitops_guard.checks.secrets.engine import Engine, Hit
from gitops_guard.core.findings import Finding

BINARY_PROBE = 8192

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
    # GitHub Actions ``permissions: {id-token: write}``: an access level
    "read", "write", "readall", "writeall",
}  # fmt: skip
DUMMY_PREFIXES = ("changeme", "replace", "your", "example", "dummy", "placeholder", "insert")
REPEATED = re.compile(r"^(.)\1*$")
#: one token-like word (where a placeholder after a real prefix is judged as one)
TOKEN_SHAPE = re.compile(r"^[\w.~+/=-]{16,300}$")
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
#: A content hash or id by its shape: hex of an MD5/SHA-1/SHA-256/SHA-512 length, or a
#: digest written with its algorithm (``sha512-...`` integrity, ``sha256:...``). Random-looking
#: by design: not a secret by entropy alone (a provider format or a credential name still is).
HASH_LIKE = re.compile(
    r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}|[0-9A-F]{32}|[0-9A-F]{40}"
    r"|[0-9A-F]{64}|(?:md5|sha1|sha224|sha256|sha384|sha512|blake2b|sha3-256)[-:][A-Za-z0-9+/=_-]+)$"
)
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


#: ``existingSecret``, ``existingSecretMappings``, ``useSecret``, ``secretName``
_REFERENCE_KEY = re.compile(
    r"^(?:existing|use)[-_]?secret|^secret[-_]?(?:name|ref)s?$|^(?:existing|external)",
    re.IGNORECASE,
)
#: the shape of a key name: ``admin-password``, ``tls.key``, ``userPasswordKey``, ``AUTH``
_KEY_NAME = re.compile(
    r"^(?:[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*|[a-z]+(?:[A-Z][a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)$"
)
_CREDENTIAL_WORD = re.compile(r"pass|secret|token|key|auth|cred|pwd", re.IGNORECASE)


def credential_word(name: str) -> bool:
    """The name has a credential word in it (``auth``, ``GITHUB_TOKEN``, ``apiKey``)."""
    return bool(_CREDENTIAL_WORD.search(name))


def is_reference_key(key: str) -> bool:
    """A key whose value (or subtree) names another Secret or its keys."""
    return bool(_REFERENCE_KEY.match(key))


def names_a_key(key: Any, value: str, siblings: Any) -> bool:
    """``authKey: auth``, ``passwordKey: admin-password``, ``password: db-password`` beside
    ``existingSecret``: the value is the name of a key in another Secret, not a credential."""
    if len(value) > 63 or not _KEY_NAME.match(value) or sum(c.isdigit() for c in value) > 2:
        return False
    words = key_words(str(key))
    if words and words[-1] == "key" and _CREDENTIAL_WORD.search(value):
        return True
    return any(isinstance(k, str) and k != key and is_reference_key(k) for k in siblings)


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
    """A template variable, an encrypted value, or a reference to where the secret lives
    (a secret store, an environment variable, a file): never a secret itself."""
    return bool(PLACEHOLDER.search(value)) or bool(ENCRYPTED.match(value)) or is_reference(value)


def is_dummy(value: str) -> bool:
    norm = re.sub(r"[^a-z0-9]", "", value.lower())
    return (
        not norm
        or norm in DUMMY_WORDS
        or norm.startswith(DUMMY_PREFIXES)
        or bool(REPEATED.match(value))
        or len(value) < 4
        or (TOKEN_SHAPE.match(value) is not None and is_placeholder_token(value))
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


def public_certificate(text: str) -> bool:
    """A certificate, public key or age recipient: public by design, never a finding."""
    if "PRIVATE KEY" in text:
        return False
    return (
        "-----BEGIN CERTIFICATE-----" in text
        or "-----BEGIN PGP PUBLIC KEY BLOCK-----" in text
        or bool(PUBLIC_KEY.match(text.strip()))
    )


def b64decode(value: str) -> bytes | None:
    compact = re.sub(r"\s+", "", value)
    if not compact or len(compact) % 4:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def certificate_blob(value: str) -> bool:
    """A base64 PEM or DER certificate (``caBundle``): public, high entropy, not a secret."""
    if len(value) < 200:
        return False
    raw = b64decode(value)
    if raw is None:
        return False
    return raw.startswith(b"0\x82") or public_certificate(raw[:4096].decode("latin-1"))


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
    #: what a baseline entry names besides the hash (a Secret's key names)
    detail: tuple[str, ...] = ()


#: the baseline type of each structural rule's findings (baseline.STRUCTURAL_TYPES)
STRUCTURAL_TYPE = {
    "secret/k8s-secret-plaintext": "Kubernetes Secret",
    "secret/kustomize-secret-literal": "Kustomize Secret Generator",
    "secret/template-plaintext": "Secret Template Literal",
    "secret/sops-not-encrypted": "SOPS Unencrypted Value",
}


def rule_for(hit: Hit) -> str:
    return RULE_OF_TYPE.get(hit.type, "secret/provider-token")


def describe(hit: Hit) -> str:
    if hit.type == "Private Key":
        return "private key"
    return f"{hit.type} {mask(hit.shown or hit.secret)}"


def not_config(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in NOT_CONFIG_SUFFIXES


def article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"

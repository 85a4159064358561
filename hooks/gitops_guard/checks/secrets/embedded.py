"""Credentials written inside a longer value, values that only point at one, and what kind
of file a file is.

* :func:`embedded_credentials`: a password in a connection string (JDBC query parameters,
  ADO.NET/ODBC ``Password=``, Azure ``SharedAccessKey=``/``AccountKey=``), in a URL's userinfo
  (RFC 3986 allows ``!$&'()*+,;=`` there, which detect-secrets' Basic Auth regex refuses), or
  in a command line (``curl -u user:pass``, ``--password=``, an ``Authorization`` header,
  ``helm --set auth.password=...``).
* :func:`is_reference`: a secret-store or environment reference (1Password ``op://``, vals
  ``ref+...://``, ``akv://``, ``$VAR``, Grafana ``$__env{VAR}``, Symfony ``%env(VAR)%``) or a
  file or device path: the value lives elsewhere.
* :func:`file_type`: the suffix a file is read as: its own, or its shebang's language for an
  extensionless script; :func:`is_lockfile`: dependency lockfiles, whose hashes are not secrets.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple


class Embedded(NamedTuple):
    """One credential inside a value: what it is (for the message), the secret, where."""

    what: str
    secret: str
    start: int


# -- references -------------------------------------------------------------------------------

#: URI schemes of secret stores and of the tools that resolve them at deploy time
STORE_REFERENCE = re.compile(
    r"^(?:op|akv|azkv|keyvault|bws|doppler|infisical|gcpsm|awssm|awsssm|sm|vault|vaults|"
    r"secret|secrets|k8s|sops|onepassword|conjur|bitwarden|lastpass|keeper)://\S+$"
    r"|^ref\+[a-z0-9]+://\S+$|^secretref\+\S+$|^vault:[\w./-]+(?:#\w+)?$",
    re.IGNORECASE,
)
#: ``$VAR``, ``${VAR}``, ``$__env{VAR}``, ``%env(VAR)%``, ``${{ secrets.X }}``, ``#{VAR}#``
ENV_REFERENCE = re.compile(
    r"^\$[A-Za-z_][A-Za-z0-9_]*$|^\$\{[^{}]+\}$|^\$__(?:env|file)\{[^{}]+\}$"
    r"|^%env\([\w:.-]+\)%$|^\$\{\{.*\}\}$|^#\{[\w.-]+\}#?$|^%\([\w.-]+\)s$|^%[A-Z_][A-Z0-9_]*%$",
    re.DOTALL,
)
#: a file path: ``/secrets/db/password``, ``/tmp/credentials.json``, ``~/.aws/credentials``
PATH = re.compile(r"^(?:~?/|\./|\.\./)(?:[\w@.,+-]+/)*[\w@.,+-]*$")
#: a path part that is random (a serial number, a token pasted after a slash)
_RANDOM_PART = re.compile(r"(?=(?:[^0-9]*[0-9]){3})(?=(?:[^A-Za-z]*[A-Za-z]){3})[A-Za-z0-9]{20,}")


def is_reference(value: str) -> bool:
    """The value names where a secret lives (a store, a variable, a file): not a secret."""
    text = value.strip()
    if STORE_REFERENCE.match(text) or ENV_REFERENCE.match(text):
        return True
    if text.startswith("/dev/"):
        return "/" in text[5:] or text[5:].isalnum()
    if not PATH.match(text) or (text.count("/") < 2 and not text.startswith(("~/", "./", "../"))):
        return False
    parts = [p for p in re.split(r"[/._-]+", text) if p]
    return bool(parts) and not any(_random_part(p) for p in parts)


def _random_part(part: str) -> bool:
    if _RANDOM_PART.fullmatch(part):
        return True
    mixed = part.lower() != part and part.upper() != part and any(c.isdigit() for c in part)
    return len(part) >= 12 and mixed


# -- placeholders after a real prefix ---------------------------------------------------------

#: words that say "put the real value here" (in one case: a random mixed-case body holds
#: a short word by chance; ``YOUR``/``HERE`` count only as words of their own)
_PLACEHOLDER_WORDS = re.compile(
    r"EXAMPLE|[Ee]xample|PLACEHOLDER|[Pp]laceholder|DUMMY|[Dd]ummy|REDACTED|[Rr]edacted"
    r"|CHANGEME|[Cc]hange_?me|REPLACE|[Rr]eplace|SAMPLE|[Ss]ample|INSERT|[Ii]nsert"
    r"|(?<![A-Za-z0-9])(?:YOUR|[Yy]our)|(?:HERE|[Hh]ere)(?![A-Za-z0-9])"
)
_RUN = re.compile(r"(.)\1{7,}")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")
#: a vendor prefix: up to 8 characters and a separator (``ghp_``, ``dop_v1_``, ``hvs.``)
_PREFIX = re.compile(r"^[A-Za-z0-9]{1,8}[_.~-](?:v\d[_.-])?")


def is_placeholder_token(token: str) -> bool:
    """A token-shaped value that is a placeholder: a placeholder word (``EXAMPLE``,
    ``YOUR_..._HERE``, ``xxxx``), a run of six equal characters, or a body with too few
    distinct characters to be random (``ghp_`` + 36 ``x``, ``dapi`` + ``0a0a...``). A random
    body of the lengths these formats have meets none of these but by a chance far below
    one in ten thousand (tests/test_secret_plugins.py measures it)."""
    if _PLACEHOLDER_WORDS.search(token) or _RUN.search(token):
        return True
    for run in _ALNUM_RUN.findall(token):
        if len(run) >= 16 and len(set(run)) < 6 and not run.isdigit():
            return True
    found = _PREFIX.match(token)
    body = token[found.end() :] if found else token
    chars = [c for c in body if c.isalnum()]
    return len(chars) >= 12 and len(set(chars)) < 8


# -- credentials inside a value ---------------------------------------------------------------

#: a value that stands for a password rather than being one
_NOT_A_VALUE = re.compile(
    r"^(?:\$|%|<|\{\{|\(\(|`|\*{3,}|x{3,}$|X{3,}$|\.{3}|null$|none$|changeme$|password$|secret$"
    r"|example|your|\[)",
    re.IGNORECASE,
)

URL_USERINFO = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,30}://(?P<user>[^\s:/?#@\[\]\"'<>{}]{1,128}):"
    r"(?P<secret>[^\s/?#@\[\]\"'<>{}]{1,256})@(?=[A-Za-z0-9\[])"
)
#: ``;Password=x;`` (ADO.NET, ODBC, Npgsql), ``&password=x`` (JDBC, URL query), Azure keys
CONNECTION_KEY = re.compile(
    r"[;?&]\s*(?P<key>password|pwd|passwd|sharedaccesskey|accountkey|sharedsecret"
    r"|sharedaccesssignature|client_secret|clientsecret|apikey|api_key|access_token|auth_token)"
    r"\s*=\s*(?P<secret>[^;&\s\"']{3,})",
    re.IGNORECASE,
)
_CURL_USER = re.compile(
    r"(?:^|\s)(?:-u|--user|--proxy-user)(?:\s+|=)(?P<q>['\"]?)(?P<user>[^\s:'\"]{1,128}):"
    r"(?P<secret>[^\s'\"]{3,256})(?P=q)(?=\s|$|[;|&)])"
)
#: ``--password=x``, ``--token x``, ``--client-secret x`` (not ``--password-stdin``)
_OPTION = re.compile(
    r"(?:^|\s)--(?P<opt>(?:[a-z0-9]+-)*(?:password|passwd|token|api-key|apikey|access-key"
    r"|secret-key|secret-access-key|client-secret|auth-token|private-key))(?:=|\s+)"
    r"(?P<q>['\"]?)(?P<secret>[^\s'\"]{3,512})(?P=q)(?=\s|$|[;|&)])"
)
#: ``--generate-password[=recipe]`` (1Password CLI ``op item create`` / ``op item edit``:
#: "set a random password ... specify the password length and the character types",
#: developer.1password.com/docs/cli/reference/management-commands/item): the value says how
#: to make a password, it is none
_GENERATE_WORDS = frozenset({"generate"})
#: ``docker login -u user -p secret``
_LOGIN_P = re.compile(
    r"\blogin\b[^\n;|&]*?\s-p\s+(?P<q>['\"]?)(?P<secret>[^\s'\"-][^\s'\"]{2,255})(?P=q)"
)
_AUTH_HEADER = re.compile(
    r"(?P<name>Authorization|Proxy-Authorization)\s*:\s*(?P<scheme>Bearer|Basic|token|Token|Bot"
    r"|Digest|ApiKey|Api-Key)\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})"
    r"|(?P<hname>X-Api-Key|X-API-Key|Api-Key|X-Auth-Token|PRIVATE-TOKEN|X-Vault-Token"
    r"|X-Gitlab-Token|X-Figma-Token|DD-API-KEY)\s*:\s*(?P<hsecret>[A-Za-z0-9._~+/=-]{8,})",
    re.IGNORECASE,
)
_HELM_SET = re.compile(r"--set(?:-string)?(?:\s+|=)(?P<q>['\"]?)(?P<assign>[^\s'\"]+)(?P=q)")
_SENSITIVE_LAST = re.compile(
    r"(?:password|passwd|pwd|passphrase|secret|token|apikey|api_key|accesskey|access_key"
    r"|secretkey|secret_key|privatekey|private_key|credentials?|authkey|auth_key)$",
    re.IGNORECASE,
)


#: ``existingSecret``, ``useSecret``: the name of a Secret object, not a value
_REFERENCE_FIRST = re.compile(r"(?:existing|use|create|generate|enable|with)", re.IGNORECASE)


def _keep(secret: str) -> bool:
    return len(secret) >= 4 and not _NOT_A_VALUE.match(secret) and "$(" not in secret


def embedded_credentials(value: str) -> list[Embedded]:
    """Every credential written inside ``value`` (a connection string, a URL, a command)."""
    if len(value) < 10 or not any(c in value for c in ":=-"):
        return []
    found: list[Embedded] = []
    seen: set[int] = set()

    def add(what: str, secret: str, start: int) -> None:
        if start not in seen and _keep(secret):
            seen.add(start)
            found.append(Embedded(what, secret, start))

    if "://" in value:
        for m in URL_USERINFO.finditer(value):
            add("password in a URL", m.group("secret"), m.start("secret"))
    if "=" in value:
        for m in CONNECTION_KEY.finditer(value):
            add(f"{m.group('key')}= in a connection string", m.group("secret"), m.start("secret"))
    if "-" in value:
        for m in _CURL_USER.finditer(value):
            add("user:password option", m.group("secret"), m.start("secret"))
        for m in _OPTION.finditer(value):
            if m.group("opt").split("-", 1)[0] in _GENERATE_WORDS:
                continue  # ``op item create --generate-password='letters,digits,30'``: a recipe
            add(f"--{m.group('opt')} option", m.group("secret"), m.start("secret"))
        for m in _LOGIN_P.finditer(value):
            add("login -p password", m.group("secret"), m.start("secret"))
        for m in _HELM_SET.finditer(value):
            offset = m.start("assign")
            for item in m.group("assign").split(","):
                path, eq, secret = item.partition("=")
                last = path.rsplit(".", 1)[-1]
                if eq and _SENSITIVE_LAST.search(last) and not _REFERENCE_FIRST.match(last):
                    add(f"helm --set {path}", secret, offset + len(path) + 1)
                offset += len(item) + 1
    if ":" in value:
        for m in _AUTH_HEADER.finditer(value):
            if m.group("secret"):
                secret, where = m.group("secret"), m.start("secret")
                add(f"{m.group('name')}: {m.group('scheme')} header", secret, where)
            else:
                add(f"{m.group('hname')} header", m.group("hsecret"), m.start("hsecret"))
    return sorted(found, key=lambda e: e.start)


# -- what kind of file ------------------------------------------------------------------------

#: dependency lockfiles: integrity hashes and resolved commit ids, never entropy findings
LOCKFILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "bun.lock", "bun.lockb",
    "pnpm-lock.yaml", "deno.lock", "go.sum", "go.work.sum", "Cargo.lock", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "flake.lock", ".terraform.lock.hcl", "Gemfile.lock",
    "composer.lock", "mix.lock", "pubspec.lock", "Podfile.lock", "packages.lock.json",
    "gradle.lockfile", "conda-lock.yml", "Package.resolved", "renv.lock", "Chart.lock",
})  # fmt: skip

#: a shebang's program -> the suffix its scripts are read as
SHEBANG_SUFFIX = {
    "python": ".py", "pypy": ".py", "sh": ".sh", "bash": ".sh", "zsh": ".sh", "ksh": ".sh",
    "dash": ".sh", "ash": ".sh", "fish": ".sh", "node": ".js", "deno": ".ts", "bun": ".ts",
    "ruby": ".rb", "perl": ".pl", "php": ".php", "pwsh": ".ps1", "lua": ".lua", "Rscript": ".r",
}  # fmt: skip
_SHEBANG = re.compile(
    r"^#!\s*(?:\S*/)?(?:env\s+(?:-\S+\s+)*)?(?:\S*/)?(?P<prog>[A-Za-z]+?)(?:[0-9.]*)(?:\s|$)"
)


def is_lockfile(path: str) -> bool:
    return os.path.basename(path) in LOCKFILES


def file_type(path: str, first_line: str) -> str:
    """The suffix ``path`` is read as: its own, else its shebang's language (``''`` if none)."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix or not first_line.startswith("#!"):
        return suffix
    found = _SHEBANG.match(first_line)
    return SHEBANG_SUFFIX.get(found.group("prog"), "") if found else ""

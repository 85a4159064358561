"""detect-secrets as an engine: its plugins and filters, run on values and on lines.

detect-secrets keeps its configuration in a process-wide singleton (``get_settings()``) and
caches the plugins built from it. An :class:`Engine` builds its plugins inside
``transient_settings``, scans while that context is open and restores the previous settings on
:meth:`Engine.close`, so one scan (say, with a baseline's plugin limits) cannot leak into the
next one in the same process.

detect-secrets costs ~130 ms to import, 80 ms of which is ``requests`` (used only to verify
secrets against provider APIs, which a commit hook never does). It is imported on the first
value that a plugin could find something in (core/plugin_gates.py decides that without it), with
``requests`` deferred until something really uses it.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NamedTuple

#: IPPublicDetector reports public IP addresses: not credentials, and manifests are full of
#: them (load balancer IPs, DNS servers). KeywordDetector works on ``key = value`` lines; on
#: YAML values the name rules of secrets.py do its job with the structure in hand.
EXCLUDED_PLUGINS = frozenset({"IPPublicDetector"})
VALUE_EXCLUDED = frozenset({"KeywordDetector"})

#: Shorter than this, no detect-secrets plugin can match a value (the shortest provider
#: pattern is longer; the entropy limits need more distinct characters than this).
MIN_VALUE_LENGTH = 8
#: an AWS access key id whose 16 characters after the prefix are all letters: a word
AWS_WORD = re.compile(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z]{16}")
_PEM = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?P<body>.*?)(?:-----END|$)", re.DOTALL)


def empty_pem(text: str) -> bool:
    """A private-key block with no key inside (a template, documentation): not a key. Text
    that holds only the BEGIN line is decided by the lines after it (see lines.py)."""
    found = _PEM.search(text.replace("\\n", "\n"))
    if found is None or "-----END" not in text:
        return False
    body = re.sub(r"\s|\\n", "", found.group("body"))
    return len(body) < PEM_MIN_BODY


#: jwt.io's debugger examples: HS256 tokens of its sample claims, signed with the secret the
#: page publishes beside them (jsonwebtoken/jsonwebtoken.github.io: src/features/common/values/
#: default-tokens.values.ts signs with ``a-string-secret-at-least-256-bits-long``,
#: src/editor/default-tokens.js and test/functional/default-tokens.js with ``secret``; the
#: long-standing example ``{"sub":"1234567890","name":"John Doe","iat":1516239022}`` verifies
#: with the editor's ``your-256-bit-secret``). Copied into docs and configs as a sample.
JWT_IO_SECRETS = (b"your-256-bit-secret", b"a-string-secret-at-least-256-bits-long", b"secret")
JWT_IO_CLAIMS = (
    {"sub": "1234567890", "name": "John Doe", "iat": 1516239022},
    {"sub": "1234567890", "name": "John Doe", "admin": True, "iat": 1516239022},
    {"sub": "1234567890", "name": "John Doe", "admin": True},
)


JWT_TYPE = "JSON Web Token"
_JWT_AT = re.compile(r"[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_-]+")


def is_whole_jwt(value: str) -> bool:
    """Whether a value is one token and nothing else (three base64url parts)."""
    return _JWT_AT.fullmatch(value.strip()) is not None


def published_jwt(match: str, text: str | None = None) -> bool:
    """jwt.io's example token: its sample claims, signed with a secret jwt.io publishes (the
    signature is checked, so a token of other claims or another key is still a token).
    detect-secrets' JWT pattern ends lazily (its match stops before the signature): the
    whole token is read from ``text`` where the match starts."""
    import base64
    import hashlib
    import hmac
    import json

    at = (text or match).find(match)
    found = _JWT_AT.match(text or match, max(at, 0))
    if at < 0 or found is None or len(found.group(0)) > 400:
        return False
    parts = found.group(0).split(".")
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in parts[:2]
        )
    except (ValueError, TypeError):
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256" or claims not in JWT_IO_CLAIMS:
        return False
    signed = f"{parts[0]}.{parts[1]}".encode()
    for secret in JWT_IO_SECRETS:
        digest = hmac.new(secret, signed, hashlib.sha256).digest()
        if hmac.compare_digest(base64.urlsafe_b64encode(digest).rstrip(b"="), parts[2].encode()):
            return True
    return False


#: fewer base64 characters than this between the armour lines: no key (a template's block)
PEM_MIN_BODY = 32
#: a line of a PEM body, once a comment marker, quotes and a trailing ``\n`` are taken off;
#: ``Proc-Type:`` opens the body of a legacy encrypted key (RFC 1421 headers)
_PEM_BODY_LINE = re.compile(r"^(?:[A-Za-z0-9+/]{16,}={0,2}|Proc-Type:.*|DEK-Info:.*)$")


def header_only(text: str) -> bool:
    """The BEGIN line of a private key with no key material after it on the same text and
    no END line (``# TLS_KEY=-----BEGIN RSA PRIVATE KEY-----\\n...``, a value that names
    the marker): a key only if the lines after it hold its body (:func:`key_body_follows`)."""
    if "-----END" in text:
        return False
    found = _PEM.search(text.replace("\\n", "\n"))
    if found is None:
        return False
    return len(re.sub(r"[^A-Za-z0-9+/=]", "", found.group("body"))) < PEM_MIN_BODY


def key_body_follows(following: list[str]) -> bool:
    """The first non-blank line after a BEGIN line is a line of a key's body (in a comment,
    a quoted string or a block scalar as much as in a PEM file)."""
    for line in following:
        text = line.strip().lstrip("#/;*").strip().strip("\"',").strip()
        if text.endswith("\\n"):
            text = text[:-2]
        if not text:
            continue
        return _PEM_BODY_LINE.match(text) is not None
    return False


#: Lines and values are cut here before the regular expressions see them.
MAX_SCAN_CHARS = 100_000


class Hit(NamedTuple):
    """One thing detect-secrets found: its type (detect-secrets' own name) and the value."""

    type: str
    #: what detect-secrets reports (and a baseline hashes): sometimes a regex group only
    secret: str
    plugin: str
    #: the whole match, for the masked length shown to the user (never printed in full)
    shown: str = ""


def _defer_requests() -> None:
    """Install a stand-in for ``requests`` that imports the real module on first use."""
    if "requests" in sys.modules:
        return
    import importlib
    import types

    class _Deferred(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            if name == "Response":  # only in plugin annotations, evaluated at import time
                return Any
            if sys.modules.get("requests") is self:
                del sys.modules["requests"]
            real = importlib.import_module("requests")
            self.__dict__.update(real.__dict__)
            return getattr(real, name)

    sys.modules["requests"] = _Deferred("requests")


#: what detect-secrets' package ``__init__`` files bind, and where it comes from: the
#: top package re-exports SecretsCollection (which imports multiprocessing and the whole
#: scanner), ``filters`` imports every filter module (the gibberish model among them)
_EAGER_PACKAGES = {
    "detect_secrets": {"SecretsCollection": "detect_secrets.core.secrets_collection"},
    "detect_secrets.filters": {},
}


def _lazy_packages() -> None:
    """Make detect-secrets' packages importable without running their ``__init__``: each
    name the ``__init__`` would bind is imported when first asked for (PEP 562), so
    importing the plugins and the heuristic filters costs only them (~20 ms less)."""
    import importlib
    import importlib.util

    for name, exports in _EAGER_PACKAGES.items():
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return
        if spec is None or spec.submodule_search_locations is None:
            return
        module = importlib.util.module_from_spec(spec)

        def __getattr__(attr: str, _name: str = name, _exports: dict = exports) -> Any:
            if attr.startswith("__"):
                raise AttributeError(attr)
            source = _exports.get(attr)
            if source is not None:
                return getattr(importlib.import_module(source), attr)
            try:
                return importlib.import_module(f"{_name}.{attr}")
            except ModuleNotFoundError:
                raise AttributeError(attr) from None

        module.__getattr__ = __getattr__  # type: ignore[attr-defined]
        sys.modules[name] = module


def default_plugins_config() -> list[dict[str, Any]]:
    """Every detect-secrets plugin with its defaults, minus :data:`EXCLUDED_PLUGINS`."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    names = sorted(c.__name__ for c in get_mapping_from_secret_type_to_class().values())
    return [{"name": n} for n in names if n not in EXCLUDED_PLUGINS]


class Engine:
    """The plugins of one scan. Built on first use; :meth:`close` restores global settings."""

    def __init__(
        self, plugins_config: list[dict[str, Any]] | None = None, *, shortcut: bool = True
    ) -> None:
        self._config = plugins_config
        #: core/plugin_gates.py: which texts no plugin can find anything in (False: not decided yet;
        #: None: no shortcut, every text goes to the plugins)
        self._gates: Any = False if shortcut else None
        self._stack: Any = None
        self._value_regex: list[Any] = []
        self._entropy: list[Any] = []
        self._other: list[Any] = []
        self._all: list[Any] = []
        self._memo: dict[str, tuple[Hit, ...]] = {}
        self._heuristic: Any = None
        self._placeholder: Any = None
        self._ours: Any = ()
        self._base_analyze: Any = None
        self._detect_secrets: list[Any] = []
        self._line_other: list[Any] = []

    # -- life cycle --------------------------------------------------------------------------
    def _start(self) -> None:
        if self._stack is not None:
            return
        import contextlib

        _defer_requests()
        _lazy_packages()
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins.base import RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
        from detect_secrets.settings import get_plugins, transient_settings

        config = self._config
        if config is None:
            config = default_plugins_config()
        config = [c for c in config if c.get("name") not in EXCLUDED_PLUGINS]
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(transient_settings({"plugins_used": config}))
        from gitops_guard.checks.secrets.plugins import (
            ProviderTokenDetector,
            is_placeholder_token,
            plugin_classes,
        )

        self._ours = ProviderTokenDetector

        self._heuristic = heuristic
        self._placeholder = is_placeholder_token
        self._base_analyze = RegexBasedDetector.analyze_string
        self._detect_secrets = list(get_plugins())
        # ours come after detect-secrets' own: where both know a format, its name is kept
        self._all = self._detect_secrets + [cls() for cls in plugin_classes()]
        for plugin in self._all:
            name = type(plugin).__name__
            if isinstance(plugin, HighEntropyStringsPlugin):
                self._entropy.append(plugin)
            elif name in VALUE_EXCLUDED:
                continue
            elif isinstance(plugin, RegexBasedDetector):
                self._value_regex.append(plugin)
            else:
                self._other.append(plugin)
        regex = {id(p) for p in self._value_regex}
        self._line_other = [p for p in self._all if id(p) not in regex]

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def plugins_used(self) -> list[dict[str, Any]]:
        """The plugin configuration, as a baseline's ``plugins_used`` records it."""
        self._start()
        # gitops-guard's own plugins are not listed: detect-secrets-hook would refuse a
        # baseline naming plugins it cannot load (their findings are matched by hash)
        return sorted((p.json() for p in self._detect_secrets), key=lambda p: p["name"])

    # -- scanning ----------------------------------------------------------------------------
    def _gated(self) -> Any:
        if self._gates is False:
            from gitops_guard.core.plugin_gates import gates_for

            self._gates = gates_for(None if self._config is None else list(self._config))
        return self._gates

    def scan_value(
        self, value: str, *, entropy: bool = True, complete: bool = True
    ) -> tuple[Hit, ...]:
        """Provider tokens, private keys, URL credentials (and, if asked, high entropy) in a
        YAML value. The whole value is the candidate: no quotes needed, as in a manifest.
        A ``complete`` value is all there is: a private key's BEGIN line alone in it is no
        key (a comment line is not complete: its key body may follow on the next ones)."""
        if len(value) < MIN_VALUE_LENGTH:
            return ()
        key = ("E" if entropy else "R") + ("" if complete else "P") + value
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        text = value[:MAX_SCAN_CHARS]
        gates = self._gated()
        if gates is not None and not gates.value(text, entropy):
            if len(self._memo) < 50_000:
                self._memo[key] = ()
            return ()  # no plugin can find anything in it (plugin_gates)
        self._start()
        hits: list[Hit] = []
        seen: set[str] = set()
        self._regex_hits(text, hits, seen, complete)
        for plugin in self._other:
            for secret in plugin.analyze_line(filename="value", line=text, line_number=0):
                match = secret.secret_value or ""
                if match and match not in seen and not self._filtered(match, text, plugin):
                    seen.add(match)
                    hits.append(Hit(plugin.secret_type, match, type(plugin).__name__))
        if entropy and not hits:
            token = text.strip()
            for plugin in self._entropy:
                if (
                    len(token) >= 16
                    and all(c in plugin.charset for c in token)
                    and plugin.calculate_shannon_entropy(token) > plugin.entropy_limit
                    and not self._filtered(token, token, plugin)
                ):
                    hits.append(Hit(plugin.secret_type, token, type(plugin).__name__))
                    break
        result = tuple(hits)
        if len(self._memo) < 50_000:
            self._memo[key] = result
        return result

    def _regex_hits(
        self, text: str, hits: list[Hit], seen: set[str], complete: bool = False
    ) -> None:
        for plugin in self._value_regex:
            if type(plugin).analyze_string is not self._base_analyze:
                # a plugin with its own validity check (JWT: a decodable JSON header; ours:
                # no placeholder): its matches, not its bare regexes
                ours = isinstance(plugin, self._ours)
                if ours and not plugin.present(text):
                    continue
                for match in plugin.analyze_string(text):
                    # ours check their own matches (a uuid inside a Teams webhook is part of
                    # the credential, not a sign of an id)
                    dropped = not ours and (
                        self._filtered(match, text, plugin)
                        or (plugin.secret_type == JWT_TYPE and published_jwt(match, text))
                    )
                    if match and match not in seen and not dropped:
                        seen.add(match)
                        name = type(plugin).__name__
                        hits.append(Hit(plugin.secret_type, match, name, match))
                continue
            for regex in plugin.denylist:
                for found in regex.finditer(text):
                    # detect-secrets keeps the first group (for GitHub tokens: ``ghp``); a
                    # prefix that short would make a baseline entry accept every such token
                    match = next((g for g in found.groups() if g), None) or found.group(0)
                    if len(match) < MIN_VALUE_LENGTH:
                        match = found.group(0)
                    if match and match not in seen and not self._filtered(match, text, plugin):
                        if self._lookalike(found.group(0), text, plugin, complete):
                            continue
                        seen.add(match)
                        name = type(plugin).__name__
                        hits.append(Hit(plugin.secret_type, match, name, found.group(0)))

    def _lookalike(self, whole: str, text: str, plugin: Any, complete: bool = False) -> bool:
        """A regex hit that has the format's shape but not its substance: a placeholder
        after a real prefix (``AKIAIOSFODNN7EXAMPLE``, ``ghp_xxxx...``), an AWS key id whose
        body is all letters (a word in capitals), an empty PEM block (or, in a complete
        value, a BEGIN line with no body)."""
        name = type(plugin).__name__
        if name == "PrivateKeyDetector":
            return empty_pem(text) or (complete and header_only(text))
        if self._placeholder(whole):
            return True
        return name == "AWSKeyDetector" and AWS_WORD.fullmatch(whole) is not None

    def scan_line(
        self, filename: str, line: str, line_number: int, *, entropy: bool = True
    ) -> list[Hit]:
        """Every plugin on one line of a non-YAML file, as detect-secrets-hook scans it;
        without ``entropy``, only the format plugins (a lockfile's hashes are not secrets)."""
        if len(line.strip()) < MIN_VALUE_LENGTH:
            return []
        text = line[:MAX_SCAN_CHARS]
        gates = self._gated()
        if gates is not None and not gates.line(text, entropy):
            return []  # no plugin can find anything in it (plugin_gates)
        self._start()
        hits: list[Hit] = []
        seen: set[str] = set()
        self._regex_hits(text, hits, seen)
        for plugin in self._line_other if entropy else self._other:
            try:
                found = plugin.analyze_line(filename=filename, line=text, line_number=line_number)
            except Exception:  # a third-party plugin must not stop the scan
                continue
            for secret in found or ():
                match = secret.secret_value or ""
                if match and match not in seen and not self._filtered(match, text, plugin):
                    seen.add(match)
                    hits.append(Hit(plugin.secret_type, match, type(plugin).__name__))
        return hits

    def _filtered(self, secret: str, line: str, plugin: Any) -> bool:
        """detect-secrets' default heuristic filters (the ones that look at the secret)."""
        h = self._heuristic
        return bool(
            h.is_sequential_string(secret)
            or h.is_potential_uuid(secret)
            or h.is_templated_secret(secret)
            or h.is_prefixed_with_dollar_sign(secret)
            or h.is_not_alphanumeric_string(secret)
            or h.is_likely_id_string(secret, line, plugin)
            or h.is_indirect_reference(line)
        )


def hash_secret(secret: str) -> str:
    """detect-secrets' ``hashed_secret``: SHA-1 of the value (what a baseline stores)."""
    import hashlib

    return hashlib.sha1(secret.encode("utf-8", "surrogatepass")).hexdigest()

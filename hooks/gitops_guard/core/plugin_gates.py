"""Which texts no plugin can find anything in: the shortcut in front of detect-secrets.

Importing detect-secrets and building its plugins is most of what a one-file commit costs
(~60 ms of start-up), and most values of a manifest (names, labels, image references,
ports) can hold nothing any plugin finds. :class:`Gates` answers, without detect-secrets,
whether some configured plugin *could* find something in a text; a text it says no to gets
the answer detect-secrets would give (nothing), and a file none of whose texts passes never
imports detect-secrets at all.

The answer must never be "no" where a plugin would find something. Each gate is therefore a
relaxation of its plugin's own expressions, as detect-secrets 1.5.0 writes them
(``detect_secrets/plugins/*.py``): a literal or a shorter expression every match of the
plugin contains. The entropy plugins are bounded by arithmetic: Shannon entropy over ``k``
distinct characters is at most ``log2(k)``, so a string with at most ``2 ** limit`` distinct
characters (or one outside the plugin's charset) never passes the limit. The gates hold only
for the plugin set they were written for: another detect-secrets version, a plugin they do
not know (a baseline's custom ``path`` plugin), and the shortcut is off (every text goes to
detect-secrets, as before). tests/test_plugin_gates.py compares every finding with and
without the shortcut on the labelled set and the real repositories.
"""

from __future__ import annotations

import re

from gitops_guard.core.token_formats import FORMATS, gate_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: the detect-secrets release the gates were written from
FOR_VERSION = "1.5.0"

#: a credential word, an assignment, a value of 24 or more word characters: what
#: detect-secrets' ``build_assignment_regex`` plugins (Cloudant, IBM Cloud IAM, IBM COS HMAC,
#: SoftLayer) need, with every optional part optional and each value class widened to
#: ``[\w-]`` (IBM COS's ``secret_access_key`` ends in ``key``)
_ASSIGNED = r"(?i:(?:key|pwd?|password|pass|token)['\"]?\]? *[=: ][=>: ]*['\"]?[\w-]{24})"

#: plugin class -> an expression every text the plugin finds something in matches
PLUGIN_GATES: dict[str, str] = {
    "AWSKeyDetector": r"A3T|ABIA|ACCA|AKIA|ASIA|(?i:aws)",
    "ArtifactoryDetector": r"AKC[a-zA-Z0-9]{10}|AP[\dA-F][a-zA-Z0-9]{8}",
    "AzureStorageKeyDetector": r"AccountKey=",
    "BasicAuthDetector": r"://[^\s@]*@",
    "CloudantDetector": _ASSIGNED + r"|(?i:cloudant\.com)",
    "DiscordBotTokenDetector": r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}",
    "GitHubTokenDetector": r"gh[pousr]_",
    "GitLabTokenDetector": r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941",
    "IbmCloudIamDetector": _ASSIGNED,
    "IbmCosHmacDetector": _ASSIGNED,
    "JwtTokenDetector": r"eyJ",
    "KeywordDetector": r"(?i:key|pass|pwd|secret|contrase)",
    "MailchimpDetector": r"-us\d",
    "NpmDetector": r":_authToken=",
    "OpenAIDetector": r"T3BlbkFJ",
    "PrivateKeyDetector": r"PRIVATE KEY|PuTTY-User-Key-File-2",
    "PypiTokenDetector": r"pypi-AgE",
    "SendGridDetector": r"SG\.",
    "SlackDetector": r"(?i:xox[abposr]-|hooks\.slack\.com)",
    "SoftlayerDetector": _ASSIGNED + r"|(?i:softlayer)",
    "SquareOAuthDetector": r"sq0csp-",
    "StripeDetector": r"[rs]k_live_",
    "TelegramBotTokenDetector": r"\d{8}:[0-9A-Za-z_-]{35}",
    "TwilioKeyDetector": r"(?:AC|SK)[a-z0-9]{32}",
}
#: the entropy plugins: their charset and default limit (``high_entropy_strings.py``)
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\\-_="
ENTROPY_PLUGINS: dict[str, tuple[frozenset[str], float]] = {
    "Base64HighEntropyString": (frozenset(_B64), 4.5),
    "HexHighEntropyString": (frozenset("0123456789abcdefABCDEF"), 3.0),
}
#: plugins the engine never runs (engine.EXCLUDED_PLUGINS), on values (VALUE_EXCLUDED)
_NEVER = frozenset({"IPPublicDetector"})
_NOT_ON_VALUES = frozenset({"KeywordDetector"})


def installed_version() -> str | None:
    """detect-secrets' version, read without importing it (its package import is the cost
    the shortcut saves)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("detect_secrets")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    import os

    path = os.path.join(next(iter(spec.submodule_search_locations)), "__version__.py")
    try:
        with open(path, encoding="utf-8") as handle:
            found = re.search(r"VERSION\s*=\s*['\"]([^'\"]+)['\"]", handle.read())
    except OSError:
        return None
    return found.group(1) if found else None


class Gates:
    """The gates of one plugin configuration (None: detect-secrets' defaults)."""

    def __init__(self, regex: list[str], line_only: list[str], entropy: list[tuple[Any, float]]):
        ours = [gate_of(f) for f in FORMATS]
        self._value = re.compile("|".join(f"(?:{g})" for g in regex + ours))
        self._line = re.compile("|".join(f"(?:{g})" for g in regex + line_only + ours))
        self._entropy = entropy
        #: the shortest quoted run an entropy plugin can pass on a line: more than
        #: 2 ** limit characters (at most that many distinct ones)
        self._quoted = None
        if entropy:
            shortest = min(int(2**limit) + 1 for _, limit in entropy)
            self._quoted = re.compile("['\"][^'\"\\s]{" + str(shortest) + ",}['\"]")

    def value(self, text: str, entropy: bool) -> bool:
        """Whether a plugin could find something in a YAML value (engine.scan_value)."""
        if self._value.search(text) is not None:
            return True
        if entropy:
            token = text.strip()
            return len(token) >= 16 and self.entropy(token)
        return False

    def formats(self, text: str) -> bool:
        """Whether a regex plugin could find something in ``text`` (the masking step)."""
        return self._value.search(text) is not None

    def entropy(self, token: str) -> bool:
        """Whether an entropy plugin could pass ``token`` (all of it its candidate)."""
        if not self._entropy:
            return False
        chars = set(token)
        return any(len(chars) > 2**limit and chars <= charset for charset, limit in self._entropy)

    def line(self, text: str, entropy: bool) -> bool:
        """Whether a plugin could find something in a line (engine.scan_line)."""
        if entropy:
            if self._line.search(text) is not None:
                return True
            return self._quoted is not None and self._quoted.search(text) is not None
        return self._value.search(text) is not None


def gates_for(config: list[dict[str, Any]] | None) -> Gates | None:
    """The gates of a plugin configuration, or None where they are not proven for it."""
    if installed_version() != FOR_VERSION:
        return None
    if config is None:
        names = [*PLUGIN_GATES, *ENTROPY_PLUGINS]
        limits: dict[str, float] = {}
    else:
        names = []
        limits = {}
        for entry in config:
            name = entry.get("name")
            if not isinstance(name, str) or "path" in entry:
                return None
            if name not in PLUGIN_GATES and name not in ENTROPY_PLUGINS and name not in _NEVER:
                return None
            names.append(name)
            if "limit" in entry:
                try:
                    limits[name] = float(entry["limit"])
                except (TypeError, ValueError):
                    return None
    regex: list[str] = []
    line_only: list[str] = []
    entropy: list[tuple[Any, float]] = []
    for name in names:
        if name in _NEVER:
            continue
        if name in ENTROPY_PLUGINS:
            charset, default = ENTROPY_PLUGINS[name]
            entropy.append((charset, limits.get(name, default)))
        elif name in _NOT_ON_VALUES:
            line_only.append(PLUGIN_GATES[name])
        else:
            regex.append(PLUGIN_GATES[name])
    return Gates(regex, line_only, entropy)

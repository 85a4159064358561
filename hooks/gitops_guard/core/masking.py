"""The one masking step every output of gitops-guard goes through.

check-secrets masks what it finds, but every other command quotes inputs too: an annotation
value, a duplicate key, an image reference, a rendered manifest in ``drift``, the context
lines of ``promote``'s diff, an error message. A secret in any of them would be printed. So
the CLI sends stdout and stderr through :class:`MaskingStream`, and each line is masked
before it leaves the process, whatever command wrote it, then cut to
``capping.LINE_CHARS`` (``capping.cap_line``: JSON stays valid, no escape is cut in half) as
the last guard of bounded quoting.

Where the recognisers live (core must not import from ``checks/``): detect-secrets' own
plugins, loaded from the detect-secrets package (the engine check-secrets runs), not a copy
of their patterns, and the provider formats check-secrets adds, as data in core:

- every regex plugin of detect-secrets (AWS keys, GitHub/GitLab/Slack/Stripe/npm/PyPI... tokens,
  JWTs, private keys, URL credentials), run on each run of a line up to whitespace, quotes and
  brackets (each distinct run judged once: output repeats its paths and names); IPPublicDetector
  excepted (public addresses are not credentials, as in check-secrets);
- detect-secrets' two entropy plugins, with their default limits, on each token of a line,
  with detect-secrets' heuristic filters (UUIDs, sequences, templates, ``$VAR``);
- every provider token format of ``core/token_formats.py`` (the formats check-secrets adds
  to detect-secrets as plugins: Vault, Doppler, Shopify, Hugging Face... tokens), with each
  format's validity check;
- two rules of check-secrets' own, written here: a value named by a secret-like name
  (``--token=...``, ``DB_PASSWORD=...``, ``password: ...`` at the start of a line) and the
  password of a URL (``postgres://user:pw@host``).

The plugins are instantiated directly, outside detect-secrets' settings singleton, so masking
never changes the settings a check-secrets scan in the same process runs with. detect-secrets
is imported only when a run of a line could hold something one of its plugins finds
(``core/plugin_gates.py`` decides that without it: start-up time, a finding's message
costs no import). Git object ids and image digests (40 or 64 hex
characters) are content addresses, not secrets, and stay readable.
"""

from __future__ import annotations

import re

from gitops_guard.core.token_formats import KEYWORDS, find_tokens

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: what masked text looks like: a few leading characters and the length, never the value
_MASKED = re.compile(r"'[^'\s]{0,4}\.\.\.' \(\d+ chars\)")
#: a token of a line: what the entropy plugins look at (split where a value ends)
_TOKEN = re.compile(r"[^\s\"'`,;()\[\]{}<>|=:@]{16,}")
#: a line worth asking detect-secrets about: a long run with letters and digits (what every
#: provider token has), URL credentials, a private key; a clean line costs no import
_WORTH = re.compile(
    r"(?=[A-Za-z0-9+/_=.-]{16})(?=[A-Za-z+/_=.-]{0,15}[0-9])(?=[0-9+/_=.-]{0,15}[A-Za-z])"
    r"|://[^\s@]*@|PRIVATE KEY"
)
_DIGEST = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: ``--token=x``, ``--db-password x``, ``GITHUB_TOKEN=x``: a name, then its value
_NAMED = re.compile(r"(?<![\w.-])(--?)?([A-Za-z_][\w.-]{0,80})(?==| \S)")
_VALUE = re.compile(r"[^\s,;\])}'\"]+")
#: ``password: x`` at the start of a line (YAML, a diff line, a list item)
_YAML_KEY = re.compile(r"^([ \t]*[-+ ]?[ \t]*(?:- )?)([A-Za-z_][\w.-]{0,80})(:[ \t]+)(\S.*)$")
#: a connection string's secret (ADO.NET, ODBC, JDBC, Azure): ``;AccountKey=...``,
#: ``SharedAccessKey=``, ``Password=``, ``pwd=``, spaces around ``=`` allowed; the value ends
#: at ``;``, ``&``, a quote, a backslash (an escaped quote) or a space, so a value cut short
#: or quoted is masked as far as it goes
_CONNECTION_KEY = re.compile(
    r"(?<![\w-])(?i:(accountkey|sharedaccesskey|sharedaccesssignature|sharedsecret|password"
    r"|passwd|pwd|client_?secret|api_?key|access_?token|auth_?token))\s*=\s*"
    r"([^;&\s\"'`,\\]+)"
)
#: the password of a URL's user information
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s/@:'\"]{0,200}:)([^\s/@'\"]+)(@)")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_LAST = frozenset({
    "password", "passwd", "pwd", "passphrase", "token", "secret", "apikey", "credential",
    "credentials",
})  # fmt: skip
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "auth", "client", "signing", "account", "storage",
    "master",
})  # fmt: skip
#: a value that names or refers to the secret rather than holding it
_REFERENCE = re.compile(r"^(?:\$|\{\{|ENC\[|<|\*+$|\[|\{|[|>][-+]?$|true$|false$|null$|~$)")


def mask(secret: str) -> str:
    """A few leading characters and the length; never the value (check-secrets' format)."""
    n = len(secret)
    shown = 0 if n < 10 else min(4, n // 5)
    return f"'{secret[:shown]}...' ({n} chars)"


def secret_name(name: str) -> bool:
    """Whether a key, option or variable name says its value is a secret."""
    words = [w.lower() for w in _WORDS.findall(name)]
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_LAST:
        return True
    return last == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


class _Plugins:
    """detect-secrets' plugins and filters, built on first use."""

    def __init__(self) -> None:
        self.regex: list[Any] = []
        self.entropy: list[Any] = []
        self.heuristic: Any = None
        self.ready = False

    def start(self) -> None:
        if self.ready:
            return
        self.ready = True
        try:
            _defer_requests()
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
            from detect_secrets.filters import heuristic
            from detect_secrets.plugins.base import RegexBasedDetector
            from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
        except ImportError:  # detect-secrets is a dependency; without it the rules here stay
            return
        self.heuristic = heuristic
        for cls in sorted(get_mapping_from_secret_type_to_class().values(), key=_name):
            if cls.__name__ == "IPPublicDetector":
                continue
            try:
                if issubclass(cls, HighEntropyStringsPlugin):
                    self.entropy.append(cls())
                elif issubclass(cls, RegexBasedDetector):
                    self.regex.append(cls())
            except Exception:  # a plugin that needs settings: the others still run
                continue

    def filtered(self, secret: str, line: str, plugin: Any) -> bool:
        h = self.heuristic
        return bool(
            h.is_sequential_string(secret)
            or h.is_potential_uuid(secret)
            or h.is_templated_secret(secret)
            or h.is_prefixed_with_dollar_sign(secret)
            or h.is_likely_id_string(secret, line, plugin)
        )


def _name(cls: type) -> str:
    return cls.__name__


def _defer_requests() -> None:
    """detect-secrets' plugins import ``requests`` (80 ms) for verification, which masking
    never does: a stand-in imports the real module only if something uses it."""
    import sys

    if "requests" in sys.modules:
        return
    import importlib
    import types

    class _Deferred(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            if name == "Response":
                from typing import Any as _Any

                return _Any
            if sys.modules.get("requests") is self:
                del sys.modules["requests"]
            real = importlib.import_module("requests")
            self.__dict__.update(real.__dict__)
            return getattr(real, name)

    sys.modules["requests"] = _Deferred("requests")


_PLUGINS = _Plugins()
#: lines longer than this are masked in slices (the regular expressions stay linear)
_MAX_LINE = 100_000


def mask_line(line: str) -> str:
    """One line with every secret in it masked."""
    if len(line) > _MAX_LINE:
        return "".join(mask_line(line[i : i + _MAX_LINE]) for i in range(0, len(line), _MAX_LINE))
    spans = _spans(line)
    if not spans:
        return line
    return _apply(line, spans)


def _spans(line: str) -> list[tuple[int, int]]:
    """Where the secrets of one line are (overlapping spans, unsorted)."""
    spans: list[tuple[int, int]] = []
    for match in _URL_PASSWORD.finditer(line):
        spans.append(match.span(2))
    found = _YAML_KEY.match(line)
    if found and secret_name(found.group(2)) and _is_value(found.group(4)):
        spans.append(found.span(4))
    for match in _NAMED.finditer(line):
        if not secret_name(match.group(2)):
            continue
        if line[match.end()] == " " and not match.group(1):
            continue  # "token abc": a word followed by a word, not an option
        value = _VALUE.match(line, match.end() + 1)
        if value is not None and _is_value(value.group(0)):
            spans.append(value.span())
    if "=" in line:
        for match in _CONNECTION_KEY.finditer(line):
            if _is_value(match.group(2)):
                spans.append(match.span(2))
    for start, end, _format in find_tokens(line):
        spans.append((start, end))
    if "..." in line:
        _cut_spans(line, spans)
    if _WORTH.search(line):
        _plugin_spans(line, spans)
    return spans


#: characters past a cut that are masked with what a cut shows: a secret that crosses the
#: cut is seen whole (an Azure storage key with its name is 99 characters)
_WINDOW = 512


#: a whole digest as masking leaves it readable (``_DIGEST``: a git id, a sha256 digest)
_WHOLE_DIGEST = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{40})(?![0-9a-f])")


def _past_digest(text: str, limit: int) -> int:
    """``limit``, moved to the end of a digest it would cut: a digest cut short reads as a
    random run (the output's masking then hides the whole reference) and names nothing."""
    for match in _WHOLE_DIGEST.finditer(text, max(0, limit - 64), limit + 64):
        if match.start() < limit < match.end():
            return match.end()
    return limit


def masked_prefix(text: str, limit: int) -> tuple[str, bool]:
    """At most about ``limit`` characters of ``text`` as a message may quote them, and
    whether anything was left out: masked first, then cut (the start of a secret cut short
    is recognised by no format). A secret that crosses the cut is replaced whole, never
    shown in part; a cut never falls inside what masking wrote, nor inside an image digest."""
    limit = _past_digest(text, limit)
    window = text[: limit + _WINDOW]
    beyond = len(window) < len(text)
    # a run that goes on past the window is read as a cut value (``_cut_spans``)
    spans = _spans(window + "..." if beyond else window)
    out: list[str] = []
    at = 0
    for start, end in _merged(spans):
        if start >= limit:
            break
        end = min(end, len(window))
        out.append(window[at:start])
        out.append(mask(window[start:end]))
        at = end
    if at < limit:
        out.append(window[at:limit])
        at = min(limit, len(window))
    return "".join(out), beyond or at < len(window)


#: where a run of a line ends (what a cut value's run is read back to)
_SEPARATORS = frozenset(" \t\"'`,;()[]{}<>|")
#: a piece of a run that looks random: 12 or more letters and digits, with both
_RANDOM_PIECE = re.compile(r"(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z0-9]{12,}")


#: the name of a ``Name=value`` run (a connection string's part, an option)
_RUN_NAME = re.compile(r"-{0,2}[A-Za-z_][\w.-]{0,80}=")


def _cut_spans(line: str, spans: list[tuple[int, int]]) -> None:
    """A value cut short where a message bounds its quotes (``'sl.h8wf...'... (141 chars)``):
    no format matches a token cut mid-way, so the run that goes on past the cut is masked
    when it may be the start of one."""
    for cut in re.finditer(r"\.\.\.", line):
        end = cut.start()
        if end and line[end - 1] == "'":
            end -= 1
        start = end
        while start and line[start - 1] not in _SEPARATORS:
            start -= 1
        named = _RUN_NAME.match(line, start, end)
        if named is not None:  # ``AccountKey=ugLY81...``: the name stays readable
            start = named.end()
        run = line[start:end]
        if len(run) >= 12 and _cut_token(run):
            spans.append((start, end))


def _cut_token(run: str) -> bool:
    """Whether a run cut short may be the start of a token: a format's keyword with more
    after it, a random-looking piece (letters and digits, or both cases of letters)."""
    for keyword in KEYWORDS:
        at = run.find(keyword)
        if at >= 0 and len(run) - at - len(keyword) >= 8:
            return True
    for piece in re.split(r"[^A-Za-z0-9]+", run):
        if _RANDOM_PIECE.fullmatch(piece):
            return True
        if len(piece) >= 16 and piece.isalpha():
            upper = sum(c.isupper() for c in piece)
            if len(piece) / 4 <= upper <= len(piece) * 3 / 4:
                return True
    return False


def _is_value(text: str) -> bool:
    value = text.strip().strip("'\"")
    return (
        bool(value.strip("."))  # ``Password=...``: a cut, nothing shown
        and not _REFERENCE.match(value)
        and not _MASKED.search(text)
    )


#: a run of a line the plugins look at: up to whitespace, quotes, brackets, commas
_CANDIDATE = re.compile(r"[^\s\"'`,;()\[\]{}<>|]{8,}")
#: candidate -> the spans (relative to it) the plugins mask in it; output repeats the same
#: paths, names and words on line after line, so each is judged once
_MEMO: dict[str, tuple[tuple[int, int], ...]] = {}


def _plugin_spans(line: str, spans: list[tuple[int, int]]) -> None:
    plugins = _PLUGINS
    for candidate in _CANDIDATE.finditer(line):
        text = candidate.group(0)
        if not _WORTH.search(text):
            continue
        found = _MEMO.get(text)
        if found is None:
            found = ()
            if _may_hit(text):
                plugins.start()
                if plugins.heuristic is None:
                    return
                found = _candidate_spans(text, plugins)
            if len(_MEMO) < 100_000:
                _MEMO[text] = found
        base = candidate.start()
        spans.extend((base + start, base + end) for start, end in found)


_GATES: list[Any] = []


def _may_hit(text: str) -> bool:
    """Whether one of detect-secrets' plugins could find something in a run (plugin_gates:
    a run it turns away costs no import of detect-secrets)."""
    if not _GATES:
        from gitops_guard.core.plugin_gates import gates_for

        _GATES.append(gates_for(None))
    gates = _GATES[0]
    if gates is None:
        return True
    if gates.formats(text):
        return True
    return any(
        not _DIGEST.fullmatch(token.group(0)) and gates.entropy(token.group(0))
        for token in _TOKEN.finditer(text)
    )


def _candidate_spans(text: str, plugins: _Plugins) -> tuple[tuple[int, int], ...]:
    """What detect-secrets' plugins find in one run: each regex plugin, then each entropy
    plugin on its tokens (with detect-secrets' filters)."""
    spans: list[tuple[int, int]] = []
    for plugin in plugins.regex:
        for regex in plugin.denylist:
            for found in regex.finditer(text):
                span = found.span(0)
                for index, group in enumerate(found.groups(), 1):
                    if group and len(group) >= 8:
                        span = found.span(index)
                        break
                if not plugins.filtered(text[span[0] : span[1]], text, plugin):
                    spans.append(span)
    for token in _TOKEN.finditer(text):
        value = token.group(0)
        if _DIGEST.fullmatch(value) or _local_path(value) or _object_name(value):
            continue
        for plugin in plugins.entropy:
            if (
                all(c in plugin.charset for c in value)
                and plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
                and not plugins.filtered(value, text, plugin)
            ):
                spans.append(token.span())
                break
    return tuple(spans)


#: a Kubernetes object's name, or ``Kind/namespace/name`` as drift prints an object: DNS-1123
#: labels (lower-case letters, digits, ``-``, ``.``) joined by ``/``, after an optional Kind
_OBJECT_KEY = re.compile(r"(?:[A-Z][A-Za-z0-9]*/)?[a-z0-9]+(?:[-./][a-z0-9]+)*")
_NAME_PARTS = re.compile(r"[-./]")


def _object_name(value: str) -> bool:
    """Whether a run reads as an object name made of words with at most a short generated
    part (``e2e-test-github-unreviewedpr-bd53a891/platform-config``: a name prefix and a
    hash suffix), which the base64 entropy plugin scores above its limit. Only the entropy
    plugins pass it: a provider token is still masked by its format, and a run that is
    mostly random (a lower-case key, a hex secret) has too few words."""
    if not _OBJECT_KEY.fullmatch(value):
        return False
    parts = _NAME_PARTS.split(value.split("/", 1)[1] if value[:1].isupper() else value)
    words = sum(1 for part in parts if part.isalpha() and len(part) >= 3)
    generated = sum(len(part) for part in parts if not part.isalpha())
    return words >= 2 and generated <= 16 and words * 2 > len(parts) - words


def _local_path(value: str) -> bool:
    """Whether a run is a path that exists on this machine (a temporary folder's random
    name read as random by the entropy plugins: ``/tmp/.../gitops-guard-demo-2qhjxc6k/...``).
    Only the entropy plugins pass it: a provider token in a path is still masked by its
    format, and a key with slashes in it (an AWS secret key) names no file here."""
    if not value.startswith(("/", "./", "../", "~/")):
        return False
    import os

    try:
        os.lstat(os.path.expanduser(value))
    except (OSError, ValueError):
        return False
    return True


def _merged(spans: list[tuple[int, int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _apply(line: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    at = 0
    for start, end in _merged(spans):
        out.append(line[at:start])
        out.append(mask(line[start:end]))
        at = end
    out.append(line[at:])
    return "".join(out)


def mask_text(text: str) -> str:
    """Every line of ``text`` masked (line ends kept)."""
    if not text:
        return text
    return "".join(mask_line(part) if part != "\n" else part for part in _split(text))


def _split(text: str) -> list[str]:
    parts: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        parts.append(body)
        if len(body) != len(line):
            parts.append(line[len(body) :])
    return parts


#: a line longer than this is cut (``capping.cap_line``, JSON kept valid) before it is
#: masked: masking costs about a second per megabyte, and what is past this never prints
_PRE_CAP = 16_000


def printable(line: str) -> str:
    """One output line (without its end) as it may leave the process: masked, then cut to
    ``capping.LINE_CHARS``. A message site that forgot to bound what it quotes is bounded
    here all the same."""
    from gitops_guard.core.capping import LINE_CHARS, cap_line

    if len(line) > _PRE_CAP:
        line = cap_line(line, _PRE_CAP)
    line = mask_line(line)
    return cap_line(line, LINE_CHARS) if len(line) > LINE_CHARS else line


def printable_text(text: str) -> str:
    """Whole lines of output, each :func:`printable`, their ends kept."""
    return "".join(printable(part) if part.strip("\r\n") else part for part in _split(text))

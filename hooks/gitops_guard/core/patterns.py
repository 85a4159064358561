"""Regular expressions that come from files, run on a linear-time engine.

A pattern a repository supplies (a policy's ``images.tag_pattern``, a SOPS file's own
``unencrypted_regex``) is input, and on Python's backtracking ``re`` an input can take
forever: ``^v(\\d+\\.?)+$`` against a 34-character tag does not finish. So such patterns are
compiled with RE2 (the ``google-re2`` package): matching time is linear in the text, whatever
the pattern. RE2's syntax is Go's ``regexp`` syntax, which is also what the engines that
read these patterns use (SOPS evaluates ``unencrypted_regex`` with Go's ``regexp``).

What RE2 cannot run (backreferences, lookaround, possessive or atomic groups) is a clear
:class:`PatternError`, as is a pattern longer than :data:`MAX_PATTERN_CHARS` or one whose
compiled program exceeds :data:`MAX_PROGRAM_BYTES` (``a{1000}{1000}``). Python's ``\\Z``
(end of text) is accepted and read as RE2's ``\\z``.

There is no fallback to ``re`` for an arbitrary pattern. The one exception is the built-in
default tag pattern, used only when RE2 cannot be imported: ``^v\\d+\\.\\d+\\.\\d+$`` has no
nested or adjacent quantifiers over overlapping characters (each ``\\d+`` is followed by a
literal that it cannot match), so a backtracking match tries each ``\\d+`` split point at most
once per start position and is linear in the text.

``re2`` is imported on the first compile, not with this module (start-up time).
"""

from __future__ import annotations

from gitops_guard.core.findings import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: characters; a longer pattern is refused before it is compiled
MAX_PATTERN_CHARS = 4_096
#: RE2's memory budget for one compiled pattern (its default is 8 MiB)
MAX_PROGRAM_BYTES = 2 << 20
#: patterns proven linear on a backtracking engine (see the module text)
_PROVEN_LINEAR = frozenset({r"^v\d+\.\d+\.\d+$"})

_cache: dict[tuple[str, bool], Pattern] = {}


class PatternError(ValueError):
    """A pattern the linear-time engine cannot run; the message names why."""


class Pattern:
    """A compiled pattern: ``search`` and ``fullmatch`` answer yes or no, in linear time."""

    __slots__ = ("_regex", "pattern")

    def __init__(self, pattern: str, regex: Any) -> None:
        self.pattern = pattern
        self._regex = regex

    def search(self, text: str) -> bool:
        return self._regex.search(text) is not None

    def fullmatch(self, text: str) -> bool:
        return self._regex.fullmatch(text) is not None

    def __repr__(self) -> str:
        return f"Pattern({quote(self.pattern, 60)})"


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Pattern:
    """The pattern compiled for linear-time matching; :class:`PatternError` if it cannot be."""
    key = (pattern, ignore_case)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    if not isinstance(pattern, str):
        raise PatternError(f"a pattern must be a string, not {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(
            f"pattern {quote(pattern)} is longer than the {MAX_PATTERN_CHARS:,} characters allowed"
        )
    if "\0" in pattern:
        raise PatternError(f"pattern {quote(pattern)} holds a NUL character")
    compiled = Pattern(pattern, _compile_re2(pattern, ignore_case))
    if len(_cache) < 256:
        _cache[key] = compiled
    return compiled


def check(pattern: str) -> str | None:
    """Why ``pattern`` cannot be compiled, or None when it can (for schema validation)."""
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def _compile_re2(pattern: str, ignore_case: bool) -> Any:
    try:
        import re2
    except ImportError:
        return _fallback(pattern, ignore_case)
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own line on stderr
    options.max_mem = MAX_PROGRAM_BYTES
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(_translate(pattern), options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(_explain(pattern, str(reason))) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise PatternError(f"pattern {quote(pattern)} cannot be compiled: {exc}") from None


def _explain(pattern: str, reason: str) -> str:
    hint = ""
    if "perl operator" in reason or "escape sequence" in reason:
        hint = (
            " (lookahead, lookbehind and backreferences cannot run in linear time and are "
            "not supported)"
        )
    elif "repetition size" in reason:
        hint = " (a repetition count is at most 1000)"
    elif "too large" in reason:
        hint = " (the compiled pattern would be too large)"
    return f"pattern {quote(pattern)} is not a valid regular expression (RE2): {reason}{hint}"


def _translate(pattern: str) -> str:
    r"""Python spellings RE2 reads differently: ``\Z`` (end of text) is RE2's ``\z``."""
    if "\\Z" not in pattern:
        return pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\z" if nxt == "Z" else char + nxt)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _fallback(pattern: str, ignore_case: bool) -> Any:
    """Without RE2: only a pattern proven linear on ``re`` (see the module text)."""
    if pattern not in _PROVEN_LINEAR:
        raise PatternError(
            f"pattern {quote(pattern)} needs the google-re2 package (a linear-time engine), "
            "which is not installed"
        )
    import re

    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


class Wildcards:
    """The texts a template may render to when each of its actions may be any text: the
    literal parts in order, with at least ``gap`` characters (0 or 1) between two of them.

    Matched in linear time (the first part at the start, the last at the end, each other
    part at its leftmost place after the one before, which is optimal for wildcards). The
    same test as a regular expression, ``a.*b.*c``, backtracks exponentially on a name with
    many near-misses: a repository's ``<<a>>x<<b>>x...`` template stalled the hook."""

    __slots__ = ("_gap", "_parts")

    def __init__(self, parts: list[str], gap: int = 0) -> None:
        self._parts = parts
        self._gap = gap

    def fullmatch(self, text: str) -> bool:
        parts, gap = self._parts, self._gap
        if len(parts) == 1:
            return text == parts[0]
        first, last = parts[0], parts[-1]
        if not text.startswith(first) or not text.endswith(last):
            return False
        at, end = len(first), len(text) - len(last)
        if end < at:
            return False
        for part in parts[1:-1]:
            found = text.find(part, at + gap, end)
            if found < 0:
                return False
            at = found + len(part)
        return end - at >= gap


def split_actions(text: str, opening: str, closing: str) -> list[str]:
    """``text`` cut at its template actions: literal, action, literal, ... (an action's text
    without the delimiters; an opening with no closing after it is literal text). Linear in
    the text: a lazy regular expression (``\\{\\{.*?\\}\\}``) rescans to the end after each
    unclosed opening, quadratic on a file of them."""
    parts: list[str] = []
    at = 0
    while True:
        start = text.find(opening, at)
        end = text.find(closing, start + len(opening)) if start >= 0 else -1
        if end < 0:
            parts.append(text[at:])
            return parts
        parts.append(text[at:start])
        parts.append(text[start + len(opening) : end])
        at = end + len(closing)

"""The last guard of bounded quoting: every line a command prints is cut to ``LINE_CHARS``.

``core/quoting.py`` bounds each input a message quotes; this bounds what still gets through
(a message site that forgot, a diff or drift line of a megabyte), where every output goes
through (``output.MaskingStream``, after the masking). JSON and SARIF stay valid: a long
string literal is cut inside its quotes.
"""

from __future__ import annotations

#: characters of any line a command prints, on stdout or stderr, at most: above what a
#: bounded message needs (a path, a rule and a ``quoting.MESSAGE_CHARS`` message)
LINE_CHARS = 4_000

#: a string literal as JSON (and Python's repr with double quotes) writes it
_LITERAL = r'"[^"\\]*(?:\\.[^"\\]*)*"'
#: what a cut says: the cut text's length (a cut that is cut again keeps the first count)
_CUT_MARK = r"\.\.\. \(([\d,]+) chars\)"


def cap_line(line: str, limit: int = LINE_CHARS) -> str:
    """One printed line (without its end) cut to at most ``limit`` characters.

    JSON and SARIF stay valid: string literals (``"..."``) are cut inside their quotes first,
    the longest first, each to the same number of characters; only a line whose quoted parts
    cannot make it fit is cut as a whole. A cut never falls inside an escape (``\\n``,
    ``\\xNN``, ``\\uNNNN``, a JSON surrogate pair, GitHub's ``%0A``) and says the length of
    what it cut (``... (1,048,576 chars)``). Python strings hold whole characters, so no
    multi-byte character is split either.
    """
    if len(line) <= limit:
        return line
    import re

    literals = [m.span() for m in re.finditer(_LITERAL, line)]
    if literals and len(_shorten(line, literals, 0)) <= limit:
        low, high = 0, max(end - start for start, end in literals)
        while low < high:  # the most of each literal that still fits
            middle = (low + high + 1) // 2
            if len(_shorten(line, literals, middle)) <= limit:
                low = middle
            else:
                high = middle - 1
        return _shorten(line, literals, low)
    mark = f"... ({_length(line):,} chars)"
    return line[: _safe_cut(line, max(0, limit - len(mark)))] + mark


def _shorten(line: str, literals: list[tuple[int, int]], keep: int) -> str:
    """``line`` with the content of each literal longer than ``keep`` cut to ``keep``."""
    parts = []
    at = 0
    for start, end in literals:
        size = end - start - 2
        if size <= keep:
            continue
        mark = f"... ({_length(line, start + 1, end - 1):,} chars)"
        if size <= keep + len(mark):
            continue  # a cut would not make it shorter (a key, a short value): kept whole
        head = line[start + 1 : start + 1 + keep]
        parts.append(line[at : start + 1])
        parts.append(head[: _safe_cut(head, keep)])
        parts.append(mark)
        at = end - 1
    parts.append(line[at:])
    return "".join(parts)


def _length(text: str, start: int = 0, end: int | None = None) -> int:
    """The length of ``text[start:end]``, or of what it stood for when it ends with a cut's
    mark (a line cut twice says the first length)."""
    import re

    end = len(text) if end is None else end
    found = re.search(_CUT_MARK + r"\Z", text[max(start, end - 40) : end])
    return int(found.group(1).replace(",", "")) if found else end - start


def _safe_cut(text: str, at: int) -> int:
    """Where to cut ``text`` at or before ``at`` so that no escape is cut in half."""
    at = max(0, min(at, len(text)))
    for start in range(at - 1, max(-1, at - 10), -1):
        if text[start] != "\\" or _escaped(text, start):
            continue
        kind = text[start + 1 : start + 2]
        size = {"x": 4, "u": 6, "U": 10}.get(kind, 2)
        if start + size > at:
            at = start
        break
    # the first half of a JSON surrogate pair (``\\ud83d\\ude00``): the pair stays together
    start = at - 6
    if (
        start >= 0
        and text[start : start + 2] == "\\u"
        and _high_surrogate(text[start + 2 : at])
        and not _escaped(text, start)
    ):
        at = start
    percent = text.rfind("%", max(0, at - 2), at)  # GitHub's ``%0A``
    return percent if percent >= 0 else at


def _escaped(text: str, index: int) -> bool:
    """Whether the backslash at ``index`` is itself escaped (an odd run of them before it)."""
    run = 0
    while index - run - 1 >= 0 and text[index - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _high_surrogate(digits: str) -> bool:
    return len(digits) == 4 and digits[:2].lower() in ("d8", "d9", "da", "db")

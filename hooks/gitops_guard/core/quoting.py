"""How any output quotes an input: a bounded prefix, control characters escaped.

Inputs can be megabytes (a 5 MB ``tag_pattern``, a 2 MB list of registries, a 100 kB name)
and can hold newlines (a file name, a YAML value): a message quotes at most
``QUOTE_CHARS`` characters of each and its length when it was cut, and never breaks its
line. Every message site uses these helpers (findings, stderr errors, drift and promote
output); ``Finding`` and ``cli._error`` bound whole messages, and ``core/capping.py`` every
line printed, as the last guards.
"""

from __future__ import annotations

TYPE_CHECKING = False  # start-up time of a commit hook: nothing heavy here
if TYPE_CHECKING:
    from collections.abc import Iterable

#: characters of an input (a value, a name, a pattern) a message quotes at most
QUOTE_CHARS = 100
#: characters of a whole message, at most (a message built from many inputs)
MESSAGE_CHARS = 2_000
#: items of a list a message names at most
LIST_ITEMS = 8


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """An input as a message quotes it: ``repr`` of at most ``limit`` characters of it, and
    its length when it was cut (``repr`` escapes control characters). Secrets are masked
    before the cut (``masking.masked_prefix``): the start of a key cut short is recognised
    by nothing later."""
    text = value if isinstance(value, str) else str(value)
    head, cut = _masked(text, limit)
    if not cut:
        return repr(head)
    return f"{head!r}... ({len(text):,} chars)"


def shown(value: object, limit: int = QUOTE_CHARS) -> str:
    """An input shown bare (a name, a URL, a path in prose): at most ``limit`` characters and
    its length when cut, control characters escaped (``\\n``), secrets masked before the cut.
    A short printable value without a secret is unchanged."""
    text = value if isinstance(value, str) else str(value)
    head, cut = _masked(text, limit)
    if cut:
        return f"{one_line(head)}... ({len(text):,} chars)"
    return one_line(head)


def _masked(text: str, limit: int) -> tuple[str, bool]:
    """At most ``limit`` characters of ``text``, masked first (``core/masking.py``, the
    recognisers every output line goes through), and whether it was cut."""
    from gitops_guard.core.masking import masked_prefix

    return masked_prefix(text, limit)


def one_line(text: str) -> str:
    """``text`` with each newline or other control character escaped, so it stays one line;
    printable text is unchanged."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def bounded(text: str, limit: int = MESSAGE_CHARS) -> str:
    """A message (or any text built from inputs) cut to at most about ``limit`` characters,
    its secrets masked before the cut. A short text without a secret is unchanged."""
    head, cut = _masked(text, limit)
    return f"{head}... ({len(text):,} chars)" if cut else head


def quote_list(items: Iterable[object], limit: int = LIST_ITEMS) -> str:
    """``'a', 'b', 'c'``, or the first ``limit`` items and how many more."""
    items = list(items)
    shown_items = ", ".join(quote(i) for i in items[:limit])
    more = len(items) - limit
    return f"{shown_items} and {more:,} more" if more > 0 else shown_items


def shown_list(items: Iterable[object], limit: int = LIST_ITEMS) -> str:
    """``a, b, c`` (each :func:`shown`), or the first ``limit`` items and how many more."""
    items = list(items)
    text = ", ".join(shown(i) for i in items[:limit])
    more = len(items) - limit
    return f"{text} and {more:,} more" if more > 0 else text

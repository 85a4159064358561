"""Byte-minimal YAML edits: change a scalar where it is written, and nothing else.

A round-trip through a YAML library re-serialises the whole file and loses what the user wrote
(indentless sequences, quoting, blank lines, CRLF, a BOM, comment columns). Here the parser only
says *where* each scalar sits (character offsets from PyYAML's pure-Python composer), and edits
are splices of the original text: replace a scalar's span, insert one ``key: value`` line after
a sibling, or delete one such line. Every other byte stays as it was.

A BOM is taken off before parsing (libyaml does not count it) and put back on writing.
"""

from __future__ import annotations

from gitops_guard.core.findings import quote

TYPE_CHECKING = False  # start-up time: typing, json and dataclasses are not imported
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"


class EditError(Exception):
    """The file cannot be edited safely; the message says where and why."""


class Edit(tuple):
    """A splice: replace ``text[start:end]`` with ``text`` (ordered, hashable, immutable)."""

    __slots__ = ()

    def __new__(cls, start: int, end: int, text: str) -> Edit:
        return tuple.__new__(cls, (start, end, text))

    @property
    def start(self) -> int:
        return self[0]

    @property
    def end(self) -> int:
        return self[1]

    @property
    def text(self) -> str:
        return self[2]

    def __repr__(self) -> str:
        return f"Edit(start={self[0]!r}, end={self[1]!r}, text={self[2]!r})"


def _yaml() -> Any:
    import yaml

    return yaml


def decode(data: bytes, where: str) -> str:
    """UTF-8 text without its BOM (the caller keeps the BOM and writes it back)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EditError(f"{where}: UTF-16 files are not edited; convert the file to UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EditError(f"{where}: not UTF-8 (byte {exc.start})") from None


def has_bom(data: bytes) -> bool:
    return data.startswith(b"\xef\xbb\xbf")


def compose(text: str, where: str, exact: bool = True) -> list[Any]:
    """The node trees of every document. With ``exact``, marks are character offsets into
    ``text``: libyaml's marks are checked against the text (they count characters) and the
    pure-Python composer is the fallback when they do not line up."""
    yaml = _yaml()
    fast = getattr(yaml, "CSafeLoader", None)
    roots = _compose(text, where, fast or yaml.SafeLoader)
    if exact and fast is not None and not _offsets_line_up(text, roots):
        roots = _compose(text, where, yaml.SafeLoader)
    return roots


def _compose(text: str, where: str, loader: Any) -> list[Any]:
    yaml = _yaml()
    try:
        return [n for n in yaml.compose_all(text, Loader=loader) if n is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{mark.line + 1}:{mark.column + 1}: " if mark is not None else " "
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise EditError(f"{where}:{at}invalid YAML: {problem}") from None
    except RecursionError:
        raise EditError(f"{where}: nesting too deep to parse") from None


def _offsets_line_up(text: str, roots: list[Any]) -> bool:
    """Every single-line scalar sits where its marks say (plain: its text; quoted: quotes)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.id == "scalar":
            start, end = node.start_mark.index, node.end_mark.index
            if end > len(text) or start > end:
                return False
            if node.style in (None, "") and "\n" not in text[start:end]:
                if node.value and not text[start:end].endswith(node.value):
                    return False
            elif node.style in ("'", '"') and text[end - 1 : end] != node.style:
                return False
        elif node.id == "sequence":
            stack.extend(node.value)
        else:
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return True


def items(mapping: Any) -> Iterator[tuple[str, Any, Any, bool]]:
    """(key, key node, value node, inherited) of a mapping node; merge keys (``<<``) resolved,
    explicit keys first, as YAML 1.1 says."""
    seen: set[str] = set()
    merges = []
    for key_node, value_node in mapping.value:
        if key_node.tag == MERGE_TAG:
            merges.append(value_node)
            continue
        if key_node.id == "scalar" and key_node.value not in seen:
            seen.add(key_node.value)
            yield key_node.value, key_node, value_node, False
    for merge in merges:
        for base in merge.value if merge.id == "sequence" else [merge]:
            if base.id != "mapping":
                continue
            for key, key_node, value_node, _ in items(base):
                if key not in seen:
                    seen.add(key)
                    yield key, key_node, value_node, True


def scalar_span(text: str, node: Any) -> tuple[int, int]:
    """Offsets of the scalar itself, without a leading ``&anchor`` or ``!tag``."""
    start, end = node.start_mark.index, node.end_mark.index
    while start < end and text[start] in "&!":
        while start < end and not text[start].isspace():
            start += 1
        while start < end and text[start] in " \t":
            start += 1
    return start, end


def style_of(node: Any) -> str:
    return {None: "plain", "": "plain", "'": "single", '"': "double"}.get(node.style, "block")


def _plain_ok(value: str, flow: bool, keep_type: bool) -> bool:
    """Whether ``value`` reads back as the same plain scalar (and as a string, unless the
    original was a plain non-string such as ``1.10`` that the user chose to leave unquoted)."""
    if not value or value != value.strip() or "\n" in value:
        return False
    yaml = _yaml()
    probe = f"{{k: {value}}}" if flow else f"k: {value}"
    try:
        node = yaml.compose(probe, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return False
    if node is None or node.id != "mapping" or len(node.value) != 1:
        return False
    scalar = node.value[0][1]
    if scalar.id != "scalar" or scalar.style not in (None, "") or scalar.value != value:
        return False
    return scalar.tag == STR_TAG or keep_type


def render(value: str, style: str, flow: bool = False, was_str: bool = True) -> str:
    """``value`` written in ``style``; plain falls back to double quotes when plain would
    change its meaning (``1.10``, ``yes``, ``a: b``)."""
    if style == "plain":
        if _plain_ok(value, flow, keep_type=not was_str):
            return value
        style = "double"
    if style == "single" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    import json

    return json.dumps(value, ensure_ascii=False)


def replace_scalar(text: str, node: Any, value: str, flow: bool) -> Edit:
    style = style_of(node)
    if style == "block":
        line = node.start_mark.line + 1
        raise EditError(f"line {line}: a block scalar (| or >) holds an image field; not edited")
    start, end = scalar_span(text, node)
    was_str = node.tag in (STR_TAG, "tag:yaml.org,2002:null")  # null: write a string
    return Edit(start, end, render(value, style, flow, was_str=was_str))


def _newline(text: str, at: int) -> str:
    return "\r\n" if at > 0 and text[at - 1] == "\r" else "\n"


def _line_end(text: str, index: int) -> int:
    """Offset of the line break ending the line that holds ``index`` (len(text) if none)."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found


def insert_after(
    text: str, mapping: Any, after: Any, entries: list[tuple[str, str]], like: Any | None = None
) -> Edit:
    """Add ``key: value`` entries to ``mapping`` right after the entry whose value is ``after``,
    indented like its siblings (block) or comma-separated (flow)."""
    style = style_of(like) if like is not None and style_of(like) != "block" else "plain"
    if mapping.flow_style:
        _, end = scalar_span(text, after) if after.id == "scalar" else (0, after.end_mark.index)
        added = "".join(f", {k}: {render(v, style, flow=True)}" for k, v in entries)
        return Edit(end, end, added)
    indent = mapping.value[0][0].start_mark.column
    end = scalar_span(text, after)[1] if after.id == "scalar" else after.end_mark.index - 1
    line_end = _line_end(text, end)
    lines = [" " * indent + f"{k}: {render(v, style)}" for k, v in entries]
    if line_end >= len(text):
        eol = "\r\n" if "\r\n" in text else "\n"
        return Edit(len(text), len(text), "".join(eol + line for line in lines))
    eol = _newline(text, line_end)
    return Edit(line_end + 1, line_end + 1, "".join(line + eol for line in lines))


def delete_entry(text: str, mapping: Any, key_node: Any, value_node: Any) -> Edit:
    """Remove one ``key: value`` entry (its whole line in block style)."""
    if mapping.flow_style:
        start = key_node.start_mark.index
        _, end = scalar_span(text, value_node)
        before = text[:start].rstrip(" \t")
        if before.endswith(","):
            return Edit(len(before) - 1, end, "")
        after = end
        while after < len(text) and text[after] in " \t":
            after += 1
        if after < len(text) and text[after] == ",":
            after += 1
            while after < len(text) and text[after] in " \t":
                after += 1
        return Edit(start, after, "")
    line_start = text.rfind("\n", 0, key_node.start_mark.index) + 1
    if text[line_start : key_node.start_mark.index].strip():
        line = key_node.start_mark.line + 1
        raise EditError(
            f"line {line}: {quote(key_node.value)} shares its line with other YAML; not removed"
        )
    _, value_end = scalar_span(text, value_node)
    line_end = _line_end(text, value_end)
    rest = text[value_end:line_end].strip()
    if rest and not rest.startswith("#"):
        line = key_node.start_mark.line + 1
        raise EditError(
            f"line {line}: {quote(key_node.value)} is followed by more YAML; not removed"
        )
    if line_end >= len(text):  # last line without a break: take the break before it instead
        cut = line_start - 1
        if cut > 0 and text[cut - 1] == "\r":
            cut -= 1
        return Edit(max(cut, 0), len(text), "")
    return Edit(line_start, line_end + 1, "")


def apply(text: str, edits: list[Edit]) -> str:
    """Splice the edits into the text (duplicates collapse; overlapping ones are an error)."""
    result = []
    last = 0
    for edit in sorted(set(edits)):
        if edit.start < last:
            raise EditError("two edits overlap (the same value is reached in two ways)")
        result.append(text[last : edit.start])
        result.append(edit.text)
        last = edit.end
    result.append(text[last:])
    return "".join(result)


def _last_scalar(node: Any) -> Any:
    """The last scalar written inside ``node`` (a block collection's own end mark can lie
    lines further down, past comments that belong to what follows)."""
    while node.id != "scalar":
        if not node.value:
            return node
        last = node.value[-1]
        node = last[1] if node.id == "mapping" else last
    return node


def insert_item(text: str, sequence: Any, index: int, item: str) -> Edit:
    """Insert ``item`` (YAML text; several lines for a mapping, written from column 0) into
    ``sequence`` before position ``index`` (``len(sequence.value)``: append), indented like
    the items there (block) or comma-separated (flow). Nothing else changes."""
    count = len(sequence.value)
    if not 0 <= index <= count:
        raise EditError(f"line {sequence.start_mark.line + 1}: no item {index} to insert at")
    if sequence.flow_style:
        if "\n" in item:
            raise EditError(f"line {sequence.start_mark.line + 1}: a flow sequence takes one line")
        if index < count:
            at = sequence.value[index].start_mark.index
            return Edit(at, at, f"{item}, ")
        close = sequence.end_mark.index - 1
        if count == 0:
            return Edit(close, close, item)
        last = sequence.value[-1]
        end = scalar_span(text, last)[1] if last.id == "scalar" else last.end_mark.index
        return Edit(end, end, f", {item}")
    if count == 0:
        raise EditError(f"line {sequence.start_mark.line + 1}: an empty block sequence")
    first = sequence.value[0]
    dash = text.rfind("-", 0, first.start_mark.index)
    line_start = text.rfind("\n", 0, dash) + 1
    column = dash - line_start
    gap = first.start_mark.index - dash
    lines = item.split("\n")
    eol = "\r\n" if "\r\n" in text else "\n"
    written = [" " * column + "-" + " " * (gap - 1) + lines[0]]
    written += [" " * (column + gap) + line if line else "" for line in lines[1:]]
    if index < count:
        at = text.rfind("\n", 0, sequence.value[index].start_mark.index) + 1
        return Edit(at, at, "".join(line + eol for line in written))
    last = _last_scalar(sequence.value[-1])
    end = scalar_span(text, last)[1] if last.id == "scalar" else last.end_mark.index
    line_end = _line_end(text, end)
    if line_end >= len(text):
        return Edit(len(text), len(text), "".join(eol + line for line in written))
    return Edit(line_end + 1, line_end + 1, "".join(line + eol for line in written))


def lookup(root: Any, *path: str | int) -> Any | None:
    """The node at ``path`` (mapping keys, sequence indexes) below ``root``, or None."""
    node = root
    for step in path:
        if node is None:
            return None
        if isinstance(step, int):
            if node.id != "sequence" or not -len(node.value) <= step < len(node.value):
                return None
            node = node.value[step]
            continue
        if node.id != "mapping":
            return None
        node = next((value for key, _, value, _ in items(node) if key == step), None)
    return node

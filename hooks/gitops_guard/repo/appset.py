"""ApplicationSet templates: the values the controller puts into them.

An ApplicationSet's ``spec.template`` is not applied as written: the ApplicationSet controller
renders it once per parameter set its generators produce and creates one Application from each
(Argo CD docs operator-manual/applicationset/Template.md, GoTemplate.md; the rendering is
applicationset/utils/utils.go). By default it uses fasttemplate: ``{{param}}`` (spaces inside the
braces trimmed; ``{{values.x}}`` for a list element's ``values``). With ``goTemplate: true`` each
string field is a Go text/template: ``{{.param}}``. So a field holding ``{{`` is no literal.

Only a list generator's literal ``elements`` are known before the controller runs
(applicationset/generators/list.go: in fasttemplate mode every element value must be a string,
or the generator fails and makes nothing; in Go template mode the element is the data as is).
Each value those elements make is checked like a literal, and the message says which element
made it. Anything else (git files or directories, clusters, a matrix, ``elementsYaml``, a
generator with its own ``template`` or a ``selector``, a ``templatePatch``, a Go template that
is more than a field reference) is unresolvable: nothing is reported about it.

A ``templatePatch`` is rendered per parameter set and merged onto the Application the template
made (applicationset/utils/utils.go ``applyTemplatePatch``, a strategic merge patch). A caller
that reads only some fields (``keeps``: the Application sources, for check-manifests) may use
the elements when the patch cannot touch those fields: the key is nowhere in the patch's text
and every action in it is a control action (``if``/``else``/``end``/``with``/``range``) or
prints one field in a value position (after ``:`` or ``-``), so no key comes from a parameter.
"""

from __future__ import annotations

import re

from gitops_guard.core.documents import Map, Seq
from gitops_guard.core.findings import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MARK = "{{"
#: a fasttemplate tag: the text between ``{{`` and the next ``}}`` (utils.go trims spaces)
_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
#: a Go template action that only prints a field: ``{{ .a.b }}`` (trim markers allowed)
_GO_FIELD = re.compile(r"-?\s*\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*-?")


class Expansion:
    """What the template fields of one ApplicationSet become (see the module docstring)."""

    __slots__ = ("elements", "go")

    def __init__(self, data: Map | None, keeps: str | None = None) -> None:
        self.go = False
        #: (line of the element, the element) of every literal list generator
        self.elements: list[tuple[int, Map]] = []
        spec = data.get("spec") if isinstance(data, Map) else None
        if not isinstance(spec, Map):
            return
        self.go = spec.get("goTemplate") is True
        patch = spec.get("templatePatch")
        if patch and not (keeps and isinstance(patch, str) and _patch_leaves(patch, keeps)):
            return  # it may rewrite any field per Application: nothing is known
        generators = spec.get("generators")
        if not isinstance(generators, Seq):
            return
        for generator in generators:
            if not isinstance(generator, Map) or generator.get("selector") is not None:
                continue
            items = generator.get("list")
            if not isinstance(items, Map) or items.get("template") is not None:
                continue
            elements = items.get("elements")
            if isinstance(elements, Seq):
                for element in elements:
                    if isinstance(element, Map):
                        self.elements.append((element.pos[0], element))

    def values(self, value: str) -> list[tuple[str, str]]:
        """``(value, note)`` for each value a template field becomes.

        A literal is itself (no note). A templated field gives what each literal list
        element makes of it (the note names the elements); none when nothing resolves it.
        """
        if MARK not in value:
            return [(value, "")]
        made: dict[str, list[int]] = {}
        for line, element in self.elements:
            rendered = self._render(value, element)
            if rendered is not None:
                made.setdefault(rendered, []).append(line)
        found = []
        for rendered, lines in made.items():
            where = (
                f"the list element at line {lines[0]}"
                if len(lines) == 1
                else f"the list elements at lines {', '.join(str(n) for n in lines)}"
            )
            found.append((rendered, f" (what {quote(value)} becomes for {where})"))
        return found

    def render(self, value: str, element: Map) -> str | None:
        """What one list element makes of a template field (None: not resolved)."""
        return value if MARK not in value else self._render(value, element)

    def _render(self, value: str, element: Map) -> str | None:
        failed = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal failed
            tag = match.group(1)
            if self.go:
                field = _GO_FIELD.fullmatch(tag)
                found = _lookup(element, field.group(1)) if field else None
            else:
                found = _fast_param(element, tag.strip())
            if found is None:
                failed = True
                return ""
            return found

        rendered = _TAG.sub(substitute, value)
        if failed or MARK in rendered:
            return None
        return rendered


def _scalar(value: Any, go: bool) -> str | None:
    if isinstance(value, str):
        return value
    if go and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # Go prints a JSON number 1 as "1"
    return None  # a float, boolean, mapping: not guessed


def _fast_param(element: Map, name: str) -> str | None:
    """A fasttemplate parameter of a list element (list.go: ``values.<k>`` is flattened;
    every value must be a string)."""
    if name.startswith("values."):
        values = element.get("values")
        if isinstance(values, Map):
            return _scalar(values.get(name[len("values.") :]), False)
        return None
    return _scalar(element.get(name), False)


def _lookup(element: Map, path: str) -> str | None:
    """``.a.b`` of a list element, as Go's text/template reads a map field chain."""
    item: Any = element
    for part in path.split("."):
        if not isinstance(item, Map) or part not in item:
            return None
        item = item[part]
    return _scalar(item, True)


#: a Go template control action: it prints nothing
_CONTROL = re.compile(r"-?\s*(?:if|else|end|with|range)\b.*", re.S)


def _patch_leaves(patch: str, key: str) -> bool:
    """A ``templatePatch`` that cannot set ``key`` (see the module docstring)."""
    if key in patch:
        return False
    for match in _TAG.finditer(patch):
        action = match.group(1)
        if _CONTROL.fullmatch(action):
            continue
        if not _GO_FIELD.fullmatch(action):
            return False
        line_start = patch.rfind("\n", 0, match.start()) + 1
        before = patch[line_start : match.start()].strip()
        if not (before.endswith(":") or ":" in before or before.startswith("-")):
            return False  # a printed value where a key may be
    return True

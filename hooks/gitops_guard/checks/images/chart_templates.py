"""How a chart's templates use an image value of its ``values.yaml``.

A values file is only data: Helm renders the chart's templates with it as ``.Values`` (helm
``pkg/engine/engine.go``, Go ``text/template``), and the template decides what reaches the
pod spec. ``server.image: metersphere`` is no untagged reference when every template writes
``image: {{ .Values.common.imagePrefix }}{{ .Values.server.image }}:{{ .Values.common.imageTag }}``:
the tag is the template's (here ``common.imageTag``), and Helm's own scaffold writes
``"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"``
(helm ``pkg/chart/v2/util/create.go``), where the tag comes from the chart.

Only what is written literally is read: an action that is a plain ``.Values.a.b`` (or
``$.Values``, with pipes), followed by ``:`` or ``@`` and the tag (or digest); or
``printf "%s:%s" .Values.a.b ...``. A value reached another way (``with``, ``index``, a helper
given a dict) is not found here, and the value is judged as written.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: an action that is one value of ``.Values``, possibly piped (``| default .Chart.AppVersion``)
_VALUE = re.compile(r"^\(?\$?\.Values\.([A-Za-z_][\w.]*)\)?(?:\s*\|\s*(.*))?$", re.S)
#: ``printf "%s:%s" .Values.a.b <tag>``: Helm's and Bitnami's helpers spell the image so
_PRINTF = re.compile(r"""^printf\s+"%s([:@])%s"\s+\$?\.Values\.([A-Za-z_][\w.]*)\s+(.*)$""", re.S)
#: a literal tag after ``:`` in the template itself (``{{ .Values.image }}:1.2``)
_LITERAL_TAG = re.compile(r"[\w][\w.-]*")

#: what a template does with a value: the value is the whole reference (or anything but its
#: name), or the template supplies the tag or digest after it (with the ``.Values`` path it
#: takes the tag from when it names one plainly, and whether a default stands in when unset)
WHOLE = "whole"
SUPPLIED = "supplied"

#: template files Helm renders or includes (helm ``pkg/chart/v2/loader``: every file under
#: ``templates/``; partials ``_*.tpl`` hold the ``define`` blocks of helpers)
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")
_MAX_BYTES = 1 << 20
_MAX_FILES = 2000

#: (WHOLE or SUPPLIED, the separator ``:`` / ``@`` the template writes, the ``.Values`` path
#: the tag or digest is taken from when the template names one plainly, whether a
#: ``default`` stands in when that value is unset, what the template writes before the value:
#: ``""`` nothing, a ``.Values`` path (``{{ .Values.common.imagePrefix }}``), literal text
#: (``registry.example.com/``), None something else; whether the action is the value of an
#: ``image:`` key, where a pod spec takes it, not a label or a note that mentions it)
Use = tuple[str, str, tuple[str, ...] | None, bool, "tuple[str, ...] | str | None", bool]

#: a template line that sets a container's image: ``image:``, ``- image:``, ``"image":``
_IMAGE_KEY = re.compile(r"""[ \t]*(?:-[ \t]+)?["']?image["']?[ \t]*:""")


#: ``tpl .Values.a.b``: the value is itself rendered as a template (Helm's ``tpl`` function,
#: pkg/engine/engine.go), as metersphere renders ``server.properties`` into a ConfigMap
_TPL = re.compile(r"\btpl\s+\(?\$?\.Values\.([A-Za-z_][\w.]*)")

Uses = dict[tuple[str, ...], list[Use]]


def chart_uses(chart: str) -> tuple[Uses, set[tuple[str, ...]]]:
    """(``.Values`` path -> how each action naming it uses it, over the chart's templates;
    the ``.Values`` paths the templates render with ``tpl``)."""
    from gitops_guard.core.documents import read_regular

    found: Uses = {}
    rendered: set[tuple[str, ...]] = set()
    root = os.path.join(chart, "templates")
    count = 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(_TEMPLATE_SUFFIXES):
                continue
            count += 1
            if count > _MAX_FILES:
                return found, rendered
            data, _ = read_regular(os.path.join(folder, name), _MAX_BYTES)
            if data is not None:
                text = data.decode("utf-8", "replace")
                template_uses(text, found)
                rendered.update(tuple(m.group(1).split(".")) for m in _TPL.finditer(text))
    return found, rendered


def with_rendered_values(uses: Uses, rendered: set[tuple[str, ...]], values: Any) -> Uses:
    """``uses`` and the uses in the values strings the templates render with ``tpl`` (a
    values file's own ``{{ .Values.jmeter.image }}:{{ .Values.jmeter.imageTag }}``)."""
    texts = []
    for path in sorted(rendered):
        node = values
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and ".Values." in node:
            texts.append(node)
    if not texts:
        return uses
    merged = {path: list(found) for path, found in uses.items()}
    for text in texts:
        template_uses(text, merged)
    return merged


def template_uses(text: str, found: Uses | None = None) -> Uses:
    """How the actions of one template use each plainly named ``.Values`` path."""
    if found is None:
        found = {}
    if ".Values." not in text:
        return found
    actions = _actions(text)
    for i, (start, end, body) in enumerate(actions):
        keyed = _IMAGE_KEY.match(text, text.rfind("\n", 0, start) + 1) is not None
        printf = _PRINTF.match(body)
        if printf:
            path = tuple(printf.group(2).split("."))
            use = (SUPPLIED, printf.group(1), *_tag_source(printf.group(3)), "", keyed)
            found.setdefault(path, []).append(use)
            continue
        value = _VALUE.match(body)
        if not value:
            continue
        path = tuple(value.group(1).split("."))
        after = text[end : end + 2]
        before = _before(text, actions, i)
        use: Use = (WHOLE, "", None, False, before, keyed)
        if after[:1] in (":", "@") and _plain(value.group(2)):
            following = actions[i + 1] if i + 1 < len(actions) else None
            if following is not None and following[0] == end + 1:
                use = (SUPPLIED, after[:1], *_tag_source(following[2]), before, keyed)
            elif _LITERAL_TAG.match(after[1:]):
                use = (SUPPLIED, after[:1], None, False, before, keyed)
        found.setdefault(path, []).append(use)
    return found


def _actions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, body) of each ``{{ ... }}`` / ``{{- ... -}}`` action, scanned once (an
    unclosed ``{{`` ends the scan: nothing after it is an action)."""
    found = []
    at = text.find("{{")
    while at >= 0:
        close = text.find("}}", at + 2)
        if close < 0:
            break
        body = text[at + 2 : close]
        body = body[1:] if body.startswith("-") else body
        body = body[:-1] if body.endswith("-") else body
        found.append((at, close + 2, body.strip()))
        at = text.find("{{", close + 2)
    return found


#: what a reference's name may be made of in front of a value: ``registry.example.com/``
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:-")


def _before(text: str, actions: list[tuple[int, int, str]], i: int) -> tuple[str, ...] | str | None:
    """What the template writes right before action ``i``, as far as a reference goes: a
    plain ``.Values`` action (a path), literal text, ``""`` (nothing), None (other)."""
    start = actions[i][0]
    if i > 0 and actions[i - 1][1] == start:
        previous = actions[i - 1]
        value = _VALUE.match(previous[2])
        if value and not value.group(2) and _literal_before(text, actions, i - 1) == "":
            return tuple(value.group(1).split("."))
        return None
    return _literal_before(text, actions, i)


def _literal_before(text: str, actions: list[tuple[int, int, str]], i: int) -> str | None:
    """The name characters written right before action ``i`` (``registry.example.com/``),
    ``""`` for none; None when another action comes first or the text is not a name."""
    start = actions[i][0]
    at = start
    while at > 0 and text[at - 1] in _NAME_CHARS:
        at -= 1
    run = text[at:start]
    if i > 0 and actions[i - 1][1] == at:
        return None  # an action, then text
    if run.endswith(":"):
        return ""  # ``image:{{ ... }}``: the key, not a name
    if ":" in run and "/" not in run:
        return None  # ``image:foo{{ ... }}``: what is the key and what the name is unclear
    return run


def _tag_source(body: str) -> tuple[tuple[str, ...] | None, bool]:
    """The ``.Values`` path a tag action takes its value from, and whether it has a
    ``default`` (``.Values.image.tag | default .Chart.AppVersion``); (None, False) when it is
    not one plain value."""
    body = body.strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1].strip()
    value = _VALUE.match(body)
    if not value:
        return None, False
    if not _plain(value.group(2)):
        return None, False  # another function changes the value: not the written one
    return tuple(value.group(1).split(".")), bool(value.group(2))


def _plain(pipes: str | None) -> bool:
    """Whether an action's pipes leave a set value as written: none, or a ``default``."""
    return not pipes or re.fullmatch(r"default\s+[^|]+", pipes.strip()) is not None

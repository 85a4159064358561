"""Flux postBuild variable substitution: the ``${VAR}`` grammar and where it is switched off.

kustomize-controller substitutes variables in every object a Kustomization builds (fluxcd/pkg
``kustomize/kustomize_varsub.go``, ``SubstituteVariables``) with drone/envsubst: ``${NAME}``,
and ``${NAME:=d}`` / ``${NAME:-d}`` / ``${NAME=d}`` / ``${NAME-d}`` fall back to ``d`` when the
value is empty; an object labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute:
disabled`` is applied as written. What a variable is worth is the caller's to say (the
Kustomization's ``substitute`` alone, or with the ConfigMaps and Secrets of
``substituteFrom`` this repository writes).
"""

from __future__ import annotations

import re

from gitops_guard.core.documents import Map

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from gitops_guard.core.documents import Document

DISABLED = "kustomize.toolkit.fluxcd.io/substitute"
VAR = re.compile(r"\$\{([^}]*)\}")
#: envsubst's ${NAME}, ${NAME:=default}, ${NAME:-default}, ${NAME=default}, ${NAME-default}
PARAM = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-=])(.*))?", re.S)


def disabled(doc: Document) -> bool:
    """Whether the object opts out of substitution (label or annotation ``disabled``)."""
    meta = doc.metadata
    if meta is None:
        return False
    for key in ("labels", "annotations"):
        values = meta.get(key)
        if isinstance(values, Map) and values.get(DISABLED) == "disabled":
            return True
    return False


def envsubst(text: str, value_of: Callable[[str], str | None]) -> str | None:
    """``text`` with every ``${...}`` evaluated; ``value_of(name)`` is the variable's value
    (``""`` when nothing sets it), None when it cannot be known here. None when any cannot, or
    an expression is one not evaluated here (``${#X}``, ``${X:0:2}``, ``${X^^}``), or a ``$``
    is left in the result."""
    failed = False

    def one(match: re.Match[str]) -> str:
        nonlocal failed
        param = PARAM.fullmatch(match.group(1))
        if param is None:
            failed = True
            return ""
        name, op, default = param.groups()
        value = value_of(name)
        if value is None:
            failed = True
            return ""
        if op and not value:
            return default
        return value

    result = VAR.sub(one, text)
    return None if failed or "$" in result else result

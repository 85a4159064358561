"""A Jinja filter for the template: ``{{ value | yaml_str }}`` writes a value that YAML reads
back as that same string.

A DNS-1123 label such as ``2024``, ``0x1f``, ``1e3`` or ``yes`` is a valid name, but written
plain YAML reads it as a number or a boolean (``2024-01-01`` as a date), and Kubernetes then
rejects the object or a hook reports a non-string label. Such values are double-quoted; every
other value is written as it is, so the common case stays plain. cookiecutter loads this
module through ``_extensions`` (it puts the template folder on ``sys.path``); the post-gen hook
and ``gitops-guard add`` apply the same rule (a test keeps the copies in step).
"""

from __future__ import annotations

import json

from jinja2.ext import Extension

#: plain words YAML 1.1 (PyYAML, go-yaml v2: kustomize, Argo CD) or 1.2 read as non-strings
_WORDS = ("y", "n", "yes", "no", "on", "off", "true", "false", "null")
NOT_STRINGS = frozenset(("~", *_WORDS, *(word.capitalize() for word in _WORDS)))


def yaml_str(value: object) -> str:
    text = str(value)
    if not text or text in NOT_STRINGS or text[0] in "0123456789+-.":
        return json.dumps(text)
    return text


def env_stages(value: object) -> list[list[str]]:
    """``staging,prod-eu+prod-us`` -> ``[["staging"], ["prod-eu", "prod-us"]]``: the promotion
    order, each stage a list of environments that run in parallel."""
    stages = []
    for stage in str(value).split(","):
        names = [name.strip() for name in stage.split("+") if name.strip()]
        if names:
            stages.append(names)
    return stages


def env_names(value: object) -> list[str]:
    """Every environment, in promotion order."""
    return [name for stage in env_stages(value) for name in stage]


class YamlStrExtension(Extension):
    def __init__(self, environment):  # type: ignore[no-untyped-def]
        super().__init__(environment)
        environment.filters["yaml_str"] = yaml_str
        environment.filters["env_stages"] = env_stages
        environment.filters["env_names"] = env_names

"""Validate the template's answers before any file is written.

cookiecutter renders this file with Jinja first, so the answers arrive as one JSON string
(``tojson`` escapes quotes, so no answer can break the Python around it). ``problems`` is a
plain function: ``gitops-guard new`` imports it to reject bad ``--set`` values before
cookiecutter creates anything. Exit status 1 makes cookiecutter remove the new folder.
"""

from __future__ import annotations

import json
import re
import sys

# fmt: off
ANSWERS = r'''{{ cookiecutter | tojson }}'''
# fmt: on

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HOST_PART = r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?"
REGISTRY = re.compile(
    rf"^(?P<host>{HOST_PART}(\.{HOST_PART})*|\[[0-9a-fA-F:]+\])(:(?P<port>[0-9]+))?"
    r"(?P<path>(/[a-z0-9]+([._-][a-z0-9]+)*)*)$"
)
REV = re.compile(r"^[^\s]+$")
CHOICES = {
    "gitops_engine": ("argocd", "flux"),
    "ci_provider": ("github", "gitlab", "none"),
    "app_format": ("kustomize", "helm"),
    "secrets_backend": ("sealed-secrets", "external-secrets", "sops"),
}


def dns1123_problem(key: str, value: str) -> str | None:
    if not value:
        return f"{key} is empty; it must be a DNS-1123 label such as 'demo-app'"
    if len(value) > 63:
        return f"{key} {value!r} is {len(value)} characters long; a DNS-1123 label has at most 63"
    if not DNS1123_LABEL.match(value):
        return (
            f"{key} {value!r} is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. 'demo-app')"
        )
    return None


def registry_problem(value: str) -> str | None:
    example = "e.g. registry.example.com, localhost:5000 or ghcr.io/my-org"
    match = REGISTRY.match(value or "")
    if not match:
        return f"image_registry {value!r} is not a registry host[:port][/path] ({example})"
    host, port = match.group("host"), match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return f"image_registry {value!r}: port {port} is not between 1 and 65535"
    if "." not in host and port is None and host != "localhost" and not host.startswith("["):
        return (
            f"image_registry {value!r} would be read as a Docker Hub path, not a registry: "
            f"a registry host has a '.', a ':port' or is 'localhost' ({example})"
        )
    return None


def problems(answers: dict) -> list[str]:
    """Every reason the answers cannot make a working repository (empty: all good)."""
    found = []
    for key in ("repo_slug", "app_name"):
        problem = dns1123_problem(key, str(answers.get(key, "")))
        if problem:
            found.append(problem)
    problem = registry_problem(str(answers.get("image_registry", "")))
    if problem:
        found.append(problem)
    for key, allowed in CHOICES.items():
        value = answers.get(key)
        if isinstance(value, str) and value not in allowed:
            found.append(f"{key} {value!r} is not one of: {', '.join(allowed)}")
    if not str(answers.get("project_name", "")).strip():
        found.append("project_name is empty")
    if not REV.match(str(answers.get("_hooks_rev", ""))):
        found.append("_hooks_rev must be a git tag or commit without spaces")
    if not str(answers.get("_hooks_repo", "")).strip():
        found.append("_hooks_repo is empty")
    return found


def main() -> int:
    found = problems(json.loads(ANSWERS))
    for problem in found:
        print(f"gitops-guard template: error: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

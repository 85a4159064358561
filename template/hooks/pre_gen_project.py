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
#: a Git URL a cluster can pull: scheme://host/path or scp-like user@host:path; one line, no
#: quotes, spaces, braces or YAML/shell specials, so it can stand plain in YAML and in a shell
GIT_URL = re.compile(
    r"^(?:(?:https?|ssh|git|file)://[A-Za-z0-9._~%&+,;=:@/\[\]-]+"
    r"|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+)$"
)
URL_MAX = 2048
#: an image reference is at most 255 characters (distribution/reference); the registry is
#: followed by "/<app_name>" (up to 64) and the tag
REGISTRY_MAX = 180
ENV_MAX = 20
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
        return (
            f"{key} {shown(value)} is {len(value)} characters long; a DNS-1123 label has at most 63"
        )
    if not DNS1123_LABEL.match(value):
        return (
            f"{key} {shown(value)} is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. 'demo-app')"
        )
    return None


def registry_problem(value: str) -> str | None:
    example = "e.g. registry.example.com, localhost:5000 or ghcr.io/my-org"
    if len(value) > REGISTRY_MAX:
        return (
            f"image_registry is {len(value)} characters long; at most {REGISTRY_MAX} leave room "
            "for the app's name and tag in a 255-character image reference"
        )
    match = REGISTRY.match(value or "")
    if not match:
        return f"image_registry {shown(value)} is not a registry host[:port][/path] ({example})"
    host, port = match.group("host"), match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return f"image_registry {value!r}: port {port} is not between 1 and 65535"
    if "." not in host and port is None and host != "localhost" and not host.startswith("["):
        return (
            f"image_registry {value!r} would be read as a Docker Hub path, not a registry: "
            f"a registry host has a '.', a ':port' or is 'localhost' ({example})"
        )
    return None


def shown(value: str, limit: int = 60) -> str:
    """A value quoted for a message, at most ``limit`` characters of it."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def url_problem(key: str, value: str) -> str | None:
    if not value:
        return f"{key} is empty"
    if len(value) > URL_MAX:
        return f"{key} is {len(value)} characters long (at most {URL_MAX})"
    if not GIT_URL.match(value):
        return (
            f"{key} {shown(value)} is not a Git URL on one line (https://host/path, "
            "ssh://git@host/path or git@host:path; no spaces, quotes or braces)"
        )
    return None


def hooks_repo_problem(value: str) -> str | None:
    """pre-commit takes a URL or a local path; a path must be absolute and plain."""
    if value.startswith("/"):
        if re.match(r"^/[A-Za-z0-9._~/+-]*$", value) and len(value) <= URL_MAX:
            return None
        return f"_hooks_repo {shown(value)}: a local path may hold only letters, digits and ._~/+-"
    return url_problem("_hooks_repo", value)


def env_stages(value: str) -> list:
    stages = []
    for stage in str(value).split(","):
        names = [name.strip() for name in stage.split("+") if name.strip()]
        if names:
            stages.append(names)
    return stages


def environments_problems(value: str) -> list[str]:
    stages = env_stages(value)
    names = [name for stage in stages for name in stage]
    if not names:
        return ["environments is empty: list them in promotion order, e.g. staging,production"]
    found = []
    pieces = [name.strip() for stage in str(value).split(",") for name in stage.split("+")]
    if "" in pieces:
        found.append(
            f"environments {shown(str(value))} has an empty name: separate environments with "
            "',' (one stage after another) or '+' (clusters of the same stage)"
        )
    if len(names) > ENV_MAX:
        found.append(f"environments lists {len(names)}; at most {ENV_MAX}")
    for name in names:
        problem = dns1123_problem("environment", name)
        if problem:
            if any(mark in name for mark in ";| /"):
                problem += "; separate environments with ',' (in order) or '+' (in parallel)"
            found.append(problem)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        found.append(f"environments lists {', '.join(repeated)} more than once")
    return found


TEAM = re.compile(r"^@?[A-Za-z0-9][A-Za-z0-9._/@-]{0,99}$")


def key_problems(key: str, value: object, answers: dict) -> list[str]:
    """Why one answer is not acceptable (``gitops-guard new`` asks again with the reason)."""
    value = str(value)
    if key in ("repo_slug", "app_name"):
        return [p for p in [dns1123_problem(key, value)] if p]
    if key == "image_registry":
        return [p for p in [registry_problem(value)] if p]
    if key in CHOICES:
        allowed = CHOICES[key]
        return (
            []
            if value in allowed
            else [f"{key} {shown(value)} is not one of: {', '.join(allowed)}"]
        )
    if key == "project_name":
        if not value.strip():
            return ["project_name is empty"]
        if len(value) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in value):
            return ["project_name must be one line of at most 100 characters"]
        return []
    if key == "_hooks_rev":
        if not REV.match(value) or len(value) > 200:
            return ["_hooks_rev must be a git tag or commit without spaces"]
        return []
    if key == "repo_url":
        return [p for p in [url_problem("repo_url", value)] if p]
    if key == "_hooks_repo":
        return [p for p in [hooks_repo_problem(value)] if p]
    if key in ("_platform_team", "_app_team"):
        if not TEAM.match(value):
            return [
                f"{key} {shown(value)} is not a CODEOWNERS owner (@org/team, @user or an email)"
            ]
        return []
    if key == "environments":
        return environments_problems(value)
    return []


def problems(answers: dict) -> list[str]:
    """Every reason the answers cannot make a working repository (empty: all good)."""
    found = []
    keys = (
        "project_name",
        "repo_slug",
        "repo_url",
        *CHOICES,
        "environments",
        "image_registry",
        "app_name",
        "_hooks_repo",
        "_hooks_rev",
        "_platform_team",
        "_app_team",
    )
    for key in keys:
        if key in answers or key in ("repo_slug", "app_name", "image_registry", "project_name"):
            found += key_problems(key, answers.get(key, ""), answers)
    return found


def main() -> int:
    found = problems(json.loads(ANSWERS))
    for problem in found:
        print(f"gitops-guard template: error: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

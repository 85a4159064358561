"""Delete the files the answers did not choose (other engine, CI, secrets backend, format).

Only deterministic deletions: no network, no git, nothing outside the new folder, so
``cruft create`` / ``cruft update`` re-render the same tree every time. The table is data:
each row is (answer, value, paths to delete); ``{app}`` stands for the app's name.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys

# fmt: off
ANSWERS = r'''{{ cookiecutter | tojson }}'''
# fmt: on

ENVIRONMENTS = "clusters/*"
APP_OVERLAY = ENVIRONMENTS + "/{app}"

REMOVE: list[tuple[str, str, list[str]]] = [
    (
        "gitops_engine",
        "argocd",
        [
            ENVIRONMENTS + "/flux",
            APP_OVERLAY + "/helmrelease.yaml",
            APP_OVERLAY + "/kustomizeconfig.yaml",
        ],
    ),
    (
        "gitops_engine",
        "flux",
        ["bootstrap", ENVIRONMENTS + "/argocd", ENVIRONMENTS + "/root-app.yaml"],
    ),
    ("monitoring", "none", ["monitoring"]),
    ("ci_provider", "github", [".gitlab-ci.yml"]),
    ("ci_provider", "gitlab", [".github"]),
    ("ci_provider", "none", [".github", ".gitlab-ci.yml"]),
    (
        "app_format",
        "kustomize",
        [
            "apps/{app}/Chart.yaml",
            "apps/{app}/values.yaml",
            "apps/{app}/.helmignore",
            "apps/{app}/templates",
            APP_OVERLAY + "/values.yaml",
            APP_OVERLAY + "/helmrelease.yaml",
            APP_OVERLAY + "/kustomizeconfig.yaml",
        ],
    ),
    (
        "app_format",
        "helm",
        ["apps/{app}/kustomization.yaml", "apps/{app}/deployment.yaml", "apps/{app}/service.yaml"],
    ),
    (
        "secrets_backend",
        "sealed-secrets",
        [
            ".sops.yaml",
            APP_OVERLAY + "/external-secret.yaml",
            ENVIRONMENTS + "/infrastructure/secret-store.yaml",
            APP_OVERLAY + "/credentials.sops.yaml",
        ],
    ),
    (
        "secrets_backend",
        "external-secrets",
        [".sops.yaml", APP_OVERLAY + "/sealed-secret.yaml", APP_OVERLAY + "/credentials.sops.yaml"],
    ),
    (
        "secrets_backend",
        "sops",
        [
            APP_OVERLAY + "/sealed-secret.yaml",
            APP_OVERLAY + "/external-secret.yaml",
            ENVIRONMENTS + "/infrastructure/secret-store.yaml",
        ],
    ),
]

#: Argo CD reads a Helm app's values file directly: its overlay folder needs no kustomization.
REMOVE_ARGOCD_HELM = [APP_OVERLAY + "/kustomization.yaml"]


def doomed(answers: dict) -> list[str]:
    """The relative paths to delete for these answers, sorted."""
    patterns = [p for key, value, paths in REMOVE if answers.get(key) == value for p in paths]
    if answers.get("gitops_engine") == "argocd" and answers.get("app_format") == "helm":
        patterns += REMOVE_ARGOCD_HELM
    app = answers.get("app_name", "")
    found = set()
    for pattern in patterns:
        found.update(glob.glob(pattern.format(app=app)))
    return sorted(found)


def remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def main() -> int:
    for path in doomed(json.loads(ANSWERS)):
        remove(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write one folder per environment, then delete the files the answers did not choose.

``clusters/_environment/`` is copied unrendered (``_copy_without_render``); it is rendered
here once per environment of the ``environments`` answer into ``clusters/<env>/``, with the
answers as ``cookiecutter`` and the environment's place in the promotion order (``env``,
``previous``, ``following``, ``first``, ``last``: the last stage is the production-like one).
Then the files of the choices not taken (other engine, CI, secrets backend, format) go.

Only deterministic work: no network, no git, nothing outside the new folder, so
``cruft create`` / ``cruft update`` re-render the same tree every time. The deletion table is
data: each row is (answer, value, paths to delete); ``{app}`` stands for the app's name.
``gitops-guard add env`` imports ``render_environment`` to write a new environment's folder
the same way.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
from pathlib import Path

# fmt: off
ANSWERS = r'''{{ cookiecutter | tojson }}'''
# fmt: on

PER_ENVIRONMENT = Path("clusters") / "_environment"
_WORDS = ("y", "n", "yes", "no", "on", "off", "true", "false", "null")
NOT_STRINGS = frozenset(("~", *_WORDS, *(word.capitalize() for word in _WORDS)))


def yaml_str(value: object) -> str:
    """The template's ``yaml_str`` filter (gitops_guard_template_filters.py), repeated here:
    a hook runs as a lone script and cannot import the template's modules."""
    text = str(value)
    if not text or text in NOT_STRINGS or text[0] in "0123456789+-.":
        return json.dumps(text)
    return text


def env_stages(value: object) -> list:
    stages = []
    for stage in str(value).split(","):
        names = [name.strip() for name in stage.split("+") if name.strip()]
        if names:
            stages.append(names)
    return stages


def place(stages: list, env: str) -> dict:
    """``env``'s place in the promotion order, as the per-environment templates see it."""
    index = next(i for i, stage in enumerate(stages) if env in stage)
    return {
        "env": env,
        "previous": stages[index - 1][0] if index > 0 else "",
        "following": stages[index + 1][0] if index + 1 < len(stages) else "",
        "first": index == 0,
        "last": index == len(stages) - 1,
        "stage": index,
    }


def jinja_environment():  # type: ignore[no-untyped-def]
    import jinja2

    environment = jinja2.Environment(
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False
    )
    environment.filters["yaml_str"] = yaml_str
    environment.filters["env_stages"] = env_stages
    environment.filters["env_names"] = lambda v: [n for s in env_stages(v) for n in s]
    return environment


def render_environment(source: Path, target: Path, answers: dict, env: str, only=None) -> list:
    """Render the per-environment templates under ``source`` into ``target`` for ``env``.

    ``only`` (relative paths, rendered) keeps just those files. Returns the written paths.
    """
    environment = jinja_environment()
    context = {"cookiecutter": answers, **place(env_stages(answers["environments"]), env)}
    written = []
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        rel = environment.from_string(str(path.relative_to(source))).render(**context)
        if only is not None and rel not in only:
            continue
        text = environment.from_string(path.read_text(encoding="utf-8")).render(**context)
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        written.append(out)
    return written


def render_environments(answers: dict) -> None:
    for stage in env_stages(answers["environments"]):
        for env in stage:
            render_environment(PER_ENVIRONMENT, Path("clusters") / env, answers, env)
    shutil.rmtree(PER_ENVIRONMENT)


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
    if len(env_stages(answers.get("environments", "staging,production"))) < 2:
        patterns.append(".github/workflows/promote.yml")  # one environment: nothing to promote
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
    answers = json.loads(ANSWERS)
    render_environments(answers)
    for path in doomed(answers):
        if os.path.lexists(path):  # not inside a folder already removed
            remove(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The policy file: find it, validate it against its JSON Schema, merge environment overrides.

Validation uses jsonschema, which costs ~100 ms to import. A commit hook runs on every commit,
so a successful validation is remembered (the policy bytes and the schema, compared exactly):
an unchanged policy file is not validated again. Set ``GITOPS_GUARD_NO_CACHE=1`` to always
validate. For the same reason nothing here imports pathlib, hashlib, json or copy on the way
to a loaded policy.
"""

from __future__ import annotations

import os

from gitops_guard.core.findings import bounded, quote
from gitops_guard.core.rules import RULES

TYPE_CHECKING = False  # start-up time: typing and pathlib are imported only when needed
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

POLICY_PATH = os.path.join("policies", "gitops-guard.yaml")
SCHEMA_ID = "https://gitops-guard.dev/schemas/policy-v1.json"

DEFAULT_TAG_PATTERN = r"^v\d+\.\d+\.\d+$"
DEFAULTS: dict[str, Any] = {
    "version": 1,
    "images": {
        "allowed_registries": [],
        "tag_pattern": DEFAULT_TAG_PATTERN,
        "require_digest": False,
    },
    "kubernetes": {"version": "1.33"},
    "promotion": {
        "environments": ["staging", "production"],
        "require": "history",
        "allowed_differences": {
            "*": ['metadata.labels["app.kubernetes.io/environment"]'],
            "Deployment": [
                "spec.replicas",
                "spec.template.spec.containers[*].resources.requests",
                "spec.template.spec.initContainers[*].resources.requests",
            ],
            "StatefulSet": [
                "spec.replicas",
                "spec.template.spec.containers[*].resources.requests",
                "spec.template.spec.initContainers[*].resources.requests",
            ],
            "Rollout": ["spec.replicas", "spec.template.spec.containers[*].resources.requests"],
            "HorizontalPodAutoscaler": ["spec.minReplicas", "spec.maxReplicas"],
            "PodDisruptionBudget": ["spec.minAvailable", "spec.maxUnavailable"],
            "HelmRelease": ["spec.values.replicaCount", "spec.values.resources.requests"],
            # a values file kustomize turns into a ConfigMap (Flux valuesFrom)
            "ConfigMap": ["data.*.replicaCount", "data.*.resources.requests"],
        },
    },
}

_SEVERITY = {"enum": ["error", "warning", "info", "off"]}

_IMAGES = {
    "type": "object",
    "description": "What an image reference must look like.",
    "additionalProperties": False,
    "properties": {
        "allowed_registries": {
            "type": "array",
            "description": "Registries images may come from (empty: any). Docker Hub images "
            "are normalised to docker.io first. A trailing path narrows the match: "
            "'registry.example.com/team'.",
            "items": {"type": "string", "minLength": 1},
        },
        "tag_pattern": {
            "type": "string",
            "format": "regex",
            "description": "Regular expression every tag must match.",
        },
        "require_digest": {
            "type": "boolean",
            "description": "Every image must be pinned by an @sha256: digest.",
        },
    },
}

_ENV_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
_PROMOTION = {
    "type": "object",
    "additionalProperties": False,
    "description": "How artifacts move between environments.",
    "properties": {
        "environments": {
            "type": "array",
            "items": {
                "oneOf": [
                    _ENV_NAME,
                    {"type": "array", "items": _ENV_NAME, "minItems": 1, "uniqueItems": True},
                ]
            },
            "minItems": 1,
            "description": "Promotion order, first to last. An item may be a list of parallel "
            "environments that all promote from the item before: [dev, staging, [prod-eu, "
            "prod-us]].",
        },
        "paths": {
            "type": "object",
            "description": "Where an environment's overlays are, when they are not in a "
            "layout found by name (clusters/<env>/<app>/, env/<env>/, envs/<env>/, "
            "environments/<env>/, apps/<env>/, overlays/<env>/, <app>/overlays/<env>/, "
            "<app>/<env>/): {env: [folder patterns]}, relative to the repository root. `*` "
            "matches one folder name, `**` any number of folders, `{app}` names the app's "
            "folder (deploy/prod-cluster/{app}); without {app} each matched folder is one app, "
            "named after the folder above it. An environment listed here is found only there.",
            "propertyNames": _ENV_NAME,
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "pattern": "^[^/]"},
                "minItems": 1,
                "uniqueItems": True,
            },
        },
        "registry_aliases": {
            "type": "object",
            "description": "Mirrors that serve the same images: {registry: [mirrors]}, e.g. "
            "{registry.example.com: [mirror.example.com]}; an image pulled from a mirror is "
            "the same artifact as the registry's (a trailing path narrows it: "
            "registry.example.com/team).",
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "uniqueItems": True,
            },
        },
        "require": {
            "enum": ["current", "history"],
            "description": "What the predecessor environment must have run: current (a "
            "reference that moved since the base revision must be its current one, or the one "
            "at the base revision when given) or history (in its overlay in an earlier commit; "
            "in a pull request, at the base revision).",
        },
        "allowed_differences": {
            "type": "object",
            "description": "What `drift` accepts between environments: {Kind or '*': [paths]}. "
            "A path is dotted (`spec.replicas`), `[*]` matches every list item "
            "(`spec.template.spec.containers[*].resources.requests`), and a difference at or "
            "below a listed path is allowed; a `*` segment matches any key. A kind listed here "
            "replaces that kind's defaults.",
            "propertyNames": {"pattern": "^(\\*|[A-Za-z][A-Za-z0-9]*)$"},
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
            },
        },
    },
}

_KIND = {"type": "string", "pattern": "^[A-Z][A-Za-z0-9]*$"}
_SYNC_WAVES = {
    "type": "object",
    "additionalProperties": False,
    "description": "Argo CD sync-wave rules beyond the built-in ones (check-sync-waves).",
    "properties": {
        "require_wave": {
            "type": "array",
            "items": _KIND,
            "uniqueItems": True,
            "description": "Kinds that must carry an explicit argocd.argoproj.io/sync-wave "
            "(on the object or through kustomize commonAnnotations).",
        },
        "order": {
            "type": "array",
            "description": "Extra ordering rules inside one application: every object of "
            "kind 'after' syncs no earlier (phase, then wave) than every object of kind "
            "'before'; with strict: true, in a strictly later wave.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["before", "after"],
                "properties": {
                    "before": _KIND,
                    "after": _KIND,
                    "strict": {"type": "boolean"},
                },
            },
        },
    },
}

_ON_OFF = {"type": "boolean"}
_CONTROLS = {
    "type": "object",
    "additionalProperties": False,
    "description": "Which controls the controllers (Argo CD Applications and ApplicationSet "
    "templates, Flux Kustomizations and HelmReleases) must have (check-controls). Override per "
    "environment under environments.<env>.controls.",
    "properties": {
        "enforce": {
            "enum": ["auto", True, False],
            "description": "Where the controls are required: auto (the default) in "
            "production-like environments only (production, prod, prd, live, and names such "
            "as prod-eu or eu-prod); true everywhere this section applies (at the top level: "
            "every file, also outside any environment); false nowhere.",
        },
        "drift": {
            **_ON_OFF,
            "description": "Drift is reconciled or alerted on (default true).",
        },
        "prune": {
            **_ON_OFF,
            "description": "Objects removed from Git are removed from the cluster (default "
            "true; false allows an environment to keep them).",
        },
        "health": {
            **_ON_OFF,
            "description": "A Flux Kustomization that applies workloads waits for them "
            "(wait, or healthChecks; default true).",
        },
        "remediation": {
            **_ON_OFF,
            "description": "Failed installs and syncs are retried, failed HelmRelease "
            "upgrades rolled back (default true).",
        },
        "progressive_delivery": {
            **_ON_OFF,
            "description": "Every Deployment rolls out through an Argo Rollouts Rollout or a "
            "Flagger Canary with an analysis, so failed metrics roll it back (default false).",
        },
        "telemetry": {
            "enum": ["auto", True, False],
            "description": "Sync failures and degradation reach someone: Argo CD "
            "notifications, a Flux Alert with a Provider, or a Prometheus rule on the engine's "
            "metrics. auto (the default): required once the repository configures any of "
            "them (alerting may otherwise live outside the repository).",
        },
    },
}

_KUBERNETES = {
    "type": "object",
    "additionalProperties": False,
    "description": "The cluster check-manifests validates rendered objects for.",
    "properties": {
        "version": {
            "type": "string",
            "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?$",
            "description": 'Kubernetes release (quoted: "1.33") whose schemas rendered objects '
            "must match; the newest bundled release not newer than it is used. Default 1.33.",
        },
    },
}

_SECTIONS: dict[str, Any] = {
    "images": _IMAGES,
    "kubernetes": _KUBERNETES,
    "promotion": _PROMOTION,
    "sync_waves": _SYNC_WAVES,
    "controls": _CONTROLS,
    "rules": {
        "type": "object",
        "description": "Change a rule's severity, or turn it off: {rule-id: error|warning|"
        "info|off} (an unquoted off, which YAML reads as false, is off too).",
        "propertyNames": {"enum": sorted(RULES)},
        "additionalProperties": _SEVERITY,
    },
}


def schema() -> dict[str, Any]:
    """The JSON Schema of the policy file (what ``gitops-guard policy-schema`` prints)."""
    import copy

    sections = copy.deepcopy(_SECTIONS)
    env_props = {k: v for k, v in copy.deepcopy(_SECTIONS).items() if k != "promotion"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "gitops-guard policy",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": 1, "description": "Policy file format version."},
            **sections,
            "environments": {
                "type": "object",
                "description": "Per-environment overrides of any section, applied to the "
                "environment's files (found as check-promotion finds them: a folder named like "
                "the environment, any folder below clusters/, or promotion.paths).",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": env_props,
                },
            },
        },
    }


#: with the default order (no promotion.environments written), the other names the default
#: environments' folders go by (``envs/prod/`` is production's): a team that writes its order
#: names its folders
DEFAULT_FOLDER_ALIASES = {
    "stage": "staging",
    "stg": "staging",
    "prod": "production",
    "prd": "production",
}


class PolicyError(Exception):
    """An invalid or unreadable policy file (exit code 2)."""


class Policy:
    """The effective policy: defaults merged with the file, per-environment views cached."""

    def __init__(
        self,
        data: dict[str, Any],
        path: str | Path | None = None,
        declared: dict[str, Any] | None = None,
    ) -> None:
        self.data = data
        self._path = os.fspath(path) if path is not None else None
        #: what the policy file itself says (None: not known, e.g. a policy built in code)
        self._declared = declared
        self._per_env: dict[str, dict[str, Any]] = {}
        self._root_dir: str | None = None
        self._aliases: dict[str, str] | None = None

    @property
    def path(self) -> Path | None:
        """The policy file (None: defaults). A Path, made on demand (pathlib costs start-up)."""
        if self._path is None:
            return None
        from pathlib import Path

        return Path(self._path)

    @property
    def root_dir(self) -> str | None:
        """The policy's repository root as an absolute path string, or None without a policy
        file: what ``environment_of`` needs for each file, computed once."""
        if self._path is None:
            return None
        if self._root_dir is None:
            folder = os.path.dirname(os.path.abspath(self._path))
            # only the contract's place says where the repository is (--policy elsewhere: "")
            self._root_dir = (
                os.path.dirname(folder) if os.path.basename(folder) == "policies" else ""
            )
        return self._root_dir or None

    @property
    def root(self) -> Path:
        """The repository root the policy belongs to (parent of ``policies/``)."""
        from pathlib import Path

        if self._path is None:
            return Path.cwd()
        return Path(self._path).resolve().parent.parent

    def for_environment(self, env: str | None) -> dict[str, Any]:
        """The effective policy of an environment: top level with its overrides merged in."""
        if env is None:
            return self.data
        if env not in self._per_env:
            overrides = (self.data.get("environments") or {}).get(env) or {}
            self._per_env[env] = deep_merge(self.data, overrides)
        return self._per_env[env]

    def section(self, name: str, env: str | None = None) -> dict[str, Any]:
        return self.for_environment(env).get(name) or {}

    def severity(self, rule: str, default: str, env: str | None = None) -> str:
        """The rule's severity in an environment (its ``rules:`` override the top level)."""
        return (self.for_environment(env).get("rules") or {}).get(rule, default)

    @property
    def declares_environments(self) -> bool:
        """Whether the team wrote ``promotion.environments`` (else the order is the default
        guess, staging then production, and a folder it does not name is no evidence of an
        unguarded cluster)."""
        if self._declared is None:
            return True
        promotion = self._declared.get("promotion")
        return isinstance(promotion, dict) and bool(promotion.get("environments"))

    @property
    def folder_aliases(self) -> dict[str, str]:
        """folder name -> the default environment it stands for (``prod`` -> production):
        only with the default order, for an environment not mapped by ``promotion.paths``,
        and not a name the policy's ``environments:`` overrides use for itself."""
        if self._aliases is None:
            self._aliases = {}
            if not self.declares_environments:
                paths = self.section("promotion").get("paths") or {}
                overrides = self.data.get("environments") or {}
                self._aliases = {
                    alias: env
                    for alias, env in DEFAULT_FOLDER_ALIASES.items()
                    if env not in paths and alias not in overrides
                }
        return self._aliases

    @property
    def environments(self) -> list[str]:
        """Every environment, in promotion order (parallel ones in the order written)."""
        return [env for stage in self.stages for env in stage]

    @property
    def stages(self) -> list[list[str]]:
        """``promotion.environments`` as stages: ``[dev, [eu, us]]`` -> ``[[dev], [eu, us]]``."""
        raw = self.section("promotion").get("environments") or ["staging", "production"]
        return [[item] if isinstance(item, str) else list(item) for item in raw]

    def environment_of(self, path: str) -> str | None:
        """The environment a file belongs to, from its path below the repository root alone
        (this runs for every checked file: no listing): see ``environment_of_relpath``."""
        absolute = os.path.abspath(path)
        top = self.root_dir
        if top is None or not absolute.startswith(top.rstrip(os.sep) + os.sep):
            from gitops_guard.core.documents import repository_root_of

            top = repository_root_of(os.path.dirname(absolute))
        if top is not None:
            prefix = top.rstrip(os.sep) + os.sep
            if absolute.startswith(prefix):
                path = absolute[len(prefix) :]
            else:
                top = None
        return environment_of_relpath(path, self, top or None)


def environment_of_relpath(relpath: str, policy: Policy, root: str | None = None) -> str | None:
    """The environment of a repository-relative path: a ``promotion.paths`` pattern of the
    environment, else the first folder named like an environment of the policy (or, with the
    default order, like one of ``DEFAULT_FOLDER_ALIASES``, unless a sibling folder below
    ``root`` has the environment's own name: ``clusters/prod/`` beside ``clusters/production/``
    is an environment of its own, as repo/environments.py reads it), else the folder below
    ``clusters/`` (the contract; also for names not in the order)."""
    parts = [p for p in relpath.replace(os.sep, "/").split("/") if p not in ("", ".")]
    folders = parts[:-1]
    if not folders:
        return None
    paths = policy.section("promotion").get("paths") or {}
    for env, patterns in paths.items():
        for pattern in patterns:
            if match_folder(pattern_parts(pattern), folders) is not None:
                return env
    names = set(policy.environments) - set(paths)
    aliases = policy.folder_aliases
    for i, part in enumerate(folders):
        if part in names:
            return part
        if part in aliases and not _beside_own_name(root, folders[:i], aliases[part]):
            return aliases[part]
        if part == "clusters" and i + 1 < len(folders):
            name = folders[i + 1]
            env = aliases.get(name)
            if env is not None and not _beside_own_name(root, folders[: i + 1], env):
                return env
            return name
    return None


_OWN_NAMES: dict[tuple[str, tuple[str, ...], str], bool] = {}


def _beside_own_name(root: str | None, parent: list[str], env: str) -> bool:
    """Whether the folder ``parent`` below ``root`` also holds a folder named ``env``
    (remembered per folder: this runs for every checked file)."""
    if not root:
        return False
    key = (root, tuple(parent), env)
    found = _OWN_NAMES.get(key)
    if found is None:
        found = _OWN_NAMES[key] = os.path.isdir(os.path.join(root, *parent, env))
    return found


def pattern_parts(pattern: str) -> list[str]:
    """A folder pattern's parts; a trailing ``/**`` (everything below) is the folder itself."""
    parts = [p for p in pattern.strip("/").split("/") if p not in ("", ".")]
    while parts and parts[-1] == "**":
        parts.pop()
    return parts


def match_folder(pattern: list[str], parts: list[str]) -> tuple[int, str | None] | None:
    """(how many leading ``parts`` the folder pattern covers, the ``{app}`` folder) or None.
    ``*`` matches one name (fnmatch), ``**`` any number of folders, ``{app}`` one folder."""
    import fnmatch

    def walk(i: int, j: int, app: str | None, budget: list[int]) -> tuple[int, str | None] | None:
        budget[0] -= 1
        if budget[0] < 0:
            return None
        if i == len(pattern):
            return j, app
        seg = pattern[i]
        if seg == "**":
            for k in range(j, len(parts) + 1):
                found = walk(i + 1, k, app, budget)
                if found is not None:
                    return found
            return None
        if j >= len(parts):
            return None
        if seg == "{app}":
            return None if parts[j].startswith(".") else walk(i + 1, j + 1, parts[j], budget)
        if fnmatch.fnmatchcase(parts[j], seg):
            return walk(i + 1, j + 1, app, budget)
        return None

    return walk(0, 0, None, [10_000])  # bounded: a pattern of many ** cannot take long


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def find_policy(start: str | Path | None = None) -> Path | None:
    """``policies/gitops-guard.yaml`` in the working directory or the nearest parent."""
    found = _find(start)
    if found is None:
        return None
    from pathlib import Path

    return Path(found)


def _find(start: str | Path | None = None) -> str | None:
    folder = os.path.realpath(start or os.getcwd())
    while True:
        candidate = os.path.join(folder, POLICY_PATH)
        # anything there is the policy: a folder or a dangling link (a submodule CI did not
        # check out) is an error, not "no policy" (which would drop the allow-list)
        if os.path.lexists(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _copy(data: Any) -> Any:
    """A deep copy of plain data (copy.deepcopy costs an import on every commit)."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def default_policy() -> Policy:
    """The policy without a policy file."""
    return Policy(data=_copy(DEFAULTS), declared={})


_DEFAULT_POLICY: list[Policy] = []


def environment_of_path(path: str, policy: Policy | None = None) -> str | None:
    """The environment of a file by its path (absolute, or relative to the working
    directory), read below its repository's root (``Policy.environment_of``); ``policy``
    None: the defaults (``[staging, production]``, ``clusters/<env>/``)."""
    if policy is None:
        if not _DEFAULT_POLICY:
            _DEFAULT_POLICY.append(default_policy())
        policy = _DEFAULT_POLICY[0]
    return policy.environment_of(path)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate the policy; defaults when there is none. Raises PolicyError."""
    if path is None:
        path = _find()
        if path is None:
            return default_policy()
    path = os.fspath(path)
    raw = _read_policy(path)
    data = _off_is_false(_parse_remembered(path, raw))
    if not _cached_valid(raw):
        validate(data, path)
        _remember_valid(raw)
    _check_environment_names(data, path)
    return Policy(data=deep_merge(_copy(DEFAULTS), data), path=path, declared=data)


#: bytes; a policy file is a few kB (100,000 allowed registries are 2 MB): a bound, not a limit
MAX_POLICY_BYTES = 16_000_000


def _read_policy(path: str) -> bytes:
    """The policy file's bytes; PolicyError (exit 2) for anything but a readable regular file:
    a folder, a dangling symlink, a FIFO (which would block), an unreadable or huge file."""
    import stat

    shown = path
    try:
        info = os.stat(path)
    except OSError as exc:
        dangling = os.path.islink(path) and not os.path.exists(path)
        why = "a symlink to a missing file" if dangling else exc.strerror
        raise PolicyError(f"{shown}: cannot read policy file: {why}") from None
    if stat.S_ISDIR(info.st_mode):
        raise PolicyError(f"{shown}: cannot read policy file: it is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise PolicyError(f"{shown}: cannot read policy file: not a regular file")
    if info.st_size > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{shown}: policy file of {info.st_size:,} bytes is over the "
            f"{MAX_POLICY_BYTES:,} byte limit"
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{shown}: cannot read policy file: {exc.strerror}") from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(f"{shown}: policy file is over the {MAX_POLICY_BYTES:,} byte limit")
    return raw


def _check_environment_names(data: dict[str, Any], path: str) -> None:
    """A key under ``environments:`` names an environment: one of promotion.environments or
    a ``clusters/<env>/`` folder. Anything else is a typo (``prod:``) whose overrides would
    silently apply to nothing. Not cached: folders come and go. ``promotion.paths`` keys
    and the order itself must name each environment once."""
    promotion = data.get("promotion") or {}
    raw = promotion.get("environments") or DEFAULTS["promotion"]["environments"]
    order = [e for item in raw for e in ([item] if isinstance(item, str) else item)]
    twice = sorted({e for e in order if order.count(e) > 1})
    if twice:
        raise PolicyError(
            f"{path}: promotion.environments: {', '.join(twice)} named more than once"
        )
    for env in promotion.get("paths") or {}:
        if env not in order:
            raise PolicyError(
                f"{path}: promotion.paths.{env}: no such environment (not in "
                f"promotion.environments [{', '.join(order)}])"
            )
    overrides = data.get("environments") or {}
    if not overrides:
        return
    folder = os.path.dirname(os.path.abspath(path))
    roots = [os.path.dirname(folder)] if os.path.basename(folder) == "policies" else []
    roots += [folder, os.getcwd()]
    for env in overrides:
        if env in order or any(os.path.isdir(os.path.join(r, "clusters", env)) for r in roots):
            continue
        shown = bounded(str(env), 100)
        raise PolicyError(
            f"{path}: environments.{shown}: no such environment (not in "
            f"promotion.environments [{bounded(', '.join(order), 300)}], and no "
            f"clusters/{shown}/ folder)"
        )


#: the parsed-policy cache's format (with the package version: a change in how a policy is
#: read comes with a release)
_PARSED_FORMAT = 1


def _parse_remembered(path: str, raw: bytes) -> dict[str, Any]:
    """:func:`_parse`, remembered per policy file by its exact bytes (the cache folder's
    ``parsed-policies``): a hook's run then imports no YAML parser for the policy, which is
    most of what reading it costs. Only a valid parse is remembered; a file that changed by
    one byte is parsed again."""
    from gitops_guard import __version__
    from gitops_guard.core import cache

    file = cache.repository_cache_file("parsed-policies", os.path.abspath(path))
    tag = (_PARSED_FORMAT, __version__)
    got = cache.load(file)
    remembered = isinstance(got, tuple) and len(got) == 3 and got[0] == tag and got[1] == raw
    if remembered and isinstance(got[2], dict):  # type: ignore[index]
        return got[2]  # type: ignore[index]
    data = _parse(path, raw)
    if file is not None:
        import contextlib

        # a value marshal cannot write (a YAML timestamp): not remembered
        with contextlib.suppress(ValueError):
            cache.save(file, (tag, raw, data))
    return data


def _parse(path: str, raw: bytes) -> dict[str, Any]:
    from gitops_guard.core.documents import load_bytes, to_plain

    source = load_bytes(path, raw)
    errors = [p for p in source.problems if p.rule not in ("yaml/empty",)]
    if errors:
        first = errors[0]
        raise PolicyError(f"{path}:{first.line}:{first.column}: {first.message}")
    if len(source.documents) != 1 or not isinstance(source.documents[0].data, dict):
        raise PolicyError(f"{path}: the policy file must hold one YAML mapping")
    return to_plain(source.documents[0].data)


def _off_is_false(data: dict[str, Any]) -> dict[str, Any]:
    """``rule: off`` unquoted is YAML 1.1's false: read it as the ``off`` the user wrote."""
    sections = [data, *((data.get("environments") or {}).values())]
    for section in sections:
        rules = section.get("rules") if isinstance(section, dict) else None
        if isinstance(rules, dict):
            for rule, value in rules.items():
                if value is False:
                    rules[rule] = "off"
    return data


def validate(data: Any, where: str) -> None:
    import warnings

    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(), format_checker=_format_checker())
    with warnings.catch_warnings():  # re's FutureWarnings would print before the one line
        warnings.simplefilter("ignore")
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise PolicyError(f"{where}: invalid policy at '{bounded(key, 200)}': {_message(error)}")


def _message(error: Any) -> str:
    """jsonschema's message, made specific where it would list every rule or say no more
    than "is not a 'regex'"."""
    if "propertyNames" in error.schema_path:
        return f"unknown rule id {quote(error.instance)} (see the rule table, docs/rules.md)"
    if error.validator == "format" and error.validator_value == "regex":
        from gitops_guard.core.patterns import check

        why = check(error.instance)
        if why is not None:
            return why
    return bounded(str(error.message))


def _format_checker() -> Any:
    """jsonschema's format checker, with ``regex`` meaning what the hooks run: a pattern the
    linear-time engine compiles (``core/patterns.py``), not Python's backtracking ``re``."""
    import jsonschema

    from gitops_guard.core.patterns import PatternError, compile_pattern

    checker = jsonschema.FormatChecker()
    checker.checkers = dict(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)

    def is_regex(instance: object) -> bool:
        if isinstance(instance, str):
            compile_pattern(instance)
        return True

    checker.checks("regex", raises=PatternError)(is_regex)
    return checker


def _cache_entry(raw: bytes) -> tuple[str, bytes] | None:
    """(file, content) remembering that ``raw`` is valid under the current schema.

    The content is the schema's fingerprint and the policy bytes themselves, compared
    exactly on reading: no hash to trust, and no hashlib/json to import.
    """
    from gitops_guard.core.cache import cache_dir

    folder = cache_dir("valid-policies")
    if folder is None:
        return None
    import zlib

    # the sections, and the constants of schema() itself (the wrapper around them)
    wrapper = [c for c in schema.__code__.co_consts if isinstance(c, (str, int, tuple))]
    # the regex engine is part of what "valid" means (core/patterns.py: RE2)
    fingerprint = repr((SCHEMA_ID, _SECTIONS, wrapper, "regex:re2")).encode()
    content = fingerprint + b"\0" + raw
    name = f"{zlib.crc32(content):08x}-{len(content)}"
    return os.path.join(folder, name), content


def _cached_valid(raw: bytes) -> bool:
    entry = _cache_entry(raw)
    if entry is None:
        return False
    try:
        with open(entry[0], "rb") as handle:
            return handle.read() == entry[1]
    except OSError:
        return False


def _remember_valid(raw: bytes) -> None:
    entry = _cache_entry(raw)
    if entry is None:
        return
    try:
        os.makedirs(os.path.dirname(entry[0]), exist_ok=True)
        with open(entry[0], "wb") as handle:
            handle.write(entry[1])
    except OSError:
        pass  # a read-only home only costs the next run a validation

"""Which environments a repository has, in which order, and which files belong to each (and to
which app): the one model check-promotion, promote, drift, set-image and the per-environment
policy share.

The order is ``promotion.environments``; an item may be a list of parallel environments that
all promote from the item before (``[dev, staging, [prod-eu, prod-us]]``): each item is a
*stage*, and an environment's predecessors are the environments of the stage before it; from
one parallel group to the next, its counterpart there (``prod-eu`` from ``staging-eu``, when
the groups pair one to one by the rest of their names: :func:`counterpart`).

An environment's files are found where real repositories keep them, with nothing but the
environment's name (a folder named like it, in a known position):

============================  ====================================================
``clusters/<env>/<app>/``     the contract: every folder below ``clusters/<env>/`` is an app
``env/<env>/``                Kargo's examples (one app, or one per sub-folder)
``envs/<env>/``               Codefresh's promotion examples
``environments/<env>/``
``apps/<env>/``               Flux's reference layout (HelmRelease patches)
``overlays/<env>/``           kustomize's own docs; ``<app>/overlays/<env>/`` per app
``<app>/<env>/``              an app folder whose sub-folders are its environments
============================  ====================================================

The layouts can sit at any depth (``deploy/clusters/<env>/``, a GitOps tree in a monorepo's
sub-folder). An environment folder holds one app when it has a kustomization (or YAML files)
of its own, named after the folder above the layout folder (``web`` for
``web/overlays/<env>/``; the layout folder itself at the top: ``apps`` for ``apps/<env>/``);
else each sub-folder is an app. Where guessing is not enough, ``promotion.paths`` maps an
environment to folder patterns (``*`` one name, ``**`` any depth, ``{app}`` the app's
folder): ``{production: ["deploy/prod-cluster/{app}"]}``. An environment with ``paths`` is
found only there. With the default order (no ``promotion.environments``), staging's folders
may be named ``stage``/``stg`` and production's ``prod``/``prd`` (core/policy.py's
``DEFAULT_FOLDER_ALIASES``), unless a sibling folder has the environment's own name.

A folder beside a found environment's folder that looks like an environment (under
``clusters/``, ``env/``, ``envs/``, ``environments/``: any folder of YAML; elsewhere: a
kustomization that reaches the same base as the found environment's, or the same values file)
but is not in the policy is an error (a warning under the default order, when the policy
file writes no ``promotion.environments``): a new cluster is never silently unguarded. No
environment found at all is a warning that says where it looked.
"""

from __future__ import annotations

import bisect
import os
import re
from operator import itemgetter

from gitops_guard.core import processes
from gitops_guard.core.documents import KUSTOMIZATION_FILES, is_yaml_name
from gitops_guard.core.findings import ERROR, WARNING, Finding, quote
from gitops_guard.core.policy import (
    DEFAULT_FOLDER_ALIASES,
    environment_of_relpath,
    match_folder,
    pattern_parts,
)
from gitops_guard.core.policy import environment_of_path as policy_environment_of_path

TYPE_CHECKING = False  # start-up time (a hook): typing, pathlib and dataclasses are not imported
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

#: folders whose sub-folders are environments
ENV_PARENTS = ("clusters", "env", "envs", "environments")
#: folders whose sub-folders may be environments (beside bases, components...)
LAYOUT_WORDS = (*ENV_PARENTS, "overlays", "apps")
#: where environments are looked for by name (at any depth), as messages name them
LAYOUTS = (
    "clusters/<env>/<app>/",
    "env/<env>/",
    "envs/<env>/",
    "environments/<env>/",
    "apps/<env>/",
    "overlays/<env>/",
    "<app>/overlays/<env>/",
    "<app>/<env>/",
)
#: sibling folders that are never an environment
NOT_ENVIRONMENTS = frozenset(
    {
        "base",
        "bases",
        "common",
        "shared",
        "components",
        "component",
        "templates",
        "charts",
        "crds",
        "docs",
        "scripts",
        "lib",
        "tests",
        "flux-system",
    }
)
#: folders never walked for environments
SKIPPED_FOLDERS = frozenset({"node_modules", "vendor", "__pycache__"})
MAX_FILES = 200_000
MAX_KUSTOMIZE_DEPTH = 32


def stages_of(policy: Any) -> list[list[str]]:
    """``promotion.environments`` as stages: ``[dev, [eu, us]]`` -> ``[[dev], [eu, us]]``."""
    return policy.stages


def explicit_paths(policy: Any) -> dict[str, list[str]]:
    return dict(policy.section("promotion").get("paths") or {})


def environment_of(relpath: str, policy: Any) -> str | None:
    """The environment of a repository-relative path from the path alone (what the
    per-environment policy uses for every checked file; see core/policy.py)."""
    return environment_of_relpath(relpath, policy)


def environment_of_path(path: str, policy: Any = None) -> str | None:
    """The environment of a file by its path (absolute, or relative to the working
    directory), read below its repository's root: what every check asks (check-images'
    per-environment policy, check-sync-waves' and check-manifests' applications, Flux
    dependencies; see core/policy.py). ``policy`` None: the defaults."""
    return policy_environment_of_path(path, policy)


# -- the model ---------------------------------------------------------------------------------


class App(tuple):
    """One app's overlay in one environment (immutable, hashable: a tuple with names)."""

    __slots__ = ()

    def __new__(
        cls, env: str, name: str, folder: str, layout: str, excluded: tuple[str, ...] = ()
    ) -> App:
        return tuple.__new__(cls, (env, name, folder, layout, excluded))

    env = property(itemgetter(0))
    name = property(itemgetter(1))
    #: repository-relative folder (posix); "" is the repository root
    folder = property(itemgetter(2))
    #: where it was found: "clusters/<env>/<app>/", "policy: deploy/{app}"...
    layout = property(itemgetter(3))
    #: the files of the folder below it that belong to other apps (nested app folders)
    excluded = property(itemgetter(4))

    def __repr__(self) -> str:
        return (
            f"App(env={self[0]!r}, name={self[1]!r}, folder={self[2]!r}, "
            f"layout={self[3]!r}, excluded={self[4]!r})"
        )


class EnvFolder:
    __slots__ = ("apps", "env", "folder", "layout")

    def __init__(self, env: str, folder: str, layout: str, apps: list[App] | None = None) -> None:
        self.env = env
        self.folder = folder
        self.layout = layout
        self.apps: list[App] = apps if apps is not None else []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnvFolder) and (self.env, self.folder, self.layout, self.apps) == (
            other.env,
            other.folder,
            other.layout,
            other.apps,
        )

    def __repr__(self) -> str:
        return (
            f"EnvFolder(env={self.env!r}, folder={self.folder!r}, layout={self.layout!r}, "
            f"apps={self.apps!r})"
        )


class Environments:
    """The environments of one repository."""

    def __init__(
        self,
        root: str | Path,
        stages: list[list[str]],
        folders: dict[str, list[EnvFolder]],
        findings: list[Finding] | None = None,
        looked: list[str] | None = None,
        files: list[str] | None = None,
        policy: Any = None,
        blobs: dict[str, str] | None = None,
    ) -> None:
        #: the repository root as a string (``root`` is it as a Path)
        self.top = os.fspath(root)
        self._root: Path | None = None
        self.stages = stages
        self.folders = folders
        self.findings: list[Finding] = findings if findings is not None else []
        self.looked: list[str] = looked if looked is not None else []
        self.files: list[str] = files if files is not None else []
        self.policy = policy
        #: repository-relative file -> its blob id, for regular files git says are unchanged
        #: in the working tree (read from git's index: such a file need not be read to be
        #: known)
        self.blobs: dict[str, str] = blobs if blobs is not None else {}
        self._index: dict[str, App] | None = None
        self._apps: dict[str, dict[str, App]] = {}
        self._shown_prefix: str | None = None
        #: (the file list it was made from, its YAML files): what :meth:`files_of` bisects
        self._yaml_files: tuple[list[str], list[str]] | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            from pathlib import Path

            self._root = Path(self.top)
        return self._root

    @property
    def names(self) -> list[str]:
        return [env for stage in self.stages for env in stage]

    def stage_of(self, env: str) -> int:
        for i, stage in enumerate(self.stages):
            if env in stage:
                return i
        raise KeyError(env)

    def predecessors(self, env: str) -> list[str]:
        """The environments ``env`` promotes from: the stage before it, or, from one parallel
        group to the next, its counterpart there (:func:`counterpart`)."""
        index = self.stage_of(env)
        if index == 0:
            return []
        before = self.stages[index - 1]
        mate = counterpart(env, self.stages[index], before)
        return [mate] if mate is not None else list(before)

    def successors(self, env: str) -> list[str]:
        index = self.stage_of(env)
        if index + 1 >= len(self.stages):
            return []
        return [e for e in self.stages[index + 1] if env in self.predecessors(e)]

    def pairs(self) -> list[tuple[str, str]]:
        """(predecessor, environment) for every promotion step."""
        return [(pred, env) for env in self.names for pred in self.predecessors(env)]

    def found(self) -> bool:
        return any(self.folders.values())

    def words(self, env: str) -> tuple[str, ...]:
        """The names ``env`` goes by in files: its own, and the other name its folders have
        under the default order (``prod`` where production's folder is ``envs/prod/``)."""
        used = {
            f.folder.rsplit("/", 1)[-1]
            for f in self.folders.get(env, [])
            if f.folder and not f.layout.startswith("policy:")
        }
        return (env, *sorted(w for w in used if DEFAULT_FOLDER_ALIASES.get(w) == env))

    def apps(self, env: str) -> dict[str, App]:
        """app name -> its overlay in ``env``."""
        cached = self._apps.get(env)
        if cached is None:
            cached = {}
            for folder in self.folders.get(env, []):
                for app in folder.apps:
                    cached.setdefault(app.name, app)
            self._apps[env] = cached
        return dict(cached)

    def app(self, env: str, name: str) -> App | None:
        if env not in self._apps:
            self.apps(env)
        return self._apps[env].get(name)

    def app_index(self) -> dict[str, App]:
        """folder -> the app overlay it is (built once)."""
        if self._index is None:
            self._index = {
                app.folder: app for fs in self.folders.values() for f in fs for app in f.apps
            }
        return self._index

    def app_of(self, relpath: str, index: dict[str, App] | None = None) -> App | None:
        """The app overlay a repository-relative file belongs to (the deepest folder)."""
        index = index if index is not None else self.app_index()
        folder = relpath.replace(os.sep, "/")
        while "/" in folder:
            folder = folder.rsplit("/", 1)[0]
            app = index.get(folder)
            if app is not None:
                return app
        return index.get("")

    def env_of(self, relpath: str) -> str | None:
        relpath = relpath.replace(os.sep, "/")
        for env, folders in self.folders.items():
            for env_folder in folders:
                if not env_folder.folder or relpath.startswith(f"{env_folder.folder}/"):
                    return env
        return None

    def path(self, relpath: str) -> Path:
        return self.root / relpath if relpath else self.root

    def abspath(self, relpath: str) -> str:
        """A repository-relative path as a string below :attr:`top`."""
        return os.path.join(self.top, relpath) if relpath else self.top

    def shown(self, relpath: str) -> str:
        """A repository-relative path as findings show it: relative to the working directory
        when below it (one relpath per run, not one per file)."""
        if self._shown_prefix is None:
            rel = os.path.relpath(self.top)
            self._shown_prefix = (
                self.top + os.sep if rel.startswith("..") else ("" if rel == "." else rel + os.sep)
            )
        return self._shown_prefix + relpath.replace("/", os.sep)

    def files_of(self, app: App) -> list[str]:
        """The repository-relative YAML files of an app's overlay (asked for every app: a
        bisected range of the repository's YAML files, sorted as :attr:`files` is)."""
        if self._yaml_files is None or self._yaml_files[0] is not self.files:
            yaml = [f for f in self.files if is_yaml_name(f.rsplit("/", 1)[-1])]
            self._yaml_files = (self.files, yaml)
        below = _below(app.folder, self._yaml_files[1])
        if not app.excluded:
            return below if app.folder else list(below)
        excluded = tuple(f"{x}/" for x in app.excluded)
        return [f for f in below if not f.startswith(excluded)]

    def pathspecs(self, env: str) -> list[str]:
        """The environment's folders, for ``git log -- <paths>``."""
        return [f.folder or "." for f in self.folders.get(env, [])]


_PARTS = re.compile(r"[-_.]")


def counterpart(env: str, stage: list[str], before: list[str]) -> str | None:
    """From one parallel group to the next, the environment of ``before`` that ``env`` pairs
    with: the one whose name differs from its group's the way ``env``'s differs from its own
    group's (``prod-eu`` of ``[prod-eu, prod-us]`` pairs with ``staging-eu`` of
    ``[staging-eu, staging-us]``; ``eu-prod`` with ``eu-staging``). None when either stage is
    a single environment, or when not every environment of both groups pairs with exactly one
    of the other (then each environment of ``before`` is a predecessor, as before)."""
    if len(stage) < 2 or len(before) < 2:
        return None
    mine, theirs = _distinct(stage), _distinct(before)
    if len(set(mine.values())) < len(stage) or len(set(theirs.values())) < len(before):
        return None  # two names of one group differ in nothing but the shared parts
    if set(mine.values()) != set(theirs.values()):
        return None  # not a one-to-one pairing: [eu, us] after [eu, ap]
    return next(e for e, key in theirs.items() if key == mine[env])


def _distinct(group: list[str]) -> dict[str, tuple[str, ...]]:
    """Each name of a group with the parts every name of the group shares taken out:
    ``[prod-eu, prod-us]`` -> ``{prod-eu: (eu,), prod-us: (us,)}``."""
    parts = {env: _PARTS.split(env) for env in group}
    shared = set.intersection(*(set(p) for p in parts.values()))
    return {env: tuple(p for p in ps if p not in shared) for env, ps in parts.items()}


def load(root: Path, policy: Any, files: list[str] | None = None) -> Environments:
    """The environments of the repository at ``root`` (``files``: its repository-relative
    files; default: git's tracked and untracked-but-not-ignored files, else a walk)."""
    root = os.fspath(root)
    stages = stages_of(policy)
    names = [env for stage in stages for env in stage]
    blobs: dict[str, str] = {}
    if files is None:
        files, blobs = listing(root)
    files = sorted(files)
    folders = _folders_of(files)
    explicit = explicit_paths(policy)
    found: dict[str, list[EnvFolder]] = {env: [] for env in names}
    looked: list[str] = []
    for env in names:
        if env in explicit:
            found[env] = _from_patterns(env, explicit[env], folders, files)
            looked.extend(explicit[env])
    guessed = [env for env in names if env not in explicit]
    # the default order's other folder names (envs/prod/ is production's), where no folder
    # beside it has the environment's own name
    aliases = {a: env for a, env in folder_aliases(policy).items() if env in guessed}
    candidates = sorted(
        d
        for d in folders
        if d and (d.rsplit("/", 1)[-1] in guessed or _alias_of(d, aliases, folders))
    )
    taken: list[str] = []
    for folder in candidates:
        if any(folder.startswith(f"{t}/") for t in taken):
            continue  # an environment's name inside another's folder: an app, not an env
        parts = folder.split("/")
        env = _alias_of(folder, aliases, folders) or parts[-1]
        parent = parts[-2] if len(parts) > 1 else ""
        if parts[0].startswith(".") or any(p in SKIPPED_FOLDERS for p in parts):
            continue
        if parent not in LAYOUT_WORDS and (not parent or not _has_yaml_below(folder, files)):
            continue  # <app>/<env>/: only a folder of manifests
        env_folder = _env_folder(env, folder, parts, folders, files)
        if env_folder is not None:
            found[env].append(env_folder)
            taken.append(folder)
    model = Environments(root, stages, found, files=files, policy=policy, blobs=blobs)
    model.looked = looked + list(LAYOUTS)
    _disambiguate(model)
    model.findings.extend(_unnamed(model, folders, files, set(names)))
    return model


def folder_aliases(policy: Any) -> dict[str, str]:
    """folder name -> the default environment it stands for (core/policy.py's
    ``DEFAULT_FOLDER_ALIASES``, with the default order only)."""
    return getattr(policy, "folder_aliases", None) or {}


def _alias_of(folder: str, aliases: dict[str, str], folders: dict[str, set[str]]) -> str | None:
    """The environment a folder named by an alias stands for, unless a sibling has the
    environment's own name (``clusters/prod/`` beside ``clusters/production/``: that one is
    production, and prod an unknown environment)."""
    if not aliases:
        return None
    parent, _, name = folder.rpartition("/")
    env = aliases.get(name)
    if env is None or env in folders.get(parent, ()):
        return None
    return env


def _env_folder(
    env: str, folder: str, parts: list[str], folders: dict[str, set[str]], files: list[str]
) -> EnvFolder | None:
    parent = parts[-2] if len(parts) > 1 else ""
    above = [p for p in parts[:-1] if p not in LAYOUT_WORDS]
    name_default = above[-1] if above else (parent or env)
    if parent in LAYOUT_WORDS:
        layout = f"{parent}/<env>/"
        if len(parts) > 2 and parent == "overlays":
            layout = "<app>/overlays/<env>/"
    else:
        layout = "<app>/<env>/"
    subs = sorted(folders.get(folder, ()))
    own = [f for f in _direct_files(folder, files) if is_yaml_name(f.rsplit("/", 1)[-1])]
    has_kustomization = any(f.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES for f in own)
    result = EnvFolder(env, folder, layout)
    if parent == "clusters" or (not has_kustomization and not own and subs):
        if parent == "clusters":
            result.layout = "clusters/<env>/<app>/"
        else:
            result.layout = layout.rstrip("/") + "/<app>/"
        for sub in subs:
            if sub.startswith((".", "_")):
                continue
            sub_folder = f"{folder}/{sub}"
            if _has_yaml_below(sub_folder, files):
                result.apps.append(App(env, sub, sub_folder, result.layout))
        return result
    if not own and not subs:
        return None
    result.apps.append(App(env, name_default, folder, layout))
    return result


def _from_patterns(
    env: str, patterns: list[str], folders: dict[str, set[str]], files: list[str]
) -> list[EnvFolder]:
    result: list[EnvFolder] = []
    seen: set[str] = set()
    for pattern in patterns:
        parts = pattern_parts(pattern)
        matched: dict[str, str | None] = {}
        for folder in sorted(folders):
            if not folder:
                continue
            got = match_folder(parts, folder.split("/"))
            full = got is not None and got[0] == len(folder.split("/"))
            if full and _has_yaml_below(folder, files):
                matched[folder] = got[1]  # type: ignore[index]
        group = EnvFolder(env, "", f"policy: {pattern}")
        for folder, app_name in matched.items():
            if folder in seen:
                continue
            seen.add(folder)
            above = [p for p in folder.split("/")[:-1] if p not in LAYOUT_WORDS]
            name = app_name or (above[-1] if above else folder.rsplit("/", 1)[-1])
            group.apps.append(App(env, name, folder, group.layout))
        if group.apps:
            if "{app}" in parts:
                cut = parts.index("{app}")
                group.folder = "/".join(group.apps[0].folder.split("/")[:cut])
            else:
                group.folder = group.apps[0].folder
            result.append(group)
    return result


def _disambiguate(model: Environments) -> None:
    """Two overlays of one environment with the same app name: each is named by its folder,
    with the environment's folder written ``<env>`` (``clusters/<env>/web``, ``web/<env>``)."""
    for folders in model.folders.values():
        count: dict[str, int] = {}
        for env_folder in folders:
            for app in env_folder.apps:
                count[app.name] = count.get(app.name, 0) + 1
        for env_folder in folders:
            env_folder.apps = [
                App(a.env, _neutral_folder(env_folder, a), a.folder, a.layout)
                if count[a.name] > 1
                else a
                for a in env_folder.apps
            ]
    # nested app folders (an app inside another's folder) keep their own files
    folders_sorted = sorted(a.folder for fs in model.folders.values() for f in fs for a in f.apps)
    if not _any_nested(folders_sorted):
        return  # the common case: no app's folder is inside another's (one pass to know)
    for folders in model.folders.values():
        for env_folder in folders:
            fixed = []
            for app in env_folder.apps:
                prefix = f"{app.folder}/" if app.folder else ""
                i = bisect.bisect_left(folders_sorted, prefix)
                inner = []
                while i < len(folders_sorted) and folders_sorted[i].startswith(prefix):
                    if folders_sorted[i] != app.folder:
                        inner.append(folders_sorted[i])
                    i += 1
                if inner or app.excluded:
                    app = App(app.env, app.name, app.folder, app.layout, tuple(inner))
                fixed.append(app)
            env_folder.apps = fixed


def _any_nested(folders: list[str]) -> bool:
    """Whether a folder of the list is inside another: sorted by their parts, what is inside
    a folder comes right after it."""
    if "" in folders and len(folders) > 1:
        return True
    ordered = sorted(folders, key=lambda f: f.split("/"))
    return any(b.startswith(f"{a}/") for a, b in zip(ordered, ordered[1:]))


def _neutral_folder(env_folder: EnvFolder, app: App) -> str:
    """``clusters/production/web`` -> ``clusters/<env>/web``: the same in every environment."""
    top = env_folder.folder
    last = top.rsplit("/", 1)[-1]
    own = last == env_folder.env or DEFAULT_FOLDER_ALIASES.get(last) == env_folder.env
    if top and app.folder.startswith(top) and own:
        head = top.rsplit("/", 1)[0] + "/" if "/" in top else ""
        return f"{head}<env>{app.folder[len(top) :]}"
    return app.folder


def _unnamed(
    model: Environments, folders: dict[str, set[str]], files: list[str], names: set[str]
) -> list[Finding]:
    """Sibling folders of found environment folders that look like environments."""
    findings: list[Finding] = []
    by_parent: dict[str, list[EnvFolder]] = {}
    for env_folders in model.folders.values():
        for env_folder in env_folders:
            if env_folder.layout.startswith("policy:") or not env_folder.folder:
                continue
            parent = env_folder.folder.rsplit("/", 1)[0] if "/" in env_folder.folder else ""
            by_parent.setdefault(parent, []).append(env_folder)
    reported: set[str] = set()
    # the team's own order makes an unnamed sibling an error; the default guess only a warning
    declared = model.policy is None or getattr(model.policy, "declares_environments", True)
    for parent, known in sorted(by_parent.items()):
        word = parent.rsplit("/", 1)[-1]
        known_names = {k.folder.rsplit("/", 1)[-1] for k in known}
        for sub in sorted(folders.get(parent, ())):
            if sub in known_names or sub in names or sub.startswith((".", "_")):
                continue
            if sub.lower() in NOT_ENVIRONMENTS:
                continue
            folder = f"{parent}/{sub}" if parent else sub
            if folder in reported or model.app_of(f"{folder}/x") is not None:
                continue
            if word in ENV_PARENTS:
                looks = _has_yaml_below(folder, files)
                why = f"a folder of manifests beside {_listing(sorted(known_names))}"
            else:
                why = _looks_like(model.top, folder, known, files)
                looks = why is not None
            if not looks:
                continue
            reported.add(folder)
            shown = _first_file(folder, files) or folder
            findings.append(
                Finding(
                    shown,
                    1,
                    1,
                    "promotion/unknown-environment",
                    f"{folder}/ looks like an environment ({why}) but {quote(sub)} is not in "
                    f"promotion.environments{'' if declared else _DEFAULT_ORDER}: add it to "
                    "the order (or to promotion.paths), or rename it, so it is not left "
                    "unguarded",
                    ERROR if declared else WARNING,
                )
            )
    return findings


_DEFAULT_ORDER = (
    " (the default order, staging then production, as no policy file writes promotion.environments)"
)


def _looks_like(
    root: str | Path, folder: str, known: list[EnvFolder], files: list[str]
) -> str | None:
    mine = _direct_files(folder, files)
    names = {f.rsplit("/", 1)[-1] for f in mine}
    kust = next((f for f in mine if f.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES), None)
    if kust is not None:
        bases = _bases(root, kust, files)
        if sum(env_folder.folder in bases for env_folder in known) > 1:
            # it deploys two environments' overlays at once (gitops-catalog's
            # apicast/overlays/default/ is ../prod + ../stage): an aggregate, not an environment
            return None
        for env_folder in known:
            other = next(
                (
                    f
                    for f in _direct_files(env_folder.folder, files)
                    if f.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES
                ),
                None,
            )
            if other is None:
                continue
            shared = bases & _bases(root, other, files)
            shared.discard(folder)
            shared.discard(env_folder.folder)
            if shared:
                base = sorted(shared)[0]
                return f"its kustomization reaches {base}/, as {env_folder.env}'s does"
    for env_folder in known:
        theirs = {f.rsplit("/", 1)[-1] for f in _direct_files(env_folder.folder, files)}
        common = sorted(n for n in names & theirs if n.startswith("values") and is_yaml_name(n))
        if common:
            return f"it has {common[0]}, as {env_folder.env} has"
    return None


_BASES: dict[tuple[str, str], set[str]] = {}


def _bases(root: str | Path, kust: str, files: list[str]) -> set[str]:
    """Every folder a kustomization reaches through resources/bases/components (local only)."""
    key = (str(root), kust)
    if key in _BASES:
        return _BASES[key]
    from gitops_guard.repo.kgraph import is_remote, listed

    known = set(files)
    reached: set[str] = set()
    stack = [(kust, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_KUSTOMIZE_DEPTH:
            continue
        folder = current.rsplit("/", 1)[0] if "/" in current else ""
        for entry in listed(_read_yaml(os.path.join(root, current))):
            if is_remote(entry):
                continue
            target = os.path.normpath(os.path.join(folder or ".", entry)).replace(os.sep, "/")
            if target.startswith("../") or target == "..":
                continue
            for name in KUSTOMIZATION_FILES:
                child = f"{target}/{name}" if target != "." else name
                if child in known:
                    if target not in reached:
                        reached.add(target)
                        stack.append((child, depth + 1))
                    break
    _BASES[key] = reached
    return reached


def _read_yaml(path: str) -> Any:
    import stat

    import yaml

    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 1_000_000:
            return None
        with open(path, "rb") as handle:
            text = handle.read()
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # unreadable or broken: reported where the file itself is checked
        return None


def _listing(names: list[str]) -> str:
    return ", ".join(f"{n}/" for n in names)


def _folders_of(files: list[str]) -> dict[str, set[str]]:
    """folder -> its sub-folders (repository-relative, posix; "" is the root)."""
    result: dict[str, set[str]] = {"": set()}
    linked: set[str] = set()  # folders already entered in their parent's set
    for path in files:
        cut = path.rfind("/")
        folder = path[:cut] if cut >= 0 else ""
        while folder and folder not in linked:
            linked.add(folder)
            if folder not in result:
                result[folder] = set()
            cut = folder.rfind("/")
            parent, name = (folder[:cut], folder[cut + 1 :]) if cut >= 0 else ("", folder)
            subs = result.get(parent)
            if subs is None:
                subs = result[parent] = set()
            subs.add(name)
            folder = parent
    return result


def _direct_files(folder: str, files: list[str]) -> list[str]:
    prefix = f"{folder}/" if folder else ""
    return [f for f in _below(folder, files) if "/" not in f[len(prefix) :]]


def _below(folder: str, files: list[str]) -> list[str]:
    """The files below a folder (``files`` is sorted: a bisected range)."""
    if not folder:
        return files
    prefix = f"{folder}/"
    start = bisect.bisect_left(files, prefix)
    end = bisect.bisect_left(files, prefix[:-1] + "0")  # "0" sorts right after "/"
    return files[start:end]


def _has_yaml_below(folder: str, files: list[str]) -> bool:
    return folder in _yaml_folders(files)


#: (the file list, every folder with a YAML file at or below it): asked once per folder of a
#: repository (1,500 apps: 1,500 times), built in one pass over the list
_YAML_FOLDERS: list[Any] = [None, frozenset()]


def _yaml_folders(files: list[str]) -> frozenset[str]:
    if _YAML_FOLDERS[0] is not files:
        found: set[str] = set()
        for f in files:
            if not is_yaml_name(f.rsplit("/", 1)[-1]):
                continue
            found.add("")
            folder = f
            while "/" in folder:
                folder = folder.rsplit("/", 1)[0]
                if folder in found:
                    break
                found.add(folder)
        _YAML_FOLDERS[:] = [files, frozenset(found)]
    return _YAML_FOLDERS[1]


def _first_file(folder: str, files: list[str]) -> str | None:
    below = [f for f in _below(folder, files) if is_yaml_name(f.rsplit("/", 1)[-1])]
    for f in below:
        if f.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES:
            return f
    return below[0] if below else None


def list_files(root: str | Path) -> list[str]:
    """The repository's files, relative to ``root``: git's (tracked, and untracked but not
    ignored), else a walk that skips hidden folders."""
    return listing(root)[0]


def listing(root: str | Path) -> tuple[list[str], dict[str, str]]:
    """(:func:`list_files`, file -> blob id of the regular files whose working copy git's
    index says is unchanged). One git process: ``ls-files --stage --cached --modified
    --others -t`` (names, the index's blob of each tracked file, and, tagged ``C``, the
    tracked files whose working copy differs from the index: by git's stat cache, content
    when in doubt, as ``diff-files`` decides; a deletion counts as a change)."""
    argv = ["git", "ls-files", "-z", "-t", "--stage", "--cached", "--modified", "--others"]
    try:
        code, listed, _ = processes.run_git(os.fspath(root), *argv[1:], "--exclude-standard", ".")
    except OSError:
        return _walk(root), {}
    if code != 0:
        return _walk(root), {}
    names: set[str] = set()
    blobs: dict[str, str] = {}
    changed: list[str] = []
    for entry in listed.decode("utf-8", "surrogateescape").split("\0"):
        tag, entry = entry[:2], entry[2:]  # "H ", "S " (skip-worktree), "C ", "? "...
        staged = _STAGED.match(entry)
        name = entry[staged.end() :] if staged else entry  # untracked: the name alone
        if not name or name.startswith("."):
            continue
        if tag == "C ":
            changed.append(name)
            continue
        names.add(name)
        # stage 0 of a regular file (not a symlink, a submodule or a conflict)
        if staged and staged.group(3) == "0" and staged.group(1) in ("100644", "100755"):
            blobs[name] = staged.group(2)
    for name in changed:
        blobs.pop(name, None)
    files = sorted(names)[:MAX_FILES]
    return files, blobs


_STAGED = re.compile(r"([0-7]{6}) ([0-9a-f]{40,64}) ([0-3])\t")


def _walk(root: str | Path) -> list[str]:
    result: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in names:
            result.append(name if rel == "." else f"{rel}/{name}")
        if len(result) > MAX_FILES:
            break
    return sorted(result)


def no_environment_finding(
    model: Environments, where: str, line: int = 1, column: int = 1
) -> Finding:
    """The warning when no environment of the policy has a folder (at the policy's
    ``promotion.environments`` when there is a policy file)."""
    names = ", ".join(model.names)
    seen = environment_like_folders(model.files)
    if seen:
        shown = _listing(seen[:SEEN_SHOWN]) + (
            f" and {len(seen) - SEEN_SHOWN} more" if len(seen) > SEEN_SHOWN else ""
        )
        count: dict[str, int] = {}
        for folder in seen:
            name = folder.rsplit("/", 1)[-1]
            count[name] = count.get(name, 0) + 1
        seen_names = sorted(count, key=lambda name: (-count[name], name))  # the commonest first
        named = ", ".join(seen_names[:SEEN_SHOWN]) + (
            f" and {len(seen_names) - SEEN_SHOWN} more" if len(seen_names) > SEEN_SHOWN else ""
        )
        hint = (
            f"; folders that look like environments: {shown} (named "
            f"{named}): put those names, in promotion order, in "
            "promotion.environments, or map the folders with promotion.paths"
        )
    else:
        hint = " (map them with promotion.paths)"
    return Finding(
        where,
        line,
        column,
        "promotion/no-environments",
        f"no folder of any environment ({names}) found: looked for "
        f"{', '.join(model.looked)}; nothing was checked{hint}",
        WARNING,
    )


#: how many environment-like folders the no-environments warning lists
SEEN_SHOWN = 6


def environment_like_folders(files: list[str]) -> list[str]:
    """Folders that look like an environment whatever their name: a folder holding YAML below
    ``clusters/``, ``env/``, ``envs/``, ``environments/`` or ``overlays/`` (not ``base``,
    ``components``..., hidden or vendored ones), for the warning that found no environment.
    ``apps/`` is left out: its sub-folders are more often apps than environments."""
    seen: set[str] = set()
    for folder in _yaml_folders(files):
        parts = folder.split("/")
        if len(parts) < 2 or parts[-2] not in (*ENV_PARENTS, "overlays"):
            continue
        if any(p.startswith((".", "_")) or p in SKIPPED_FOLDERS for p in parts):
            continue
        if parts[-1].lower() in NOT_ENVIRONMENTS:
            continue
        seen.add(folder)
    return sorted(seen, key=lambda f: (f.count("/"), f))


_ENV_TOKEN: dict[str, re.Pattern[str]] = {}


def neutral(text: str, env: str | tuple[str, ...]) -> str:
    """``staging-web`` -> ``<env>-web``: names that embed the environment's own name pair up.
    ``env``: the name, or every name it goes by (:meth:`Environments.words`: ``prod-web`` is
    production's web where production's folder is ``prod/``)."""
    key = env if isinstance(env, str) else "|".join(env)
    pattern = _ENV_TOKEN.get(key)
    if pattern is None:
        words = "|".join(re.escape(n) for n in ((env,) if isinstance(env, str) else env))
        pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])")
        _ENV_TOKEN[key] = pattern
    return pattern.sub("<env>", text)

"""``gitops-guard add app NAME`` and ``gitops-guard add env NAME --after ENV | --parallel-to ENV``:
grow a repository made by ``gitops-guard new`` (or laid out like one) without copying files by
hand.

``add app`` renders the app's files from the bundled template (its base or chart, an overlay in
every environment, its Namespace, its Argo CD Application or Flux Kustomization) and wires them
in: the app is listed in each environment's Applications and namespaces, its namespace becomes a
destination of each AppProject, a Flux alert covers its HelmRelease, CODEOWNERS names its owner.
``add env`` copies the folder of the environment it follows (its image references included, so
nothing unpromoted appears), names the copy after the new environment, and adds it to the
promotion order (after ``--after ENV``, or in one stage with ``--parallel-to ENV``), to the
policy's per-environment section, ``.sops.yaml``, the CI promotion choices, the README when it is
still the generated one, and ``.cruft.json``.

Existing files are edited byte-minimally (``core/yamledit``: one item inserted, every other byte
kept); a file that cannot be edited safely stops the command before anything is written.
``--dry-run`` lists what would be written. The new files are checked with the repository's own
image policy before the command succeeds; a refusal rolls every file back.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_guard.core import yamledit
from gitops_guard.core.errors import UsageError
from gitops_guard.core.quoting import quote

#: folders under clusters/<env>/ that are not apps
NOT_APPS = frozenset({"argocd", "flux", "infrastructure", "flux-system"})
CRUFT_FILE = ".cruft.json"
POLICY_FILE = Path("policies") / "gitops-guard.yaml"


class Change:
    """One file the command writes: a new one, or a new text for an existing one."""

    __slots__ = ("new", "path", "text")

    def __init__(self, path: str, text: str, new: bool) -> None:
        self.path = path
        self.text = text
        self.new = new


# -- the repository -----------------------------------------------------------------------


def find_root(given: str | None) -> Path:
    """The repository: a folder with ``clusters/`` (and usually ``policies/gitops-guard.yaml``),
    the working directory or the nearest one above it, or ``--root DIR``."""
    start = Path(given or ".").resolve()
    for folder in (start, *start.parents):
        if (folder / "clusters").is_dir() and (
            (folder / POLICY_FILE).is_file() or (folder / ".git").exists() or given
        ):
            return folder
        if given:
            break
    raise UsageError(
        f"{given or 'the working directory'}: not a repository made by `gitops-guard new` "
        f"(no clusters/ folder with {POLICY_FILE} here or above)"
    )


def _read(root: Path, rel: str) -> str:
    try:
        return (root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{rel}: cannot read it ({exc})") from None


def stages_of(root: Path) -> list[list[str]]:
    """The promotion order of the policy, each stage a list of parallel environments."""
    import yaml

    data = yaml.safe_load(_read(root, str(POLICY_FILE))) if (root / POLICY_FILE).is_file() else {}
    order = ((data or {}).get("promotion") or {}).get("environments") or ["staging", "production"]
    return [[str(e) for e in item] if isinstance(item, list) else [str(item)] for item in order]


def environments_text(stages: list[list[str]]) -> str:
    return ",".join("+".join(stage) for stage in stages)


def answers_of(root: Path) -> dict[str, str]:
    """The template answers that made the repository: .cruft.json's, else read from it."""
    path = root / CRUFT_FILE
    answers: dict[str, str] = {}
    if path.is_file():
        try:
            context = json.loads(path.read_text(encoding="utf-8"))["context"]["cookiecutter"]
            answers = {k: v for k, v in context.items() if isinstance(v, str)}
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(f"{CRUFT_FILE}: not the JSON `gitops-guard new` writes") from None
    inferred = _infer(root)
    for key, value in inferred.items():
        answers.setdefault(key, value)
    answers["environments"] = environments_text(stages_of(root))
    return answers


def _infer(root: Path) -> dict[str, str]:
    import yaml

    clusters = root / "clusters"
    engine = "argocd" if any(clusters.glob("*/argocd")) else "flux"
    ci = (
        "github"
        if (root / ".github/workflows").is_dir()
        else "gitlab"
        if (root / ".gitlab-ci.yml").is_file()
        else "none"
    )
    if (root / ".sops.yaml").is_file():
        backend = "sops"
    elif any(clusters.glob("*/infrastructure/secret-store.yaml")):
        backend = "external-secrets"
    else:
        backend = "sealed-secrets"
    data = yaml.safe_load(_read(root, str(POLICY_FILE))) if (root / POLICY_FILE).is_file() else {}
    images = (data or {}).get("images") or {}
    registries = images.get("allowed_registries") or ["registry.example.com"]
    inferred = {
        "gitops_engine": engine,
        "ci_provider": ci,
        "secrets_backend": backend,
        "image_registry": str(registries[0]),
        "repo_slug": root.name,
    }
    for source in sorted(clusters.glob("*/flux/source.yaml")) + sorted(
        clusters.glob("*/root-app.yaml")
    ):
        with contextlib.suppress(yaml.YAMLError, OSError, AttributeError, TypeError):
            doc = yaml.safe_load(source.read_text(encoding="utf-8"))
            spec = doc.get("spec") or {}
            url = spec.get("url") or (spec.get("source") or {}).get("repoURL")
            if url:
                inferred["repo_url"] = str(url)
                if doc.get("kind") == "GitRepository":
                    inferred["repo_slug"] = str(doc["metadata"]["name"])
                break
    return inferred


def apps_of(root: Path, stages: list[list[str]]) -> list[str]:
    found = (
        {p.name for p in (root / "apps").iterdir() if p.is_dir()}
        if (root / "apps").is_dir()
        else set()
    )
    for env in (e for stage in stages for e in stage):
        folder = root / "clusters" / env
        if folder.is_dir():
            found |= {p.name for p in folder.iterdir() if p.is_dir() and p.name not in NOT_APPS}
    return sorted(found)


# -- rendering from the bundled template ----------------------------------------------------


def render_template(answers: dict[str, str], scratch: Path) -> Path:
    """The whole template rendered with ``answers`` in ``scratch`` (cookiecutter, its hooks)."""
    from cookiecutter.exceptions import CookiecutterException

    from gitops_guard.scaffold import new

    public = {
        k: v for k, v in answers.items() if k in new.variables() and k not in new.NOT_PROMPTED
    }
    try:
        rendered = new._rendered_answers(public)
    except (CookiecutterException, ValueError) as exc:
        raise UsageError(f"the template failed: {exc}") from None
    found = new.problems(rendered)
    if found:
        raise UsageError("; ".join(found))
    with new._import_patch(), contextlib.redirect_stdout(io.StringIO()):
        try:
            return new._render(scratch, public)
        except (CookiecutterException, ValueError) as exc:
            raise UsageError(f"the template failed: {exc}") from None


# -- byte-minimal edits ---------------------------------------------------------------------


def _root_node(text: str, where: str, kind: str | None = None) -> Any:
    try:
        roots = yamledit.compose(text, where)
    except yamledit.EditError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # a YAML error: the file is not what the command expects
        raise UsageError(f"{where}: not valid YAML ({type(exc).__name__})") from None
    for root in roots:
        if root is None or root.id != "mapping":
            continue
        if kind is None or _scalar(yamledit.lookup(root, "kind")) == kind:
            return root
    raise UsageError(f"{where}: no {kind or 'YAML mapping'} in it to edit")


def _scalar(node: Any) -> str | None:
    return node.value if node is not None and node.id == "scalar" else None


def add_item(
    text: str, where: str, path: tuple[Any, ...], item: str, kind: str | None = None
) -> str:
    """``text`` with ``item`` appended to the sequence at ``path`` (nothing else changed)."""
    root = _root_node(text, where, kind)
    sequence = yamledit.lookup(root, *path)
    if sequence is None or sequence.id != "sequence":
        raise UsageError(
            f"{where}: no {'.'.join(map(str, path))} list to add {quote(item.split(':')[0])} to"
        )
    try:
        return yamledit.apply(
            text, [yamledit.insert_item(text, sequence, len(sequence.value), item)]
        )
    except yamledit.EditError as exc:
        raise UsageError(f"{where}: {exc}") from None


def sequence_values(node: Any) -> list[Any]:
    return [_scalar(v) if v.id == "scalar" else [_scalar(x) for x in v.value] for v in node.value]


def flow_list(values: list[str]) -> str:
    from gitops_guard.scaffold.new import _load

    yaml_str = _load("gitops_guard_template_filters.py").yaml_str
    return "[" + ", ".join(yaml_str(v) for v in values) + "]"


def replace_node(text: str, node: Any, new: str) -> str:
    start, end = node.start_mark.index, node.end_mark.index
    return text[:start] + new + text[end:]


# -- add app --------------------------------------------------------------------------------


def plan_app(root: Path, name: str, fmt: str | None, image: str | None) -> list[Change]:
    from gitops_guard.scaffold.new import _pre_gen_module

    problem = _pre_gen_module().dns1123_problem("app name", name)
    if problem:
        raise UsageError(problem)
    stages = stages_of(root)
    envs = [e for stage in stages for e in stage]
    if name in NOT_APPS:
        raise UsageError(
            f"{quote(name)} is the name of a folder every environment has; choose another"
        )
    if name in apps_of(root, stages):
        raise UsageError(
            f"app {quote(name)} already exists (apps/{name}/ or clusters/<env>/{name}/)"
        )
    answers = answers_of(root)
    answers.update(app_name=name, app_format=fmt or answers.get("app_format", "kustomize"))
    engine = answers["gitops_engine"]
    with tempfile.TemporaryDirectory(prefix="gitops-guard-add-") as scratch:
        made = render_template(answers, Path(scratch))
        changes: list[Change] = []
        wanted = [p for p in sorted(made.rglob("*")) if p.is_file()]
        for path in wanted:
            rel = path.relative_to(made).as_posix()
            parts = rel.split("/")
            keep = parts[:2] == ["apps", name] or (
                parts[0] == "clusters"
                and len(parts) > 2
                and (parts[2] == name or parts[2:] in ([engine, f"{name}.yaml"],))
            )
            if parts[0] == "clusters" and parts[2:] == ["infrastructure", "namespace.yaml"]:
                rel = f"clusters/{parts[1]}/infrastructure/namespace-{name}.yaml"
                keep = True
            if keep:
                changes.append(Change(rel, path.read_text(encoding="utf-8"), new=True))
        readme = _readme_app_lines(root, made, name, envs[0], apps_of(root, stages))
    if image:
        _set_image(changes, answers["image_registry"], name, image)
    edits: dict[str, str] = {}

    def edit(rel: str, path: tuple[str, ...], item: str, kind: str | None = None) -> None:
        if (root / rel).is_file():
            edits[rel] = add_item(edits.get(rel, _read(root, rel)), rel, path, item, kind)

    for env in envs:
        base = f"clusters/{env}"
        namespace = f"namespace-{name}.yaml"
        edit(f"{base}/infrastructure/kustomization.yaml", ("resources",), namespace)
        if engine == "argocd":
            edit(f"{base}/argocd/kustomization.yaml", ("resources",), f"{name}.yaml")
            destination = f"server: https://kubernetes.default.svc\nnamespace: {_yaml_str(name)}"
            path = ("spec", "destinations")
            edit(f"{base}/argocd/project.yaml", path, destination, "AppProject")
        if engine == "flux" and answers["app_format"] == "helm":
            source = f'kind: HelmRelease\nname: "*"\nnamespace: {_yaml_str(name)}'
            path = ("spec", "eventSources")
            edit(f"{base}/flux/notifications.yaml", path, source, "Alert")
    if readme is not None:
        edits["README.md"] = readme
    if (root / "CODEOWNERS").is_file():
        text = edits.get("CODEOWNERS", _read(root, "CODEOWNERS"))
        owner = answers.get("_app_team", "@example-org/app-team")
        line = f"/apps/{name}/".ljust(28) + f"{owner}\n"
        edits["CODEOWNERS"] = text + ("" if text.endswith("\n") or not text else "\n") + line
    changes += [Change(rel, text, new=False) for rel, text in edits.items()]
    return changes


def _readme_app_lines(root: Path, made: Path, name: str, first: str, apps: list[str]) -> str | None:
    """The README with the new app's layout lines (as the template writes them for it) put
    after the existing apps' lines; every other byte kept. None: no README, or one whose
    layout does not list the apps (a note says so)."""
    if not (root / "README.md").is_file() or not (made / "README.md").is_file():
        return None
    text = _read(root, "README.md")
    rendered = (made / "README.md").read_text(encoding="utf-8").splitlines(True)
    lines = text.splitlines(True)
    placed = False
    for prefix in ("apps/", f"clusters/{first}/"):
        new = [line for line in rendered if line.startswith(f"{prefix}{name}/ ")]
        listed = [
            i
            for i, line in enumerate(lines)
            if any(line.startswith(f"{prefix}{app}/ ") for app in apps)
        ]
        if new and listed:
            lines[listed[-1] + 1 : listed[-1] + 1] = new[:1]
            placed = True
    if not placed:
        NOTES.append("README.md: its layout does not list the apps; not updated")
        return None
    return "".join(lines)


def _yaml_str(value: str) -> str:
    from gitops_guard.scaffold.new import _load

    result: str = _load("gitops_guard_template_filters.py").yaml_str(value)
    return result


def _set_image(changes: list[Change], registry: str, name: str, image: str) -> None:
    """The template writes ``<registry>/<name>:v0.1.0``; put ``image`` there instead."""
    from gitops_guard.checks.images.reference import ReferenceError, parse

    try:
        ref = parse(image)
    except ReferenceError as exc:
        raise UsageError(f"--image {image[:80]!r}: {exc}") from None
    if ref.tag is None:
        raise UsageError(f"--image {image[:80]!r}: give a tag (every environment starts at it)")
    repository = ref.repository
    prefix, _, last = repository.rpartition("/")
    default = f"{registry}/{name}"
    for change in changes:
        text = change.text
        text = text.replace(f"{default}:v0.1.0", f"{repository}:{ref.tag}")
        text = text.replace(
            f"- name: {default}\n    newTag: v0.1.0",
            f"- name: {repository}\n    newTag: {ref.tag}"
            + (f"\n    digest: {ref.digest}" if ref.digest else ""),
        )
        text = text.replace(
            f"  registry: {registry}\n  repository: {_yaml_str(name)}\n  tag: v0.1.0",
            f"  registry: {prefix}\n  repository: {_yaml_str(last)}\n  tag: {ref.tag}"
            + (f"\n  digest: {ref.digest}" if ref.digest else ""),
        )
        text = text.replace(
            f"  registry: {registry}\n  repository: {_yaml_str(name)}\n",
            f"  registry: {prefix}\n  repository: {_yaml_str(last)}\n",
        )
        change.text = text


# -- add env --------------------------------------------------------------------------------


def plan_env(root: Path, name: str, after: str | None, parallel_to: str | None) -> list[Change]:
    from gitops_guard.scaffold.new import _pre_gen_module

    if bool(after) == bool(parallel_to):
        raise UsageError(
            "add env: give --after ENV (a later stage) or --parallel-to ENV (the same stage)"
        )
    problem = _pre_gen_module().dns1123_problem("environment", name)
    if problem:
        raise UsageError(problem)
    stages = stages_of(root)
    envs = [e for stage in stages for e in stage]
    if name in envs or (root / "clusters" / name).exists():
        raise UsageError(f"environment {quote(name)} already exists")
    source = after or parallel_to
    assert source is not None
    if source not in envs:
        raise UsageError(
            f"no environment {quote(source)} (the promotion order is {environments_text(stages)})"
        )
    index = next(i for i, stage in enumerate(stages) if source in stage)
    if after:
        new_stages = [*stages[: index + 1], [name], *stages[index + 1 :]]
    else:
        new_stages = [list(s) for s in stages]
        new_stages[index] = [*stages[index], name]
    old_answers = answers_of(root)
    new_answers = {**old_answers, "environments": environments_text(new_stages)}
    masks = [
        v
        for v in (
            *apps_of(root, stages),
            old_answers.get("repo_slug", ""),
            old_answers.get("image_registry", ""),
            old_answers.get("repo_url", ""),
        )
        if v
    ]
    changes: list[Change] = []
    folder = root / "clusters" / source
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(root).as_posix()
        target = f"clusters/{name}/" + path.relative_to(folder).as_posix()
        changes.append(Change(target, rename_env(_read(root, rel), source, name, masks), new=True))
    changes += _policy_change(root, stages, new_stages, source, name, bool(after))
    changes += _sops_change(root, source, name)
    changes += _generated_files(
        root, old_answers, new_answers, new_stages, changes, (source, name, masks)
    )
    cruft = root / CRUFT_FILE
    if cruft.is_file():
        state = json.loads(cruft.read_text(encoding="utf-8"))
        state["context"]["cookiecutter"]["environments"] = new_answers["environments"]
        changes.append(Change(CRUFT_FILE, json.dumps(state, indent=2) + "\n", new=False))
    return changes


def rename_env(text: str, old: str, new: str, masks: list[str]) -> str:
    """``text`` with the environment's name ``old`` (as a whole word) changed to ``new``; the
    app names, the repository's name and URL and the registry are left as they are."""
    held: dict[str, str] = {}
    for i, value in enumerate(sorted(set(masks), key=len, reverse=True)):
        if old in value:
            token = f"\x00{i}\x00"
            held[token] = value
            text = text.replace(value, token)
    text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", new, text)
    for token, value in held.items():
        text = text.replace(token, value)
    return text


def _policy_change(
    root: Path,
    stages: list[list[str]],
    new_stages: list[list[str]],
    source: str,
    name: str,
    later: bool,
) -> list[Change]:
    rel = str(POLICY_FILE)
    text = _read(root, rel)
    node = _root_node(text, rel)
    order = yamledit.lookup(node, "promotion", "environments")
    if order is None or order.id != "sequence":
        raise UsageError(f"{rel}: no promotion.environments list to add {quote(name)} to")
    index = next(i for i, stage in enumerate(stages) if source in stage)
    if order.flow_style:
        rendered = (
            "["
            + ", ".join(
                _yaml_str(stage[0]) if len(stage) == 1 else flow_list(stage) for stage in new_stages
            )
            + "]"
        )
        text = replace_node(text, order, rendered)
    elif later:
        text = yamledit.apply(text, [yamledit.insert_item(text, order, index + 1, _yaml_str(name))])
    else:  # a block list: the stage's item becomes a group, or its group gains the name
        item = order.value[index]
        if item.id == "sequence":
            edit = yamledit.insert_item(text, item, len(item.value), _yaml_str(name))
            text = yamledit.apply(text, [edit])
        elif item.id == "scalar":
            text = replace_node(text, item, flow_list(new_stages[index]))
        else:
            raise UsageError(
                f"{rel}: promotion.environments item {index + 1} is not a name or a list; "
                f"add {quote(name)} to its stage by hand"
            )
    overrides = yamledit.lookup(_root_node(text, rel), "environments")
    if overrides is not None and overrides.id == "mapping":
        block = _mapping_entry_text(text, overrides, source)
        if block is not None:
            _start, end, lines = block
            copied = re.sub(
                rf"^(\s*){re.escape(_yaml_str(source))}:",
                lambda m: f"{m.group(1)}{_yaml_str(name)}:",
                lines,
                count=1,
            )
            copied = rename_env(copied, source, name, [])
            text = text[:end] + copied + text[end:]
    return [Change(rel, text, new=False)]


def _mapping_entry_text(text: str, mapping: Any, key: str) -> tuple[int, int, str] | None:
    """The lines of one block-mapping entry (key line to the last line of its value)."""
    if mapping.flow_style:
        return None
    for key_node, value_node in mapping.value:
        if _scalar(key_node) != key:
            continue
        start = text.rfind("\n", 0, key_node.start_mark.index) + 1
        last = yamledit._last_scalar(value_node)
        end_index = (
            yamledit.scalar_span(text, last)[1]
            if last.id == "scalar"
            else value_node.end_mark.index
        )
        end = text.find("\n", end_index)
        end = len(text) if end < 0 else end + 1
        # keep the commented lines that belong to it (deeper-indented comments below it)
        indent = key_node.start_mark.column
        while end < len(text):
            line_end = text.find("\n", end)
            line = text[end : len(text) if line_end < 0 else line_end + 1]
            stripped = line.lstrip(" ")
            if stripped.startswith("#") and len(line) - len(stripped) > indent:
                end += len(line)
                continue
            break
        return start, end, text[start:end]
    return None


def _sops_change(root: Path, source: str, name: str) -> list[Change]:
    rel = ".sops.yaml"
    if not (root / rel).is_file():
        return []
    text = _read(root, rel)
    node = _root_node(text, rel)
    rules = yamledit.lookup(node, "creation_rules")
    if rules is None or rules.id != "sequence":
        return []
    for item in rules.value:
        regex = _scalar(yamledit.lookup(item, "path_regex"))
        if regex and f"clusters/{source}/" in regex:
            lines = []
            for key, _k, value, _ in yamledit.items(item):
                if value.id == "scalar":
                    shown = value.value.replace(f"clusters/{source}/", f"clusters/{name}/")
                    lines.append(f"{key}: {shown}")
            return [
                Change(
                    rel,
                    yamledit.apply(
                        text,
                        [yamledit.insert_item(text, rules, len(rules.value), "\n".join(lines))],
                    ),
                    new=False,
                )
            ]
    return []


def _generated_files(
    root: Path,
    old: dict[str, str],
    new: dict[str, str],
    new_stages: list[list[str]],
    planned: list[Change],
    copy: tuple[str, str, list[str]],
) -> list[Change]:
    """CI and the README: re-rendered where they are still what the template wrote for the old
    answers; otherwise the template's change of their environment lines is carried over (the
    promotion choices edited in place for CI), or they are left with a note. Every other file
    the template wrote gets the template's comment changes (``planned`` is edited in place)."""
    candidates = ["README.md", ".github/workflows/promote.yml", ".gitlab-ci.yml"]
    present = [rel for rel in candidates if (root / rel).is_file() or rel.endswith("promote.yml")]
    with tempfile.TemporaryDirectory(prefix="gitops-guard-add-") as scratch:
        before = render_template(old, Path(scratch) / "before")
        after = render_template(new, Path(scratch) / "after")
        changes = _true_comments(root, before, after, planned, candidates, copy)
        for rel in present:
            current = (root / rel).read_text(encoding="utf-8") if (root / rel).is_file() else None
            was = (before / rel).read_text(encoding="utf-8") if (before / rel).is_file() else None
            will = (after / rel).read_text(encoding="utf-8") if (after / rel).is_file() else None
            if will is None or current == will:
                continue
            if current is None:
                if (
                    was is None
                    and old.get("ci_provider") == "github"
                    and (root / ".github").is_dir()
                ):
                    changes.append(Change(rel, will, new=True))  # one environment had none
                continue
            if current == was:
                changes.append(Change(rel, will, new=False))
                continue
            merged, missed = (current, 1) if was is None else carry_over(current, was, will)
            edited = merged if not missed else _ci_choices(current, rel, new_stages)
            if edited is not None and edited != current:
                changes.append(Change(rel, edited, new=False))
            else:
                NOTES.append(
                    f"{rel}: edited where the environments are listed; not updated (add the new "
                    "environment there by hand)"
                )
    return changes


def _true_comments(
    root: Path,
    before: Path,
    after: Path,
    planned: list[Change],
    skip: list[str],
    copy: tuple[str, str, list[str]],
) -> list[Change]:
    """The template's comment changes for the new order, in every file it wrote: a comment
    that names the environment before or after, or the production-like ones, says what is true
    after the change (``promote --from staging --to qa``). Only blocks whose YAML is the same
    but for comments are applied; values (replicas, policy sections) are never changed here."""
    source, name, masks = copy
    by_path = {change.path: change for change in planned}
    extra: list[Change] = []
    for path in sorted(after.rglob("*")):
        rel = path.relative_to(after).as_posix()
        if not path.is_file() or rel in skip or rel == CRUFT_FILE:
            continue
        was_path = before / rel
        prefix = f"clusters/{name}/"
        if rel.startswith(prefix):  # the copy: as the template wrote the environment copied
            was_path = before / f"clusters/{source}/{rel[len(prefix) :]}"
        if not was_path.is_file():
            continue
        was = was_path.read_text(encoding="utf-8")
        if rel.startswith(prefix):
            was = rename_env(was, source, name, masks)
        will = path.read_text(encoding="utf-8")
        change = by_path.get(rel)
        if change is None and not (root / rel).is_file():
            continue
        current = change.text if change is not None else (root / rel).read_text(encoding="utf-8")
        if was == will:
            continue
        merged, _ = carry_over(current, was, will, only=_comments_only)
        if merged == current:
            continue
        if change is not None:
            change.text = merged
        else:
            extra.append(Change(rel, merged, new=False))
    return extra


def _code(line: str) -> str:
    """A YAML line without its comment ('' for a comment or blank line)."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return ""
    cut = line.find(" #")
    return (line[:cut] if cut >= 0 else line).rstrip()


def _comments_only(old: list[str], new: list[str]) -> bool:
    codes = [[c for c in map(_code, block) if c] for block in (old, new)]
    return codes[0] == codes[1]


def carry_over(
    current: str,
    was: str,
    will: str,
    only: Callable[[list[str], list[str]], bool] | None = None,
) -> tuple[str, int]:
    """``current`` with the template's own change from ``was`` to ``will`` applied: each
    changed block of lines is put where its old lines (and up to two lines before them) stand
    in ``current``, in order, so a file edited elsewhere keeps every other byte. Returns the
    new text and how many changed blocks found no place there (0: all applied). With
    ``only``, just the blocks it accepts (old lines, new lines) are applied."""
    import difflib

    old_lines = was.splitlines(True)
    new_lines = will.splitlines(True)
    lines = current.splitlines(True)
    out: list[str] = []
    at = 0  # lines[:at] are settled
    previous_end = 0  # where the last changed block ended in ``old_lines``
    missed = 0
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (only is not None and not only(old_lines[i1:i2], new_lines[j1:j2])):
            continue
        context = old_lines[max(previous_end, i1 - 2) : i1]
        block = old_lines[i1:i2]
        where = _find(lines, context + block, at)
        if where is None and context and block:
            context = []
            where = _find(lines, block, at, unique=True)
        if where is None:
            missed += 1
            continue
        start = where + len(context)
        out += lines[at:start] + new_lines[j1:j2]
        at = start + len(block)
        previous_end = i2
    out += lines[at:]
    return "".join(out), missed


def _find(lines: list[str], block: list[str], start: int, unique: bool = False) -> int | None:
    """Where ``block`` stands in ``lines`` at or after ``start`` (the first place; with
    ``unique``, None when it stands in more than one)."""
    size = len(block)
    found = [i for i in range(start, len(lines) - size + 1) if lines[i : i + size] == block]
    if not found or (unique and len(found) > 1):
        return None
    return found[0]


NOTES: list[str] = []


def _ci_choices(text: str, rel: str, stages: list[list[str]]) -> str | None:
    sources = [e for stage in stages[:-1] for e in stage]
    targets = [e for stage in stages[1:] for e in stage]
    if rel.endswith("promote.yml"):
        paths = [
            (("on", "workflow_dispatch", "inputs", "from", "options"), sources),
            (("on", "workflow_dispatch", "inputs", "to", "options"), targets),
        ]
    elif rel == ".gitlab-ci.yml":
        paths = [
            (("variables", "PROMOTE_FROM", "options"), sources),
            (("variables", "PROMOTE_TO", "options"), targets),
        ]
    else:
        return None
    for path, values in paths:
        node = yamledit.lookup(_root_node(text, rel), *path)
        if node is None or node.id != "sequence" or not node.flow_style:
            return None
        text = replace_node(text, node, flow_list(values))
    return text


def _catch_up(root: Path, name: str) -> list[Change]:
    """An environment put between two others starts at what the next one runs (which the one
    before ran, by the promotion rule), so the next stays a promotion from it; the folder it
    was copied from may run newer tags that the next never got. Uses ``promote``'s edits."""
    from gitops_guard.change.promote import Refused, plan_app
    from gitops_guard.core.policy import load_policy
    from gitops_guard.repo import overlays

    stages = stages_of(root)
    index = next(i for i, stage in enumerate(stages) if name in stage)
    if index + 1 >= len(stages):
        return []
    following = stages[index + 1][0]
    policy = load_policy(root / POLICY_FILE)
    try:
        model, _, _ = overlays.environment_pair(policy, following, name)
    except (overlays.LayoutError, OSError) as exc:
        NOTES.append(f"kept the copied image references ({exc})")
        return []
    changes = []
    for app in apps_of(root, [[name]]):
        if not (root / "clusters" / following / app).is_dir():
            continue
        try:
            plan = plan_app(model, policy, app, following, name)
        except (Refused, yamledit.EditError) as exc:  # NoImages is a Refused
            NOTES.append(f"{app}: kept the copied image references ({exc})")
            continue
        for path, (shown, _old, new) in plan.files.items():
            Path(path).write_text(new, encoding="utf-8")
            changes.append(Change(shown, new, new=False))
        if plan.changes:
            NOTES.append(f"{app}: {name} starts at what {following} runs")
    return changes


# -- the command ----------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("app", "env"), metavar="app|env", help="what to add")
    parser.add_argument("name", metavar="NAME", help="its name (a DNS-1123 label)")
    parser.add_argument(
        "--format",
        dest="app_format",
        choices=("kustomize", "helm"),
        help="add app: a kustomize base + overlays or a Helm chart + values "
        "(default: the repository's)",
    )
    parser.add_argument(
        "--image",
        metavar="REF",
        help="add app: the image every environment starts at "
        "(default: <image_registry>/NAME:v0.1.0)",
    )
    parser.add_argument(
        "--after", metavar="ENV", help="add env: a later stage, promoted to from ENV"
    )
    parser.add_argument(
        "--parallel-to",
        dest="parallel_to",
        metavar="ENV",
        help="add env: another cluster of ENV's stage",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be written, write nothing"
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="the repository (default: found from the working directory upward)",
    )


def run(args: argparse.Namespace) -> int:
    root = find_root(args.root)
    NOTES.clear()
    if args.what == "app":
        if args.after or args.parallel_to:
            raise UsageError("add app: --after and --parallel-to are options of add env")
        changes = plan_app(root, args.name, args.app_format, args.image)
    else:
        if args.app_format or args.image:
            raise UsageError("add env: --format and --image are options of add app")
        changes = plan_env(root, args.name, args.after, args.parallel_to)
    for change in changes:
        if change.new and (root / change.path).exists():
            raise UsageError(f"{change.path}: already exists; nothing was written")
    verb = "would write" if args.dry_run else "wrote"
    if args.dry_run:
        for change in changes:
            print(f"{verb} {'new ' if change.new else 'edit'} {change.path}")
        for note in NOTES:
            print(f"note: {note}")
        return 0
    written = write_all(root, changes)
    if args.what == "env":
        changes += _catch_up(root, args.name)
    if args.what == "app":
        refused = _check_images(root, [c.path for c in changes if c.new], args.dispatch)
        if refused:
            restore(root, written)
            print(refused, end="")
            print(
                "gitops-guard add: refused: the new app's images break the policy; "
                "nothing was written",
                file=sys.stderr,
            )
            return 1
    for change in changes:
        print(f"{verb} {'new ' if change.new else 'edit'} {change.path}")
    for note in NOTES:
        print(f"note: {note}")
    return 0


def write_all(root: Path, changes: list[Change]) -> list[tuple[str, bytes | None]]:
    """Write every change; return what was there before (None: the file was new)."""
    saved: list[tuple[str, bytes | None]] = []
    try:
        for change in changes:
            path = root / change.path
            saved.append((change.path, path.read_bytes() if path.exists() else None))
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.gitops-guard-add.tmp")
            temp.write_text(change.text, encoding="utf-8")
            if path.exists():
                shutil.copymode(path, temp)
            os.replace(temp, path)
    except BaseException:
        restore(root, saved)
        raise
    return saved


def restore(root: Path, saved: list[tuple[str, bytes | None]]) -> None:
    for rel, data in reversed(saved):
        path = root / rel
        if data is None:
            with contextlib.suppress(OSError):
                path.unlink()
            parent = path.parent
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        else:
            path.write_bytes(data)


def _check_images(root: Path, files: list[str], dispatch: Callable[[list[str]], int]) -> str:
    yaml_files = [f for f in files if f.endswith((".yaml", ".yml"))]
    if not yaml_files:
        return ""
    out = io.StringIO()
    old = Path.cwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = dispatch(["check-images", *yaml_files])
    finally:
        os.chdir(old)
    return out.getvalue() if code != 0 else ""

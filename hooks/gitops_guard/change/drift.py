"""``gitops-guard drift``: render two environments' overlays and show what differs.

Each app's overlay is rendered with ``kustomize build`` (else ``kubectl kustomize``), resources
are paired by kind / namespace / name, and every difference is listed except the allowed ones
(``promotion.allowed_differences``: replicas, resource requests... per kind). A differing
container image is *pending promotion* (``promote`` will carry it) when the source runs the
newer one; when the target runs a newer version than the source (a higher semantic version
tag) it is *ahead of the source*, which is not a promotion but an artifact that skipped the
source: reported, and counted as drift for the exit code. Anything else is *drift*, which is
what a platform team wants to see before a promotion pull request. The overlays are where
:mod:`gitops_guard.repo.environments` finds them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gitops_guard.core.documents import KUSTOMIZATION_FILES, YAML_SUFFIXES
from gitops_guard.core.findings import printable_path
from gitops_guard.core.quoting import quote, quote_list, shown
from gitops_guard.repo import overlays
from gitops_guard.repo.overlays import LayoutError

PENDING = "pending promotion"
DRIFT = "drift"
AHEAD = "ahead of the source"
_MISSING = object()
RENDER_TIMEOUT = 300


class RenderError(Exception):
    """kustomize failed on an overlay; the message holds its first lines of error."""


@dataclass
class Difference:
    app: str
    kind: str
    namespace: str
    name: str
    path: str
    type: str
    source: Any
    target: Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", metavar="APP", help="only this app (default: all)")
    parser.add_argument("--from", dest="source", metavar="ENV", help="default: first env")
    parser.add_argument("--to", dest="target", metavar="ENV", help="default: the env after")


def renderer() -> list[str] | None:
    """``kustomize build`` when kustomize is installed, else ``kubectl kustomize``: on PATH, or
    next to this Python (the ``render`` extra's kubectl wheel in a venv nobody activated)."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    kubectl = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    if kubectl:
        return [kubectl, "kustomize"]
    return None


def run(args: argparse.Namespace) -> int:
    from gitops_guard.core.errors import UsageError
    from gitops_guard.core.pipeline import load_policy_or_fail

    if args.format not in ("text", "json"):
        raise UsageError("drift prints --format text or json")
    policy = load_policy_or_fail(args)
    try:
        model, source, target = overlays.environment_pair(policy, args.source, args.target)
    except LayoutError as exc:
        raise UsageError(str(exc)) from None
    folders = sorted(set(model.apps(source)) | set(model.apps(target)))
    names = [name for name in folders if _sets_an_image(model, name, (source, target))]
    if args.app is not None:
        if args.app not in folders:
            print(
                f"gitops-guard drift: app {quote(args.app)} has no overlay in {source} or {target}",
                file=sys.stderr,
            )
            return 1
        names = [args.app]
    elif not names:
        # nothing was compared: say so, rather than a "0 drift" that reads as "they agree"
        _nothing_to_compare(args.format, source, target, folders)
        return 0
    command = renderer()
    if command is None:
        raise UsageError(
            "no kustomize renderer: install kustomize or kubectl on PATH, "
            "or pip install 'gitops-guard[render]'"
        )
    allowed = _allowed(policy.section("promotion").get("allowed_differences") or {})
    differences: list[Difference] = []
    skipped: list[str] = []
    ignored = 0
    for app in names:
        try:
            found, quiet = compare_app(model, app, source, target, command, allowed)
        except RenderError as exc:
            print(f"gitops-guard drift: {exc}", file=sys.stderr)
            return 1
        if found is None:
            skipped.append(app)
            continue
        differences.extend(found)
        ignored += quiet
    _report(args.format, source, target, names, differences, skipped, ignored)
    return 1 if any(d.type in (DRIFT, AHEAD) for d in differences) else 0


def _nothing_to_compare(fmt: str, source: str, target: str, folders: list[str]) -> None:
    """No app of either environment sets an image: there is no app to compare."""
    message = f"no app in {source} or {target} sets an image: nothing to compare"
    if folders:
        message += (
            f" (overlay folders: {quote_list(folders)};"
            " name one to compare it: gitops-guard drift APP)"
        )
    if fmt == "json":
        payload = {"from": source, "to": target, "apps": [], "differences": [], "note": message}
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(printable_path(message))


def _sets_an_image(model: Any, app: str, envs: tuple[str, str]) -> bool:
    """An app's overlay sets its image; bootstrap folders (argocd/, flux/) do not."""
    for env in envs:
        found = model.app(env, app)
        if found is None:
            continue
        overlay = overlays.load_app(model, found)
        if any(f.slots for f in overlay.files):
            return True
    return False


def _has_kustomization(folder: Path) -> bool:
    return any((folder / name).is_file() for name in KUSTOMIZATION_FILES)


def compare_app(
    model: Any,
    app: str,
    source: str,
    target: str,
    command: list[str],
    allowed: dict[str, list[list[str]]],
) -> tuple[list[Difference] | None, int]:
    """(differences, allowed differences ignored); None when the app cannot be rendered."""
    apps = {env: model.app(env, app) for env in (source, target)}
    for env, other in ((source, target), (target, source)):
        if apps[env] is None:
            return [Difference(app, "", "", "", "", DRIFT, *_only(other, source))], 0
    folders = {env: model.path(a.folder) for env, a in apps.items()}
    if not all(_has_kustomization(f) for f in folders.values()):
        words = {env: model.words(env) for env in folders}
        return _compare_values(app, folders, source, target, allowed, words)
    rendered = {
        env: _env_neutral(
            _unhash(render(folder, command)),
            env,
            [a.folder, a.folder.rsplit("/", 1)[0]],
            model.words(env),
        )
        for env, (folder, a) in ((e, (folders[e], apps[e])) for e in folders)
    }
    return _compare_resources(app, rendered[source], rendered[target], allowed)


def _env_neutral(
    resources: dict[tuple[str, str, str], Any],
    env: str,
    env_folders: list[str] | None = None,
    words: tuple[str, ...] | None = None,
) -> dict[tuple[str, str, str], Any]:
    """Names that embed the environment's own name pair up (``staging-web`` ~
    ``production-web``: Argo CD Applications of one repository), and the environment's folder
    in a path (``clusters/staging/web``) is taken out. Other values are left alone: a
    token that differs by the environment's name is still a difference. ``words``: every
    name the environment goes by (``Environments.words``; default: its own)."""
    words = words or (env,)  # production's folder may be prod/ (the default order)
    token = re.compile(
        r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![A-Za-z0-9])"
    )
    folders = {f"clusters/{w}" for w in words} | {
        f for f in env_folders or [] if f.endswith(tuple(f"/{w}" for w in words))
    }
    folder = re.compile(
        r"(?<![^/\s])(" + "|".join(re.escape(f) for f in sorted(folders)) + r")(?=/|$)"
    )

    def neutral_folder(match: re.Match[str]) -> str:
        return match.group(1).rsplit("/", 1)[0] + "/<env>"

    def name_of(name: str) -> str:
        return token.sub("<env>", name) if name not in words else name

    def namespace_of(namespace: str) -> str:
        return token.sub("<env>", namespace)

    def paths(value: Any) -> Any:
        if isinstance(value, str):
            return folder.sub(neutral_folder, value) if any(w in value for w in words) else value
        if isinstance(value, dict):
            return {k: paths(v) for k, v in value.items()}
        if isinstance(value, list):
            return [paths(v) for v in value]
        return value

    neutral: dict[tuple[str, str, str], Any] = {}
    for (kind, namespace, name), doc in resources.items():
        doc = paths(doc)
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        # a namespace named after the environment (``namespace: web-staging`` or
        # ``namespace: staging`` in each overlay: Kargo's and Codefresh's examples) pairs up
        # like a name, and so does the Namespace object itself
        own_name = namespace_of if kind == "Namespace" else name_of
        if isinstance(meta, dict):
            renamed = {"name": own_name, "namespace": namespace_of}
            doc["metadata"] = {
                **meta,
                **{k: f(meta[k]) for k, f in renamed.items() if isinstance(meta.get(k), str)},
            }
        neutral[(kind, namespace_of(namespace), own_name(name))] = doc
    return neutral


def _compare_resources(
    app: str,
    a: dict[tuple[str, str, str], Any],
    b: dict[tuple[str, str, str], Any],
    allowed: dict[str, list[list[str]]],
    prefix: tuple[str, ...] = (),
) -> tuple[list[Difference], int]:
    """Differences between two sets of resources; ``prefix`` is prepended to a path only to
    match allowed differences (values files are matched as a HelmRelease's spec.values)."""
    differences: list[Difference] = []
    ignored = 0
    for key in sorted(set(a) | set(b)):
        kind, namespace, name = key
        if key not in a or key not in b:
            present = ("present", None) if key in a else (None, "present")
            differences.append(Difference(app, kind, namespace, name, "", DRIFT, *present))
            continue
        patterns = allowed.get(kind, allowed.get("*", [])) + (
            allowed.get("*", []) if kind in allowed else []
        )
        for path, left, right in diff(a[key], b[key], []):
            if any(_matches(p, [*prefix, *path]) for p in patterns):
                ignored += 1
                continue
            kind_of = _direction(left, right) if _is_image(path, left, right) else DRIFT
            left, right = _conceal(kind, path, left), _conceal(kind, path, right)
            differences.append(
                Difference(app, kind, namespace, name, _show(path), kind_of, left, right)
            )
    return differences, ignored


VALUES_KIND = "HelmValues"


def _compare_values(
    app: str,
    folders: dict[str, Path],
    source: str,
    target: str,
    allowed: dict[str, list[list[str]]],
    words: dict[str, tuple[str, ...]] | None = None,
) -> tuple[list[Difference] | None, int]:
    """A values-only overlay (Argo CD ``helm.valueFiles``: no kustomization to render): its
    values files compared key by key, paired by name with the environment's name taken out
    (``values-staging.yaml`` ~ ``values-production.yaml``). HelmRelease ``spec.values``
    allowed differences apply. None when neither folder holds a values file."""
    words = words or {}
    files = {env: _values_files(folders[env], words.get(env, (env,))) for env in (source, target)}
    if not files[source] and not files[target]:
        return None, 0
    allowed = dict(allowed)
    allowed[VALUES_KIND] = allowed.get("HelmRelease", [])
    a, b = (
        {(VALUES_KIND, "", name): data for name, data in files[env].items()}
        for env in (source, target)
    )
    return _compare_resources(app, a, b, allowed, ("spec", "values"))


def _values_files(folder: Path, words: tuple[str, ...]) -> dict[str, Any]:
    """name (the environment's names taken out) -> the values file's content, for the values
    files in folder."""
    from gitops_guard.core.documents import is_values_file

    found: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.endswith(YAML_SUFFIXES) and is_values_file(path.name):
            name = re.sub(
                r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![A-Za-z0-9])",
                "<env>",
                path.name,
            )
            try:
                data = _load_embedded(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                data = None
            found[name] = data if isinstance(data, dict) else {}
    return found


def _only(env: str, source: str) -> tuple[Any, Any]:
    return ("present", None) if env == source else (None, "present")


def render(folder: Path, command: list[str]) -> dict[tuple[str, str, str], Any]:
    """Run the renderer; resources by (kind, namespace, name)."""
    import yaml

    place = overlays.display_path(folder)
    try:
        out = subprocess.run(
            [*command, str(folder)],
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"cannot render {place} with {' '.join(command)}: {exc}") from None
    if out.returncode != 0:
        first = (
            shown(" ".join(out.stderr.strip().splitlines()[:3]), 500) or f"exit {out.returncode}"
        )
        raise RenderError(f"{' '.join(command)} {place} failed: {first}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = list(yaml.load_all(out.stdout, Loader=loader))
    except yaml.YAMLError as exc:
        raise RenderError(f"{place}: the renderer's output is not YAML: {exc}") from None
    resources: dict[tuple[str, str, str], Any] = {}
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        key = (str(doc.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name")))
        resources[key] = doc
    return resources


#: kustomize's generated ConfigMap / Secret names end in 10 characters of this alphabet
_HASH_SUFFIX = re.compile(r"^(.+)-[2456789bcdfghkmt]{10}$")


def _unhash(resources: dict[tuple[str, str, str], Any]) -> dict[tuple[str, str, str], Any]:
    """``app-values-5t9k9t6fkh`` -> ``app-values-<hash>``, in names and in references to them,
    so generated ConfigMaps pair up and only their content shows as a difference."""
    renamed: dict[str, str] = {}
    for kind, _namespace, name in resources:
        match = _HASH_SUFFIX.match(name) if kind in ("ConfigMap", "Secret") else None
        if match:
            renamed[name] = f"{match.group(1)}-<hash>"
    if not renamed:
        return resources
    return {
        (kind, namespace, renamed.get(name, name)): _replace(doc, renamed)
        for (kind, namespace, name), doc in resources.items()
    }


def _replace(value: Any, renamed: dict[str, str]) -> Any:
    if isinstance(value, str):
        return renamed.get(value, value)
    if isinstance(value, dict):
        return {k: _replace(v, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, renamed) for v in value]
    return value


Segment = Any  # str key, or ("name", value) / ("index", i) for list items


def diff(a: Any, b: Any, path: list[Segment]) -> Iterator[tuple[list[Segment], Any, Any]]:
    """Every leaf difference between two plain values, as (path, a, b)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            left, right = a.get(key, _MISSING), b.get(key, _MISSING)
            if left is _MISSING or right is _MISSING:
                yield [*path, str(key)], _none(left), _none(right)
            else:
                yield from diff(left, right, [*path, str(key)])
        return
    if isinstance(a, list) and isinstance(b, list):
        if _named(a) and _named(b):
            left_items = {item["name"]: item for item in a}
            right_items = {item["name"]: item for item in b}
            for name in sorted(set(left_items) | set(right_items), key=str):
                here = [*path, ("name", name)]
                if name not in left_items or name not in right_items:
                    yield here, left_items.get(name), right_items.get(name)
                else:
                    yield from diff(left_items[name], right_items[name], here)
            return
        for i in range(max(len(a), len(b))):
            here = [*path, ("index", i)]
            if i >= len(a) or i >= len(b):
                yield here, a[i] if i < len(a) else None, b[i] if i < len(b) else None
            else:
                yield from diff(a[i], b[i], here)
        return
    if isinstance(a, str) and isinstance(b, str) and a != b and _embedded_yaml(path):
        left, right = _load_embedded(a), _load_embedded(b)
        if isinstance(left, dict) and isinstance(right, dict):
            yield from diff(left, right, path)  # a values file in a ConfigMap: by key
            return
    if a != b or type(a) is not type(b):
        yield path, a, b


def _embedded_yaml(path: list[Segment]) -> bool:
    return (
        len(path) >= 2
        and path[-2] == "data"
        and isinstance(path[-1], str)
        and path[-1].endswith(YAML_SUFFIXES)
    )


def _load_embedded(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None


def _none(value: Any) -> Any:
    return None if value is _MISSING else value


def _named(items: list[Any]) -> bool:
    names = [i.get("name") for i in items if isinstance(i, dict)]
    return len(names) == len(items) and all(names) and len(set(map(str, names))) == len(names)


def _show(path: list[Segment]) -> str:
    text = ""
    for seg in path:
        if isinstance(seg, tuple):
            text += f"[{seg[1]}]" if seg[0] == "index" else f"[name={seg[1]}]"
        elif "." in seg or "[" in seg:
            text += f'["{seg}"]'
        else:
            text += f".{seg}" if text else seg
    return text


def _allowed(config: dict[str, Any]) -> dict[str, list[list[str]]]:
    return {kind: [_parse_pattern(p) for p in paths] for kind, paths in config.items()}


_TOKEN = re.compile(r'\["([^"]*)"\]|\[([^\]]*)\]|([^.\[\]]+)')


def _parse_pattern(pattern: str) -> list[str]:
    """``spec.containers[*].resources`` or ``metadata.labels["app.kubernetes.io/env"]`` ->
    segments; list selectors stay bracketed (``[*]``, ``[web]``, ``[name=web]``, ``[0]``)."""
    segments: list[str] = []
    for match in _TOKEN.finditer(pattern):
        quoted, selector, key = match.groups()
        if quoted is not None:
            segments.append(quoted)
        elif selector is not None:
            segments.append(f"[{selector}]")
        else:
            segments.append(key)
    return segments


def _matches(pattern: list[str], path: list[Segment]) -> bool:
    """The difference sits at or below the pattern's path."""
    if len(path) < len(pattern):
        return False
    for want, seg in zip(pattern, path):
        if want.startswith("["):
            if not isinstance(seg, tuple):
                return False
            inner = want[1:-1]
            if inner not in ("*", str(seg[1])) and inner != f"name={seg[1]}":
                return False
        elif want != "*" and seg != want:
            return False
    return True


def _secret_path(kind: str, path: list[Segment]) -> bool:
    """A Secret's ``data`` / ``stringData``, or a value under a key or env ``name`` that says
    password, token, API key... (the name rules of check-secrets)."""
    from gitops_guard.checks.secrets.values import sensitive_kind

    if kind == "Secret" and path[:1] in (["data"], ["stringData"]):
        return True
    for i, seg in enumerate(path):
        if isinstance(seg, str):
            if sensitive_kind(seg) is not None:
                return True
        elif seg[0] == "name" and sensitive_kind(seg[1]) is not None:
            following = path[i + 1 : i + 2]
            if following in ([], ["value"]):  # env[name=DB_PASSWORD].value, not .valueFrom
                return True
    return False


def _conceal(kind: str, path: list[Segment], value: Any) -> Any:
    """A secret's value as ``(hidden, N chars)``, keeping key names and shape: drift output
    goes to terminals and CI logs, where a Secret's data must never appear."""
    if value is None or not _secret_path(kind, path):
        return value
    return _hidden(value)


def _hidden(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: _hidden(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_hidden(item) for item in value]
    if isinstance(value, str):
        return Hidden(f"(hidden, {len(value)} chars)")
    return Hidden("(hidden)")


class Hidden(str):
    """A concealed value: printed bare in text (``staging=(hidden, 36 chars)``)."""


IMAGE_FIELDS = ("registry", "repository", "tag", "digest")


def _direction(source: Any, target: Any) -> str:
    """PENDING when the source runs the newer version (or which is newer is unknown), AHEAD
    when the target's tag is a higher semantic version than the source's."""
    from gitops_guard.change.promote import _semver

    def tag_of(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        text = value.split("@", 1)[0]
        tail = text.rsplit("/", 1)[-1]
        return tail.rsplit(":", 1)[1] if ":" in tail else text if "/" not in text else None

    old, new = _semver(tag_of(source)), _semver(tag_of(target))
    if old is not None and new is not None and new > old:
        return AHEAD
    return PENDING


def _is_image(path: list[Segment], left: Any, right: Any) -> bool:
    """A container's ``image``, or a Helm values ``image.tag`` (repository, digest...)."""
    if (
        not path
        or not isinstance(left, (str, type(None)))
        or not isinstance(right, (str, type(None)))
    ):
        return False
    if path[-1] == "image":
        return isinstance(left, str) and isinstance(right, str)
    return len(path) >= 2 and path[-2] == "image" and path[-1] in IMAGE_FIELDS


def _report(
    fmt: str,
    source: str,
    target: str,
    apps: list[str],
    differences: list[Difference],
    skipped: list[str],
    ignored: int,
) -> None:
    drift = sum(d.type == DRIFT for d in differences)
    ahead = sum(d.type == AHEAD for d in differences)
    pending = len(differences) - drift - ahead
    if fmt == "json":
        payload = {
            "from": source,
            "to": target,
            "apps": apps,
            "differences": [_as_json(d) for d in differences],
            "summary": {
                "drift": drift,
                "pending_promotion": pending,
                "ahead_of_source": ahead,
                "allowed": ignored,
                "not_rendered": skipped,
            },
        }
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    for d in differences:
        resource = f"{d.kind}/{d.namespace + '/' if d.namespace else ''}{d.name}" if d.kind else ""
        where = " ".join(x for x in (resource, d.path) if x)
        line = (
            f"{d.app}: {where or 'overlay'}: {source}={_value(d.source)} "
            f"{target}={_value(d.target)} ({d.type})"
        )
        print(printable_path(line))  # file names and keys from files: one line each
    for app in skipped:
        print(
            printable_path(f"{app}: not rendered (no kustomization in both overlays)"),
            file=sys.stderr,
        )
    not_rendered = f", {len(skipped)} not rendered" if skipped else ""
    ahead_text = f", {ahead} ahead of {source}" if ahead else ""
    print(
        f"{drift} drift, {pending} pending promotion{ahead_text}, {ignored} allowed "
        f"difference(s) ignored{not_rendered} ({source} -> {target})"
    )


def _as_json(d: Difference) -> dict[str, Any]:
    item = asdict(d)
    item["from"] = item.pop("source")
    item["to"] = item.pop("target")
    return item


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, Hidden):
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."

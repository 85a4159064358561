"""check-promotion: every environment only runs artifacts the environment before it has run.

The environments, their order and their apps' overlays come from
:mod:`gitops_guard.repo.environments` (``promotion.environments``, whose items may be lists
of parallel environments, and the layouts it finds or ``promotion.paths``). For every
promotion step (staging -> production; staging -> each of ``[prod-eu, prod-us]``), every
artifact an app's overlay pins in the later environment must be one the earlier one ran:

- ``history`` (the default): the artifact is in the predecessor's overlay in a commit
  *before* the one that puts it into the later environment; in a pull request (a base
  revision given with ``--base`` or ``$PRE_COMMIT_FROM_REF``), at the base revision. Bumping
  both in one commit or one pull request is ``promotion/same-change``. The commit that
  creates an app's overlay is not a promotion: the predecessor may get the artifact in it.
  An environment inserted into the order later (qa between staging and production) judges
  only what arrives after it has files: before, the nearest earlier environment that had
  files then does (:meth:`History.judges`).
- ``current``: the predecessor's current reference (at the base revision, when one is
  given). Production lagging behind is the normal state, so a reference production already
  pinned at the base revision is not reported.

Artifacts are container images (kustomize ``images:``, Helm values, HelmRelease
``spec.values``, container images in patches, Argo CD Application ``helm.parameters`` /
``valuesObject``) and Helm chart versions (HelmRelease ``spec.chart.spec.version`` when
exact, an Argo CD Helm source's ``targetRevision``, a Flux OCIRepository's ``spec.ref.tag``).
Two images are the same artifact when their names agree after ``promotion.registry_aliases``
(a mirror is the registry it mirrors) and their digests agree, else their tags.

History is read in one ``git log --raw -m`` over every environment's folders (a merge commit's
changes against each parent: what the merge result holds, even a conflict resolved to a value
neither side had; while the current overlays are read) and one ``git cat-file --batch`` of the
versions not remembered from an earlier run (slot records are kept by blob id; a working-tree
file git's index says is unchanged is known by the index's blob id, unread); paths are taken
relative to the GitOps root even when it is a sub-folder of the git work tree (a monorepo). An
object that must be read and cannot be (a corrupt or missing blob) is said, and counts as never
run. A shallow clone has no history: that is said once, and ``current`` applies.
"""

from __future__ import annotations

import os
import re

from gitops_guard.checks.images import reference
from gitops_guard.core import pipeline, processes
from gitops_guard.core.documents import is_yaml_name
from gitops_guard.core.findings import Finding, quote, shown
from gitops_guard.repo import environments, overlays

TYPE_CHECKING = False  # start-up time (a hook): typing, pathlib and dataclasses are not imported
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from gitops_guard.repo.environments import App, Environments

NULL_BLOB = "0" * 40
#: the given files narrow the report; their parsed documents are not used (the pipeline drops
#: them as it reads: memory stays that of one file, not of every file on the command line)
uses_documents = False
#: rules reported whatever files were given: they are about the repository, not a file
REPOSITORY_RULES = (
    "promotion/history-unavailable",
    "promotion/no-environments",
    "promotion/unknown-environment",
)

#: an artifact: (name, tag, digest); a chart's name is ``chart <name>``
Artifact = tuple[str, "str | None", "str | None"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--require",
        choices=("current", "history"),
        help="override promotion.require from the policy",
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="the revision the change under check starts from: a pull request's base "
        "(default: $PRE_COMMIT_FROM_REF, else HEAD)",
    )


def check_files(sources: list[Any], policy: Any, args: Any) -> list[Finding]:
    start = os.path.dirname(os.path.realpath(sources[0].path)) if sources else None
    root = overlays.repo_top(policy, start)
    require = getattr(args, "require", None) or policy.section("promotion").get(
        "require", "history"
    )
    given = set(pipeline.absolute_paths(s.path for s in sources))
    explicit = getattr(args, "base", None) or os.environ.get("PRE_COMMIT_FROM_REF") or None
    model = environments.load(root, policy)
    findings = check_repository(model, require, policy, explicit)
    if given:
        findings = [
            f for f in findings if os.path.abspath(f.path) in given or f.rule in REPOSITORY_RULES
        ]
    return findings


def check_repository(
    model: Environments, require: str, policy: Any = None, base: str | None = None
) -> list[Finding]:
    """Every promotion finding of the repository; ``base``: the pull request's base
    revision (None: the working tree is the change, compared with HEAD)."""
    if not model.found():
        line, column = _policy_position(policy, "promotion", "environments")
        where = _note_path(model, policy, None)
        return [environments.no_environment_finding(model, where, line, column)]
    notes: list[Finding] = []
    findings: list[Finding] = list(_shown(model, f) for f in model.findings)
    records = overlays.RecordCache(model.top, derived_by=(__file__,))
    loaded: dict[tuple[str, str], Any] = {}

    def load(app: App) -> Any:  # an environment is both a target and a predecessor: once
        key = (app.env, app.folder)
        if key not in loaded:
            pieces: list[tuple[str, list[Any]]] = []
            mine, problems = overlays.load_records(model, app, records, pieces)
            now: list[Artifact] = []
            each: list[Artifact | None] = []  # per record of ``mine``: what it pins
            for version, found in pieces:
                now.extend(_version_artifacts(records, version, found, policy))
                each.extend(_version_slots(records, version, found))
            loaded[key] = (mine, problems, now, each)
        return loaded[key]

    def load_all() -> None:
        for env in model.names:
            for app in model.apps(env).values():
                load(app)

    history: History | None = None
    if require == "history":
        history = History(model, policy, base, records, meanwhile=load_all)
        if history.why:
            notes.append(_note(model, policy, history.why + ": comparing current references"))
            history = None
        notes.extend(_note(model, policy, w) for w in (history.warnings if history else []))
    pinned = Pinned(model, policy, records)
    compare_base = base if history is None else None

    reaches = Reaches(model, records)
    for pred, env in model.pairs():
        for app in model.apps(env).values():
            findings.extend(
                _check_app(
                    model,
                    policy,
                    pred,
                    env,
                    app,
                    history,
                    pinned,
                    base,
                    compare_base,
                    load,
                    reaches,
                )
            )
    for why in pinned.warnings:
        notes.append(_note(model, policy, why))
    records.save()
    return _unique(notes) + findings


class Reaches:
    """Which image slots of an overlay are what it deploys, as kustomize builds it.

    kustomize's images transformer (``api/filters/imagetag``, matching with
    ``api/image/image.go`` ``IsImageMatched``) changes only the container images whose name
    an entry's ``name`` matches: an entry that matches none deploys nothing (check-manifests
    reports it as ``render/image-unused``), and a container image that an entry with
    ``newTag`` or ``digest`` rewrites is not deployed as written (the entry's reference is,
    judged where it is written). Either is known only when everything the kustomization
    reaches is read here (local files and kustomizations, patches from files); a remote
    resource, a Helm chart, a generator or transformer plugin, an inline patch, a listed path
    that is not there, a Component or a kustomization listing nothing leaves the slot
    counted as run."""

    def __init__(self, model: Environments, records: Any) -> None:
        self.model = model
        self.records = records
        self._images: dict[str, list[str] | None] = {}
        self._rel: dict[str, dict[str, str]] = {}

    def deployed(self, app: App, slot: Any, mine: list[Any]) -> bool:
        """Whether the slot is what the cluster runs: not an entry that matches no container,
        not a container image an entry of the overlay rewrites the tag (or digest) of."""
        if slot.kind == "string":
            return not self._rewritten(app, slot, mine)
        return not self._unused(app, slot)

    def _rels(self, app: App) -> dict[str, str]:
        rels = self._rel.get(app.folder)
        if rels is None:
            rels = {self.model.shown(r): r for r in self.model.files_of(app)}
            self._rel[app.folder] = rels
        return rels

    def _reach(self, rel: str) -> tuple[set[str], list[str]] | None:
        found = self._images.get(rel, False)
        if found is False:
            found = self._images[rel] = self._reached(rel)
        return found

    @staticmethod
    def _entry(slot: Any) -> bool:
        # a Flux Kustomization's images apply to its own path, not to this folder
        return slot.kind == "kustomize" and slot.key.startswith("images[") and bool(slot.name)

    def _unused(self, app: App, slot: Any) -> bool:
        if not self._entry(slot):
            return False
        rel = self._rels(app).get(slot.path)
        reach = self._reach(rel) if rel is not None else None
        if reach is None:
            return False
        from gitops_guard.checks.images.consumers import matched

        return not any(matched(image, slot.name) for image in reach[1])

    def _rewritten(self, app: App, slot: Any, mine: list[Any]) -> bool:
        rels = self._rels(app)
        rel = rels.get(slot.path)
        image = slot.reference
        if rel is None or not image:
            return False
        from gitops_guard.checks.images.consumers import matched

        for entry in mine:
            if not self._entry(entry) or not (entry.value("newTag") or entry.value("digest")):
                continue  # without a new tag or digest the container's own tag runs
            krel = rels.get(entry.path)
            reach = self._reach(krel) if krel is not None else None
            if reach is not None and rel in reach[0] and matched(image, entry.name):
                return True
        return False

    def _reached(self, kust: str) -> tuple[set[str], list[str]] | None:
        """(every file the kustomization reaches, their container images); None: not known."""
        from gitops_guard.core.documents import KUSTOMIZATION_FILES
        from gitops_guard.repo.kgraph import is_remote, listed

        model = self.model
        known = set(model.files)
        files: list[str] = []
        seen = {kust}
        stack = [(kust, 0)]
        while stack:
            current, depth = stack.pop()
            if depth > environments.MAX_KUSTOMIZE_DEPTH:
                return None
            data = environments._read_yaml(model.abspath(current))
            if (
                not isinstance(data, dict)
                or data.get("kind") == "Component"  # its images apply to its user's resources
                or any(data.get(k) for k in _NOT_READ_HERE)
            ):
                return None
            entries = list(listed(data))
            for patch in data.get("patches") or ():
                if not isinstance(patch, dict) or "patch" in patch:
                    return None  # an inline patch may add a container
                if isinstance(patch.get("path"), str):
                    entries.append(patch["path"])
            for patch in data.get("patchesStrategicMerge") or ():
                if not isinstance(patch, str) or "\n" in patch:
                    return None
                entries.append(patch)
            if data.get("patchesJson6902"):
                return None
            folder = current.rsplit("/", 1)[0] if "/" in current else ""
            for entry in entries:
                if not isinstance(entry, str) or is_remote(entry):
                    return None
                target = os.path.normpath(os.path.join(folder or ".", entry)).replace(os.sep, "/")
                if target == ".." or target.startswith("../"):
                    return None
                if target in known:
                    files.append(target)
                    continue
                child = next(
                    (
                        f"{target}/{n}" if target != "." else n
                        for n in KUSTOMIZATION_FILES
                        if (f"{target}/{n}" if target != "." else n) in known
                    ),
                    None,
                )
                if child is None:
                    return None  # not there, or a folder kustomize cannot build
                if child not in seen:
                    seen.add(child)
                    stack.append((child, depth + 1))
        if not files:
            return None  # nothing listed: a fragment another tool completes, not an overlay
        images: list[str] = []
        for rel in files:
            name = rel.rsplit("/", 1)[-1]
            if not is_yaml_name(name):
                return None  # a JSON manifest: not read here
            try:
                with open(model.abspath(rel), "rb") as handle:
                    data = handle.read(overlays.MAX_BYTES + 1)
            except OSError:
                return None
            if len(data) > overlays.MAX_BYTES:
                return None
            got = self.records.records(model.shown(rel), name, data)
            if got is None:
                return None
            images.extend(r.reference for r in got if r.kind == "string")
        return set(files), images


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    result = []
    for f in findings:
        if f.message not in seen:
            seen.add(f.message)
            result.append(f)
    return result


def _shown(model: Environments, finding: Finding) -> Finding:
    """A model finding's path, as the other findings show theirs."""
    shown = overlays.display_path(model.abspath(finding.path))
    return Finding(
        shown, finding.line, finding.column, finding.rule, finding.message, finding.severity
    )


def _note(model: Environments, policy: Any, message: str) -> Finding:
    return Finding(_note_path(model, policy, None), 1, 1, "promotion/history-unavailable", message)


def _policy_position(policy: Any, *keys: str) -> tuple[int, int]:
    """Line and column of ``keys`` (the deepest of them present) in the policy file; (1, 1)
    without one. Read again only for this one warning: the policy's data has no positions."""
    path = getattr(policy, "path", None) if policy is not None else None
    if path is None:
        return 1, 1
    from gitops_guard.core.documents import Map, load_file

    source = load_file(str(path))
    node = source.documents[0].data if source.documents else None
    position = (1, 1)
    for key in keys:
        if not isinstance(node, Map) or key not in node:
            break
        position = node.key_at(key)
        node = node.get(key)
    return position


def _note_path(model: Environments, policy: Any, env: str | None) -> str:
    path = overlays.policy_file(policy)
    if path is not None:
        return overlays.display_path(os.path.realpath(path))
    folders = [f for fs in model.folders.values() for f in fs]
    if folders:
        return overlays.display_path(model.abspath(folders[0].folder))
    return overlays.display_path(model.top)


# -- artifacts ---------------------------------------------------------------------------------


def canonical_name(name: str, policy: Any) -> str:
    """A mirror's name as the registry it mirrors (``promotion.registry_aliases``:
    ``{registry.example.com: [mirror.example.com]}``)."""
    for mirror, canonical in _aliases(policy):
        if name == mirror or name.startswith(mirror + "/"):
            return canonical + name[len(mirror) :]
    return name


_ALIASES: list[Any] = [None, []]


def _aliases(policy: Any) -> list[tuple[str, str]]:
    """(mirror, canonical) prefixes of ``promotion.registry_aliases``, normalised once per
    policy (asked for every reference)."""
    if _ALIASES[0] is not policy:
        aliases = (policy.section("promotion").get("registry_aliases") or {}) if policy else {}
        _ALIASES[:] = [
            policy,
            [
                (_normal_prefix(mirror), _normal_prefix(canonical))
                for canonical, mirrors in aliases.items()
                for mirror in mirrors
            ],
        ]
    return _ALIASES[1]


def _normal_prefix(text: str) -> str:
    text = text.rstrip("/")
    try:
        domain, path, _ = reference.split_domain(text if "/" in text else text + "/x")
    except reference.ReferenceError:
        return text
    return domain if "/" not in text else f"{domain}/{path}"


def artifact(slot: overlays.ImageSlot, policy: Any) -> Artifact | None:
    raw = _slot_artifact(slot)
    return None if raw is None else _canonical(raw, policy)


def _slot_artifact(slot: Any) -> Artifact | None:
    """What a slot names, before ``promotion.registry_aliases`` (None: templated, invalid):
    a function of the slot's record alone, so it is kept with the records (``ARTIFACTS``)."""
    if slot.kind == "chart":
        version = slot.value("version")
        if not version or reference.is_templated(version):
            return None
        return (f"chart {slot.name}", version, None)
    ref = _parse(slot.reference)
    if ref is None:
        return None
    return (ref.name, ref.tag, ref.digest)


def _canonical(raw: Artifact, policy: Any) -> Artifact:
    if raw[0].startswith("chart "):  # a chart's name is not an image's: no registry alias
        return raw
    name = canonical_name(raw[0], policy)
    return raw if name == raw[0] else (name, raw[1], raw[2])


def same(a: Artifact, b: Artifact) -> bool:
    """Same artifact: the digests agree when both pin one, else the tags agree."""
    if a[0] != b[0]:
        return False
    if a[2] and b[2]:
        return a[2] == b[2]
    return a[1] is not None and a[1] == b[1]


_PARSED: dict[str, reference.Reference | None] = {}


def _parse(text: str) -> reference.Reference | None:
    """A reference, parsed once per run (the same few are in most versions of a file)."""
    if text in _PARSED:
        return _PARSED[text]
    result: reference.Reference | None = None
    if text and not reference.is_templated(text):
        try:
            result = reference.parse(text)
        except reference.ReferenceError:
            result = None
    if len(_PARSED) >= MAX_PARSED:
        _PARSED.clear()
    _PARSED[text] = result
    return result


MAX_PARSED = 100_000


def label(a: Artifact) -> str:
    """The tag and digest as written. A digest is printed whole: every output line goes
    through core/masking.py, which keeps a 64-hex content address readable but masks a
    digest cut short (``sha256:c4514e18b83b...`` reads as the start of a token), and only
    the whole digest tells two builds apart."""
    tag, digest = a[1], a[2]
    if tag and digest:
        return f"{tag}@{digest}"
    if digest:
        return f"@{digest}"
    return tag or "latest"


def describe(a: Artifact, slot: overlays.ImageSlot) -> str:
    if a[0].startswith("chart "):
        return f"{a[0]} {label(a)}"
    ref = _parse(slot.reference)
    name = ref.repository if ref is not None else a[0]
    name = shown(name)
    return f"{name}:{label(a)}" if not label(a).startswith("@") else f"{name}{label(a)}"


MAX_LISTED = 10

#: kustomization fields whose effect on images is not read here: charts and plugins that make
#: containers, custom image field specs (``configurations``: a CR's ``spec.image``) and field
#: copies (``replacements``), schemas that change what a field means (``openapi``, ``crds``)
_NOT_READ_HERE = (
    "helmCharts", "generators", "transformers", "configurations", "replacements",
    "openapi", "crds",
)  # fmt: skip


def _mirror_hint(a: Artifact, known: list[Artifact]) -> str:
    """When the predecessor ran no tag of this image but runs the same path from another
    registry (production pulling through a mirror), the setting that makes them one."""
    name = a[0]
    if name.startswith("chart ") or any(k[0] == name for k in known):
        return ""
    path = name.partition("/")[2]
    others = sorted({k[0] for k in known if k[0] != name and k[0].partition("/")[2] == path})
    if not path or not others:
        return ""
    return (
        f"; {shown(others[0])} is the same image path from another registry: if one mirrors "
        "the other, name both in promotion.registry_aliases"
    )


def _natural(text: str) -> list[Any]:
    """v1.9.0 before v1.10.0."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)
    ]


def _listing(labels: list[str]) -> str:
    """The tags, newest last; only the last few when there are many."""
    if not labels:
        return "no tag of it"
    if len(labels) <= MAX_LISTED:
        return ", ".join(labels)
    return f"{len(labels) - MAX_LISTED} older, then " + ", ".join(labels[-MAX_LISTED:])


# -- one app -----------------------------------------------------------------------------------


def _check_app(
    model: Environments,
    policy: Any,
    pred: str,
    env: str,
    app: App,
    history: History | None,
    pinned: Pinned,
    base: str | None,
    compare_base: str | None,
    load: Any = None,
    reaches: Reaches | None = None,
) -> list[Finding]:
    if load is None:
        records = overlays.RecordCache(model.top, derived_by=(__file__,))

        def load(a: App) -> Any:
            mine, problems = overlays.load_records(model, a, records)
            each = [_slot_artifact(s) if s.pinned else None for s in mine]
            return mine, problems, _pinned_artifacts(mine, policy), each

    mine, problems, env_now, each = load(app)
    findings = list(problems)
    pairs = [(s, raw) for s, raw in zip(mine, each) if s.pinned]
    if not pairs:
        return findings

    def deployed(slot: Any) -> bool:  # asked only of a finding: the fast path reads no YAML
        return reaches is None or reaches.deployed(app, slot, mine)

    slots = [s for s, _ in pairs]
    pred_app = model.app(pred, app.name)
    if pred_app is None:
        for slot in slots:
            if not deployed(slot):
                continue
            line, col = slot.position()
            findings.append(
                Finding(
                    slot.path,
                    line,
                    col,
                    "promotion/no-predecessor",
                    f"{env} runs {shown(slot.reference)} but {pred} has no overlay of "
                    f"{shown(app.name)} to promote it from ({_pred_places(model, pred)})",
                )
            )
        return findings
    pred_now = load(pred_app)[2]
    unchanged: list[Artifact] = []
    if history is None:
        if compare_base is not None:
            at_base = pinned.at(compare_base, pred, pred_app.name)
            known = at_base if at_base is not None else pred_now
        else:
            known = pred_now
        before = pinned.at(base or "HEAD", env, app.name)
        if before is not None:
            unchanged = before
        states_pred: list[tuple[int, list[Artifact]]] = []
    else:
        states_pred = [*history.states(pred, pred_app.name), (history.now, pred_now)]
    for slot, raw in pairs:
        if raw is None:
            continue  # templated or invalid: check-images reports it
        a = _canonical(raw, policy)
        if history is None:
            line, col = slot.position(*_prefer(slot, a, known))
            if any(same(a, k) for k in known) or any(same(a, k) for k in unchanged):
                continue
            had = _listing(sorted({label(k) for k in known if k[0] == a[0]}, key=_natural))
            what = f"which is not what {pred} runs ({had}){_mirror_hint(a, known)}"
            if compare_base is not None:
                what = f"which is not what {pred} ran at the base revision {compare_base} ({had})"
            if not deployed(slot):
                continue
            findings.append(
                Finding(
                    slot.path,
                    line,
                    col,
                    "promotion/not-promoted",
                    f"{env} runs {describe(a, slot)}, {what}",
                )
            )
            continue
        states_env = [*history.states(env, app.name), (history.now, env_now)]
        intro, created = _introduced(states_env, a)
        for judge in history.judges(pred, intro):
            if judge == pred:
                states, inserted = states_pred, ""
            else:
                judge_app = model.app(judge, app.name)
                judge_now = load(judge_app)[2] if judge_app is not None else []
                states = [*history.states(judge, app.name), (history.now, judge_now)]
                inserted = (
                    f" ({pred} had no overlay yet when {env} got it, so {judge} is the "
                    "environment before it then)"
                )
            finding = _judge(history, slot, a, env, judge, states, intro, created, inserted)
            if finding is not None and deployed(slot):
                findings.append(finding)
    return findings


def _judge(
    history: History,
    slot: overlays.ImageSlot,
    a: Artifact,
    env: str,
    pred: str,
    states_pred: list[tuple[int, list[Artifact]]],
    intro: int,
    created: bool,
    inserted: str,
) -> Finding | None:
    """The history rule for one artifact ``a`` of ``env``, put there in commit ``intro``,
    against one predecessor's versions (where and how a finding says it: only for one)."""
    ran = _ran_in(states_pred, a)
    if not ran:
        known = [k for _, s in states_pred for k in s]
        line, col = slot.position(*_prefer(slot, a, known))
        had = _listing(sorted({label(k) for k in known if k[0] == a[0]}, key=_natural))
        return Finding(
            slot.path,
            line,
            col,
            "promotion/not-promoted",
            f"{env} runs {describe(a, slot)}, which {pred} never ran ({pred} ran: {had})"
            f"{inserted}{_mirror_hint(a, known)}",
        )
    if history.in_base is not None and intro not in history.in_base:
        ok = any(i in history.in_base for i in ran) or (created and min(ran) <= intro)
        when = f"in the change since the base revision {history.base}"
    else:
        ok = min(ran) < intro or (created and min(ran) <= intro)
        when = (
            "in the same uncommitted change"
            if intro == history.now
            else f"in the same commit {history.short(intro)}"
        )
    if ok:
        return None
    known = [k for _, s in states_pred for k in s]
    line, col = slot.position(*_prefer(slot, a, known))
    if history.in_base is None and min(ran) > intro:
        # the predecessor caught up later: not the same commit, a step taken before it ran
        later = (
            "in the uncommitted change"
            if min(ran) == history.now
            else f"in commit {history.short(min(ran))}"
        )
        return Finding(
            slot.path,
            line,
            col,
            "promotion/not-promoted",
            f"{env} runs {describe(a, slot)} since commit {history.short(intro)}, before "
            f"{pred} ran it ({pred} got it later, {later}){inserted}",
        )
    return Finding(
        slot.path,
        line,
        col,
        "promotion/same-change",
        f"{env} gets {describe(a, slot)} {when} that gives it to {pred}: {pred} "
        f"must run it first (promote it in a later commit or pull request){inserted}",
    )


def _ran_in(states: list[tuple[int, list[Artifact]]], a: Artifact) -> list[int]:
    """The commits (indexes) whose versions hold an artifact :func:`same` as ``a``: asked
    for every pinned slot of every app, so ``same`` is written out here."""
    name, tag, digest = a
    ran = []
    for i, state in states:
        for k in state:
            if k[0] == name and (
                k[2] == digest if digest and k[2] else tag is not None and k[1] == tag
            ):
                ran.append(i)
                break
    return ran


def _pred_places(model: Environments, pred: str) -> str:
    folders = [f.folder or "." for f in model.folders.get(pred, [])]
    if folders:
        return "looked in " + ", ".join(f"{f}/" for f in folders)
    return f"{pred} has no folder at all: looked for {', '.join(model.looked)}"


def _prefer(slot: overlays.ImageSlot, a: Artifact, known: list[Artifact]) -> tuple[str, ...]:
    if slot.kind == "chart":
        return ("version",)
    tag_field = {"kustomize": "newTag", "helm": "tag", "string": "image"}.get(slot.kind, "tag")
    same_tag = any(k[0] == a[0] and k[1] == a[1] for k in known)
    return ("digest",) if a[2] and same_tag else (tag_field, "digest")


def _introduced(states: list[tuple[int, list[Artifact]]], a: Artifact) -> tuple[int, bool]:
    """(index of the commit that put ``a`` into the overlay, whether that commit created
    the overlay): the start of the latest run of versions holding it."""
    i = len(states) - 1
    while i > 0 and _ran_in([states[i - 1]], a):
        i -= 1
    created = not any(state for _, state in states[:i])
    return states[i][0], created


# -- reading git -------------------------------------------------------------------------------


class _Ran:
    """What one git run gave, its output decoded."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, ran: tuple[int, bytes, bytes]) -> None:
        self.returncode = ran[0]
        self.stdout = ran[1].decode("utf-8", "surrogateescape")
        self.stderr = ran[2].decode("utf-8", "surrogateescape")


def _git(root: str, *args: str) -> _Ran:
    return _Ran(processes.run_git(root, *args))


def _prefix(root: str) -> str | None:
    """The GitOps root's path below the git work tree's top ("" at the top; None: no git)."""
    try:
        proc = _git(root, "rev-parse", "--show-prefix")
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip()


class Pinned:
    """The artifacts each app pinned at a revision (``git ls-tree``, and ``cat-file`` of the
    versions no run has parsed)."""

    def __init__(self, model: Environments, policy: Any, records: Any) -> None:
        self.model = model
        self.policy = policy
        self.records = records
        self.warnings: list[str] = []
        self._at: dict[str, dict[tuple[str, str], list[Artifact]] | None] = {}

    def at(self, rev: str, env: str, app: str) -> list[Artifact] | None:
        """None when the revision cannot be read (no git, no commit, not fetched)."""
        if rev not in self._at:
            self._at[rev] = self._read(rev)
            if self._at[rev] is None and rev != "HEAD":  # not fetched: HEAD is what we have
                self._at[rev] = self._read("HEAD")
        table = self._at[rev]
        if table is None:
            return None
        return table.get((env, app), [])

    def _read(self, rev: str) -> dict[tuple[str, str], list[Artifact]] | None:
        root = self.model.top
        prefix = _prefix(root)
        if prefix is None:
            return None
        specs = [s for env in self.model.names for s in self.model.pathspecs(env)]
        tree = _git(root, "ls-tree", "-r", "--full-name", rev, "--", *specs)
        if tree.returncode != 0:
            if _git(root, "rev-parse", "--verify", "-q", "HEAD").returncode == 0:
                self.warnings.append(
                    f"base revision {quote(rev)} cannot be read (not fetched?): comparing with "
                    "HEAD, so a move to a new reference committed before HEAD is not seen; "
                    "fetch the base (fetch-depth: 0)"
                )
            return None
        paths: dict[str, list[str]] = {}
        for line in tree.stdout.splitlines():
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) != 3 or parts[1] != "blob" or not path.startswith(prefix):
                continue
            rel = path[len(prefix) :]
            if is_yaml_name(rel.rsplit("/", 1)[-1]):
                paths.setdefault(parts[2], []).append(rel)
        table: dict[tuple[str, str], list[Artifact]] = {}
        index = self.model.app_index()
        known: dict[tuple[str, str], list[Artifact]] = {}  # (blob, rel) -> artifacts
        for blob, rels in paths.items():  # remembered by blob id: not read from git again
            for rel in rels:
                key = self.records.key(rel, rel.rsplit("/", 1)[-1], blob)
                remembered = self.records.cached_key(key, rel)
                if remembered is not None:
                    known[(blob, rel)] = _version_artifacts(
                        self.records, key, remembered, self.policy
                    )
        unread = [b for b, rels in paths.items() if any((b, r) not in known for r in rels)]
        blobs, missing = cat_blobs(root, unread)
        if missing:
            self.warnings.append(_unreadable(missing, rev))
        for blob, rels in paths.items():
            for rel in rels:
                found = known.get((blob, rel))
                if found is None:
                    data = blobs.get(blob)
                    if data is None:
                        continue
                    found = _artifacts(rel, data, self.policy, self.records, blob)
                app = self.model.app_of(rel, index)
                if app is None:
                    continue
                table.setdefault((app.env, app.name), []).extend(found)
        return table


def _unreadable(missing: list[str], where: str) -> str:
    shown = ", ".join(m[:12] for m in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (
        f"{len(missing)} object(s) of the git history ({where}) cannot be read, corrupt or "
        f"missing: {shown}{more}; what they held counts as never run (git fsck says more)"
    )


def _artifacts(rel: str, data: bytes, policy: Any, records: Any, blob: str = "") -> list:
    """The artifacts one version of a file pins (a broken version ran nothing)."""
    found = records.records(rel, rel.rsplit("/", 1)[-1], data, blob or None)
    return _pinned_artifacts(found or [], policy)


#: the name under which each version's slot artifacts are kept with its records (an edit of
#: this module, or a new release, drops everything kept: repo/overlays.py _cache_version)
ARTIFACTS = "promotion-artifacts-1"


def _version_slots(records: Any, key: str, found: list[Any]) -> list[Artifact | None]:
    """Per record of one file version, what it pins (None: not pinned, templated, invalid),
    before aliases: parsed once, then kept with the version's records between runs."""
    raw = records.kept(ARTIFACTS, key)
    if raw is None or len(raw) != len(found):
        raw = [_slot_artifact(s) if s.pinned else None for s in found]
        records.keep(ARTIFACTS, key, raw)
    return raw


def _version_artifacts(records: Any, key: str, found: list[Any], policy: Any) -> list[Artifact]:
    """The artifacts of one file version (by its record-cache key), derived once per run:
    the working tree's version of a file is most often one of its history's."""
    got = records.derived.get(key)
    if got is None:
        raw = _version_slots(records, key, found)
        got = records.derived[key] = [_canonical(r, policy) for r in raw if r is not None]
    return got


def _pinned_artifacts(found: list[Any], policy: Any) -> list[Artifact]:
    return [a for s in found if s.pinned for a in [artifact(s, policy)] if a is not None]


class History:
    """Every version of every environment's overlays, commit by commit (oldest first)."""

    def __init__(
        self,
        model: Environments,
        policy: Any,
        base: str | None,
        records: Any = None,
        meanwhile: Any = None,
    ) -> None:
        """``meanwhile``: work to do while git writes the log (called once, before it is
        read: the current overlays are read on one core while git walks on the other)."""
        self.model = model
        self.policy = policy
        self.records = (
            records
            if records is not None
            else overlays.RecordCache(model.top, derived_by=(__file__,))
        )
        self.base = base
        self.why = ""
        self.warnings: list[str] = []
        self.commits: list[str] = []
        self.in_base: set[int] | None = None
        self._states: dict[tuple[str, str], list[tuple[int, list[Artifact]]]] = {}
        #: env -> (commit index, whether the environment had overlay files after it) changes
        self._present: dict[str, list[tuple[int, bool]]] = {}
        self._read(meanwhile)

    @property
    def now(self) -> int:
        """The index of the working tree: after every commit."""
        return len(self.commits)

    def short(self, index: int) -> str:
        return self.commits[index][:12] if index < len(self.commits) else "(uncommitted)"

    def states(self, env: str, app: str) -> list[tuple[int, list[Artifact]]]:
        return self._states.get((env, app), [])

    def existed(self, env: str, index: int) -> bool:
        """Whether ``env`` had any overlay file after commit ``index`` (the working tree at
        :attr:`now`)."""
        if index >= self.now:
            return bool(self.model.apps(env))
        present = False
        for i, state in self._present.get(env, []):
            if i > index:
                break
            present = state
        return present

    def judges(self, pred: str, index: int) -> list[str]:
        """The environments an artifact put into ``pred``'s successor in commit ``index`` is
        judged against: ``pred`` when it had files then; else, for an environment inserted
        into the order later (``qa`` between staging and production), the nearest earlier
        environments that had files then. The files, not the policy's order at that commit,
        decide: the policy may name an environment before or after the commit that creates
        its folder, and a policy file's history says nothing about where its folders were.
        When no earlier environment had files either, ``pred`` itself: an environment that
        predates every one before it was never promoted into."""
        if self.existed(pred, index):  # the common case: the environment before was there
            return [pred]
        found: list[str] = []
        seen: set[str] = set()
        queue = [pred]
        while queue:
            env = queue.pop(0)
            if env in seen:
                continue
            seen.add(env)
            if self.existed(env, index):
                found.append(env)
            else:
                queue.extend(self.model.predecessors(env))
        return found or [pred]

    def _read(self, meanwhile: Any = None) -> None:
        try:
            self._read_log(meanwhile)
        finally:
            if meanwhile is not None and not self._meanwhile_done:
                meanwhile()

    _meanwhile_done = False

    def _read_log(self, meanwhile: Any) -> None:
        root = self.model.top
        try:  # one process: shallow?, the GitOps root below the top, HEAD
            probe = _git(root, "rev-parse", "--is-shallow-repository", "--show-prefix", "HEAD")
        except FileNotFoundError:
            self.why = "git is not installed"
            return
        except OSError as error:  # git is there but could not run (permissions, limits)
            self.why = f"git could not be started ({error.strerror or 'unknown reason'})"
            return
        lines = probe.stdout.split("\n")
        if len(lines) < 2 or lines[0] not in ("true", "false"):
            self.why = "not a git repository, so there is no history"
            return
        if lines[0] == "true":
            self.why = (
                "this is a shallow clone, so git history is missing (fetch it: fetch-depth: 0)"
            )
            return
        if probe.returncode != 0:
            return  # no commit yet: only the working tree
        prefix = lines[1]
        specs = [s for env in self.model.names for s in self.model.pathspecs(env)]
        # -m: a merge commit's changes against each of its parents (without it, git shows
        # none): a conflict resolved by hand to a value neither side had is in the merge
        # alone, and every file the merge result differs in from a side gets its blob
        argv = ["git", "log", "--topo-order", "--reverse", "--format=%x00%H", "--raw", "-m"]
        argv += ["--no-renames", "--no-abbrev", "--", *specs]
        # git writes into memory while ``meanwhile`` runs (core/processes.py): it never waits
        # on us, and no thread has to drain a pipe
        running = processes.start_git(root, *argv[1:])
        try:
            if meanwhile is not None:
                self._meanwhile_done = True
                meanwhile()
        finally:
            returncode, out, err = running.wait()
        stdout = out.decode("utf-8", "surrogateescape")
        stderr = err.decode("utf-8", "surrogateescape")
        if returncode != 0:
            first = stderr.strip().splitlines()[:1]
            self.warnings.append(
                f"git log failed ({first[0] if first else returncode}): the history is "
                "read only as far as git could"
            )
        changes: list[list[tuple[str, str]]] = []
        for line in stdout.splitlines():
            if line.startswith("\0"):
                commit = line[1:].strip()
                if not self.commits or self.commits[-1] != commit:  # -m: once per parent
                    self.commits.append(commit)
                    changes.append([])
                continue
            if not line.startswith(":") or not changes:
                continue
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) < 4 or not path.startswith(prefix):
                continue
            rel = path[len(prefix) :]
            if is_yaml_name(rel.rsplit("/", 1)[-1]):
                changes[-1].append((rel, parts[3]))
        index = self.model.app_index()
        wanted: dict[str, str] = {}
        owner: dict[str, App | None] = {}
        for commit in changes:
            for rel, blob in commit:
                if rel not in owner:
                    owner[rel] = self.model.app_of(rel, index)
                if owner[rel] is not None and blob != NULL_BLOB:
                    wanted.setdefault(blob, rel)
        parsed: dict[str, list[Artifact]] = {}
        derived = self.records.derived
        for blob, rel in wanted.items():  # remembered by blob id: never read again
            key = self.records.key(rel, rel.rsplit("/", 1)[-1], blob)
            got = derived.get(key)
            if got is None:
                raw = self.records.kept(ARTIFACTS, key)  # no records made: what they pin
                if raw is not None:
                    got = derived[key] = [_canonical(r, self.policy) for r in raw if r is not None]
                else:
                    remembered = self.records.cached_key(key, rel)
                    if remembered is None:
                        continue
                    got = _version_artifacts(self.records, key, remembered, self.policy)
            parsed[blob] = got
        blobs, missing = cat_blobs(root, [b for b in wanted if b not in parsed])
        if missing:
            self.warnings.append(_unreadable(missing, "history"))
        files: dict[tuple[str, str], dict[str, str]] = {}
        env_files: dict[str, set[str]] = {}
        for i, commit in enumerate(changes):
            touched: set[tuple[str, str]] = set()
            for rel, blob in commit:
                app = owner.get(rel)
                if app is None:
                    continue
                key = (app.env, app.name)
                state = files.setdefault(key, {})
                present = env_files.setdefault(app.env, set())
                if blob == NULL_BLOB:
                    state.pop(rel, None)
                    present.discard(rel)
                else:
                    state[rel] = blob
                    present.add(rel)
                touched.add(key)
            for env in {key[0] for key in touched}:
                now_present = bool(env_files[env])
                changed = self._present.setdefault(env, [])
                if not changed or changed[-1][1] != now_present:
                    changed.append((i, now_present))
            for key in touched:
                found: list[Artifact] = []
                for rel, blob in files[key].items():
                    if blob not in parsed:
                        data = blobs.get(blob)
                        parsed[blob] = (
                            _artifacts(rel, data, self.policy, self.records, blob) if data else []
                        )
                    found.extend(parsed[blob])
                self._states.setdefault(key, []).append((i, found))
        if self.base is not None:
            listed = _git(root, "rev-list", self.base, "--", *specs)
            if listed.returncode != 0:
                self.warnings.append(
                    f"base revision {quote(self.base)} cannot be read (not fetched?): judging by "
                    "commit order only; fetch the base (fetch-depth: 0)"
                )
            else:
                reachable = set(listed.stdout.split())
                self.in_base = {i for i, c in enumerate(self.commits) if c in reachable}


def cat_blobs(root: str, names: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """(blob -> content, the blobs git could not read: missing or corrupt). A corrupt object
    stops ``git cat-file --batch``; the batch goes on after it (a bounded number of times)."""
    found: dict[str, bytes] = {}
    missing: list[str] = []
    remaining = list(names)
    for _attempt in range(MAX_RESTARTS):
        if not remaining:
            break
        stopped = _batch(root, remaining, found, missing)
        if stopped is None:
            return found, missing
        missing.append(remaining[stopped])
        remaining = remaining[stopped + 1 :]
    missing.extend(remaining)
    return found, missing


MAX_RESTARTS = 20


def _batch(root: str, names: list[str], found: dict[str, bytes], missing: list[str]) -> int | None:
    """Read ``names``; the index where git stopped, or None when it read them all."""
    asked = ("\n".join(names) + "\n").encode()
    out = processes.run_git(root, "cat-file", "--batch", stdin=asked)[1]
    pos = 0
    for index, name in enumerate(names):
        end = out.find(b"\n", pos)
        if end < 0:
            return index
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            missing.append(name)
            continue
        try:
            size = int(header[2])
        except ValueError:
            return index
        if pos + size > len(out):
            return index
        found[name] = out[pos : pos + size]
        pos += size + 1
    return None


def history_of(model: Environments, policy: Any) -> History:
    """The history, for promote's "older digest" question."""
    return History(model, policy, None)


def first_seen(history: History, a: Artifact) -> int | None:
    """The first commit in which any environment's overlay held ``a``."""
    best: int | None = None

    def held(k: Artifact) -> bool:  # a digest is only held where that digest is written
        return k[0] == a[0] and k[2] == a[2] if a[2] else same(a, k)

    for states in history._states.values():
        for i, state in states:
            if any(held(k) for k in state):
                best = i if best is None else min(best, i)
                break
    return best

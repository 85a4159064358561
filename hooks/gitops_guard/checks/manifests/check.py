"""check-manifests: render what the cluster gets, validate it, run every rule on it.

The other hooks read files as written; this one renders each application the given files
take part in (``render/units.py``), with kustomize and helm (``render/build.py``), and checks
the output:

- a render that fails is ``render/build-failed`` at the kustomization, chart or Application,
  with the renderer's reason;
- each object against its schema (``render/schemas.py``): Kubernetes' own for the policy's
  ``kubernetes.version``, the repository's CRDs and the vendored ones (``render/schema``,
  ``render/unknown-field``); a kind with no schema is ``render/no-schema`` (info);
- the image and sync-wave rules on every rendered object, so chart templates, patches,
  components and replacements are covered, and the secret rules on what a chart renders
  (check-secrets cannot read its templates), each finding at the line that set the value
  (``positions.py``), and not when the file-level hook already reports it on that line;
- an overlay ``images:`` entry that matches no container of any render it is part of
  (``render/image-unused``).

Nothing is fetched: remote bases and charts are info findings. With no FILE, the whole
repository is rendered.
"""

from __future__ import annotations

import os

from gitops_guard.core.findings import Finding
from gitops_guard.core.quoting import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from gitops_guard.core.policy import Policy
    from gitops_guard.render.build import Rendered, RenderedObject
    from gitops_guard.render.units import Plan, Unit


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="changed files: the applications that read them are rendered (none: every "
        "application of the repository)",
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="repository root (default: the git work tree holding the working directory, or "
        "the folder holding every given file)",
    )


def run(args: argparse.Namespace) -> int:
    from gitops_guard.core.errors import UsageError
    from gitops_guard.core.pipeline import expand_paths, finish, load_policy_or_fail
    from gitops_guard.repo.repository import find_root

    policy = load_policy_or_fail(args)
    paths = expand_paths(args.files or [], wanted=lambda _name: True)
    root_arg = getattr(args, "root", None)
    if root_arg and not os.path.isdir(root_arg):
        raise UsageError(f"--root {root_arg}: not a folder")
    if root_arg:
        root = os.path.abspath(root_arg)
    elif paths:
        root = find_root(paths)
    else:
        from gitops_guard.core.documents import git_root_of

        root = git_root_of(os.getcwd()) or os.getcwd()
    findings = not_regular_files(paths)
    findings.extend(check(root, paths if args.files else None, policy))
    return finish(findings, [], policy, args)


def not_regular_files(paths: list[str]) -> list[Finding]:
    """An info finding for each given path that is not a regular file (a FIFO, a link to a
    device, a dangling link), as the other hooks say it: never opened, never a stop."""
    from gitops_guard.core.documents import not_regular

    found = []
    for path in paths:
        what = not_regular(path)
        if what is not None and what not in ("missing", "a folder"):
            message = f"{what}, not a regular file; not checked"
            found.append(Finding(path, 1, 1, "yaml/not-regular-file", message))
    return found


def check(root: str, paths: list[str] | None, policy: Policy) -> list[Finding]:
    """Every finding of the applications ``paths`` take part in (None: all of them)."""
    from gitops_guard.render.build import Renderer
    from gitops_guard.render.schemas import DEFAULT_VERSION, Schemas
    from gitops_guard.render.units import Plan
    from gitops_guard.repo.repository import Repository

    repo = Repository(root, policy=policy)
    plan = Plan(repo).build()
    if paths is None:
        units = list(plan.units)
        planned = list(plan.findings)
    else:
        given = {repo.key(p) for p in paths}
        units = plan.touched(given)
        involved = set(given)
        for unit in units:
            involved |= unit.files
            involved.add(unit.at[0])
        planned = [f for f in plan.findings if repo.key(f.path) in involved]

    def version_of(unit: Unit) -> str:
        section = policy.section("kubernetes", unit.env)
        return str(section.get("version") or DEFAULT_VERSION).lstrip("v")

    renderer = Renderer(version_of, repo.root)
    findings: list[Finding] = list(planned)
    findings.extend(_missing_tools(renderer, units, repo.display))
    units = [u for u in units if renderer.missing_tool(u) is None]
    rendered = renderer.render_all(units)
    checker = _Checker(plan, policy, version_of)
    for result in rendered:
        checker.add_crds(result)
    for crd in plan.sources("crd"):
        for doc in crd.documents:
            checker.add_crd(doc.data)
    if rendered and not Schemas(DEFAULT_VERSION).available:
        findings.append(
            Finding(
                repo.display(rendered[0].unit.at[0]),
                1,
                1,
                "render/no-schema",
                "kubernetes-validate is not installed: rendered objects are not validated "
                "against Kubernetes' schemas",
            )
        )
    from gitops_guard.checks.secrets.engine import Engine

    with Engine() as engine:  # started on first use: only a chart's output is scanned
        checker.engine = engine
        for result in rendered:  # one unit's objects at a time (a repository's do not fit)
            findings.extend(checker.check(result))
            checker.note_images(result)
            result.release()
    findings.extend(checker.unused_images(rendered, plan, units))
    return _unique(findings)


def _missing_tools(renderer: Any, units: list[Unit], display: Any) -> list[Finding]:
    """One finding per missing renderer, naming what it leaves unrendered."""
    missing: dict[str, list[Unit]] = {}
    for unit in units:
        tool = renderer.missing_tool(unit)
        if tool is not None:
            missing.setdefault(tool, []).append(unit)
    findings = []
    for tool, skipped in missing.items():
        first = skipped[0]
        more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        findings.append(
            Finding(
                display(first.at[0]),
                first.at[1],
                first.at[2],
                "render/renderer-missing",
                f"{tool} is not installed: {first.label}{more} not rendered",
            )
        )
    return findings


def _unique(findings: list[Finding]) -> list[Finding]:
    """The same problem seen through several renders (a base in two overlays) is one."""
    seen: set[tuple] = set()
    result = []
    for finding in findings:
        key = (finding.path, finding.line, finding.column, finding.rule, _core(finding.message))
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return result


def _core(message: str) -> str:
    return message.split(" [rendered by ", 1)[0]


class _Checker:
    def __init__(self, plan: Plan, policy: Policy, version_of: Any) -> None:
        from gitops_guard.checks.manifests.positions import Locator

        self.plan = plan
        self.repo = plan.repo
        self.policy = policy
        self.version_of = version_of
        #: one schema set per Kubernetes release; the repository's CRDs shared by all
        self._schemas: dict[str, Any] = {}
        #: check-secrets' engine, for what a chart renders from its values
        self.engine: Any = None
        self._crds: dict[tuple[str, str], Any] = {}
        self.locator = Locator(plan)
        self._source_findings: dict[str, set[tuple[int, str]]] = {}
        #: (images: entry file, line) -> used by some render
        self._no_schema: set[tuple[str, str, str]] = set()
        #: the image repositories each kustomize render runs (``note_images``)
        self._images_of: dict[str, set[str]] = {}

    def add_crds(self, result: Rendered) -> None:
        for obj in result.crds():
            self.add_crd(obj.data)

    def add_crd(self, data: Any) -> None:
        from gitops_guard.render import crds

        for key, schema in crds.versions_of(data):
            self._crds[key] = schema

    def schemas(self, unit: Unit) -> Any:
        from gitops_guard.render.schemas import Schemas

        version = self.version_of(unit)
        if version not in self._schemas:
            schemas = Schemas(version)
            schemas.repository_crds = self._crds
            self._schemas[version] = schemas
        return self._schemas[version]

    def _display(self, key: str) -> str:
        return self.repo.display(key)

    def check(self, result: Rendered) -> list[Finding]:
        unit = result.unit
        if result.error is not None:
            key, line, col = unit.at
            severity = None
            message = f"{unit.label} does not render: {result.error}"
            if unit.defaults_only:  # it may just need the values its real consumer gives
                severity = "warning"
                message += f" ({unit.defaults_note})"
            return [
                Finding(self._display(key), line, col, "render/build-failed", message, severity)
            ]
        findings: list[Finding] = []
        for obj in result.objects:
            findings.extend(self._schema(unit, obj))
            if unit.kind != "directory":
                findings.extend(self._rules(unit, obj))
        if unit.defaults_only:
            # nothing in the repository renders this chart: its consumer (an app-of-apps
            # chart's template, an Application in another repository) gives the values that
            # deploy, and its defaults may be placeholders for them; what its defaults break is
            # said, not failed (a build failure of the same render is a warning too)
            findings = [_at_most_warning(f, unit.defaults_note) for f in findings]
        return findings

    # -- schemas --------------------------------------------------------------------------
    def _schema(self, unit: Unit, obj: RenderedObject) -> list[Finding]:
        from gitops_guard.core.documents import to_plain
        from gitops_guard.render.schemas import close_to

        schemas = self.schemas(unit)
        if not schemas.available and not schemas.repository_crds:
            return []
        validator = schemas.validator(obj.api_version, obj.kind)
        if validator is None:
            marker = (unit.root, obj.api_version, obj.kind)
            if marker in self._no_schema:
                return []
            self._no_schema.add(marker)
            key, line, col = self._where(unit, obj, ("kind",))
            return [
                Finding(
                    self._display(key),
                    line,
                    col,
                    "render/no-schema",
                    f"no schema for {obj.kind} ({obj.api_version}): not validated (add its "
                    "CRD to the repository to have it checked)",
                )
            ]
        findings = []
        secret = obj.kind == "Secret" or "secret" in obj.kind.lower()
        plain = to_plain(obj.data)
        sops = plain.get("sops")
        if isinstance(sops, dict) and "mac" in sops:
            plain.pop("sops")  # a SOPS file: decrypted (and its sops key dropped) before apply
        for error in validator.errors(plain):
            if _substituted(_value(plain, error.path)):
                continue  # ${VAR}: Flux postBuild substitutes it before the cluster sees it
            severity = None
            if error.unknown is not None:
                key, line, col = self._where(unit, obj, error.field, key_only=True)
                rule = "render/unknown-field"
                message = f"{_dotted(error.path) or 'top level'}: {error.message}"
                vendored = schemas.source(obj.api_version, obj.kind) == "vendored"
                if vendored and close_to(error.unknown, error.known) is None:
                    # not a misspelling: the operator may be newer than the vendored schema
                    severity = "warning"
                    message += (
                        f" in the vendored {obj.api_version} {obj.kind} schema (if your "
                        "operator is newer, add its CRD to the repository)"
                    )
            else:
                value = _value(obj.data, error.path)
                key, line, col = self._where(unit, obj, error.path, value)
                rule = "render/schema"
                text = error.message
                if secret and error.path[:1] in (("data",), ("stringData",)):
                    text = "the value has the wrong type"
                message = f"{_dotted(error.path) or 'top level'}: {text}"
            findings.append(
                Finding(
                    self._display(key),
                    line,
                    col,
                    rule,
                    f"{obj.label()} {message} [rendered by {unit.label}]",
                    severity,
                )
            )
        return findings

    def _where(
        self, unit: Unit, obj: RenderedObject, path: tuple, value: Any = None, key_only=False
    ) -> tuple[str, int, int]:
        if unit.kind == "directory" and obj.origin is not None:
            from gitops_guard.checks.manifests.positions import walk

            found = walk(obj.data, obj.data, path, key_only, exact=False)
            return (obj.origin, *(found or obj.doc.pos))
        return self.locator.locate(unit, obj, path, value, key_only)

    # -- the file-level rules on rendered objects ----------------------------------------
    def _rules(self, unit: Unit, obj: RenderedObject) -> list[Finding]:
        from gitops_guard.checks.images.check import check as check_images
        from gitops_guard.checks.manifests.positions import scalar_at
        from gitops_guard.checks.syncwaves.check import check_annotations
        from gitops_guard.core.documents import load_text

        # named inside the unit's folder, so environment policies apply as to its files
        source = load_text(os.path.join(unit.folder, "rendered-object.yaml"), obj.text)
        if not source.documents:
            return []
        found = [*check_images(source, self.policy), *check_annotations(source)]
        if unit.kind == "helm":  # values rendered into a Secret or an env var
            found.extend(self._secrets(obj.text))
        findings = []
        data = source.documents[0].data
        for finding in found:
            if finding.rule.startswith("yaml/"):
                continue
            hit = scalar_at(data, finding.line)
            path, value = hit if hit is not None else ((), None)
            where = self._image_where(unit, obj, path, value, finding.rule)
            if where is None:
                where = self._where(unit, obj, path, value)
            key, line, col = where
            reported = self._file_level(key)
            if (line, finding.rule) in reported:
                continue  # the file's own hook reports it there
            if finding.rule.startswith("secret/") and (line, "secret/") in reported:
                continue  # one plaintext value, whichever secret rule names it
            findings.append(
                Finding(
                    self._display(key),
                    line,
                    col,
                    finding.rule,
                    f"{finding.message} [rendered by {unit.label}: {obj.label()}]",
                )
            )
        return findings

    def _secrets(self, text: str) -> list[Finding]:
        """check-secrets' findings in one rendered object (its messages mask the value)."""
        import tempfile

        from gitops_guard.checks.secrets.check import scan_file

        with tempfile.TemporaryDirectory(prefix="gitops-guard-secrets-") as tmp:
            path = os.path.join(tmp, "rendered-object.yaml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            scan = scan_file(path, self.engine)
        return [c.finding for c in scan.candidates if c.finding.rule != "secret/not-scanned"]

    def _image_where(
        self, unit: Unit, obj: RenderedObject, path: tuple, value: Any, rule: str
    ) -> tuple[str, int, int] | None:
        if not rule.startswith("image/") or not isinstance(value, str):
            return None
        from gitops_guard.checks.images import reference

        try:
            ref = reference.parse(value)
        except reference.ReferenceError as exc:
            return self._broken_image_where(unit, value, rule, exc.part)
        if unit.kind == "kustomize":
            hit = self.locator.images_entry(unit, ref.repository)
            if hit is not None:
                kfile, entry = hit
                field = "newName" if rule == "image/registry-not-allowed" else "newTag"
                if rule == "image/digest-required" and "digest" in entry:
                    field = "digest"
                if field in entry:
                    return (kfile, *entry.at(field))
        if unit.kind == "helm" and ref.tag is not None and rule != "image/registry-not-allowed":
            return self.locator.helm_tag(unit, ref.tag)
        return None

    def _broken_image_where(
        self, unit: Unit, value: str, rule: str, part: str
    ) -> tuple[str, int, int] | None:
        """A rendered reference that breaks the grammar, written by a kustomize ``images:``
        entry: reported at the entry's broken part, where check-images reports it too (so
        once), not at the base's ``image:`` line that the entry replaced. The entry is found
        by the name as kustomize splits it (``api/image/image.go``, ``Split``)."""
        if unit.kind != "kustomize" or rule != "image/invalid-reference":
            return None
        from gitops_guard.checks.images.consumers import split

        hit = self.locator.images_entry(unit, split(value)[0])
        if hit is None:
            return None
        kfile, entry = hit
        field = {"tag": "newTag", "digest": "digest"}.get(part, "newName")
        if field not in entry:
            field = "name" if field == "newName" else ""
        return (kfile, *entry.at(field)) if field in entry else None

    def _file_level(self, key: str) -> set[tuple[int, str]]:
        """(line, rule) of what check-images and check-sync-waves report in a file."""
        if key not in self._source_findings:
            from gitops_guard.checks.images.check import check as check_images
            from gitops_guard.checks.syncwaves.check import check_annotations

            source = self.locator.source(key)
            found: set[tuple[int, str]] = set()
            if source is not None:
                try:
                    items = [*check_images(source, self.policy)]
                    if source.documents:
                        items.extend(check_annotations(source))
                    if self.engine is not None:
                        from gitops_guard.checks.secrets.check import scan_file

                        items.extend(c.finding for c in scan_file(key, self.engine).candidates)
                except Exception:  # a file the hooks cannot read reports itself
                    items = []
                found = {(f.line, f.rule) for f in items}
                found |= {(f.line, "secret/") for f in items if f.rule.startswith("secret/")}
            self._source_findings[key] = found
        return self._source_findings[key]

    # -- images: entries that change nothing ---------------------------------------------
    def note_images(self, result: Rendered) -> None:
        """The image repositories a kustomize render runs (for ``unused_images``), read
        while its objects are at hand."""
        from gitops_guard.checks.images import reference
        from gitops_guard.checks.images.check import sites
        from gitops_guard.core.documents import load_text

        if result.error is not None or result.unit.kind != "kustomize":
            return
        names: set[str] = set()
        for obj in result.objects:
            source = load_text("rendered-object.yaml", obj.text)
            for site in sites(source):
                try:
                    names.add(reference.parse(site.text).repository)
                except reference.ReferenceError:
                    names.add(site.text.split("@")[0].rsplit(":", 1)[0])
        self._images_of[result.unit.root] = names

    def unused_images(
        self, rendered: list[Rendered], plan: Plan, units: list[Unit]
    ) -> list[Finding]:
        """An ``images:`` entry no render it is part of has an image of (kustomize
        ``api/filters/imagetag``: it matches by name, so a typo or a stale entry silently
        sets nothing)."""
        rendered_roots = {
            r.unit.root for r in rendered if r.error is None and r.unit.kind == "kustomize"
        }
        images_of = self._images_of
        all_roots = {u.root for u in plan.units if u.kind == "kustomize"}
        findings = []
        for kfile in sorted(
            {k for root in rendered_roots for k in self.locator.kustomizations(_unit(plan, root))}
        ):
            roots = {r for r in plan.graph.roots_of(kfile) if r in all_roots}
            if not roots or not roots <= rendered_roots:
                continue  # some render that includes it was not made
            source = self.locator.source(kfile)
            data = source.documents[0].data if source and source.documents else None
            entries = data.get("images") if hasattr(data, "get") else None
            if not isinstance(entries, list):
                continue
            used = set().union(*(images_of.get(r, set()) for r in roots))
            for i, entry in enumerate(entries):
                if not hasattr(entry, "get") or not isinstance(entry.get("name"), str):
                    continue
                target = entry.get("newName") or entry["name"]
                if not isinstance(target, str):
                    continue
                if any(_matches(target, name) for name in used):
                    continue
                line, col = entry.at("name") if "name" in entry else entries.at(i)
                findings.append(
                    Finding(
                        self._display(kfile),
                        line,
                        col,
                        "render/image-unused",
                        f"images entry {quote(entry['name'])} matches no container image in "
                        f"{_rendered_list(plan, roots)}: it changes nothing",
                    )
                )
        return findings


def _unit(plan: Plan, root: str) -> Unit:
    return next(u for u in plan.units if u.root == root)


def _rendered_list(plan: Plan, roots: set[str]) -> str:
    shown = sorted(plan.repo.display(r) for r in roots)
    if len(shown) > 2:
        return f"{shown[0]} and {len(shown) - 1} other renders"
    return " or ".join(shown)


def _matches(target: str, repository: str) -> bool:
    if target == repository:
        return True
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/"):
        if repository.startswith(prefix) and repository[len(prefix) :] == target:
            return True
    return False


def _substituted(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _value(data: Any, path: tuple) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _dotted(path: tuple) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out


def _at_most_warning(finding: Finding, note: str) -> Finding:
    from gitops_guard.core.rules import RULES

    rule = RULES.get(finding.rule)
    severity = finding.severity or (rule.severity if rule is not None else "error")
    if severity != "error" or finding.rule.startswith("secret/"):
        return finding  # a secret in a template is committed whatever the values are
    return Finding(
        finding.path,
        finding.line,
        finding.column,
        finding.rule,
        f"{finding.message} (with the chart's default values: {note})",
        "warning",
    )

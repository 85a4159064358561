"""``gitops-guard demo``: the whole product in one command, offline.

It generates a sample repository from the bundled template, runs every check on it (in this
process, through ``cli.main``, exactly as the hooks would: no network), shows them pass, then
plants classic mistakes in a copy (a ``:latest`` image, a plaintext Secret, an unquoted sync
wave, a production tag staging never ran, drift no longer healed) and shows each one caught
at its ``path:line:col``, one per hook. A check whose module is not in
this version is reported as "not available" instead of failing the demo.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from gitops_guard.core.documents import YAML_SUFFIXES
from gitops_guard.core.errors import UsageError
from gitops_guard.core.findings import quote

APP = "demo-app"
SLUG = "demo-gitops"


class Check(NamedTuple):
    command: str
    module: str
    #: which files the hook passes: "yaml", "text" (every file), or "none" (whole repository)
    files: str


#: The hooks of .pre-commit-config.yaml, in order, with the files pre-commit gives each.
CHECKS = [
    Check("check-images", "gitops_guard.checks.images.check", "yaml"),
    Check("check-secrets", "gitops_guard.checks.secrets.check", "text"),
    Check("check-sync-waves", "gitops_guard.checks.syncwaves.check", "yaml"),
    Check("check-promotion", "gitops_guard.checks.promotion", "none"),
    Check("check-controls", "gitops_guard.checks.controls", "yaml"),
]


class Plant(NamedTuple):
    what: str
    path: str
    change: Callable[[str | None], str]
    command: str
    rule_area: str


def _replace(old: str, new: str) -> Callable[[str | None], str]:
    def change(text: str | None) -> str:
        if text is None or old not in text:
            raise UsageError(f"the sample repository changed: {quote(old)} not found to plant")
        return text.replace(old, new, 1)

    return change


PLAINTEXT_SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: {APP}
type: Opaque
stringData:
  username: app
  password: Tr0ub4dor-and-3-horses
"""

PLANTS = [
    Plant(
        # where the image deploys: the staging overlay's images: entry (the base's image is
        # rewritten by every environment's entry, so a :latest there ships nowhere)
        "a :latest image",
        f"clusters/staging/{APP}/kustomization.yaml",
        _replace("newTag: v0.1.0", "newTag: latest"),
        "check-images",
        "image/",
    ),
    Plant(
        "a plaintext Secret",
        f"clusters/staging/{APP}/db-credentials.yaml",
        lambda _old: PLAINTEXT_SECRET,
        "check-secrets",
        "secret/",
    ),
    Plant(
        "an unquoted sync wave",
        "clusters/staging/infrastructure/namespace.yaml",
        _replace('argocd.argoproj.io/sync-wave: "-1"', "argocd.argoproj.io/sync-wave: -1"),
        "check-sync-waves",
        "sync/",
    ),
    Plant(
        "a production tag staging never ran",
        f"clusters/production/{APP}/kustomization.yaml",
        _replace("    newTag: v0.1.0", "    newTag: v0.2.0"),
        "check-promotion",
        "promotion/",
    ),
    Plant(
        "drift no longer healed",
        f"clusters/production/argocd/{APP}.yaml",
        _replace("selfHeal: true", "selfHeal: false"),
        "check-controls",
        "control/",
    ),
]

FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<rule>[a-z]+/[a-z0-9-]+) ")


class Outcome(NamedTuple):
    available: bool
    code: int
    out: str
    err: str

    def findings(self) -> list[tuple[str, str]]:
        """(path, rule) of every finding line in the text output."""
        found = []
        for line in self.out.splitlines():
            match = FINDING.match(line)
            if match:
                found.append((os.path.normpath(match["path"]), match["rule"]))
        return found


def available(check: Check) -> bool:
    try:
        return importlib.util.find_spec(check.module) is not None
    except (ImportError, ValueError):
        return False


def repo_files(repo: Path, kind: str) -> list[str]:
    """The files pre-commit would pass a hook (relative paths, .git and the baseline skipped)."""
    if kind == "none":
        return []
    result = []
    for folder, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(folder, name), repo)
            if kind == "yaml" and not name.endswith(YAML_SUFFIXES):  # pre-commit's yaml type
                continue
            if name == ".secrets.baseline":
                continue
            result.append(rel)
    return result


def run_check(repo: Path, check: Check, dispatch: Callable[[list[str]], int]) -> Outcome:
    """Run one check in this process, in ``repo``, as its hook would; capture its output.

    ``dispatch`` is the CLI's ``main`` (handed down by the CLI: scaffold never imports it).
    """
    if not available(check):
        return Outcome(False, 0, "", "")
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(repo)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = dispatch([check.command, *repo_files(repo, check.files)])
    finally:
        os.chdir(old)
    if code == 2 and "not available" in err.getvalue():
        return Outcome(False, 0, "", "")
    return Outcome(True, code, out.getvalue(), err.getvalue())


def _git(repo: Path, *args: str) -> bool:
    identity = ["-c", "user.name=gitops-guard demo", "-c", "user.email=demo@localhost"]
    try:
        result = subprocess.run(
            ["git", *identity, "-c", "commit.gpgsign=false", *args],
            cwd=repo,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        return False
    return result.returncode == 0


def make_sample(folder: Path) -> Path:
    """The sample repository: template defaults, committed (check-promotion reads history)."""
    from gitops_guard.scaffold.new import generate

    repo = generate(folder, {"repo_slug": SLUG, "project_name": "Demo GitOps"})
    if _git(repo, "init", "-q"):
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "Initial commit from the gitops-guard template")
    return repo


def plant(sample: Path) -> Path:
    """A copy of the sample with every mistake of PLANTS in it (not committed)."""
    broken = sample.with_name(sample.name + "-broken")
    shutil.copytree(sample, broken, symlinks=True)
    for item in PLANTS:
        target = broken / item.path
        old = target.read_text(encoding="utf-8") if target.exists() else None
        target.write_text(item.change(old), encoding="utf-8")
    return broken


def _indent(text: str, prefix: str = "      ") -> str:
    return "".join(prefix + line + "\n" for line in text.strip().splitlines())


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="folder for the sample repositories (default: a new temporary folder)",
    )


def run(args: argparse.Namespace) -> int:
    if args.dir:
        folder = Path(args.dir)
        if folder.exists() and any(folder.iterdir()):
            raise UsageError(f"--dir {args.dir}: exists and is not empty")
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="gitops-guard-demo-"))
    ok = True
    print("gitops-guard demo\n")
    sample = make_sample(folder)
    print("1. A sample repository from the bundled template (Argo CD, kustomize, Sealed Secrets,")
    print(f"   GitHub Actions; the defaults of `gitops-guard new`):\n   {sample}\n")
    print("2. Every check on it, as `pre-commit run --all-files` runs them:")
    for check in CHECKS:
        outcome = run_check(sample, check, args.dispatch)
        if not outcome.available:
            print(f"   {check.command:<17} not available in this version")
            continue
        passed = outcome.code == 0
        ok &= passed
        print(f"   {check.command:<17} {'pass' if passed else f'FAIL (exit {outcome.code})'}")
        if not passed:
            print(_indent(outcome.out + outcome.err), end="")
    broken = plant(sample)
    print(f"\n3. A copy with mistakes planted:\n   {broken}")
    for item in PLANTS:
        print(f"   - {item.what:<22} in {item.path}")
    print("\n   The checks on the copy (paths relative to it):")
    for check in CHECKS:
        planted = [p for p in PLANTS if p.command == check.command]
        outcome = run_check(broken, check, args.dispatch)
        if not outcome.available:
            print(f"   {check.command:<17} not available in this version")
            continue
        caught = []
        for item in planted:
            hit = any(
                path == os.path.normpath(item.path) and rule.startswith(item.rule_area)
                for path, rule in outcome.findings()
            )
            caught.append(hit)
            ok &= hit and outcome.code == 1
        if planted:
            verdict = "caught" if all(caught) and outcome.code == 1 else "MISSED"
            print(f"   {check.command:<17} {verdict} {planted[0].what} (exit {outcome.code})")
        else:
            print(f"   {check.command:<17} exit {outcome.code}")
        if outcome.out.strip() or outcome.err.strip():
            print(_indent(outcome.out + outcome.err), end="")
    print()
    if ok:
        print("Every check passed on the sample and caught its planted mistake.")
        print(f"Look around: cd {sample}   (the broken copy: {broken})")
    else:
        print("The demo did not go as expected (see above).")
    where = shlex.quote(str(folder))
    print(f"When done: rm -rf {where}   (the demo's folder; nothing else was written)")
    return 0 if ok else 1

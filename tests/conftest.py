"""Shared fixtures: a snapshot of this checkout as a hook repository, one PRE_COMMIT_HOME per
session (pre-commit builds the hook environment once), and helpers for scratch git repositories.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT.parent / "shared" / "corpus" / "realworld"
DOCS = ROOT / "docs"


def docs_text() -> str:
    """The README and every reference page under docs/, as one text (where a user looks)."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "gitops-guard tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "gitops-guard tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    return subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        check=check,
    )


#: the shared real repositories: whole ones (``repos/``) and YAML-only ones (``realworld/``).
#: (``CORPUS`` above is ``realworld/`` alone, as test_corpus.py and test_syncwaves.py read it.)
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_REPOS = sorted(
    p
    for parent in ("repos", "realworld")
    if (SHARED_CORPUS / parent).is_dir()
    for p in (SHARED_CORPUS / parent).iterdir()
    if p.is_dir()
)


def commit_copy(repo: Path, dest: Path, *, symlinks: bool = False) -> Path:
    """A corpus repository as CI sees it: its files (no ``.git``) copied to ``dest``, then
    ``git init``, ``git add -A`` and one commit, so ``git ls-files`` lists them all.
    ``symlinks``: copy links as links (default: the files they point at)."""
    shutil.copytree(repo, dest, ignore=shutil.ignore_patterns(".git"), symlinks=symlinks)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "corpus")
    return dest


def init_repo(path: Path) -> Path:
    """A git repository with everything under ``path`` committed."""
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial", "--allow-empty")
    return path


@pytest.fixture
def make_repo(tmp_path: Path):
    """Write ``{relative path: text}`` into a fresh git repository and commit it."""

    def make(files: dict[str, str], name: str = "repo") -> Path:
        root = tmp_path / name
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        root.mkdir(parents=True, exist_ok=True)
        return init_repo(root)

    return make


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """This checkout as it is on disk (committed or not), as a git repository + rev.

    pre-commit installs hooks from a repository at a rev; snapshotting once per session means
    every end-to-end test shares one hook environment.
    """
    snapshot = tmp_path_factory.mktemp("hooks-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        rel = raw.decode()
        source = ROOT / rel
        if source.is_symlink():  # gitops_guard/template -> ../../template: keep it a link
            target = snapshot / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(source))
            continue
        if not source.is_file():
            continue
        target = snapshot / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    init_repo(snapshot)
    rev = git(snapshot, "rev-parse", "HEAD").stdout.strip()
    return str(snapshot), rev


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def run_pre_commit(pre_commit_home: Path):
    """Run the real pre-commit in ``repo`` with the session's shared PRE_COMMIT_HOME."""

    def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            **GIT_ENV,
            "PRE_COMMIT_HOME": str(pre_commit_home),
            "PRE_COMMIT_COLOR": "never",
            "HOME": str(repo),
        }
        env.pop("PRE_COMMIT", None)
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", *args],
            cwd=repo,
            env=env,
            text=True,
            capture_output=True,
            timeout=1200,
        )

    return run


def hooks_config(hooks_repo: tuple[str, str], *hook_ids: str) -> str:
    """A .pre-commit-config.yaml that uses this checkout's hooks."""
    repo, rev = hooks_repo
    hooks = "\n".join(f"      - id: {hook}" for hook in hook_ids)
    return f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n{hooks}\n"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Call ``gitops_guard.cli.main(argv)`` and return (exit code, stdout, stderr)."""
    from gitops_guard.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def chdir(tmp_path: Path) -> Iterator[Path]:
    """Run the test inside ``tmp_path`` (so no policy file is found upward by accident)."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)

"""repository: the root, file names in findings, lazy parsing."""

from __future__ import annotations

import os

from conftest import init_repo
from gitops_guard.core.documents import load_file
from gitops_guard.repo.repository import Repository, find_root


def test_root_is_the_git_work_tree_around_the_working_directory(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "apps" / "a.yaml").write_text("a: 1\n")
    init_repo(repo)
    monkeypatch.chdir(repo / "apps")
    assert find_root(["a.yaml"]) == str(repo.resolve())


def test_files_outside_the_work_tree_use_their_common_folder(tmp_path, monkeypatch):
    (tmp_path / "x" / "a").mkdir(parents=True)
    (tmp_path / "x" / "b").mkdir()
    monkeypatch.chdir(tmp_path)
    assert find_root(["x/a/1.yaml", "x/b/2.yaml"]) == str((tmp_path / "x").resolve())


def test_display_keeps_given_paths_and_shortens_others(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text("kind: ConfigMap\n")
    (tmp_path / "b.yaml").write_text("kind: containing-needle\n")
    given = load_file("./a.yaml")
    repo = Repository(tmp_path, [given])
    assert repo.display(repo.key("a.yaml")) == "./a.yaml"
    assert repo.display(repo.key("b.yaml")) == "b.yaml"
    assert [os.path.basename(s.path) for s in repo.containing(b"containing-needle")] == ["b.yaml"]
    assert repo.source(str(tmp_path / "missing.yaml")) is None

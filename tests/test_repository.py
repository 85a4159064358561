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


def test_kind_line_matches_a_kind_in_yaml_and_json_and_no_longer_kind():
    import re

    from gitops_guard.repo.repository import kind_line

    pattern = re.compile(kind_line("Application"))
    for text in (b"kind: Application\n", b'  "kind": "Application",', b"kind: 'Application'"):
        assert pattern.search(text), text
    for text in (b"kind: ApplicationSet\n", b"kind: Applications\n", b"# Application\n"):
        assert not pattern.search(text), text


def test_containing_with_a_pattern_parses_only_the_files_it_matches(tmp_path, monkeypatch):
    """A sync-wave annotation names argoproj.io in every waved file: an index of Argo CD
    Applications must not parse them all (a one-file run would read the whole repository)."""
    from gitops_guard.repo.repository import kind_line

    init_repo(tmp_path)
    (tmp_path / "app.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n",
        encoding="utf-8",
    )
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "  annotations: {argocd.argoproj.io/sync-wave: '1'}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo = Repository(str(tmp_path))
    found = repo.containing(b"argoproj.io", kind_line("Application"))
    assert [os.path.basename(s.path) for s in found] == ["app.yaml"]
    assert repo.parsed(repo.key(str(tmp_path / "cm.yaml"))) is None  # never parsed
    both = repo.containing(b"argoproj.io")
    assert sorted(os.path.basename(s.path) for s in both) == ["app.yaml", "cm.yaml"]

"""listing: the repository's YAML files, re-read only where a folder changed."""

from __future__ import annotations

import os
import time

import pytest
from gitops_guard.repo import listing


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)


def _age(path, seconds=10):
    """Make a folder look untouched for a while (the cache distrusts fresh timestamps)."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_lists_yaml_and_kustomization_files_skipping_hidden_and_vendored(tmp_path):
    root = tmp_path / "repo"
    for rel in ("a.yaml", "b/c.yml", "b/Kustomization", "b/readme.md", ".git/x.yaml",
                "node_modules/p/x.yaml"):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("a: 1\n")
    files, changed = listing.yaml_files(str(root))
    names = [os.path.relpath(f, root) for f in files]
    assert names == ["a.yaml", os.path.join("b", "Kustomization"), os.path.join("b", "c.yml")]
    assert changed


def test_second_run_reads_no_folder_and_sees_new_and_removed_files(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "apps" / "web").mkdir(parents=True)
    (root / "apps" / "web" / "deploy.yaml").write_text("a: 1\n")
    for folder in (root, root / "apps", root / "apps" / "web"):
        _age(folder)
    listing.yaml_files(str(root))
    scans = []
    real_scan = listing._scan
    monkeypatch.setattr(listing, "_scan", lambda folder: scans.append(folder) or real_scan(folder))
    files, changed = listing.yaml_files(str(root))
    assert (scans, changed) == ([], False)
    assert [os.path.basename(f) for f in files] == ["deploy.yaml"]

    (root / "apps" / "api").mkdir()
    (root / "apps" / "api" / "kustomization.yaml").write_text("resources: []\n")
    (root / "apps" / "web" / "deploy.yaml").unlink()
    files, changed = listing.yaml_files(str(root))
    assert changed
    assert [os.path.relpath(f, root) for f in files] == [
        os.path.join("apps", "api", "kustomization.yaml")
    ]


def test_no_cache_setting_walks_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_GUARD_NO_CACHE", "1")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.yaml").write_text("a: 1\n")
    listing.yaml_files(str(root))
    assert not (tmp_path / "cache").exists()


def test_corrupt_cache_is_ignored(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.yaml").write_text("a: 1\n")
    listing.yaml_files(str(root))
    cache = next((tmp_path / "cache").rglob("*.marshal"))
    cache.write_bytes(b"\x00garbage")
    files, _ = listing.yaml_files(str(root))
    assert [os.path.basename(f) for f in files] == ["a.yaml"]

"""cache: one place decides where gitops-guard remembers things, and whether it does."""

from __future__ import annotations

import os

from gitops_guard.core.cache import cache_dir, repository_cache_file


def test_cache_files_live_under_xdg_cache_home_one_per_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir("listing") == os.path.join(str(tmp_path), "gitops-guard", "listing")
    one = repository_cache_file("listing", "/src/team a/gitops")
    other = repository_cache_file("listing", "/src/team b/gitops")
    assert one is not None and other is not None and one != other
    assert os.path.dirname(one) == cache_dir("listing")
    assert os.path.basename(one).endswith("-gitops.marshal")
    assert repository_cache_file("kustomizations", "/src/team a/gitops") != one


def test_no_cache_turns_every_cache_off(monkeypatch):
    monkeypatch.setenv("GITOPS_GUARD_NO_CACHE", "1")
    assert cache_dir("valid-policies") is None
    assert repository_cache_file("listing", "/src/gitops") is None

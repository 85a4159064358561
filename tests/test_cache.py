"""cache: one place decides where gitops-guard remembers things, and whether it does."""

from __future__ import annotations

import os
import time

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


# -- integrity: a cache entry proves itself or is rebuilt (issue 16) ----------------------

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
spec:
  template:
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: registry.example.com/web:v1.0.0
"""
ACCOUNT = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n"
KUSTOMIZATION = "resources:\n  - deployment.yaml\n  - ../../base/accounts\n"


def _flip(path: str, old: bytes, new: bytes) -> None:
    with open(path, "rb") as handle:
        data = handle.read()
    assert old in data
    with open(path, "wb") as handle:
        handle.write(data.replace(old, new, 1))


def test_save_and_load_round_trip_and_refuse_any_flipped_bit(tmp_path):
    from gitops_guard.core import cache

    path = str(tmp_path / "c.marshal")
    cache.save(path, {"files": ["a/kustomization.yaml"]})
    assert cache.load(path) == {"files": ["a/kustomization.yaml"]}
    raw = (tmp_path / "c.marshal").read_bytes()
    for index in range(len(raw)):
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        (tmp_path / "c.marshal").write_bytes(bytes(flipped))
        assert cache.load(path) is None, index
    assert cache.load(str(tmp_path / "missing")) is None


def test_a_flipped_bit_in_the_listing_cache_is_rebuilt_not_trusted(
    tmp_path, monkeypatch, make_repo, cli
):
    """With the kustomization's name corrupted in the cached listing, the application (and
    its ordering error) would vanish from every later one-file run."""
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo = make_repo(
        {
            "apps/web/deployment.yaml": DEPLOYMENT,
            "apps/web/kustomization.yaml": KUSTOMIZATION,
            "base/accounts/account.yaml": ACCOUNT,
            "base/accounts/kustomization.yaml": "resources:\n  - account.yaml\n",
        }
    )
    monkeypatch.chdir(repo)
    hour_ago = time.time() - 3600  # folders changed just now are never trusted (racy)
    for path in [repo, *repo.rglob("*")]:
        os.utime(path, (hour_ago, hour_ago))
    code, out, _ = cli("check-sync-waves", "apps/web/deployment.yaml")
    assert code == 1 and "sync/reference-order" in out
    listing = repository_cache_file("listing", str(repo))
    assert listing is not None
    _flip(listing, b"web/kustomization.yaml", b"web/kustomizatioo.yaml")  # one bit: n -> o
    code, out, _ = cli("check-sync-waves", "apps/web/deployment.yaml")
    assert code == 1 and "sync/reference-order" in out

"""repo/overlays.py: the records of file versions kept between runs."""

from __future__ import annotations

import gitops_guard
import pytest
from gitops_guard.repo import overlays

KUSTOMIZATION = (
    b"images:\n  - name: web\n    newName: registry.example.com/web\n    newTag: v1.0.0\n"
)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)
    return tmp_path


def remember(root) -> str:
    records = overlays.RecordCache(root)
    blob = records.blob_id(KUSTOMIZATION)
    found = records.records("kustomization.yaml", "kustomization.yaml", KUSTOMIZATION, blob)
    assert [s.value("newTag") for s in found] == ["v1.0.0"]
    key = records.key("kustomization.yaml", "kustomization.yaml", blob)
    records.keep("derived-1", key, ["kept"])
    records.save()
    return key


def test_a_version_is_remembered_with_what_was_derived_from_it(cache_home):
    key = remember(cache_home)
    again = overlays.RecordCache(cache_home)
    assert key in again.entries and again.kept("derived-1", key) == ["kept"]


def test_another_release_forgets_the_records_an_older_one_made(cache_home, monkeypatch):
    """An upgrade may read a file differently or derive another artifact from its records:
    what an older release remembered is not used."""
    key = remember(cache_home)
    monkeypatch.setattr(gitops_guard, "__version__", "99.0.0")
    again = overlays.RecordCache(cache_home)
    assert key not in again.entries and again.kept("derived-1", key) is None


def test_an_edit_of_a_deriving_module_forgets_what_was_kept(cache_home, tmp_path):
    """What check-promotion derives and keeps beside the records depends on its own code:
    the caller names its module, and another version of that file drops the memory."""
    deriver = tmp_path / "deriver.py"
    deriver.write_text("# one version\n")
    records = overlays.RecordCache(cache_home, derived_by=(str(deriver),))
    blob = records.blob_id(KUSTOMIZATION)
    records.records("kustomization.yaml", "kustomization.yaml", KUSTOMIZATION, blob)
    records.save()
    again = overlays.RecordCache(cache_home, derived_by=(str(deriver),))
    assert again.entries  # the same code: remembered
    deriver.write_text("# another version, longer\n")
    assert not overlays.RecordCache(cache_home, derived_by=(str(deriver),)).entries

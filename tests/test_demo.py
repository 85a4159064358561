"""``gitops-guard demo``: a pass on the sample, each planted mistake caught with path:line:col,
"not available" (not a crash) for a check this version lacks, and a failing exit code when a
planted mistake goes unnoticed.
"""

from __future__ import annotations

import re

import pytest
from gitops_guard.scaffold import demo


def test_demo_passes_then_catches_every_planted_mistake(cli, tmp_path):
    code, out, err = cli("demo", "--dir", str(tmp_path / "d"))
    assert (code, err) == (0, "")
    sample, broken = tmp_path / "d/demo-gitops", tmp_path / "d/demo-gitops-broken"
    assert str(sample) in out and str(broken) in out
    for check in demo.CHECKS:
        assert re.search(rf"^   {check.command} +pass$", out, re.MULTILINE), check.command
    for plant in demo.PLANTS:
        assert re.search(rf"^   {plant.command} +caught {plant.what} \(exit 1\)$", out, re.M)
        line = re.search(rf"^ +{re.escape(plant.path)}:\d+:\d+: {plant.rule_area}\S+ ", out, re.M)
        assert line, f"{plant.what} not shown with path:line:col"
    assert "Tr0ub4dor-and-3-horses" not in out  # the planted password is never printed
    assert (broken / "clusters/staging/demo-app/db-credentials.yaml").is_file()
    assert (sample / ".git").is_dir()
    assert f"When done: rm -rf {tmp_path / 'd'}" in out.splitlines()[-1]
    assert any(plant.command == "check-promotion" for plant in demo.PLANTS)


def test_demo_names_a_new_folder_by_default(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    code, out, _ = cli("demo")
    assert code == 0
    (made,) = tmp_path.glob("gitops-guard-demo-*")
    assert str(made / "demo-gitops") in out


def test_a_check_missing_from_this_version_is_not_available_not_a_crash(cli, tmp_path, monkeypatch):
    checks = [
        c._replace(module="gitops_guard.not_built_yet") if c.command == "check-secrets" else c
        for c in demo.CHECKS
    ]
    monkeypatch.setattr(demo, "CHECKS", checks)
    code, out, _ = cli("demo", "--dir", str(tmp_path / "d"))
    assert code == 0
    assert out.count("check-secrets     not available in this version") == 2
    assert "check-images      caught" in out


def test_a_planted_mistake_that_is_not_caught_fails_the_demo(cli, tmp_path, monkeypatch):
    harmless = demo.Plant(
        "a harmless comment",
        "clusters/staging/infrastructure/namespace.yaml",
        lambda text: (text or "") + "# nothing wrong here\n",
        "check-sync-waves",
        "sync/",
    )
    monkeypatch.setattr(demo, "PLANTS", [demo.PLANTS[0], harmless])
    code, out, _ = cli("demo", "--dir", str(tmp_path / "d"))
    assert code == 1
    assert "check-sync-waves  MISSED a harmless comment (exit 0)" in out
    assert "did not go as expected" in out


def test_demo_refuses_a_folder_with_files(cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    code, out, err = cli("demo", "--dir", str(tmp_path))
    assert code == 2 and out == ""
    assert "exists and is not empty" in err


def test_planting_into_a_changed_sample_is_a_clear_error():
    with pytest.raises(demo.UsageError, match="not found to plant"):
        demo.PLANTS[0].change("image: something-else:v1.0.0\n")


def test_repo_files_are_what_pre_commit_passes_each_hook(tmp_path):
    for rel in ("a.yaml", "b.yml", "README.md", ".secrets.baseline", ".git/config", "d/e.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x: 1\n")
    assert demo.repo_files(tmp_path, "yaml") == ["a.yaml", "b.yml", "d/e.yaml"]
    assert demo.repo_files(tmp_path, "text") == ["README.md", "a.yaml", "b.yml", "d/e.yaml"]
    assert demo.repo_files(tmp_path, "none") == []

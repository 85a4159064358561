"""core/atomic.py: through symlinks, all or nothing, signal safe, changes by others detected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from gitops_guard.core import atomic


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if p.suffix in (".tmp", ".bak"))


def test_a_symlink_is_written_through(tmp_path: Path):
    real = tmp_path / "base" / "kustomization.yaml"
    real.parent.mkdir()
    real.write_text("newTag: v1\n")
    link = tmp_path / "kustomization.yaml"
    link.symlink_to(real)
    atomic.write_all([(atomic.read(link), "newTag: v2\n")])
    assert link.is_symlink() and real.read_text() == "newTag: v2\n"
    assert _leftovers(tmp_path) == []


def test_mode_is_kept(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n")
    path.chmod(0o640)
    atomic.write_all([(atomic.read(path), "a: 2\n")])
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_failed_rename_restores_earlier_files_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    files = [tmp_path / f"{n}.yaml" for n in "abc"]
    for f in files:
        f.write_text(f"{f.stem}: old\n")
    snaps = [atomic.read(f) for f in files]
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.yaml") and str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(atomic.WriteError) as info:
        atomic.write_all([(s, f"{s.path[-6]}: new\n") for s in snaps])
    message = str(info.value)
    assert [f.read_text() for f in files] == ["a: old\n", "b: old\n", "c: old\n"]
    assert "b.yaml: not written" in message and "No space left" in message
    assert f"restored: {files[0]}" in message and "nothing was changed" in message
    assert _leftovers(tmp_path) == []


def test_a_file_changed_after_it_was_read_is_not_overwritten(tmp_path: Path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("a: 1\n")
    second.write_text("b: 1\n")
    snaps = [atomic.read(first), atomic.read(second)]
    second.write_text("b: 9\n")  # another program, same size
    stat = second.stat()
    os.utime(second, ns=(stat.st_atime_ns, snaps[1].stamp[3]))  # and the old mtime
    with pytest.raises(atomic.ChangedError, match=r"b\.yaml changed after it was read"):
        atomic.write_all([(snaps[0], "a: 2\n"), (snaps[1], "b: 2\n")])
    assert first.read_text() == "a: 1\n" and second.read_text() == "b: 9\n"
    assert _leftovers(tmp_path) == []


def test_temp_names_are_unique_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n")
    seen: list[str] = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic.write_one(path, "a: 2\n")
    atomic.write_one(path, "a: 3\n")
    assert len(set(seen)) == 2 and path.read_text() == "a: 3\n"


_CHILD = """
import os, signal, sys
from gitops_guard.core import atomic
names = sys.argv[2:]
snaps = [atomic.read(n) for n in names]
when = sys.argv[1]
real = {"fsync": os.fsync, "replace": os.replace}
def killer(*args):
    real[when](*args)
    os.kill(os.getpid(), signal.SIGTERM if when == "fsync" else signal.SIGHUP)
setattr(os, when, killer)
try:
    atomic.write_all([(s, "new\\n") for s in snaps])
except atomic.Interrupted as exc:
    print(exc.exit_code, exc)
"""


@pytest.mark.parametrize("when", ["fsync", "replace"])
def test_sigterm_or_sighup_leaves_no_temp_file_and_no_half_write(tmp_path: Path, when: str):
    files = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for f in files:
        f.write_text("old\n")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, when, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert _leftovers(tmp_path) == [], done.stdout + done.stderr
    contents = {f.read_text() for f in files}
    if when == "fsync":  # while staging: nothing written
        assert contents == {"old\n"} and done.stdout.startswith(f"{128 + signal.SIGTERM} ")
        assert "nothing was changed" in done.stdout
    else:  # during the renames: held until both are done
        assert contents == {"new\n"} and done.stdout.startswith(f"{128 + signal.SIGHUP} ")

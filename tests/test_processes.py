"""core/processes.py: git run without the subprocess module, output whole, exit codes kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from gitops_guard.core import processes


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_output_and_exit_code(repo):
    code, out, err = processes.run_git(str(repo), "rev-parse", "--is-inside-work-tree")
    assert (code, out, err) == (0, b"true\n", b"")


def test_a_failing_git_keeps_its_exit_code_and_stderr(repo):
    code, out, err = processes.run_git(str(repo), "rev-parse", "--verify", "no-such-ref")
    assert code != 0 and out == b"" and b"fatal" in err


def test_runs_in_the_given_folder_not_the_working_directory(repo, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    code, out, _ = processes.run_git(str(repo), "rev-parse", "--show-toplevel")
    assert code == 0 and os.path.samefile(out.decode().strip(), repo)


def test_output_larger_than_a_pipe_while_the_caller_works(repo):
    """git writes more than a pipe holds (64 KiB) while we do not read: it must not block."""
    blob = b"x" * 300_000
    code, out, _ = processes.run_git(str(repo), "hash-object", "-w", "--stdin", stdin=blob)
    assert code == 0
    name = out.decode().strip()
    running = processes.start_git(str(repo), "cat-file", "blob", name)
    total = sum(range(200_000))  # the caller's own work, meanwhile
    code, out, err = running.wait()
    assert total and code == 0 and out == blob and err == b""
    assert running.wait() == (code, out, err)  # asked again: the same answer


def test_standard_input_whole(repo):
    names = b"".join(b"%d\n" % i for i in range(20_000))
    code, out, _ = processes.run_git(str(repo), "hash-object", "--stdin", stdin=names)
    expected = subprocess.run(
        ["git", "hash-object", "--stdin"], cwd=repo, input=names, capture_output=True
    ).stdout
    assert code == 0 and out == expected


def test_git_that_cannot_be_started_raises_oserror(repo, monkeypatch):
    monkeypatch.setenv("PATH", str(repo / "nowhere"))
    with pytest.raises(OSError):
        processes.run_git(str(repo), "status")


def test_the_fallback_without_posix_spawn_gives_the_same(repo, monkeypatch):
    fast = processes.run_git(str(repo), "rev-parse", "--git-dir")
    monkeypatch.setattr(processes, "_FAST", False)
    assert processes.run_git(str(repo), "rev-parse", "--git-dir") == fast
    assert processes.run_git(str(repo), "hash-object", "--stdin", stdin=b"a\n")[0] == 0


def test_no_subprocess_import_on_the_fast_path(repo):
    if not processes._FAST:
        pytest.skip("posix_spawn or memfd_create missing here")
    code = (
        "import sys; from gitops_guard.core import processes; "
        f"processes.run_git({str(repo)!r}, 'status'); print('subprocess' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

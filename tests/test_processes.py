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


CLOSED_STREAMS = """
import os, sys
from gitops_guard.core import processes
report = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
for fd in map(int, sys.argv[2].split(",")):
    os.close(fd)
code, out, err = processes.run_git(sys.argv[3], "rev-parse", "--is-inside-work-tree")
code2, out2, _ = processes.run_git(sys.argv[3], "hash-object", "--stdin", stdin=b"a\\n")
os.write(report, repr((code, out, err, code2, len(out2.strip()))).encode())
"""


@pytest.mark.parametrize("closed", ["0", "0,1", "0,1,2", "2"])
def test_a_closed_standard_stream_does_not_swallow_gits_output(repo, tmp_path, closed):
    """``git commit 0<&-``: the memory files would get descriptors 0-2, which the child's
    redirections overwrite; git's output must still arrive (it said "not a git repository")."""
    if not processes._FAST:
        pytest.skip("posix_spawn or memfd_create missing here")
    report = tmp_path / "report"
    subprocess.run(
        [sys.executable, "-c", CLOSED_STREAMS, str(report), closed, str(repo)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert report.read_text() == repr((0, b"true\n", b"", 0, 40))


@pytest.mark.parametrize("call", ["memfd_create", "posix_spawnp"])
def test_a_system_that_refuses_the_calls_falls_back_to_subprocess(repo, monkeypatch, call):
    """seccomp or gVisor: the calls exist but fail (ENOSYS, EPERM); that is not git missing."""
    if not processes._FAST:
        pytest.skip("posix_spawn or memfd_create missing here")
    expected = processes.run_git(str(repo), "rev-parse", "--git-dir")

    def refuse(*args, **kwargs):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(processes, "_FAST", True)  # restored after the test
    monkeypatch.setattr(os, call, refuse)
    assert processes.run_git(str(repo), "rev-parse", "--git-dir") == expected
    assert processes._FAST is False  # later calls go straight to the subprocess module


def test_a_passing_failure_is_retried_once_without_leaving_the_fast_path(repo, monkeypatch):
    """Out of descriptors for a moment (EMFILE): this call goes through subprocess, the next
    ones try the fast path again."""
    if not processes._FAST:
        pytest.skip("posix_spawn or memfd_create missing here")
    expected = processes.run_git(str(repo), "rev-parse", "--git-dir")
    real = os.memfd_create
    calls = []

    def once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OSError(24, "Too many open files")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "memfd_create", once)
    assert processes.run_git(str(repo), "rev-parse", "--git-dir") == expected
    assert processes._FAST is True
    assert processes.run_git(str(repo), "rev-parse", "--git-dir") == expected
    assert len(calls) == 3  # the fast path again: two memory files


def test_git_that_is_not_executable_is_said_so_by_check_promotion(tmp_path, monkeypatch, cli):
    """A git that cannot run (no execute bit) is not "git is not installed"."""
    from conftest import init_repo

    overlay = tmp_path / "clusters" / "staging" / "web" / "kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text("images:\n  - name: registry.example.com/web\n    newTag: v1.0.0\n")
    init_repo(tmp_path)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\n")  # mode 644: found, not executable
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(fake))
    _, out, err = cli("check-promotion")
    assert "git could not be started (Permission denied)" in out + err, out + err
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    _, out, err = cli("check-promotion")
    assert "git is not installed" in out + err, out + err


def test_git_missing_is_still_an_error_on_the_fast_path(repo, monkeypatch):
    if not processes._FAST:
        pytest.skip("posix_spawn or memfd_create missing here")
    monkeypatch.setenv("PATH", str(repo / "nowhere"))
    with pytest.raises(FileNotFoundError):
        processes.run_git(str(repo), "status")
    assert processes._FAST is True


def test_an_interrupt_while_waiting_closes_the_memory_files(repo, monkeypatch):
    if not processes._FAST:
        pytest.skip("posix_spawn or memfd_create missing here")
    running = processes.start_git(str(repo), "status")
    files, pid = running._files, running._pid
    real_waitpid = os.waitpid

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "waitpid", interrupted)
    with pytest.raises(KeyboardInterrupt):
        running.wait()
    monkeypatch.setattr(os, "waitpid", real_waitpid)
    real_waitpid(pid, 0)  # reap the child
    for fd in files:
        with pytest.raises(OSError):
            os.fstat(fd)


def test_check_promotion_with_standard_input_closed_still_reads_history(tmp_path):
    """``git commit 0<&-`` runs the hook with no standard input: the history must still be
    read (it said "not a git repository, so there is no history")."""
    from conftest import init_repo

    def overlay(env: str, tag: str) -> None:
        path = tmp_path / "clusters" / env / "web" / "kustomization.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"images:\n  - name: registry.example.com/web\n    newTag: {tag}\n")

    overlay("staging", "v1.0.0")
    overlay("production", "v1.1.0")  # staging never ran it
    init_repo(tmp_path)
    hook = os.path.join(os.path.dirname(sys.executable), "gitops-guard")
    ran = subprocess.run(
        ["bash", "-c", 'exec 0<&-; exec "$0" check-promotion', hook],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "history-unavailable" not in ran.stdout + ran.stderr
    assert ran.returncode == 1 and "promotion/" in ran.stdout, ran.stdout + ran.stderr

"""git as a child process on the commit hooks' hot path, without the subprocess module.

Why: a commit hook starts a fresh interpreter on every commit. ``subprocess`` brings in
threading, selectors, signal, locale, contextlib and more (a tenth of what check-promotion
spends importing), and reading one child's output while the hook does other work needs a
thread to drain the pipe. Here the child writes into memory files (``memfd_create``): it never
waits on us, no thread drains it, and ``os.posix_spawnp`` starts it without forking this
process. Where either call is missing (macOS has no memfd, Windows neither), the subprocess
module does the same job; it also does when they exist but fail at run time (a seccomp filter
or a sandbox such as gVisor answers ENOSYS or EPERM), so such a failure is never mistaken for
git missing. git runs with ``-C <folder>``: posix_spawn has no working folder of its own, and
``-C`` is git's own equivalent of starting there.
"""

from __future__ import annotations

import errno
import os

#: whether the spawn path is available here (Linux); else the subprocess module is used
_FAST = hasattr(os, "posix_spawnp") and hasattr(os, "memfd_create")

#: the lowest descriptor a memory file may have: with standard input, output or error closed
#: (``git commit 0<&-``) the kernel hands out 0, 1 or 2, which the child's own redirections
#: below would then overwrite before git starts
_FIRST_FREE = 3


#: what a system that forbids memory files or posix_spawn answers (seccomp, gVisor)
_REFUSED = {errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL}


def _memory_file(name: str) -> int:
    """A close-on-exec memory file whose descriptor is above the three standard ones."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    if fd >= _FIRST_FREE:
        return fd
    import fcntl  # rare: only when this process runs with a standard stream closed

    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE)
    finally:
        os.close(fd)


class Running:
    """A started git: :meth:`wait` gives (exit code, stdout, stderr), whole."""

    def __init__(self, argv: list[str], cwd: str, stdin: bytes | None = None) -> None:
        self._argv = argv
        self._result: tuple[int, bytes, bytes] | None = None
        self._pid = 0
        self._files: tuple[int, int] = (-1, -1)
        self._proc: object = None
        self._stdin = stdin
        if _FAST:
            try:
                self._spawn(argv, cwd, stdin)
                return
            except FileNotFoundError:
                raise  # git is not on PATH: the subprocess module would say the same
            except OSError as error:  # this call is retried the other way; a system that
                if error.errno in _REFUSED:  # refuses the calls outright is not asked again
                    _use_subprocess()
        import subprocess

        self._proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def _spawn(self, argv: list[str], cwd: str, stdin: bytes | None) -> None:
        out = _memory_file("git-stdout")
        try:
            err = _memory_file("git-stderr")
        except BaseException:
            os.close(out)
            raise
        given = -1
        try:
            if stdin is None:
                reads: tuple = (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)
            else:  # the whole input is there before git starts: git never waits on us
                given = _memory_file("git-stdin")
                view = memoryview(stdin)
                while view:
                    view = view[os.write(given, view) :]
                os.lseek(given, 0, os.SEEK_SET)
                reads = (os.POSIX_SPAWN_DUP2, given, 0)
            self._pid = os.posix_spawnp(
                argv[0],
                [argv[0], "-C", cwd, *argv[1:]],
                os.environ,
                file_actions=[
                    reads,
                    (os.POSIX_SPAWN_DUP2, out, 1),
                    (os.POSIX_SPAWN_DUP2, err, 2),
                ],
            )
        except BaseException:
            os.close(out)
            os.close(err)
            raise
        finally:
            if given >= 0:
                os.close(given)
        self._files = (out, err)

    def wait(self) -> tuple[int, bytes, bytes]:
        if self._result is not None:
            return self._result
        if self._proc is not None:
            out, err = self._proc.communicate(self._stdin)  # type: ignore[attr-defined]
            self._result = (self._proc.returncode, out, err)  # type: ignore[attr-defined]
            return self._result
        try:
            _, status = os.waitpid(self._pid, 0)
            code = os.waitstatus_to_exitcode(status)
            texts = [_read_all(fd) for fd in self._files]
        finally:  # also on Ctrl-C while git runs: the memory files are not left open
            files, self._files = self._files, (-1, -1)
            for fd in files:
                if fd >= 0:
                    os.close(fd)
        self._result = (code, texts[0], texts[1])
        return self._result


def _use_subprocess() -> None:
    """From now on in this process, start git through the subprocess module."""
    global _FAST
    _FAST = False


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def start_git(cwd: str, *args: str, stdin: bytes | None = None) -> Running:
    """Start ``git args`` in ``cwd`` (its standard input: ``stdin``, else none); raises
    OSError when git cannot be started."""
    return Running(["git", *args], cwd, stdin)


def run_git(cwd: str, *args: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """``git args`` in ``cwd``: (exit code, stdout, stderr)."""
    return start_git(cwd, *args, stdin=stdin).wait()

"""Writing files so that a failure, a signal or another program never costs a byte.

Every command that changes files (``promote --write``, ``promote --branch``, ``set-image``,
``check-secrets --update-baseline``) writes through :func:`write_all`:

- **Through symlinks.** A symlinked file is written where the link points; the link stays.
- **All or nothing.** Every new content is first written to a temporary file beside its
  target (a unique name per run, so two runs never collide), together with a copy of the old
  content. Only when every file is staged are the temporary files renamed over their targets.
  A rename that fails puts the files already renamed back from their copies, and the error
  says exactly which files were changed, restored or left as they were.
- **Signal safe.** SIGTERM and SIGHUP while staging remove the temporary files; during the
  renames (a few system calls) they are held until the last rename is done. Either way the
  command then stops with the signal's exit code and nothing half-written is left behind.
- **Changes by others detected.** :func:`read` records what was read (content, size,
  modification time, inode); right before its rename each file is compared with that record,
  and a file another program changed in the meantime stops the write (:class:`ChangedError`)
  instead of losing that program's edit.

**Test seam.** ``GITOPS_GUARD_TEST_PAUSE=<phase>:<marker file>`` makes :func:`write_all` stop
at one point, create the marker file and wait (at most 60 s) for a signal, so that a test can
kill a real ``gitops-guard`` process exactly there: ``staged`` is between writing the
temporary files and the first rename, ``renaming`` right after the first rename. Unset (as
always outside tests), it costs one dictionary lookup per write.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


class WriteError(OSError):
    """A write that did not happen, or did not fully happen; the message is the account."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.account = message

    def __str__(self) -> str:
        return self.account


class ChangedError(WriteError):
    """A file changed (by another program) after it was read: nothing of it was written."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP during a write; raised once the files are consistent again."""

    def __init__(self, signum: int, account: str) -> None:
        super().__init__(account)
        self.signum = signum
        self.account = account
        #: what a shell reports for a process stopped by this signal
        self.exit_code = 128 + signum

    def __str__(self) -> str:
        return self.account


class Snapshot:
    """A file as it was read: what to compare with right before it is replaced."""

    __slots__ = ("data", "mode", "path", "stamp", "target")

    def __init__(self, path: str, target: str, data: bytes | None, stamp: tuple, mode: int):
        #: as the user named it (what messages show)
        self.path = path
        #: the real file (a symlink resolved): what is written
        self.target = target
        #: None: the file did not exist
        self.data = data
        self.stamp = stamp
        self.mode = mode


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read(path: str | os.PathLike[str], *, missing_ok: bool = False) -> Snapshot:
    """Read a file for a later :func:`write_all` (through a symlink: the file it points at)."""
    shown = os.fspath(path)
    target = os.path.realpath(shown)
    try:
        with open(target, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        if not missing_ok:
            raise
        return Snapshot(shown, target, None, (), 0o666 & ~_umask())
    return Snapshot(shown, target, data, _stamp(st), st.st_mode & 0o7777)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def unchanged(snap: Snapshot) -> bool:
    """Whether the file is still what :func:`read` saw (content, size, mtime, inode)."""
    try:
        with open(snap.target, "rb") as handle:
            st = os.fstat(handle.fileno())
            if snap.data is None or _stamp(st) != snap.stamp:
                return False
            return handle.read() == snap.data
    except FileNotFoundError:
        return snap.data is None
    except OSError:
        return False


class _Entry:
    __slots__ = ("backup", "data", "renamed", "snap", "temp")

    def __init__(self, snap: Snapshot, data: bytes) -> None:
        self.snap = snap
        self.data = data
        self.temp: str | None = None
        self.backup: str | None = None
        self.renamed = False


class _Signals:
    """SIGTERM/SIGHUP become :class:`Interrupted`, or wait while ``held`` (the renames)."""

    def __init__(self) -> None:
        self.held = False
        self.pending: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self  # handlers can only be set in the main thread
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                self._old[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.pending is None:
            self.pending = signum
        if not self.held:
            raise Interrupted(signum, "interrupted")

    def __exit__(self, *exc: object) -> None:
        import signal

        for number, old in self._old.items():
            signal.signal(number, old)


def write_all(changes: Sequence[tuple[Snapshot, bytes | str]]) -> list[str]:
    """Replace every file with its new content, all or nothing; the paths written.

    Files whose new content equals what was read are left alone. Raises
    :class:`ChangedError` when a file changed since it was read (nothing is written then),
    :class:`WriteError` with an exact account when a write fails, and :class:`Interrupted`
    on SIGTERM/SIGHUP (after cleaning up).
    """
    entries = []
    seen: set[str] = set()
    for snap, data in changes:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if raw == snap.data:
            continue
        if snap.target in seen:
            raise WriteError(f"{snap.path}: the same file is written twice (through a link)")
        seen.add(snap.target)
        entries.append(_Entry(snap, raw))
    if not entries:
        return []
    with _Signals() as signals:
        try:
            for entry in entries:
                _stage(entry)
            for entry in entries:
                _verify(entry)
            _pause("staged", signals)
        except BaseException as exc:
            signals.held = True  # a second signal must not stop the cleanup
            _remove_temps(entries)
            signals.held = False
            if isinstance(exc, Interrupted):
                raise Interrupted(exc.signum, "interrupted: nothing was changed") from None
            if isinstance(exc, WriteError):
                raise
            raise WriteError(f"{_name(exc)}: nothing was changed") from None
        signals.held = True
        try:
            _rename_all(entries, signals)
        finally:
            _remove_temps(entries)
            signals.held = False
        if signals.pending is not None:
            written = ", ".join(e.snap.path for e in entries)
            raise Interrupted(signals.pending, f"interrupted after writing {written}")
    return [e.snap.path for e in entries]


def _stage(entry: _Entry) -> None:
    snap = entry.snap
    folder, base = os.path.split(snap.target)
    entry.temp = _temp_file(folder, base, entry.data, snap.mode)
    if snap.data is not None:
        entry.backup = _temp_file(folder, base, snap.data, snap.mode, suffix=".bak")


def _temp_file(folder: str, base: str, data: bytes, mode: int, suffix: str = ".tmp") -> str:
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f".{base}.", suffix=suffix, dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, mode)
    except BaseException:
        _unlink(name)
        raise
    return name


def _verify(entry: _Entry) -> None:
    if not unchanged(entry.snap):
        raise ChangedError(
            f"{entry.snap.path} changed after it was read (another program wrote it): "
            "nothing was changed; run the command again"
        )


def _pause(phase: str, signals: _Signals) -> None:
    """The test seam (see the module's docstring): wait here for a signal when asked to."""
    wanted = os.environ.get("GITOPS_GUARD_TEST_PAUSE")
    if not wanted or wanted.split(":", 1)[0] != phase:
        return
    import time

    marker = wanted.split(":", 1)[1] if ":" in wanted else ""
    if marker:
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 60
    while signals.pending is None and time.monotonic() < deadline:
        time.sleep(0.01)  # a signal raises Interrupted here, or is held (pending) while renaming


def _rename_all(entries: list[_Entry], signals: _Signals | None = None) -> None:
    for index, entry in enumerate(entries):
        try:
            _verify(entry)
            assert entry.temp is not None
            os.replace(entry.temp, entry.snap.target)
            entry.temp = None
            entry.renamed = True
            if index == 0 and signals is not None:
                _pause("renaming", signals)
        except BaseException as exc:
            done = [e for e in entries[:index] if e.renamed]
            raise WriteError(_rollback(entry, exc, done, entries[index + 1 :])) from None


def _rollback(failed: _Entry, exc: BaseException, done: list[_Entry], rest: list[_Entry]) -> str:
    """Put the renamed files back; the account of what is where."""
    restored: list[str] = []
    stuck: list[str] = []
    for entry in reversed(done):
        try:
            if entry.backup is not None:
                os.replace(entry.backup, entry.snap.target)
                entry.backup = None
            else:
                os.unlink(entry.snap.target)  # it did not exist before
            restored.append(entry.snap.path)
        except OSError as error:
            kept = f"; its old content is in {entry.backup}" if entry.backup else ""
            stuck.append(
                f"{entry.snap.path} (written, could not be restored: {_name(error)}{kept})"
            )
            entry.backup = None  # keep the copy: it is the only one
    reason = exc.account if isinstance(exc, WriteError) else _name(exc)
    parts = [f"{failed.snap.path}: not written: {reason}"]
    if stuck:
        parts.append("changed: " + ", ".join(stuck))
    if restored:
        parts.append("restored: " + ", ".join(reversed(restored)))
    unchanged_files = [failed.snap.path] + [e.snap.path for e in rest]
    parts.append("nothing was changed" if not stuck else "unchanged: " + ", ".join(unchanged_files))
    return "; ".join(parts)


def _remove_temps(entries: list[_Entry]) -> None:
    for entry in entries:
        for name in (entry.temp, entry.backup):
            if name is not None:
                _unlink(name)
        entry.temp = entry.backup = None


def _unlink(name: str) -> None:
    import contextlib

    with contextlib.suppress(OSError):
        os.unlink(name)


def _name(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc) or type(exc).__name__


def write_one(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write one file atomically (through a symlink), whatever it held before."""
    write_all([(read(path, missing_ok=True), data)])

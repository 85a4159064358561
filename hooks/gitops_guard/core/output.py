"""stdout and stderr of every command: each line goes through the masking step
(``core/masking.py``) before it leaves the process.

Why a module of its own: the streams are wrapped before any command runs, and a hook that
finds nothing prints nothing. The masking (its expressions, the token formats) is imported
with the first line that has something in it, not on every commit.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


def _masked(text: str) -> str:
    """Whole lines of output, each masked and bounded, their ends kept."""
    from gitops_guard.core.masking import printable_text

    return printable_text(text)


class MaskingStream:
    """A text stream that passes each line on masked and bounded (stdout, stderr): the one
    step every output of every command goes through (``printable``). A line is held until
    its end (or a flush), so a cut sees the whole line and keeps JSON valid."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending: list[str] = []  # the start of a line not yet ended

    def write(self, text: str) -> int:
        cut = text.rfind("\n") + 1
        if not cut:
            if text:
                self._pending.append(text)
            return len(text)
        data = "".join(self._pending) + text[:cut] if self._pending else text[:cut]
        self._pending = [text[cut:]] if cut < len(text) else []
        self.stream.write(_masked(data))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            line = "".join(self._pending)
            self._pending = []
            self.stream.write(_masked(line))
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

"""What every benchmark here shares: finding the tools, running one whole process and reading
its wall time, CPU time and peak memory, medians, and the verdict words.

Tools run as whole processes because start-up is what a commit pays.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: installed tools run from bytecode; an editable checkout with PYTHONDONTWRITEBYTECODE set
#: would recompile on every run and pay a cost no real install pays
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def tool(name: str) -> str:
    """A console script of this virtualenv, else one on PATH."""
    found = BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        script = Path(sys.argv[0]).name
        raise SystemExit(f"{script}: {name} not found (pip install -e '.[test,bench]')")
    return on_path


def run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, int, int, str]:
    """(wall s, CPU s of the child, peak RSS KiB, exit code, last stderr line) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=ENV if env is None else env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, code, err[-1] if err else ""


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall and median CPU seconds of (wall, CPU) samples."""
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def ok(flag: bool) -> str:
    return "ok" if flag else "MISSED"


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run; a crash stops the benchmark."""
    elapsed, cpu, _, code, err = run(argv, cwd, env)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:2])}: exit {code}: {err}")
    return elapsed, cpu


def paired(
    a: list[str], b: list[str], cwd: Path, runs: int, env: dict[str, str]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of ``a`` and of ``b``, run alternately so load changes hit
    both alike."""
    run_once(a, cwd, env)  # warm-up (and cache fill)
    run_once(b, cwd, env)
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(run_once(a, cwd, env))
        times_b.append(run_once(b, cwd, env))
    return medians(times_a), medians(times_b)


def git_repo(path: Path) -> None:
    """Make a folder a git repository with everything committed (hooks find their root)."""
    env = {**ENV, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env.update(GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)


def synthetic_repo(path: Path, files: int, *, git: bool = True) -> Path:
    """``bench/generate.py``'s repository of ``files`` files at ``path`` (made unless it is
    there), a git repository unless ``git`` is false."""
    if not path.exists():
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve().parent / "generate.py"), str(path),
             "--files", str(files)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    if git and not (path / ".git").exists():
        git_repo(path)
    return path

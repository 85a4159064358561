"""The renderers (kustomize, kubectl kustomize, helm): finding them, running them, remembering
what they printed.

- A renderer is looked up on PATH and beside this Python (a virtualenv nobody activated: the
  ``render`` extra's kubectl wheel, the helm ``.ci/install-helm`` puts there).
- Every run has a timeout and no network to wait for: git and helm are told never to prompt,
  and what would need a download (a remote base, a chart from a repository) is never rendered
  (``units.py`` says so with a finding instead).
- A render is remembered in ``~/.cache/gitops-guard/renders/`` (checksummed cache files,
  ``core/cache.py``) under the digest of everything it reads (the content of each input file,
  the command, the renderer binary), so an unchanged application costs one digest on the
  next commit.
- Independent renders run in parallel, a few subprocesses at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from gitops_guard.core.cache import cache_dir, load, save

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

#: what a remembered render holds and how its error was read: a change here must not find
#: renders remembered by an older version
_FORMAT = 5  # 4: a shortened error keeps its innermost cause; 5: its paths are unrooted
#: seconds one render may take (a hook must never hang)
TIMEOUT = 120
_MAX_OUTPUT = 64 * 1024 * 1024


class Result:
    """What one render printed, or why it failed (``error``: one line)."""

    __slots__ = ("cached", "error", "output")

    def __init__(self, output: str = "", error: str | None = None, cached: bool = False) -> None:
        self.output = output
        self.error = error
        self.cached = cached


def which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return shutil.which(name, path=os.path.dirname(sys.executable))


def kustomize() -> list[str] | None:
    """``kustomize build``, else ``kubectl kustomize`` (kubectl embeds kustomize)."""
    tool = which("kustomize")
    if tool:
        return [tool, "build"]
    tool = which("kubectl")
    if tool:
        return [tool, "kustomize"]
    return None


def helm() -> str | None:
    return which("helm")


_HELM_MAJOR: dict[str, int | None] = {}


def helm_major(tool: str) -> int | None:
    """The major version of a helm binary (``helm version --short``: ``v4.1.4+g05fa379``),
    asked once per process; None when it does not say."""
    if tool not in _HELM_MAJOR:
        major = None
        try:
            out = subprocess.run(
                [tool, "version", "--short"],
                capture_output=True,
                timeout=30,
                check=False,
                env=environment(),
                stdin=subprocess.DEVNULL,
            )
            text = out.stdout.decode("utf-8", "replace").strip()
            digits = text[1:].split(".", 1)[0] if text.startswith("v") else ""
            major = int(digits) if digits.isdigit() else None
        except (OSError, subprocess.TimeoutExpired):
            major = None
        _HELM_MAJOR[tool] = major
    return _HELM_MAJOR[tool]


#: kustomize before 5.8 (kubectl 1.32 and 1.33 embed 5.5 and 5.6) asks ``helm version -c
#: --short`` and refuses anything but ``v3`` (api/internal/builtins/
#: HelmChartInflationGenerator.go, checkHelmVersion; kubernetes-sigs/kustomize#6013). Helm 4
#: removed ``-c``, so every ``helmCharts:`` kustomization failed to build with helm 4 on PATH,
#: although the charts render with it (kustomize 5.8 accepts v4). The shim answers only that
#: question and hands every other call (``template``, ``pull``) to helm itself.
_SHIM = """#!/bin/sh
if [ "$1" = version ]; then
  for arg in "$@"; do
    if [ "$arg" = -c ] || [ "$arg" = --client ]; then
      echo "v3.99.0+helm{major}"
      exit 0
    fi
  done
fi
exec {helm} "$@"
"""


def helm_for_kustomize(tool: str, folder: str) -> str:
    """The ``--helm-command`` for kustomize: helm itself, or for helm 4 and later a shim
    (written into ``folder``, the render's temporary folder) that kustomize 5.5 accepts."""
    major = helm_major(tool)
    if major is None or major < 4 or os.name != "posix":
        return tool
    import shlex

    path = os.path.join(folder, "helm")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_SHIM.format(major=major, helm=shlex.quote(tool)))
    os.chmod(path, 0o700)
    return path


def environment() -> dict[str, str]:
    """The renderers' environment: never prompt, never wait for a terminal."""
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_ASKPASS"] = "true"
    env.setdefault("HELM_NO_PLUGINS", "1")
    return env


def run(
    command: list[str],
    cwd: str | None = None,
    clean: Callable[[str], str] | None = None,
    limit: int = 500,
) -> Result:
    """Run a renderer; its stdout, or its reason for failing in one line (``clean`` rewrites
    its stderr first: the paths it quotes, before a reason over ``limit`` is cut)."""
    try:
        out = subprocess.run(
            command,
            capture_output=True,
            cwd=cwd,
            timeout=TIMEOUT,
            check=False,
            env=environment(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Result(error=f"{os.path.basename(command[0])} took over {TIMEOUT} s, stopped")
    except OSError as exc:
        return Result(error=f"cannot run {os.path.basename(command[0])}: {exc.strerror or exc}")
    if out.returncode != 0:
        stderr = out.stderr.decode("utf-8", "replace")
        text = clean(stderr) if clean else stderr
        return Result(error=reason(text, out.returncode, limit))
    if len(out.stdout) > _MAX_OUTPUT:
        return Result(error=f"the output is over {_MAX_OUTPUT // (1024 * 1024)} MiB")
    return Result(out.stdout.decode("utf-8", "replace"))


def reason(stderr: str, code: int, limit: int = 500) -> str:
    """The renderer's own reason, on one line: its last ``Error:`` line, without the log
    prefix kubectl adds (``E0101 12:00:00.000 1 run.go:72] "command failed" err=...``)."""
    raw = stderr.splitlines()
    lines = [line.strip() for line in raw if line.strip()]
    picked = ""
    inside_block = False
    for i, line in enumerate(raw):
        text = line.strip()
        if inside_block:
            inside_block = text != ">"
            continue
        if text.endswith("err=<"):
            # kubectl logs a multi-line error as a block: ``"command failed" err=<``, the
            # error's lines indented, then `` >``; kustomize's "Error:" from a helm call it
            # made sits inside a line of it, not at a line's start
            block = []
            for following in raw[i + 1 :]:
                if following.strip() == ">":
                    break
                block.append(following.strip())
            picked = " ".join(part for part in block if part)
            inside_block = True
        elif text.startswith("Error:") or 'err="' in text or text.startswith("error:"):
            # helm 4 continues a template error on indented lines: "Error: t.yaml:6:50",
            # "  executing ... at <.Values.x>:", "    nil pointer evaluating ..."
            # and a values-schema error on the lines after it, up to a blank line:
            # "Error: values don't meet ... chart(s):", "secret-sync:", "- at '/key': ..."
            # (an error line that ends in ":" announces them; other unindented lines after
            # an error are not part of it)
            more = []
            announces = text.endswith(":")
            for following in raw[i + 1 :]:
                if not following.strip() or _starts_a_message(following):
                    break
                if not following.startswith((" ", "\t")) and not announces:
                    break
                more.append(following.strip())
            picked = " ".join([text, *more])
    if not picked and lines:
        picked = lines[-1]
    if 'err="' in picked:
        picked = picked.split('err="', 1)[1].rstrip('"').replace('\\"', '"')
    for prefix in ("Error: ", "error: "):
        if picked.startswith(prefix):
            picked = picked[len(prefix) :]
    from gitops_guard.core.quoting import shown

    # a tool quotes what it read (a 100 kB file name): bounded, like every message
    text = " ".join(picked.split())
    head, sep, cause = text.rpartition(": ")
    if len(text) > limit and sep and 0 < len(cause) <= 200:
        # kustomize wraps its reason in every layer it passed ("accumulating resources: ...
        # couldn't make target for path '...': kustomization.yaml is empty"), helm its
        # template stack: the innermost cause, last, is the one to fix, so a cut keeps it
        return f"{shown(head, limit - 20 - len(cause))}: {shown(cause)}"
    return shown(text, limit) or f"exit code {code}"


def _starts_a_message(line: str) -> bool:
    """A new message, not the continuation of one: helm's ``Error:``/``WARNING:`` or a klog
    line (``E1202 04:56:51.755182 ...``, kubectl's log prefix)."""
    text = line.lstrip()
    if text.startswith(("Error:", "error:", "WARNING:", "walk.go:")):
        return True
    head = text[:5]
    return len(head) == 5 and head[0] in "IWEF" and head[1:].isdigit()


def shorten(text: str, limit: int = 300) -> str:
    """At most about ``limit`` characters. A cut keeps the innermost cause, the text after
    the last ``": "``: kustomize (api/krusty) wraps its reason in each layer it passed
    ("accumulating resources: ...: couldn't make target for path 'base': kustomization.yaml
    is empty"), helm its template stack; that last part is the one to fix."""
    if len(text) <= limit:
        return text
    head, sep, cause = text.rpartition(": ")
    if sep and 0 < len(cause) <= limit // 2:
        return f"{head[: max(limit - len(cause) - 5, 0)]}...: {cause}"
    return text[: limit - 3] + "..."


# -- the render cache -----------------------------------------------------------------------


class Digests:
    """Content digests of files and folders, each file read once per run."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}
        self._folders: dict[str, bytes] = {}

    def file(self, path: str) -> bytes:
        hit = self._files.get(path)
        if hit is None:
            import hashlib

            from gitops_guard.core.documents import not_regular

            digest = hashlib.blake2b(digest_size=16)
            what = not_regular(path)  # never open a FIFO (blocks) or a device (endless)
            try:
                if what is not None:
                    raise OSError(0, what)
                with open(path, "rb") as handle:
                    while True:
                        block = handle.read(1 << 20)
                        if not block:
                            break
                        digest.update(block)
            except OSError as exc:
                digest.update(f"unreadable {exc.errno}".encode())
            hit = digest.digest()
            self._files[path] = hit
        return hit

    def folder(self, path: str) -> bytes:
        """Every file below a folder (hidden folders skipped), names and contents."""
        hit = self._folders.get(path)
        if hit is None:
            import hashlib

            digest = hashlib.blake2b(digest_size=16)
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError:
                entries = []
            for entry in entries:
                try:
                    if entry.is_dir():
                        if entry.name.startswith("."):
                            continue
                        digest.update(b"d" + entry.name.encode("utf-8", "surrogateescape"))
                        digest.update(self.folder(entry.path))
                    elif entry.is_file():
                        digest.update(b"f" + entry.name.encode("utf-8", "surrogateescape"))
                        digest.update(self.file(entry.path))
                except OSError:
                    continue
            hit = digest.digest()
            self._folders[path] = hit
        return hit


def key_of(command: list[str], parts: Iterable[bytes]) -> str:
    """The cache key of a render: the command, the renderer binary, the inputs' digests."""
    import hashlib

    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{_FORMAT}\0".encode())
    digest.update("\0".join(command).encode("utf-8", "surrogateescape"))
    try:
        stat = os.stat(command[0])
        digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    except OSError:
        pass
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _cache_path(key: str) -> str | None:
    folder = cache_dir("renders")
    return None if folder is None else os.path.join(folder, key[:2], key)


def cached(key: str) -> Result | None:
    """A remembered render (checksummed by ``core/cache``: a damaged file is rendered again)."""
    data = load(_cache_path(key))
    if not isinstance(data, tuple) or len(data) != 2:
        return None
    error, output = data
    if error is None and isinstance(output, str):
        return Result(output, cached=True)
    if isinstance(error, str):
        return Result(error=error, cached=True)
    return None


def remember(key: str, result: Result) -> None:
    path = _cache_path(key)
    if path is None or (result.error is not None and "took over" in result.error):
        return  # a timeout may pass next time: never remembered
    save(path, (result.error, result.output))


def parallel(jobs: list[Callable[[], Any]], workers: int | None = None) -> list[Any]:
    """Run independent jobs (each mostly waits on a subprocess) a few at a time, in order."""
    if len(jobs) <= 1:
        return [job() for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    count = workers or min(4, max(2, os.cpu_count() or 2), len(jobs))
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda job: job(), jobs))

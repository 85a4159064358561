"""Benchmark promotion: ``promote`` on a 2,000-line Helm values file, and ``check-promotion``
over 500 apps x 3 environments with 200 commits of history.

    python bench/bench_promotion.py [--repeat 5] [--keep DIR]

promote is compared side by side with the usual peer, a ruamel.yaml round trip (load, set the
tag, dump: what image updaters and yq-style tools do), on the same file: time per promotion and
how many lines each changes (ours: exactly the changed value's line). check-promotion runs as
the hook does (a fresh ``gitops-guard`` process), with ``require: history`` and ``current``,
next to the floor of reading that history at all (``git log --raw`` + ``git cat-file --batch``).
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=GIT_ENV,
        input=stdin,
        capture_output=True,
        check=True,
    ).stdout


def values_file(tag: str, lines: int = 2000) -> str:
    """A realistic, comment-heavy values file of about ``lines`` lines, image near the end."""
    rng = random.Random(7)
    out = ["# Default values for the web chart.", "# This is a YAML-formatted file.", ""]
    section = 0
    while len(out) < lines - 12:
        section += 1
        out.append(f"component{section}:")
        out.append(f"  # settings of component {section}")
        out.append(f"  enabled: {'true' if rng.random() > 0.3 else 'false'}")
        out.append(f"  replicaCount: {rng.randint(1, 5)}")
        out.append("  resources:")
        out.append(f"    requests: {{cpu: {rng.randint(1, 9)}00m, memory: 128Mi}}")
        out.append("  env:")
        for i in range(rng.randint(1, 4)):
            out.append(f"  - name: VAR_{section}_{i}")
            out.append(f'    value: "{rng.randint(0, 10**6)}"  # quoted on purpose')
        out.append("  annotations: &ann" + str(section))
        out.append(f"    team: team-{section % 7}")
        out.append("")
    out += [
        "image:",
        "  repository: registry.example.com/web",
        "  pullPolicy: IfNotPresent",
        "  # Overrides the image tag whose default is the chart appVersion.",
        f'  tag: "{tag}"',
        "",
        "service:",
        "  type: ClusterIP",
        "  port: 80",
    ]
    return "\n".join(out) + "\n"


def changed_lines(old: str, new: str) -> str:
    """``-removed/+added`` lines between two texts."""
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    return f"-{removed}/+{added} lines"


def bench_promote(work: Path, repeat: int) -> None:
    from gitops_guard.cli import main

    repo = work / "promote"
    for env, tag in (("staging", "v2.0.0"), ("production", "v1.9.0")):
        folder = repo / "clusters" / env / "web"
        folder.mkdir(parents=True)
        (folder / "values.yaml").write_text(values_file(tag), encoding="utf-8")
    target = repo / "clusters" / "production" / "web" / "values.yaml"
    original = target.read_text(encoding="utf-8")
    print(f"promote: {len(original.splitlines())}-line values file, tag v1.9.0 -> v2.0.0")

    old_cwd = os.getcwd()
    os.chdir(repo)
    ours = []
    try:
        for _ in range(repeat):
            target.write_text(original, encoding="utf-8")
            sink = io.StringIO()
            stdout, stderr = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = sink
            start = time.perf_counter()
            try:
                code = main(["promote", "web", "--write"])
            finally:
                sys.stdout, sys.stderr = stdout, stderr
            ours.append(time.perf_counter() - start)
            assert code == 0, sink.getvalue()
    finally:
        os.chdir(old_cwd)
    ours_text = target.read_text(encoding="utf-8")

    from ruamel.yaml import YAML

    peer = []
    for _ in range(repeat):
        start = time.perf_counter()
        yaml = YAML()
        yaml.preserve_quotes = True
        data = yaml.load(original)
        data["image"]["tag"] = "v2.0.0"
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        peer.append(time.perf_counter() - start)
    peer_text = buffer.getvalue()

    t_ours, t_peer = statistics.median(ours), statistics.median(peer)
    rows = [
        ("gitops-guard promote --write (parse, verify, policy, write)", t_ours, ours_text),
        ("ruamel.yaml round trip (load, set, dump; no policy/write)", t_peer, peer_text),
    ]
    for label, seconds, text in rows:
        print(f"  {label:<58} {seconds * 1000:8.1f} ms  {changed_lines(original, text)}")
    print(f"  ratio ours/peer: {t_ours / t_peer:.2f}x")


ENVS = ("dev", "staging", "production")


def bench_check(work: Path, repeat: int, apps: int = 500, commits: int = 200) -> None:
    """check-promotion over ``apps`` apps x 3 environments (dev -> staging -> production) and
    ``commits`` commits, next to the floor: reading that history at all with git."""
    repo = work / "check"
    rng = random.Random(11)
    ran: dict[tuple[str, str], list[str]] = {}

    def kustomization(app: str, tag: str) -> str:
        return (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"resources:\n  - ../../../apps/{app}\nimages:\n  - name: {app}\n"
            f"    newName: registry.example.com/{app}\n    newTag: {tag}  # set by CI\n"
        )

    def put(env: str, app: str, tag: str) -> None:
        path = repo / "clusters" / env / app / "kustomization.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kustomization(app, tag))
        ran.setdefault((env, app), []).append(tag)

    for i in range(apps):
        for env in ENVS:
            put(env, f"app{i:03d}", f"v1.0.{i % 10}")
    (repo / "policies").mkdir(parents=True)
    (repo / "policies" / "gitops-guard.yaml").write_text(
        f"version: 1\npromotion:\n  environments: [{', '.join(ENVS)}]\n"
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    start = time.perf_counter()
    for n in range(commits):
        app = f"app{rng.randrange(apps):03d}"
        step = n % 3
        if step == 0:  # CI sets a new tag in dev
            put("dev", app, f"v2.{n}.0")
        else:  # a promotion of something the environment before ran, in a later commit
            env, pred = ENVS[step], ENVS[step - 1]
            put(env, app, rng.choice(ran[(pred, app)]))
        git(repo, "commit", "-q", "--allow-empty", "-am", f"commit {n}: {app}")
    print(
        f"check-promotion: {apps} apps x {len(ENVS)} environments, {commits + 1} commits "
        f"(history built in {time.perf_counter() - start:.1f} s)"
    )
    exe = shutil.which("gitops-guard") or str(Path(sys.executable).parent / "gitops-guard")

    import resource

    def cpu() -> float:
        """CPU seconds of every finished child (git's included): on a shared machine wall
        time mostly measures the others' load."""
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    # as an installed package runs: from compiled bytecode (pip compiles it at install; with
    # PYTHONDONTWRITEBYTECODE set, every run would compile the modules again and time that)
    child_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    child_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    results: dict[str, subprocess.CompletedProcess[bytes]] = {}

    def hook(name: str, *args: str) -> None:
        results[name] = subprocess.run(
            [exe, "check-promotion", *args], cwd=repo, env=child_env, capture_output=True
        )

    # as pre-commit runs it: on a commit, the changed file; in CI (``pre-commit run
    # --all-files``), every file of the repository
    tracked = git(repo, "ls-files", "-z").decode().split("\0")
    every = [name for name in tracked if name]
    one = "clusters/production/app001/kustomization.yaml"

    def floor() -> None:
        """What any tool must do to know the history: list every version of every overlay
        file, and read each of those versions once."""
        log = git(repo, "log", "--format=%H", "--raw", "--no-abbrev", "--", "clusters/")
        blobs = {line.split()[3] for line in log.decode().splitlines() if line.startswith(":")}
        git(repo, "cat-file", "--batch", stdin=("\n".join(blobs) + "\n").encode())

    runs = {
        "history": lambda: hook("history"),
        "one file": lambda: hook("one file", one),
        "all files": lambda: hook("all files", *every),
        "current": lambda: hook("current", "--require", "current"),
        "floor": floor,
    }
    for run in runs.values():  # a first run of each: the caches (bytecode, records) are made
        run()
    wall: dict[str, list[float]] = {name: [] for name in runs}
    used: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):  # interleaved: each round runs each once, so load hits them alike
        for name, run in runs.items():
            start, before = time.perf_counter(), cpu()
            run()
            wall[name].append(time.perf_counter() - start)
            used[name].append(cpu() - before)
    labels = {
        "history": "check-promotion (require: history)",
        "one file": "  ... given one changed file",
        "all files": "  ... given every file (--all-files)",
        "current": "check-promotion --require current",
        "floor": "floor: git log --raw + cat-file",
    }
    print(f"  {'':37} {'wall best':>10} {'median':>8} {'CPU best':>10} {'median':>8}")
    for name in runs:
        w, c = wall[name], used[name]
        extra = ""
        if name in results:
            r = results[name]
            extra = f"  exit {r.returncode}, {len(r.stdout.decode().splitlines())} findings"
        print(
            f"  {labels[name]:<37} {min(w) * 1000:8.1f}ms {statistics.median(w) * 1000:6.1f}ms "
            f"{min(c) * 1000:8.1f}ms {statistics.median(c) * 1000:6.1f}ms{extra}"
        )
    for name in ("history", "one file", "all files", "current"):
        w, c, fw, fc = wall[name], used[name], wall["floor"], used["floor"]
        print(
            f"  {name:>9} / floor: wall {min(w) / min(fw):.2f}x best, "
            f"{statistics.median(w) / statistics.median(fw):.2f}x median; CPU "
            f"{min(c) / min(fc):.2f}x best, {statistics.median(c) / statistics.median(fc):.2f}x "
            "median (goal: within 2x)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-promotion-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        bench_promote(work, args.repeat)
        bench_check(work, args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time ``gitops-guard check-sync-waves`` against its peers, side by side, on the same files.

    python bench/bench_syncwaves.py [--repo DIR] [--files 5000] [--runs 5] [--one-runs 15]

Every tool runs as a whole process (start-up included: that is what a commit pays) inside the
synthetic repository (``bench/generate.py``, made a git repository so the hook finds its root):

* full run: every YAML file of the repository on one command line, like
  ``pre-commit run --all-files`` with ``require_serial``; the peer is
  ``gitops-guard check-images`` on the same files (target: at most 2x);
* one file: one changed ``deployment.yaml``, the way a commit runs the hook. check-sync-waves
  still reasons over the application that file belongs to, so it reads the repository's
  kustomization graph (cached between runs, see ``kgraph.py`` / ``listing.py``); the peer is
  pre-commit-hooks' ``check-yaml`` (target: at most 1.2x). The first, cache-filling run is
  timed separately ("cold").

The two tools of a pair run alternately (a shared machine's load hits both alike); the table
shows the median wall and CPU time (user + system of the process) of each and the ratios to
the peer. CPU time is the steadier measure on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from harness import ENV, ok, paired, run_once, synthetic_repo, tool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", help="an existing generated repository (default: generate)")
    parser.add_argument("--files", type=int, default=5000, help="files to generate")
    parser.add_argument("--runs", type=int, default=5, help="timed full runs")
    parser.add_argument("--one-runs", type=int, default=15, help="timed one-file runs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gg-bench-sync-") as scratch:
        repo = Path(args.repo).resolve() if args.repo else Path(scratch) / "repo"
        synthetic_repo(repo, args.files)
        env = {**ENV, "XDG_CACHE_HOME": str(Path(scratch) / "cache")}
        files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*.yaml"))
        one = next(f for f in files if f.endswith("/deployment.yaml"))
        guard = tool("gitops-guard")
        sync = [guard, "check-sync-waves"]
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {len(files)} files")
        print(f"one file: {one}\n")

        cold = run_once([*sync, one], repo, {**env, "XDG_CACHE_HOME": str(Path(scratch) / "c0")})
        one_sync, one_yaml = paired(
            [*sync, one], [tool("check-yaml"), "-m", one], repo, args.one_runs, env
        )
        full_sync, full_images = paired(
            [*sync, *files], [guard, "check-images", *files], repo, args.runs, env
        )
        rows = [
            ("one file", "check-sync-waves", one_sync),
            ("one file", "check-yaml -m", one_yaml),
            ("full", "check-sync-waves", full_sync),
            ("full", "check-images", full_images),
        ]
        print("| run | tool | median wall | median CPU |")
        print("|---|---|---:|---:|")
        for run, name, (wall, cpu) in rows:
            print(f"| {run} | {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms |")
        print(
            f"| one file, cold cache | check-sync-waves | {cold[0] * 1000:.0f} ms | "
            f"{cold[1] * 1000:.0f} ms |\n"
        )
        print("Targets (ratio of wall medians, of CPU medians):")
        for label, i, limit in (
            ("one file <= 1.2 x check-yaml", 0, 1.2),
            ("full run <= 2 x check-images", 2, 2.0),
        ):
            wall = rows[i][2][0] / rows[i + 1][2][0]
            cpu = rows[i][2][1] / rows[i + 1][2][1]
            print(f"- {label}: wall {wall:.2f}, CPU {cpu:.2f} {ok(max(wall, cpu) <= limit)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

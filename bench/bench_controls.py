"""Time ``gitops-guard check-controls`` against ``check-sync-waves`` on the same files.

    python bench/bench_controls.py [--repo DIR] [--files 5000] [--runs 5] [--one-runs 15]

Both read the repository around the given files (``repo/repository.py``), so check-sync-waves
is the peer (goal: check-controls no slower). Every tool runs as a whole process inside the
synthetic repository (``bench/generate.py``, made a git repository):

* one file, a workload (``deployment.yaml``): what most commits touch; check-controls returns
  as soon as it sees no controller, notification or alert rule in the given files;
* one file, a controller (a Flux Kustomization or an Argo CD Application): check-controls
  reads every controller, notification and alert of the repository (a changed Alert can
  uncover any object), check-sync-waves the application around the file;
* full run: every YAML file on one command line (``pre-commit run --all-files``).

The two tools of a pair run alternately; the table shows median wall and CPU time and the
ratios (CPU time is the steadier measure on a busy machine).
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

    with tempfile.TemporaryDirectory(prefix="gg-bench-controls-") as scratch:
        repo = Path(args.repo).resolve() if args.repo else Path(scratch) / "repo"
        synthetic_repo(repo, args.files)
        env = {**ENV, "XDG_CACHE_HOME": str(Path(scratch) / "cache")}
        files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*.yaml"))
        workload = next(f for f in files if f.endswith("/deployment.yaml"))
        controller = next(
            f for f in files if "/flux/" in f or "/argocd/" in f or f.endswith("application.yaml")
        )
        guard = tool("gitops-guard")
        controls, sync = [guard, "check-controls"], [guard, "check-sync-waves"]
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {len(files)} files")
        print(f"one workload file: {workload}\none controller file: {controller}\n")

        rows = []
        for label, chosen, runs in (
            ("one file (workload)", [workload], args.one_runs),
            ("one file (controller)", [controller], args.one_runs),
            ("full", files, args.runs),
        ):
            mine, peer = paired([*controls, *chosen], [*sync, *chosen], repo, runs, env)
            rows.append((label, mine, peer))
        cold = run_once([*controls, controller], repo, {**env, "XDG_CACHE_HOME": scratch + "/c0"})
        print(
            "| run | check-controls wall | CPU | check-sync-waves wall | CPU | ratio (wall, CPU) |"
        )
        print("|---|---:|---:|---:|---:|---|")
        worst = 0.0
        for label, (wall, cpu), (pwall, pcpu) in rows:
            ratio = (wall / pwall, cpu / pcpu)
            worst = max(worst, *ratio)
            print(
                f"| {label} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {pwall * 1000:.0f} ms "
                f"| {pcpu * 1000:.0f} ms | {ratio[0]:.2f}, {ratio[1]:.2f} |"
            )
        print(
            f"| one controller file, cold cache | {cold[0] * 1000:.0f} ms | "
            f"{cold[1] * 1000:.0f} ms | | | |\n"
        )
        print(
            f"Goal: check-controls no slower than check-sync-waves: worst ratio {worst:.2f} "
            f"{ok(worst <= 1.0)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time ``gitops-guard check-images`` against its peers, side by side, on the same files.

    python bench/bench_images.py [--repo DIR] [--files 5000] [--runs 5] [--one-runs 15]

Every tool runs as a whole process (start-up included: that is what a commit pays), on

* one file: a multi-document Deployment + Service manifest of the synthetic repository, and
* the whole synthetic repository (``bench/generate.py``, 5,000 YAML files by default),

and the table shows the median wall time and the median CPU time (user + system, of the child
process: steadier than wall time on a shared machine), each as a ratio to the libyaml floor
and to ``check-yaml``, and the peak resident memory (``ru_maxrss`` of the child process).

The tools:

* ``gitops-guard``: ``gitops-guard check-images FILE...`` (this project);
* ``libyaml floor``: a tiny script that parses the same files with PyYAML's ``CSafeLoader``
  and does nothing else: no check can be faster than reading the YAML;
* ``check-yaml -m``: pre-commit-hooks' ``check-yaml --allow-multiple-documents``;
* ``yamllint``: ``yamllint -d relaxed`` (syntax plus style rules).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ok, run, tool

HERE = Path(__file__).resolve().parent

#: Installed tools run from bytecode; with PYTHONDONTWRITEBYTECODE set, an editable checkout
#: would recompile its sources on every run and lose ~15 ms that no real install pays.

FLOOR = (
    "import sys, yaml\n"
    "for p in sys.argv[1:]:\n"
    "    with open(p, 'rb') as f:\n"
    "        for _ in yaml.load_all(f, Loader=yaml.CSafeLoader):\n"
    "            pass\n"
)


def commands() -> dict[str, list[str]]:
    return {
        "gitops-guard check-images": [tool("gitops-guard"), "check-images"],
        "libyaml floor (CSafeLoader)": [sys.executable, "-c", FLOOR],
        "check-yaml -m": [tool("check-yaml"), "-m"],
        "yamllint -d relaxed": [tool("yamllint"), "-d", "relaxed"],
    }


def run_once(argv: list[str], cwd: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS in KiB, exit code) of one whole process."""
    elapsed, cpu, peak, code, err = run(argv, cwd)
    if code not in (0, 1) and err:
        print(f"  {argv[0]}: {err}", file=sys.stderr)
    return elapsed, cpu, peak, code


Result = tuple[float, float, int, int]


def measure(argv: list[str], files: list[str], cwd: Path, runs: int) -> Result:
    """Median wall and CPU seconds, max peak RSS (KiB), last exit code; one warm-up first."""
    run_once(argv + files, cwd)
    walls, cpus, peaks, code = [], [], [], 0
    for _ in range(runs):
        elapsed, cpu, peak, code = run_once(argv + files, cwd)
        walls.append(elapsed)
        cpus.append(cpu)
        peaks.append(peak)
    return statistics.median(walls), statistics.median(cpus), max(peaks), code


def table(title: str, results: dict[str, Result]) -> str:
    floor = results["libyaml floor (CSafeLoader)"]
    check_yaml = results["check-yaml -m"]
    rows = [
        f"### {title}",
        "",
        "| tool | wall median | x floor | x check-yaml | CPU median | x floor | x check-yaml "
        "| peak RSS | exit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (wall, cpu, peak, code) in results.items():
        rows.append(
            f"| {name} | {wall * 1000:.0f} ms | {wall / floor[0]:.2f} | "
            f"{wall / check_yaml[0]:.2f} | {cpu * 1000:.0f} ms | {cpu / floor[1]:.2f} | "
            f"{cpu / check_yaml[1]:.2f} | {peak / 1024:.0f} MB | {code} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", help="an existing generated repository (default: generate)")
    parser.add_argument("--files", type=int, default=5000, help="files to generate")
    parser.add_argument("--runs", type=int, default=5, help="timed runs on the repository")
    parser.add_argument("--one-runs", type=int, default=15, help="timed runs on one file")
    parser.add_argument("--skip", action="append", default=[], help="skip a tool (substring)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gg-bench-") as scratch:
        repo = Path(args.repo) if args.repo else Path(scratch) / "repo"
        if not args.repo:
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), str(repo), "--files", str(args.files)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*.yaml"))
        one = next(f for f in files if f.endswith("/deployment.yaml"))
        cmds = {k: v for k, v in commands().items() if not any(s in k for s in args.skip)}
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
            f"{len(files)} files, {sum((repo / f).stat().st_size for f in files) / 1e6:.1f} MB"
        )
        print(f"one file: {one}\n")
        single = {name: measure(cmd, [one], repo, args.one_runs) for name, cmd in cmds.items()}
        print(table("One file (whole process)", single) + "\n")
        many = {name: measure(cmd, files, repo, args.runs) for name, cmd in cmds.items()}
        print(table(f"{len(files)} files (whole process)", many) + "\n")

        guard = "gitops-guard check-images"
        if guard in single and "check-yaml -m" in single:
            print("Targets (wall / CPU):")
            one = [single[guard][i] / single["check-yaml -m"][i] for i in (0, 1)]
            print(f"- one file <= 1.2 x check-yaml: {one[0]:.2f} / {one[1]:.2f} "
                  f"{ok(max(one) <= 1.2)}")  # fmt: skip
            floor = [many[guard][i] / many["libyaml floor (CSafeLoader)"][i] for i in (0, 1)]
            print(f"- {len(files)} files <= 2 x libyaml floor: {floor[0]:.2f} / {floor[1]:.2f} "
                  f"{ok(max(floor) <= 2)}")  # fmt: skip
            for peer in ("check-yaml -m", "yamllint -d relaxed"):
                if peer in many:
                    ratio = [many[guard][i] / many[peer][i] for i in (0, 1)]
                    print(f"- faster than {peer}: {ratio[0]:.2f} / {ratio[1]:.2f} "
                          f"{ok(max(ratio) < 1)}")  # fmt: skip
            peak_mb = many[guard][2] / 1024
            print(f"- peak memory < 150 MB: {peak_mb:.0f} MB {ok(peak_mb < 150)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

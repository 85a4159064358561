"""``gitops-guard check-secrets`` against ``detect-secrets-hook``, side by side, same files.

    python bench/bench_secrets.py [--repo DIR] [--files 5000] [--runs 3] [--one-runs 15]

Timing: every tool runs as a whole process (start-up included: that is what a commit pays),
the two tools alternating run by run (a load spike on a shared machine hits both)

* on one file: a Deployment of the synthetic repository (what most commits touch: no
  credential, so check-secrets never imports detect-secrets), and a Secret manifest of the
  labelled corpus (a tls.key in base64), and
* on the whole synthetic repository (``bench/generate.py``, 5,000 YAML files by default),
  handed to each tool in the same batches of file names (as pre-commit would),

and the table shows the median wall time, the median and the best CPU time (user + system of
the child), and the ratios to ``detect-secrets-hook``. CPU time is the steadier number on a
shared machine, the best of N the steadiest.

Detection: both tools scan the labelled corpus (``tests/data/secrets/``: ``bad/<rule>--*``
planted cases, ``good/*`` look-alikes). A planted case counts as caught when the tool reports
anything in its files; a look-alike counts as a false positive when it does. detect-secrets
runs as ``detect-secrets scan`` (its default plugins and filters) on the same files.

gitleaks is not in this timing: it is a Go binary, not a project dependency (no Debian
package; most PyPI/npm packages named after it download it at run time, a few third-party
wheels ship it). ``bench_secrets_recall.py`` runs it beside both when ``$GITLEAKS`` names one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import ENV, medians, run, tool

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
import tokens  # noqa: E402  (tests/data/secrets with its planted tokens made: secrets_data)

CORPUS = tokens.secrets_data()
ONE_FILE = CORPUS / "bad" / "k8s-secret-plaintext--tls-key.yaml"
BATCH = 500  # file names per process, as pre-commit splits long lists


def commands() -> dict[str, list[str]]:
    return {
        "gitops-guard check-secrets": [tool("gitops-guard"), "check-secrets"],
        "detect-secrets-hook": [tool("detect-secrets-hook")],
    }


def run_once(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    return run(argv, cwd)[:2]


def run_batches(argv: list[str], files: list[str], cwd: Path) -> tuple[float, float]:
    wall = cpu = 0.0
    for i in range(0, len(files), BATCH):
        w, c = run_once([*argv, *files[i : i + BATCH]], cwd)
        wall += w
        cpu += c
    return wall, cpu


def _interleaved(label: str, runner: Any, runs: int) -> list[tuple[str, str, float, float, float]]:
    """Each tool once per round, the tools alternating, ``runs`` rounds: a load spike on this
    shared machine hits both. (input, tool, median wall, median CPU, best CPU)."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands()}
    for _ in range(runs):
        for name, argv in commands().items():
            samples[name].append(runner(argv))
    return [
        (label, name, *medians(got), min(cpu for _, cpu in got)) for name, got in samples.items()
    ]


def timing(repo: Path, runs: int, one_runs: int) -> list[tuple[str, str, float, float, float]]:
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
    clean = next(f for f in files if f.endswith("deployment.yaml"))
    rows = []
    for label, path, where in (
        ("one file: a Deployment (no credential)", clean, repo),
        ("one file: a Secret with a tls.key", str(ONE_FILE), repo),
    ):
        rows += _interleaved(label, lambda argv, p=path, w=where: run_once([*argv, p], w), one_runs)
    rows += _interleaved(f"{len(files)} files", lambda argv: run_batches(argv, files, repo), runs)
    return rows


# -- detection on the labelled corpus -----------------------------------------------------------


def cases() -> dict[str, list[str]]:
    """case name -> its files (relative to the corpus)."""
    result: dict[str, list[str]] = {}
    for kind in ("bad", "good"):
        for case in sorted((CORPUS / kind).iterdir()):
            files = [case] if case.is_file() else sorted(p for p in case.rglob("*") if p.is_file())
            result[f"{kind}/{case.name}"] = [str(p.relative_to(CORPUS)) for p in files]
    return result


def flagged_by_gitops_guard(all_files: list[str]) -> set[str]:
    out = subprocess.run(
        [tool("gitops-guard"), "check-secrets", "--format", "json", *all_files],
        cwd=CORPUS,
        env=ENV,
        capture_output=True,
        text=True,
    ).stdout
    return {f["path"] for f in json.loads(out)["findings"] if f["severity"] == "error"}


def flagged_by_detect_secrets(all_files: list[str]) -> set[str]:
    out = subprocess.run(
        [tool("detect-secrets"), "scan", *all_files],
        cwd=CORPUS,
        env=ENV,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out)["results"])


def detection() -> list[tuple[str, int, int, int, int, list[str]]]:
    table = cases()
    all_files = [f for files in table.values() for f in files]
    rows = []
    for name, flagged in (
        ("gitops-guard", flagged_by_gitops_guard(all_files)),
        ("detect-secrets", flagged_by_detect_secrets(all_files)),
    ):
        hit = {case for case, files in table.items() if any(f in flagged for f in files)}
        bad = [c for c in table if c.startswith("bad/")]
        good = [c for c in table if c.startswith("good/")]
        missed = sorted(c for c in bad if c not in hit)
        false = sorted(c for c in good if c in hit)
        rows.append((name, len(bad) - len(missed), len(bad), len(false), len(good), missed + false))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, help="existing synthetic repository to reuse")
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-secrets-") as tmp:
        repo = args.repo
        if repo is None:
            repo = Path(tmp) / "repo"
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), str(repo), "--files", str(args.files)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        rows = timing(repo, args.runs, args.one_runs)

    print("## Time (whole process, the tools interleaved; ratio = CPU / detect-secrets-hook's)\n")
    print("| input | tool | wall median | CPU median | CPU best | ratio (median) | ratio (best) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    median = {inp: cpu for inp, name, _, cpu, _ in rows if name == "detect-secrets-hook"}
    best = {inp: b for inp, name, _, _, b in rows if name == "detect-secrets-hook"}
    for inp, name, wall, cpu, low in rows:
        ratios = f"{cpu / median[inp]:.2f}x | {low / best[inp]:.2f}x"
        print(f"| {inp} | {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | "
              f"{low * 1000:.0f} ms | {ratios} |")  # fmt: skip

    print("\n## Detection on tests/data/secrets (planted cases caught, look-alikes flagged)\n")
    print("| tool | recall | false positives | missed / falsely flagged |")
    print("|---|---:|---:|---|")
    for name, caught, planted, false, clean, which in detection():
        listed = ", ".join(which) if which else "-"
        print(f"| {name} | {caught}/{planted} ({caught / planted:.0%}) | {false}/{clean} | "
              f"{listed} |")  # fmt: skip
    print("\ngitleaks: not timed here (see bench_secrets_recall.py, which runs it from $GITLEAKS).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

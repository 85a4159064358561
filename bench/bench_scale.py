"""Every hook at 3,000 and 15,000 files: is time linear in the repository and memory bounded?

    python bench/bench_scale.py [--sizes 3000,15000] [--hooks check-images,...] [--runs 3]

For each size a synthetic repository (``bench/generate.py``, made a git repository) is checked
the way CI runs a hook: every YAML file on one command line. Each hook of
``.pre-commit-hooks.yaml`` runs as a whole process; the table gives the median wall and CPU
time and the peak RSS of the child, and the growth from the smallest to the largest size next
to the growth of the repository (linear: the two are about equal). The goal (issue 16): every
hook linear, at most 150 MB at 15,000 files.

A second table is the one-file case that used to cost words x bytes: ``check-sync-waves`` on one
changed file holding 25,000 ConfigMaps, beside a few MB of sibling manifests of the same
application that name none of them (``--bulk 25000``, ``--sibling-mb 4``). Parsing everything
is the peer (``check-sync-waves`` on every file of that application).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ENV, git_repo, ok, run, synthetic_repo, tool

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT_MB = 150


def hooks() -> list[tuple[str, list[str]]]:
    """(hook id, command) of every hook the project publishes."""
    import yaml

    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    found = []
    for hook in manifest:
        entry = hook["entry"].split()
        if entry and entry[0] == "gitops-guard":
            found.append((hook["id"], [tool("gitops-guard"), *entry[1:]]))
    return found


def measure(argv: list[str], cwd: Path, env: dict[str, str], runs: int) -> tuple:
    """Median wall s, median CPU s, max peak RSS MiB, exit code, last stderr line."""
    samples = [run(argv, cwd, env) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    rss = max(s[2] for s in samples) / 1024
    return wall, cpu, rss, samples[-1][3], samples[-1][4]


def bulk_app(repo: Path, objects: int, sibling_mb: int) -> tuple[str, list[str]]:
    """An application with one file of ``objects`` ConfigMaps and ``sibling_mb`` MB of
    siblings that name none of them; (the changed file, every file of the app)."""
    app = repo / "apps" / "bulk"
    app.mkdir(parents=True)
    docs = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bulk-{i:05d}\ndata:\n  k: v{i}\n"
        for i in range(objects)
    ]
    (app / "configmaps.yaml").write_text("---\n".join(docs), encoding="utf-8")
    names = ["configmaps.yaml"]
    chunk = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sib-{n}\nspec:\n"
        "  template:\n    spec:\n      containers:\n      - name: c\n"
        "        image: registry.example.com/x:v1.0.0\n"
    )
    for s in range(max(1, sibling_mb)):
        body = []
        size = 0
        n = 0
        while size < 900_000:
            text = chunk.format(n=f"{s}-{n}")
            body.append(text)
            size += len(text) + 4
            n += 1
        name = f"sibling-{s}.yaml"
        (app / name).write_text("---\n".join(body), encoding="utf-8")
        names.append(name)
    resources = "".join(f"  - {n}\n" for n in names)
    (app / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n{resources}",
        encoding="utf-8",
    )
    rel = [f"apps/bulk/{n}" for n in names] + ["apps/bulk/kustomization.yaml"]
    return rel[0], rel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3000,15000", help="repository sizes (files)")
    parser.add_argument("--hooks", help="comma-separated hook ids (default: every hook)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per hook and size")
    parser.add_argument("--bulk", type=int, default=25_000, help="ConfigMaps in the one file")
    parser.add_argument("--sibling-mb", type=int, default=4, help="MB of siblings beside it")
    parser.add_argument("--work", help="keep the generated repositories in this folder")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    chosen = hooks()
    if args.hooks:
        wanted = args.hooks.split(",")
        chosen = [h for h in chosen if h[0] in wanted]

    with tempfile.TemporaryDirectory(prefix="gg-bench-scale-") as scratch:
        work = Path(args.work) if args.work else Path(scratch)
        env = {**ENV, "XDG_CACHE_HOME": str(Path(scratch) / "cache")}
        load = os.getloadavg()[0]
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load:.1f}")
        results: dict[tuple[str, int], tuple] = {}
        for size in sizes:
            repo = synthetic_repo(work / f"repo-{size}", size)
            files = subprocess.run(
                ["git", "ls-files", "*.yaml", "*.yml"], cwd=repo, capture_output=True, text=True
            ).stdout.split()
            for hook_id, command in chosen:
                run([*command, *files], repo, env)  # warm-up (and cache fill)
                results[hook_id, size] = measure([*command, *files], repo, env, args.runs)
        print("\n| hook | files | median wall | median CPU | peak RSS | exit |")
        print("|---|---:|---:|---:|---:|---:|")
        for (hook_id, size), (wall, cpu, rss, code, err) in results.items():
            note = f" ({err[:60]})" if code not in (0, 1) else ""
            print(
                f"| {hook_id} | {size:,} | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MB | "
                f"{code}{note} |"
            )
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            print(f"\nGrowth {small:,} -> {large:,} files (repository x{large / small:.1f}):")
            for hook_id, _ in chosen:
                a, b = results[hook_id, small], results[hook_id, large]
                linear = b[1] / max(a[1], 1e-3) <= 1.5 * large / small
                print(
                    f"- {hook_id}: CPU x{b[1] / max(a[1], 1e-3):.1f}, RSS {b[2]:.0f} MB "
                    f"{ok(linear)} linear, {ok(b[2] <= LIMIT_MB)} <= {LIMIT_MB} MB"
                )

        repo = work / f"bulk-{sizes[0]}"
        if not repo.exists():
            synthetic_repo(repo, sizes[0], git=False)
            one, app_files = bulk_app(repo, args.bulk, args.sibling_mb)
            git_repo(repo)
        else:
            app_files = [f"apps/bulk/{p.name}" for p in sorted((repo / "apps" / "bulk").iterdir())]
            one = "apps/bulk/configmaps.yaml"
        sync = [tool("gitops-guard"), "check-sync-waves"]
        run([*sync, one], repo, env)
        alone = measure([*sync, one], repo, env, args.runs)
        whole = measure([*sync, *app_files], repo, env, args.runs)
        print(
            f"\nOne changed file of {args.bulk:,} ConfigMaps beside {args.sibling_mb} MB of "
            "siblings (check-sync-waves):\n"
        )
        print("| run | median wall | median CPU | peak RSS |")
        print("|---|---:|---:|---:|")
        print(f"| the one file | {alone[0]:.2f} s | {alone[1]:.2f} s | {alone[2]:.0f} MB |")
        print(
            f"| every file of the app | {whole[0]:.2f} s | {whole[1]:.2f} s | {whole[2]:.0f} MB |"
        )
        print(f"\n- one file <= parsing everything: {ok(alone[1] <= whole[1] * 1.2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time ``gitops-guard check-manifests`` against the hand-made pipeline teams write instead.

    python bench/bench_manifests.py [--repo DIR] [--files 5000] [--one-runs 3]

The peer is what Flux's example ``validate.sh`` and many CI scripts do: a loop of
``kubectl kustomize`` over every overlay, each output piped to a validator (here the
``kubernetes-validate`` CLI, strict, for the same Kubernetes release). On the synthetic
repository (``bench/generate.py``, made a git repository):

* whole repository: ``check-manifests`` with no FILE (every application, fresh render cache)
  against the bare render loop (goal: at most 1.3x its wall time) and against the loop with
  validation; then ``check-manifests`` again with the cache it filled;
* one file: one changed ``deployment.yaml`` (its content changed, so its overlays render
  again): ``check-manifests FILE`` against rendering and validating the overlays that include
  it;
* validation per document, in one process, on every object the overlays rendered: the
  compiled validator check-manifests uses (``render/schemas.py``: jsonschema-rs, a cached
  jsonschema validator for the errors of an invalid object), a cached jsonschema validator
  alone, fastjsonschema, and ``kubernetes_validate.validate`` (goal: at least 20x faster than
  the last).

Every tool runs as a whole process (start-up included); the table shows wall and CPU time
(user + system of the process and its children) and the ratios. On a shared machine the CPU
times are the steadier measure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ENV, ok, run, tool

HERE = Path(__file__).resolve().parent


def make_repo(files: int) -> Path:
    out = Path(tempfile.mkdtemp(prefix="bench-manifests-")) / "repo"
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(out), "--files", str(files)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=out, check=True)
    subprocess.run([*git, "add", "-A"], cwd=out, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bench"], cwd=out, check=True)
    return out


def kustomize_roots(repo: Path) -> list[Path]:
    """The overlays a render loop goes over: the roots of the kustomization graph (what
    check-manifests renders too, so both do the same work)."""
    from gitops_guard.render.units import KUSTOMIZE, Plan
    from gitops_guard.repo.repository import Repository

    plan = Plan(Repository(str(repo))).build()
    return [Path(u.root).parent for u in plan.units if u.kind == KUSTOMIZE]


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    elapsed, cpu, _, code, err = run(argv, cwd, env)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:2])}: exit {code}: {err}")
    return elapsed, cpu


def loop(
    overlays: list[Path], repo: Path, kubectl: str, validate: str | None
) -> tuple[float, float]:
    """The hand-made pipeline: render each overlay, then (optionally) validate its output."""
    wall = cpu = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, overlay in enumerate(overlays):
            start = time.perf_counter()
            before = os.times()
            out = subprocess.run(
                [kubectl, "kustomize", str(overlay)], capture_output=True, cwd=repo, check=False
            )
            if validate is not None and out.returncode == 0:
                path = Path(tmp) / f"{i}.yaml"
                path.write_bytes(out.stdout)
                subprocess.run(
                    [validate, "--strict", "-k", "1.33", "--quiet", str(path)],
                    capture_output=True,
                    check=False,
                )
            after = os.times()
            wall += time.perf_counter() - start
            cpu += (after.children_user - before.children_user) + (
                after.children_system - before.children_system
            )
    return wall, cpu


def validation(overlays: list[Path], kubectl: str) -> dict[str, float]:
    """Microseconds per document of each validator over the rendered objects."""
    import jsonschema
    import kubernetes_validate
    import yaml
    from gitops_guard.render.schemas import Schemas

    docs = []
    for overlay in overlays:
        out = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True)
        docs.extend(d for d in yaml.safe_load_all(out.stdout) if isinstance(d, dict))
    schemas = Schemas("1.33")
    kinds = [(d.get("apiVersion", ""), d.get("kind", "")) for d in docs]
    checked = [(d, k) for d, k in zip(docs, kinds) if schemas.validator(*k) is not None]
    result: dict[str, float] = {"documents": float(len(checked))}

    start = time.perf_counter()
    for doc, kind in checked:
        schemas.validator(*kind).errors(doc)
    result["check-manifests (jsonschema-rs, compiled once)"] = _per(start, checked)

    cached = {k: jsonschema.Draft202012Validator(schemas.schema(*k)) for _, k in checked}
    start = time.perf_counter()
    for doc, kind in checked:
        cached[kind].is_valid(doc)
    result["jsonschema, validator cached per kind"] = _per(start, checked)

    try:
        import fastjsonschema

        anything = dict.fromkeys(("int32", "int64", "double", "byte", "date-time"), lambda _: True)
        anything["int-or-string"] = lambda _: True
        compiled = {
            k: fastjsonschema.compile(schemas.schema(*k), formats=anything) for _, k in checked
        }
        start = time.perf_counter()
        for doc, kind in checked:
            with contextlib.suppress(fastjsonschema.JsonSchemaException):
                compiled[kind](doc)
        result["fastjsonschema, compiled per kind"] = _per(start, checked)
    except ImportError:
        pass

    sample = checked[: min(len(checked), 200)]
    start = time.perf_counter()
    for doc, _ in sample:
        with contextlib.suppress(Exception):  # an invalid document raises
            kubernetes_validate.validate(doc, "1.33", strict=True)
    result["kubernetes_validate.validate (its API)"] = _per(start, sample)
    return result


def _per(start: float, items: list) -> float:
    return (time.perf_counter() - start) / max(1, len(items)) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, help="an existing repository (default: generate)")
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--one-runs", type=int, default=3)
    args = parser.parse_args()
    repo = args.repo.resolve() if args.repo else make_repo(args.files)
    guard = tool("gitops-guard")
    validate = tool("kubernetes-validate")
    kubectl = tool("kubectl")
    cache = tempfile.mkdtemp(prefix="bench-manifests-cache-")
    env = {**ENV, "XDG_CACHE_HOME": cache}
    overlays = kustomize_roots(repo)
    print(f"repository: {repo} ({len(overlays)} overlays)")

    bare = loop(overlays, repo, kubectl, None)
    piped = loop(overlays, repo, kubectl, validate)
    cold = timed([guard, "check-manifests"], repo, env)
    warm = timed([guard, "check-manifests"], repo, env)
    rows = [
        ("kubectl kustomize loop (bare)", bare),
        ("kubectl kustomize | kubernetes-validate loop", piped),
        ("check-manifests, whole repository, cold cache", cold),
        ("check-manifests, whole repository, cached", warm),
    ]

    # one file: a base deployment's content changes, so the overlays using it render again
    target = next(repo.glob("apps/*/base/deployment.yaml"))
    app = target.parent.parent.name
    own = [o for o in overlays if o.name == app]
    original = target.read_text(encoding="utf-8")
    one_guard, one_loop = [], []
    for i in range(args.one_runs):
        target.write_text(original + f"# change {i}\n", encoding="utf-8")
        one_guard.append(timed([guard, "check-manifests", str(target)], repo, env))
        one_loop.append(loop(own, repo, kubectl, validate))
    target.write_text(original, encoding="utf-8")
    mid = len(one_guard) // 2
    rows.append((f"one file: kustomize | validate its {len(own)} overlays", sorted(one_loop)[mid]))
    rows.append(("one file: check-manifests FILE", sorted(one_guard)[mid]))

    print(f"\n{'run':<52} {'wall s':>8} {'cpu s':>8}")
    for name, (wall, cpu) in rows:
        print(f"{name:<52} {wall:8.2f} {cpu:8.2f}")
    ratio = cold[0] / bare[0]
    verdict = ok(ratio <= 1.3)
    print(f"\nwhole repository, cold: {ratio:.2f}x the bare render loop (goal <= 1.3x) {verdict}")
    print(f"whole repository, cold: {cold[0] / piped[0]:.2f}x the loop with validation")
    one = sorted(one_guard)[mid][0] / sorted(one_loop)[mid][0]
    print(f"one file: {one:.2f}x rendering and validating its overlays")

    per = validation(overlays[:60], kubectl)
    count = int(per.pop("documents"))
    print(f"\nvalidation, microseconds per document ({count} rendered documents)")
    for name, micros in per.items():
        print(f"  {name:<48} {micros:10.1f}")
    base = per["kubernetes_validate.validate (its API)"]
    ours = per["check-manifests (jsonschema-rs, compiled once)"]
    print(
        f"check-manifests validates {base / ours:.0f}x faster (goal >= 20x) {ok(base / ours >= 20)}"
    )
    print(json.dumps({"rows": rows, "validation_us": per}, default=list), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Recall and false alarms of ``check-secrets`` beside ``detect-secrets-hook`` and gitleaks.

    python bench/bench_secrets_recall.py [--seed 1] [--keep DIR] [--details]

The labelled set is built at run time in a temporary folder (``tests/tokens.py``: every
credential is made from its published format with a random body, so none is real and none is
committed): each credential is planted alone in a file, in five contexts,

* ``configmap``: a ConfigMap under the neutral key ``setting``,
* ``env``: a container env var named ``UPSTREAM_SETTING``,
* ``helm``: a Helm ``values.yaml`` under ``app.config.setting``,
* ``dotenv``: a ``.env`` file, ``UPSTREAM_SETTING=...``,
* ``named``: a ConfigMap under the credential-like key ``API_TOKEN``,

and each look-alike (tests/tokens.py ``LOOKALIKES``: placeholders after a real prefix,
references to a secret store or the environment, hashes and ids, configuration) in the four
neutral contexts. A credential counts as found when the tool reports anything in its file; a
look-alike counts as a false alarm when it does.

Tools: ``gitops-guard check-secrets`` and ``detect-secrets-hook`` from this virtualenv
(``pip install -e '.[test,bench]'``); gitleaks when a ``gitleaks`` binary is on PATH or named
by ``$GITLEAKS`` (``gitleaks dir``, its default rules). Each runs as whole processes over the
same files in batches of 500 names, and its wall time is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from harness import ENV, tool

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import tokens  # noqa: E402

BATCH = 500
CONTEXTS = ("configmap", "env", "helm", "dotenv", "named")
NEUTRAL = CONTEXTS[:4]


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are YAML)."""
    return json.dumps(value)


def render(context: str, value: str) -> tuple[str, str]:
    """(file name, file text) of ``value`` planted in ``context``."""
    if context == "configmap":
        head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n"
        return "configmap.yaml", f"{head}  {tokens.NEUTRAL_KEY}: {_q(value)}\n"
    if context == "named":
        text = (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n"
            f"  {tokens.CREDENTIAL_KEY}: {_q(value)}\n"
        )
        return "configmap.yaml", text
    if context == "env":
        text = (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n"
            "  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n"
            "      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n"
            "          image: registry.example.com/app:v1.0.0\n          env:\n"
            f"            - name: {tokens.NEUTRAL_ENV}\n              value: {_q(value)}\n"
        )
        return "deployment.yaml", text
    if context == "helm":
        text = f"replicaCount: 2\napp:\n  config:\n    setting: {_q(value)}\n"
        return "values.yaml", text
    if context == "dotenv":
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        plain = not re.search(r"[\s\"'#$`\\]", value)
        shown = value if plain else f'"{escaped}"'
        return ".env", f"LOG_LEVEL=info\n{tokens.NEUTRAL_ENV}={shown}\n"
    raise ValueError(context)


class Case:
    def __init__(self, kind: str, name: str, context: str, rel: str) -> None:
        self.kind, self.name, self.context, self.rel = kind, name, context, rel


def build(root: Path, seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []

    def plant(kind: str, name: str, context: str, value: str) -> None:
        folder = f"{kind}-{len(cases):04d}-{context}"
        fname, text = render(context, value)
        (root / folder).mkdir(parents=True)
        (root / folder / fname).write_text(text, encoding="utf-8")
        cases.append(Case(kind, name, context, f"{folder}/{fname}"))

    for family in tokens.FAMILIES:
        for context in CONTEXTS:
            plant("token", family.name, context, family.make(rng))
    for other in tokens.OTHERS:
        for context in CONTEXTS:
            plant("other", other.name, context, other.make(rng))
    for look in tokens.LOOKALIKES:
        for context in NEUTRAL:
            plant("lookalike", look.name, context, look.value)
    return cases


def _batches(files: list[str]) -> list[list[str]]:
    return [files[i : i + BATCH] for i in range(0, len(files), BATCH)]


def run_gitops_guard(root: Path, files: list[str]) -> set[str]:
    found: set[str] = set()
    for batch in _batches(files):
        out = subprocess.run(
            [tool("gitops-guard"), "check-secrets", "--format", "json", "--", *batch],
            cwd=root, env=ENV, capture_output=True, text=True,
        ).stdout  # fmt: skip
        for finding in json.loads(out)["findings"]:
            if finding["severity"] == "error":
                found.add(finding["path"])
    return found


LOCATION = re.compile(r"^Location:\s+(.*):(\d+)$", re.MULTILINE)


def run_detect_secrets(root: Path, files: list[str]) -> set[str]:
    found: set[str] = set()
    for batch in _batches(files):
        out = subprocess.run(
            [tool("detect-secrets-hook"), *batch], cwd=root, env=ENV, capture_output=True,
            text=True,
        ).stdout  # fmt: skip
        found.update(m.group(1) for m in LOCATION.finditer(out))
    return found


def gitleaks_binary() -> str | None:
    return os.environ.get("GITLEAKS") or shutil.which("gitleaks")


def run_gitleaks(root: Path, files: list[str]) -> set[str]:
    binary = gitleaks_binary()
    assert binary is not None
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [binary, "dir", ".", "--no-banner", "--exit-code", "0", "--report-format", "json",
             "--report-path", str(report), "--log-level", "error"],
            cwd=root, env=ENV, capture_output=True, text=True, check=True,
        )  # fmt: skip
        leaks = json.loads(report.read_text(encoding="utf-8") or "[]")
    wanted = set(files)
    return {os.path.normpath(leak["File"]) for leak in leaks} & wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="write the labelled set here and keep it")
    parser.add_argument("--details", action="store_true", help="list every miss and alarm")
    args = parser.parse_args()

    tmp = None
    if args.keep:
        root = args.keep
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-secrets-recall-")
        root = Path(tmp.name)
    cases = build(root, args.seed)
    files = [c.rel for c in cases]

    runners = {"gitops-guard": run_gitops_guard, "detect-secrets-hook": run_detect_secrets}
    if gitleaks_binary():
        runners["gitleaks"] = run_gitleaks
    results: dict[str, set[str]] = {}
    times: dict[str, float] = {}
    for name, runner in runners.items():
        start = time.perf_counter()
        results[name] = runner(root, files)
        times[name] = time.perf_counter() - start
    if tmp is not None:
        tmp.cleanup()

    names = list(runners)
    n_tok = len(tokens.FAMILIES)
    print(f"Labelled set: {n_tok} self-identifying formats, {len(tokens.OTHERS)} other secrets, "
          f"{len(tokens.LOOKALIKES)} look-alikes; seed {args.seed}.\n")  # fmt: skip
    print("## Recall per context (files with a finding / files planted)\n")
    print("| secrets | context | " + " | ".join(names) + " |")
    print("|---|---|" + "---:|" * len(names))
    for kind, label in (("token", "self-identifying"), ("other", "other secrets")):
        for context in (*CONTEXTS, "neutral (4)"):
            chosen = [
                c for c in cases
                if c.kind == kind and (c.context == context or (
                    context.startswith("neutral") and c.context in NEUTRAL))
            ]  # fmt: skip
            cells = []
            for name in names:
                hit = sum(c.rel in results[name] for c in chosen)
                cells.append(f"{hit}/{len(chosen)} ({hit / len(chosen):.0%})")
            print(f"| {label} | {context} | " + " | ".join(cells) + " |")
    for label, kinds in (("all secrets", ("token", "other")),):
        chosen = [c for c in cases if c.kind in kinds and c.context in NEUTRAL]
        cells = []
        for name in names:
            hit = sum(c.rel in results[name] for c in chosen)
            cells.append(f"{hit}/{len(chosen)} ({hit / len(chosen):.0%})")
        print(f"| {label} | neutral (4) | " + " | ".join(cells) + " |")

    print("\n## False alarms on look-alikes (files flagged / files planted, neutral contexts)\n")
    print("| " + " | ".join(names) + " |")
    print("|" + "---:|" * len(names))
    looks = [c for c in cases if c.kind == "lookalike"]
    cells = []
    for name in names:
        bad = sum(c.rel in results[name] for c in looks)
        cells.append(f"{bad}/{len(looks)} ({bad / len(looks):.0%})")
    print("| " + " | ".join(cells) + " |")

    print("\n## Time (whole processes over the labelled set)\n")
    print("| " + " | ".join(names) + " |")
    print("|" + "---:|" * len(names))
    print("| " + " | ".join(f"{times[n]:.2f} s" for n in names) + " |")
    if "gitleaks" not in runners:
        print("\ngitleaks: not run (no gitleaks binary on PATH or in $GITLEAKS).")

    print("\n## Per family: contexts missed (neutral ones; '-' = found in all four)\n")
    print("| family | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    by_family: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for c in cases:
        if c.kind != "lookalike" and c.context in NEUTRAL:
            by_family[(c.kind, c.name)].append(c)
    for (_, family), chosen in by_family.items():
        cells = []
        for name in names:
            missed = [c.context for c in chosen if c.rel not in results[name]]
            cells.append(", ".join(missed) if missed else "-")
        if args.details or any(cell != "-" for cell in cells):
            print(f"| {family} | " + " | ".join(cells) + " |")
    print("\n## Look-alikes flagged (contexts)\n")
    print("| look-alike | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    by_look: dict[str, list[Case]] = defaultdict(list)
    for c in looks:
        by_look[c.name].append(c)
    for look, chosen in by_look.items():
        cells = []
        for name in names:
            flagged = [c.context for c in chosen if c.rel in results[name]]
            cells.append(", ".join(flagged) if flagged else "-")
        if args.details or any(cell != "-" for cell in cells):
            print(f"| {look} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

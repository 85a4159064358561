"""Issue 16 (faults and hostile input): the defect-to-test table in docs/internals.md stays
true, and the reproductions that had no test of their own elsewhere.

Each test here runs the real command in a child process when a regression would block (a FIFO
opened for reading waits for a writer forever): the child's timeout turns a hang into a
failure instead of a stuck suite.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DOCS, ROOT, init_repo

# -- the audit table ---------------------------------------------------------------------------

TABLE_HEADING = "## Faults and hostile input: each defect and the tests that reproduce it"
#: `tests/test_x.py::test_name` or `bench/bench_x.py`
REFERENCE = re.compile(r"`((?:tests|bench)/[\w/]+\.py)(?:::(\w+))?`")


def _table() -> list[tuple[str, list[tuple[str, str | None]]]]:
    text = (DOCS / "internals.md").read_text(encoding="utf-8")
    assert TABLE_HEADING in text, "the issue-16 audit table left docs/internals.md"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            refs = [(file, name or None) for file, name in REFERENCE.findall(cells[-1])]
            rows.append((cells[0], refs))
            # how the row was verified: its fix undone, a test of the row failing
            verified = cells[-2] if len(cells) >= 5 else ""
            assert verified.startswith(("fails without the fix", "needed a new test")), (
                f"row {cells[0]} does not say how it was verified"
            )
    return rows


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def test_every_test_the_audit_table_names_exists():
    rows = _table()
    assert len(rows) >= 30, "issue 16 lists about 30 defects: one row each"
    assert [int(n) for n, _ in rows] == list(range(1, len(rows) + 1)), "rows numbered 1..N"
    missing = []
    for number, refs in rows:
        assert refs, f"row {number} names no test"
        for file, name in refs:
            path = ROOT / file
            if not path.is_file():
                missing.append(f"row {number}: {file}")
            elif name is not None and name not in _functions(path):
                missing.append(f"row {number}: {file}::{name}")
    assert missing == []


def test_every_issue_16_test_in_this_file_is_in_the_table():
    named = {name for _, refs in _table() for file, name in refs if file == "tests/test_faults.py"}
    here = {n for n in _functions(Path(__file__)) if n.startswith("test_")}
    assert (
        here
        - named
        - {
            "test_every_test_the_audit_table_names_exists",
            "test_every_issue_16_test_in_this_file_is_in_the_table",
        }
        == set()
    )


# -- files that are not what they seem -----------------------------------------------------------


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _overlays(root: Path, staging: str = "v1.0.1", production: str = "v1.0.0") -> None:
    _write(root, "policies/gitops-guard.yaml", "version: 1\n")
    for env, tag in (("staging", staging), ("production", production)):
        _write(
            root,
            f"clusters/{env}/web/kustomization.yaml",
            f"images:\n  - name: web\n    newName: registry.example.com/web\n    newTag: {tag}\n",
        )


def _run(root: Path, *argv: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "gitops_guard", *argv],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} did not finish in {timeout} s (blocked?)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_promote_and_drift_never_open_a_fifo_or_a_device_in_an_overlay(tmp_path: Path):
    """Issue 16: a FIFO named *.yaml blocked promote forever; /dev/zero was read until memory
    ran out. Both sit in the overlays promote and drift read."""
    root = tmp_path / "repo"
    _overlays(root)
    for env in ("staging", "production"):
        os.mkfifo(root / f"clusters/{env}/web/pipe.yaml")
        (root / f"clusters/{env}/web/zero.yaml").symlink_to("/dev/zero")
    init_repo(root)
    dry = _run(root, "promote", "web", "--from", "staging", "--to", "production")
    assert dry.returncode == 0 and "newTag: v1.0.1" in dry.stdout, dry.stderr
    done = _run(root, "promote", "--all", "--write")
    assert done.returncode == 0, done.stderr
    target = root / "clusters/production/web/kustomization.yaml"
    assert "newTag: v1.0.1" in target.read_text()
    drift = _run(root, "drift", "--from", "staging", "--to", "production")
    assert drift.returncode in (0, 1) and "Traceback" not in drift.stderr, drift.stderr


# -- hostile values ------------------------------------------------------------------------------


def test_a_5000_digit_sync_wave_in_a_sibling_is_no_internal_error(tmp_path: Path):
    """Issue 16: a sync-wave of more than 4,300 digits stopped a one-file run on *any* file of
    its application with "internal error: ValueError" (Python's integer-string limit)."""
    root = tmp_path / "repo"
    _write(root, "apps/web/kustomization.yaml", "resources:\n  - a.yaml\n  - b.yaml\n")
    huge = "9" * 5000
    _write(
        root,
        "apps/web/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n"
        f'    argocd.argoproj.io/sync-wave: "{huge}"\n',
    )
    _write(
        root,
        "apps/web/b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n"
        '    argocd.argoproj.io/sync-wave: "1"\ndata:\n  other: a\n',
    )
    init_repo(root)
    sibling = _run(root, "check-sync-waves", "apps/web/b.yaml")
    assert (sibling.returncode, sibling.stderr) == (0, ""), sibling.stderr
    itself = _run(root, "check-sync-waves", "apps/web/a.yaml", "apps/web/b.yaml")
    assert itself.returncode == 1 and itself.stderr == ""
    (line,) = itself.stdout.splitlines()
    assert "sync/wave-not-integer" in line and len(line) < 400


# -- bounded quoting, everywhere -----------------------------------------------------------------

MARK = "INJECTED"
#: a YAML double-quoted value holding a real newline, then the marker: a message that quotes
#: it unescaped would start an output line with the marker
NEWLINE = f"bad\\n{MARK} line"
#: each output line at most this long: each input quoted is a bounded prefix (core/quoting),
#: well under the 2,000-character cap of a whole message that would hide an unbounded quote
LINE_LIMIT = 700


def _hostile_repository(root: Path) -> None:
    """Every command's inputs with a 5 MB value (one per file: the size cap is 10 MB), a
    100 kB name and a newline-holding value, where each command quotes them."""
    big = "v" + "9" * 5_000_000
    name = "n" * 100_000
    _write(
        root,
        "policies/gitops-guard.yaml",
        "version: 1\npromotion:\n  environments: [staging, production]\n",
    )
    _write(
        root,
        "apps/web/deployment.yaml",
        f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{name}"
  annotations:
    argocd.argoproj.io/sync-wave: "{NEWLINE}"
    argocd.argoproj.io/hook: "{NEWLINE}"
    argocd.argoproj.io/sync-options: "{NEWLINE}"
    argocd.argoproj.io/hook-delete-policy: "{NEWLINE}"
spec:
  template:
    spec:
      serviceAccountName: "{name}"
      containers:
        - name: "{NEWLINE}"
          image: "registry.example.com/web:{big}"
        - name: b
          image: "registry.example.com/{name}:v1.0.0"
        - name: c
          image: "{NEWLINE}"
        - name: d
          image: "registry.example.com/web:v1.0.0@sha256:{name[:64]}"
""",
    )
    keys = ("sync-wave", "hook", "sync-options", "hook-delete-policy", "compare-options")
    for i, key in enumerate(keys):
        _write(
            root,
            f"apps/web/cm{i}.yaml",
            f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cm{i}
  annotations:
    argocd.argoproj.io/{key}: "{big}"
data:
  ? "{name}"
  : x
  ? "{name}"
  : y
""",
        )
    resources = "".join(f"  - cm{i}.yaml\n" for i in range(len(keys)))
    _write(
        root,
        "apps/web/kustomization.yaml",
        f'resources:\n  - deployment.yaml\n{resources}  - "missing-{name}.yaml"\n'
        f'  - "{NEWLINE}.yaml"\n',
    )
    _write(
        root,
        "argocd/app.yaml",
        f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: "{name}"
  annotations:
    argocd.argoproj.io/sync-wave: "{NEWLINE}"
spec:
  project: "{name}"
  destination: {{namespace: "{NEWLINE}", server: https://kubernetes.default.svc}}
  source:
    repoURL: "{NEWLINE}"
    path: "{NEWLINE}/{name}"
    helm:
      valueFiles: ["{NEWLINE}", "{name}"]
""",
    )
    # promote reads overlays up to 1 MB: the staging tag is just under it
    for env, tag in (("staging", "v" + "9" * 900_000), ("production", "v1.0.0")):
        _write(
            root,
            f"clusters/{env}/web/kustomization.yaml",
            f"""resources:
  - ../../../apps/web
images:
  - name: web
    newName: registry.example.com/web
    newTag: "{tag}"
  - name: "{NEWLINE}"
    newTag: "{NEWLINE}"
""",
        )
    init_repo(root)


def _hostile_argvs(files: list[str], scratch: Path) -> dict[str, list[list[str]]]:
    long = "x" * 100_000 + f"\n{MARK}"  # an argument: at most 128 kB on Linux
    return {
        "promote": [
            ["promote", "web", "--from", "staging", "--to", "production"],
            ["promote", "--all"],
            ["promote", long, "--from", "staging", "--to", "production"],
            ["promote", "web", "--from", long, "--to", "production"],
        ],
        "drift": [["drift", "--from", "staging", "--to", "production"]],
        "set-image": [
            [
                "set-image",
                "web",
                "--env",
                "production",
                "registry.example.com/web:v" + "1" * 100_000,
            ],
            ["set-image", "web", "--env", "production", f"registry.example.com/web:v1\n{MARK}"],
            ["set-image", long, "--env", "production", "registry.example.com/web:v1.0.0"],
        ],
        "new": [
            ["new", str(scratch / "a"), "--no-input", "--set", f"project_name={long}"],
            ["new", str(scratch / "b"), "--no-input", "--set", f"repo_slug={long}"],
            ["new", str(scratch / "c"), "--no-input", "--set", f"repo_url=https://x/{long}"],
        ],
        "add": [
            ["add", "app", long, "--dry-run"],
            ["add", "env", long, "--after", "staging", "--dry-run"],
        ],
        "demo": [],  # makes its own repository from the template: no input to plant
        "policy-schema": [["policy-schema"]],
    }


@pytest.mark.e2e
def test_every_command_quotes_hostile_inputs_bounded_and_on_one_line(tmp_path: Path):
    """Issue 16: "Quote at most a bounded prefix, everywhere". A 5 MB value, a 100 kB name and
    a value holding a newline, planted where each command reads its input: every line each
    command prints, in each format, is bounded, and none starts with what followed the
    newline."""
    from gitops_guard.cli import COMMANDS

    root = tmp_path / "repo"
    _hostile_repository(root)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.yaml"))
    special = _hostile_argvs(files, tmp_path / "scratch")
    outputs: dict[tuple[str, str], str] = {}
    for command, spec in COMMANDS.items():
        runs = special.get(command)
        if runs is None:  # a command that checks files (a new one that does not: add it above)
            formats = [f for f in ("text", "json", "github") if f in (spec.formats or ())]
            runs = [[command, "--format", fmt, *files] for fmt in formats or ["text"]]
        for argv in runs:
            done = _run(root, *argv, timeout=600)
            output = done.stdout + done.stderr
            shown = " ".join(a[:30] for a in argv[:6])
            assert "Traceback" not in output and done.returncode in (0, 1, 2), (
                shown,
                output[-800:],
            )
            long_lines = [line[:200] for line in output.splitlines() if len(line) > LINE_LIMIT]
            assert long_lines == [], shown
            split = [line[:200] for line in output.splitlines() if line.startswith(MARK)]
            assert split == [], shown
            fmt = argv[2] if argv[1:2] == ["--format"] else ""
            outputs[(command, fmt)] = outputs.get((command, fmt), "") + output
    # the planted inputs were reached and quoted cut (the test would pass trivially if a
    # command never read them)
    for command in ("check-images", "check-sync-waves", "check-promotion", "check-manifests"):
        assert "chars)" in outputs[(command, "text")], command
    for command in ("promote", "set-image", "new"):
        assert "chars)" in outputs[(command, "")], command


# -- the last guard: every printed line is capped, whatever a message site forgot ---------------


def _complete_escapes(text: str) -> bool:
    """Whether every backslash of ``text`` begins a whole escape (``repr``'s and JSON's)."""
    rest = re.sub(r"\\x[0-9a-f]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-f]{8}|\\.", "", text)
    return "\\" not in rest


def test_cap_line_never_cuts_an_escape_or_a_json_string_in_half():
    """core/capping.cap_line at every cut point: a ``repr`` escape, a JSON escape (and a
    surrogate pair), GitHub's ``%0A`` stay whole; a JSON line stays JSON; the cut says the
    length it cut; a short line is unchanged."""
    import json

    from gitops_guard.core.capping import LINE_CHARS, cap_line

    assert cap_line("short line") == "short line"
    value = '\x00\u200b\U0001f600\\"\n\xe9a' * 3
    for limit in range(40, 120):
        text = cap_line(repr(value) * 3, limit)
        assert len(text) <= limit and _complete_escapes(text.split("... (")[0]), limit
        line = '      "message": ' + json.dumps(value * 3) + ","
        cut = cap_line(line, limit)
        assert len(cut) <= limit, limit
        assert set(json.loads("{" + cut.rstrip(",") + "}")) == {"message"}, cut
        github = cap_line("::error file=a.yaml::" + "x%0A%25" * 40, limit)
        assert not re.search(r"%(?![0-9A-F]{2})", github), github
    big = '    "path": ' + json.dumps("é" * 1_000_000) + ","
    cut = cap_line(big)
    assert len(cut) <= LINE_CHARS and cut.endswith('... (6,000,000 chars)",')
    assert cap_line(cap_line("y" * 100_000, 16_000)).endswith("... (100,000 chars)")


def _unbounded(monkeypatch) -> str:
    """A message site that bounds nothing: check-images reports a 1 MB message (the bound
    of ``Finding`` lifted), with a repr escape of every kind and a planted secret early in
    it, and double quotes, backslashes and newlines (GitHub's ``%0A``) through it."""
    import random

    from gitops_guard.checks.images import check as images
    from gitops_guard.core import findings
    from gitops_guard.core.findings import Finding
    from tokens import FAMILIES

    token = next(f for f in FAMILIES if f.name.startswith("GitHub")).make(random.Random(16))
    hostile = ('\x00\u200b\U0001f600 \\ " é\n' * 60_000)[:1_000_000]
    message = f"image {token} is {hostile!r} and {hostile}"
    monkeypatch.setattr(findings, "MESSAGE_CHARS", 10**9)
    monkeypatch.setattr(
        images,
        "check",
        lambda source, policy: [Finding(source.path, 1, 1, "image/tag-latest", message)],
    )
    # the pipeline asks the module for a per-run checker first (core/pipeline.run_file_check)
    monkeypatch.delattr(images, "checker", raising=False)
    return token


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_message_no_site_bounded_prints_bounded_in_every_format(fmt, cli, chdir, monkeypatch):
    """Issue 16: "quote at most a bounded prefix, everywhere". The last guard: every line any
    command prints passes ``masking.printable`` (masked, then ``capping.cap_line``), so a
    message site someone forgot to bound still prints at most ``LINE_CHARS`` per line, its
    JSON and SARIF still parse, its secret is still masked, and no escape is cut in half."""
    import json

    from gitops_guard.core.capping import LINE_CHARS

    token = _unbounded(monkeypatch)
    (chdir / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        "spec: {containers: [{name: a, image: registry.example.com/a:v1.0.0}]}\n"
    )
    code, out, err = cli("check-images", "--format", fmt, "pod.yaml")
    assert code == 1 and err == ""
    assert token not in out and token[:12] not in out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= LINE_CHARS
    assert "chars)" in out  # it was cut, and says how long it was
    if fmt in ("json", "sarif"):
        payload = json.loads(out)
        found = payload["findings"] if fmt == "json" else payload["runs"][0]["results"]
        (finding,) = found
        message = finding["message"] if fmt == "json" else finding["message"]["text"]
        assert message.startswith("image ") and message.endswith(" chars)")
    elif fmt == "github":
        assert not re.search(r"%(?![0-9A-F]{2})", out)
        assert len(lines) == 1
    else:
        (line,) = lines
        assert line.startswith("pod.yaml:1:1: image/tag-latest image ")
        assert _complete_escapes(line.split(" is ", 1)[1].split("... (")[0])


def test_a_diff_and_drift_of_megabyte_lines_print_bounded_lines(chdir, cli):
    """The same guard on output that is no finding: promote's dry-run diff shows a context
    line of 500,000 characters, drift --format json a ConfigMap value of 300,000 (both
    printed whole before); each line is at most ``LINE_CHARS`` and the JSON still parses."""
    import json
    import shutil

    from gitops_guard.core.capping import LINE_CHARS

    comment = "# " + "note \\ é " * 50_000
    _write(chdir, "policies/gitops-guard.yaml", "version: 1\n")
    for env, tag in (("staging", "v1.0.1"), ("production", "v1.0.0")):
        _write(
            chdir,
            f"clusters/{env}/web/kustomization.yaml",
            "resources:\n  - cm.yaml\nimages:\n  - name: web\n"
            f"    newName: registry.example.com/web\n    newTag: {tag}\n    {comment}\n",
        )
        _write(
            chdir,
            f"clusters/{env}/web/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n"
            f'  notes: "{env * 30_000}"\n',
        )
    init_repo(chdir)
    code, out, err = cli("promote", "web", "--from", "staging", "--to", "production")
    assert code == 0, err
    assert "+    newTag: v1.0.1" in out and "chars)" in out
    assert max(len(line) for line in (out + err).splitlines()) <= LINE_CHARS
    if shutil.which("kubectl") is None:
        pytest.skip("no kubectl: drift renders with kustomize")
    code, out, err = cli("drift", "--from", "staging", "--to", "production", "--format", "json")
    assert code == 1, err
    assert max(len(line) for line in (out + err).splitlines()) <= LINE_CHARS
    (difference,) = [d for d in json.loads(out)["differences"] if d["path"] == "data.notes"]
    assert difference["from"].startswith("staging") and difference["from"].endswith(" chars)")


# -- promote --write killed while writing ---------------------------------------------------------


@pytest.mark.parametrize("phase", ["staged", "renaming"])
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_promote_write_killed_by_a_signal_leaves_old_or_new_files_and_no_temp_file(
    tmp_path: Path, phase: str, signame: str
):
    """Issue 16: SIGTERM/SIGHUP between write and rename left ``.kustomization.yaml.XXXX.tmp``
    behind. A real ``promote --all --write`` is stopped exactly there through core/atomic's
    test seam (GITOPS_GUARD_TEST_PAUSE: it waits for the signal at that point): between
    writing the temporary files and the first rename nothing has changed; after the first
    rename the signal is held until the last one. Never a temporary file, never a file half
    old and half new; the exit code is the signal's (128 + its number)."""
    import signal
    import time

    signum = getattr(signal, signame, None)
    if signum is None:
        pytest.skip(f"no {signame} here")
    root = tmp_path / "repo"
    _write(root, "policies/gitops-guard.yaml", "version: 1\n")
    targets = []
    for app in ("api", "web"):
        for env, tag in (("staging", "v1.0.1"), ("production", "v1.0.0")):
            _write(
                root,
                f"clusters/{env}/{app}/kustomization.yaml",
                f"images:\n  - name: {app}\n    newName: registry.example.com/{app}\n"
                f"    newTag: {tag}\n",
            )
        targets.append(root / f"clusters/production/{app}/kustomization.yaml")
    init_repo(root)
    old = {t: t.read_bytes() for t in targets}
    new = {t: data.replace(b"v1.0.0", b"v1.0.1") for t, data in old.items()}
    marker = tmp_path / "paused"
    child = subprocess.Popen(
        [sys.executable, "-m", "gitops_guard", "promote", "--all", "--write"],
        cwd=root,
        env={**os.environ, "GITOPS_GUARD_TEST_PAUSE": f"{phase}:{marker}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # the child is at the pause: every temp file written
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never reached the pause"
            time.sleep(0.02)
        temps = list(root.rglob(".*.tmp"))
        assert len(temps) == (2 if phase == "staged" else 1)  # what the kill must clean up
        child.send_signal(signum)
        _out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 128 + signum, err
    assert [p.name for p in root.rglob(".*") if p.suffix in (".tmp", ".bak")] == []
    got = {t: t.read_bytes() for t in targets}
    if phase == "staged":
        assert got == old and "interrupted: nothing was changed" in err
    else:
        assert got == new and "interrupted after writing" in err
    assert "Traceback" not in err


# -- speed at scale: a one-file check-sync-waves run reads only the Applications it needs -------

CASES = ROOT / "tests" / "data" / "check-sync-waves"

#: Applications that deploy nothing of the cases (their folders are elsewhere), written in
#: every style the byte filter must either read right or hand to the parser
DECOYS = {
    "decoys/block.yaml": "".join(
        f"---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
        f"  name: decoy-{i}\n  namespace: argocd\nspec:\n  source:\n"
        f"    repoURL: https://git.example.com/x.git\n    path: ./elsewhere/app-{i}/\n"
        f"  destination: {{server: https://kubernetes.default.svc, namespace: decoy-{i}}}\n"
        for i in range(40)
    ),
    "decoys/flow.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
    "metadata: {name: flow, namespace: argocd}\n"
    "spec: {source: {repoURL: 'https://git.example.com/x.git', path: elsewhere/flow},"
    " destination: {namespace: flow, server: 'https://kubernetes.default.svc'}}\n",
    "decoys/app.json": '{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",'
    ' "metadata": {"name": "json", "namespace": "argocd"},'
    ' "spec": {"source": {"repoURL": "https://git.example.com/x.git", "path": "elsewhere/j"},'
    ' "destination": {"namespace": "j", "server": "https://kubernetes.default.svc"}}}\n',
    "decoys/folded.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
    "metadata:\n  name: folded\nspec:\n  source:\n    repoURL: https://git.example.com/x.git\n"
    "    path: >-\n      elsewhere/folded\n  destination:\n    namespace: folded\n",
    # the folders they deploy exist (a missing one makes an Application opaque)
    **{
        f"elsewhere/{name}/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {i}\n"
        for i, name in enumerate([*(f"app-{i}" for i in range(40)), "flow", "j", "folded"])
    },
}


def _findings_by_file(out: str) -> dict[str, list[str]]:
    import json

    found: dict[str, list[str]] = {}
    for f in json.loads(out)["findings"]:
        if f["rule"] == "sync/app-health-missing":
            continue  # by design reported when a waved child Application changes (appofapps.py)
        line = f"{f['line']}:{f['column']} {f['rule']} {f['message']}"
        found.setdefault(f["path"].replace(os.sep, "/"), []).append(line)
    return {path: sorted(lines) for path, lines in found.items()}


@pytest.mark.parametrize(
    "case", sorted(f"{kind}/{p.name}" for kind in ("bad", "good") for p in (CASES / kind).iterdir())
)
def test_a_one_file_run_finds_what_the_whole_repository_run_finds_for_that_file(
    case, tmp_path, cli, monkeypatch
):
    """Every example repository of check-sync-waves (each rule's bad and good case), with
    Applications of every style beside it that deploy nothing of it: each file alone reports
    exactly what a run over the whole repository reports for it (the one-file run parses only
    the Applications whose paths can hold it)."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(CASES / case, root)
    for rel, text in DECOYS.items():
        _write(root, rel, text)
    init_repo(root)
    monkeypatch.chdir(root)
    files = sorted(
        str(p.relative_to(root)).replace(os.sep, "/")
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts and p.suffix in (".yaml", ".yml", ".json")
    )
    code, out, err = cli("check-sync-waves", "--format", "json", *files)
    assert err == "" and code in (0, 1)
    whole = _findings_by_file(out)
    if case.startswith("bad/") and case != "bad/app-health-missing":
        assert whole, "a bad case reports something"
    for path in files:
        code, out, err = cli("check-sync-waves", "--format", "json", path)
        assert err == "", path
        assert _findings_by_file(out).get(path, []) == whole.get(path, []), path


def test_a_one_file_run_parses_only_the_applications_that_can_deploy_it(tmp_path, cli, monkeypatch):
    """Issue 16's measurement: a one-file run indexed every Argo CD Application of the
    repository (820 of a 5,000-file one). Only the files whose paths can hold the given file,
    and those the bytes cannot tell (flow style, JSON, a block scalar), are parsed now."""
    import shutil

    from gitops_guard.repo import repository

    root = tmp_path / "repo"
    shutil.copytree(CASES / "bad" / "namespace-order", root)
    for rel, text in DECOYS.items():
        _write(root, rel, text)
    init_repo(root)
    monkeypatch.chdir(root)
    parsed: list[str] = []
    real = repository.load_file

    def spy(path, *args, **kwargs):
        parsed.append(os.path.relpath(path, root).replace(os.sep, "/"))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(repository, "load_file", spy)
    code, out, _ = cli("check-sync-waves", "web/service.yaml")
    assert code == 1 and "sync/namespace-order" in out
    decoys = sorted(p for p in parsed if p.startswith("decoys/"))
    assert decoys == ["decoys/flow.yaml", "decoys/folded.yaml"]  # (a .json one is not listed)
    assert "apps/children.yaml" in parsed  # the Applications that do deploy it


# -- tests the audit found missing: each fails with its row's fix undone --------------------------


@pytest.mark.parametrize("found", [True, False], ids=["found", "--policy"])
def test_a_policy_file_that_cannot_be_read_is_exit_2_never_the_defaults(
    found, chdir, cli, monkeypatch
):
    """Issue 16: "An unreadable policy file is exit 2, always" (row 7). The suite runs as
    root, where no file mode stops a read, so the policy module's open fails as an unreadable
    file's would (EACCES): the found file and ``--policy`` alike stop the run in one line;
    the defaults (which would not enforce the allow-list) never apply."""
    import errno

    from gitops_guard.core import policy

    path = chdir / "policies" / "gitops-guard.yaml"
    path.parent.mkdir()
    path.write_text("version: 1\nimages:\n  allowed_registries: [registry.example.com]\n")
    (chdir / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
        "    - name: a\n      image: elsewhere.example.org/app:v1.0.0\n"
    )
    assert cli("check-images", "pod.yaml")[0] == 1  # readable: the allow-list applies
    real = open

    def unreadable(file, *args, **kwargs):
        if os.fspath(file).endswith("gitops-guard.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(policy, "open", unreadable, raising=False)
    monkeypatch.setenv("GITOPS_GUARD_NO_CACHE", "1")
    argv = ["check-images", "pod.yaml"]
    if not found:
        argv = ["check-images", "--policy", str(path), "pod.yaml"]
    code, out, err = cli(*argv)
    assert (code, out) == (2, "") and err.count("\n") == 1, err
    assert "cannot read policy file: Permission denied" in err


def test_a_list_of_100000_registries_is_quoted_as_a_bounded_prefix_not_cut_by_the_last_guard(
    chdir, cli
):
    """Row 15: one finding named all 100,000 allowed registries (2.2 MB). The whole-message
    cap (2,000) and the line cap (4,000) would hide a list quoted whole; the list itself is
    quoted as a short prefix and its length, so the line stays under the per-input bound."""
    registries = "".join(f"  - r{i}.example.com\n" for i in range(100_000))
    (chdir / "policies").mkdir()
    (chdir / "policies" / "gitops-guard.yaml").write_text(
        f"version: 1\nimages:\n  allowed_registries:\n{registries}"
    )
    (chdir / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
        "    - name: a\n      image: elsewhere.example.org/app:v1.0.0\n"
    )
    code, out, _err = cli("check-images", "pod.yaml")
    (line,) = out.splitlines()
    assert code == 1 and "image/registry-not-allowed" in line
    assert len(line) <= LINE_LIMIT and "r0.example.com" in line
    assert re.search(r"\(allowed: r0\.example\.com, .*\.\.\. \([\d,]+ chars\)\)", line), line


def test_what_main_prints_goes_through_the_masking_stream(chdir, cli):
    """Row 24: ``cli.main`` wraps stdout and stderr in the masking stream, so output no
    message site masks (a finding's path, printed as it is) is masked too: a file whose
    name is a token."""
    import random

    from tokens import FAMILIES

    token = next(f for f in FAMILIES if f.name == "GitHub token").make(random.Random(24))
    (chdir / f"{token}.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
        "    - name: a\n      image: nginx:latest\n"
    )
    code, out, err = cli("check-images", f"{token}.yaml")
    assert code == 1 and err == "" and "image/tag-latest" in out
    assert token not in out and token[4:16] not in out and "chars)" in out

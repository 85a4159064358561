"""The shortcut in front of detect-secrets (core/plugin_gates.py): a text it turns away
is one no plugin finds anything in, so every finding is the same with and without it."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from gitops_guard.checks.secrets.check import scan_file
from gitops_guard.checks.secrets.engine import Engine
from gitops_guard.core import plugin_gates as gates
from tokens import FAMILIES, LOOKALIKES, OTHERS, secrets_data

CORPUS = ROOT.parent / "shared" / "corpus"
LABELLED = secrets_data()

pytestmark = pytest.mark.skipif(
    gates.installed_version() != gates.FOR_VERSION,
    reason="the gates are written for another detect-secrets release (the shortcut is off)",
)


def _corpus_files() -> list[Path]:
    roots = [p for p in (CORPUS / "repos").glob("*") if p.is_dir()]
    roots += [p for p in (CORPUS / "realworld").glob("*") if p.is_dir()]
    return sorted(p for r in roots for p in r.rglob("*") if p.is_file() and ".git" not in p.parts)


def _labelled(tmp: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_secrets_recall
    finally:
        sys.path.pop(0)
    bench_secrets_recall.build(tmp, seed=1)
    files = [p for p in tmp.rglob("*") if p.is_file()]
    return sorted(files) + sorted(p for p in LABELLED.rglob("*") if p.is_file())


def _findings(paths: list[Path], shortcut: bool) -> list[tuple]:
    out = []
    with Engine(shortcut=shortcut) as engine:
        for path in paths:
            for c in scan_file(str(path), engine).candidates:
                f = c.finding
                out.append((f.path, f.line, f.column, f.rule, f.message, c.secrets, c.type))
    return out


def test_every_detect_secrets_plugin_has_a_gate():
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    names = {c.__name__ for c in get_mapping_from_secret_type_to_class().values()}
    known = set(gates.PLUGIN_GATES) | set(gates.ENTROPY_PLUGINS) | {"IPPublicDetector"}
    assert names == known


def test_findings_are_the_same_with_and_without_the_shortcut_on_the_labelled_set(tmp_path):
    paths = _labelled(tmp_path)
    assert len(paths) > 500
    with_shortcut = _findings(paths, True)
    assert len(with_shortcut) > 400  # the set is full of secrets: the test can fail
    assert with_shortcut == _findings(paths, False)


@pytest.mark.skipif(not (CORPUS / "repos").is_dir(), reason="real-world corpus not present")
def test_findings_are_the_same_with_and_without_the_shortcut_on_the_real_repositories():
    paths = _corpus_files()
    assert len(paths) > 500
    assert _findings(paths, True) == _findings(paths, False)


def _texts() -> list[str]:
    """Lines of the labelled set and the corpus, and every family's tokens in a few
    contexts: what each plugin's gate is held against."""
    rng = random.Random("gates")
    texts = []
    made = [f.make(rng) for f in FAMILIES + OTHERS for _ in range(3)]
    for token in made + [lookalike.value for lookalike in LOOKALIKES]:
        texts += [token, f"setting: {token}", f'X="{token}"', f"key = '{token}'"]
        texts += token.splitlines()
    for path in [*LABELLED.rglob("*"), *_corpus_files()]:
        if path.is_file():
            texts += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return texts


def test_each_plugin_s_gate_holds_wherever_the_plugin_finds_something():
    """Plugin by plugin: a text a plugin finds something in matches that plugin's gate."""
    import re

    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import transient_settings

    texts = _texts()
    found_any = set()
    with transient_settings({"plugins_used": []}):
        for cls in get_mapping_from_secret_type_to_class().values():
            name = cls.__name__
            if name not in gates.PLUGIN_GATES:
                continue
            plugin = cls()
            gate = re.compile(gates.PLUGIN_GATES[name])
            for text in texts:
                if plugin.analyze_line(filename="f.txt", line=text, line_number=1):
                    found_any.add(name)
                    assert gate.search(text), (name, text[:20])
    # the texts reach most plugins (a gate is tested only where its plugin finds something)
    assert len(found_any) >= 15, sorted(found_any)


def test_the_entropy_bound():
    """Shannon entropy over k distinct characters is at most log2(k): a string with at
    most 2 ** limit distinct characters never passes the limit."""
    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
    )

    rng = random.Random(3)
    for plugin in (Base64HighEntropyString(), HexHighEntropyString()):
        name = type(plugin).__name__
        charset, limit = gates.ENTROPY_PLUGINS[name]
        assert set(plugin.charset) == set(charset) and plugin.entropy_limit == limit
        k = int(2**limit)
        for _ in range(300):
            text = "".join(rng.choice(sorted(charset)[:k]) for _ in range(rng.randrange(16, 80)))
            assert plugin.calculate_shannon_entropy(text) <= limit


def test_the_shortcut_is_off_where_it_is_not_proven():
    assert gates.gates_for([{"name": "CustomDetector", "path": "file://x.py"}]) is None
    assert gates.gates_for([{"name": "SomeNewDetector"}]) is None
    lowered = gates.gates_for([{"name": "Base64HighEntropyString", "limit": 2.0}])
    assert lowered is not None and lowered.value("abcdabcdefghEFGHij", True)
    assert not gates.gates_for(None).value("abcdabcdefghEFGHij", True)


def test_a_clean_manifest_never_imports_detect_secrets(tmp_path):
    """The point of it: a commit of an ordinary manifest does not pay for detect-secrets."""
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "  labels: {app.kubernetes.io/name: web}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: web\n"
        "          image: registry.example.com/team/web:v1.2.3\n"
        "          args: [--listen=0.0.0.0:8080, --log-level=info]\n"
        "          env: [{name: DATABASE_HOST, value: postgres.db.svc.cluster.local}]\n",
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom gitops_guard.cli import main\n"
        "code = main(['check-secrets', 'deploy.yaml'])\n"
        "print(code, any(m.startswith('detect_secrets') for m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.stdout == "0 False\n", done.stdout + done.stderr

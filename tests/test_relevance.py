"""relevance: a one-file run parses only the files that can take part in its ordering findings."""

from __future__ import annotations

import os

import pytest
from gitops_guard.core.documents import load_file, load_text
from gitops_guard.repo import relevance
from gitops_guard.repo.applications import Builder
from gitops_guard.repo.repository import Repository


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _write(root, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _padding(size: int, namespace: str = "other") -> str:
    """Many small ConfigMaps: a big manifest that is slow to parse."""
    one = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pad-{i}\n"
        f"  namespace: {namespace}\ndata:\n  key: {'x' * 60}\n"
    )
    parts, total, i = [], 0, 0
    while total < size:
        parts.append(one.format(i=i))
        total += len(parts[-1])
        i += 1
    return "".join(parts)


DEPLOY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
    "spec:\n  template:\n    spec:\n      serviceAccountName: runner\n      containers:\n"
    "        - name: c\n          envFrom:\n            - configMapRef: {name: web-config}\n"
)


def test_words_are_what_another_file_must_name():
    source = load_text("x.yaml", DEPLOY + "---\n" + WIDGET)
    assert relevance.words_of([source]) == {
        "web",
        "shop",
        "runner",
        "web-config",
        "example.com",  # a custom resource's group: its CRD names it
        "w1",
    }
    # "apps" (a built-in group) is no word: no CRD defines it


def test_order_rule_kinds_count_only_when_a_given_object_is_of_one():
    source = load_text("x.yaml", DEPLOY)
    rules = [("Namespace", "Deployment"), ("Secret", "Job")]
    words = relevance.words_of([source], rules)
    assert {"Namespace", "Deployment"} <= words
    assert "Secret" not in words and "Job" not in words


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (b"  name: web\n", True),
        (b'  name: "web"\n', True),
        (b"{name: web}", True),
        (b"  name: web-config-2\n", False),
        (b"  app.kubernetes.io/name: webapp\n", False),
        (b"  image: example.com/web.v2\n", False),
        (b"", False),
        (b"  name: webweb-web.web_\n" * 40, False),  # many hits inside longer names
        (b"  name: webweb-web.web_\n" * 40 + b"  name: web\n", True),
    ],
)
def test_words_match_as_whole_tokens(text, named):
    assert relevance.Context({"web"}).names_a_word(text) is named


@pytest.mark.parametrize("kustomize", [False, True], ids=["folder", "kustomization"])
def test_an_unrelated_large_sibling_is_not_parsed(tmp_path, cli, chdir, kustomize):
    """The review's repro: a one-line manifest next to a big one (8 MB took 8 s / 300 MB)."""
    root = tmp_path / "repo"
    files = {
        "app/huge.yaml": _padding(1_500_000),
        "app/small.yaml": '{apiVersion: v1, kind: ConfigMap, metadata: {name: one, annotations: {argocd.argoproj.io/sync-wave: "1"}}}\n',  # noqa: E501
    }
    if kustomize:
        files["app/kustomization.yaml"] = "resources: [huge.yaml, small.yaml]\n"
    _write(root, files)
    repo = Repository(root, [load_file(str(root / "app/small.yaml"))])
    (app,) = Builder(repo).applications(all_files=False)
    assert repo.key(str(root / "app/huge.yaml")) in app.files
    assert repo.parsed(repo.key(str(root / "app/huge.yaml"))) is None
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "app/small.yaml"))
    # over the cap it is not even searched (issue 16: the cap bounds the search too): a note
    assert code == 0 and out.count("\n") == 1 and "sync/context-not-read" in out


def test_a_sibling_over_the_cap_is_read_no_further_than_the_cap(tmp_path, monkeypatch):
    """A 1 GB sibling cost 1 GB of memory: a file over the cap is stat'ed, never read."""
    root = tmp_path / "repo"
    _write(root, {"app/huge.yaml": _padding(relevance.SIZE_CAP + 10)})
    key = str(root / "app/huge.yaml")
    opened: list[str] = []
    real_open = open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    context = relevance.Context({"anything"})
    assert context.wanted(key) is False
    assert key not in opened and context.not_read == {key: os.path.getsize(key)}


def test_each_sibling_is_tokenised_once_not_searched_once_per_word():
    """25,000 words against a sibling: one pass over its bytes (it was words x bytes)."""
    words = {f"cm-{i:05d}" for i in range(25_000)}
    context = relevance.Context(words)
    data = b"  name: other-thing\n" * 40_000 + b"  name: cm-12345\n"
    calls = []
    real_find = bytes.find

    class Counting(bytes):
        def find(self, *args):
            calls.append(args)
            return real_find(self, *args)

    assert context.names_a_word(Counting(data)) is True
    assert context.names_a_word(Counting(data.replace(b"cm-12345", b"cm-x"))) is False
    assert len(calls) <= 2 * 8  # no find per word
    assert relevance.tokens(b"a: web-1, b: {x.y}") == {b"a", b"web-1", b"b", b"x.y"}


def test_a_sibling_naming_a_given_object_is_parsed_and_checked(tmp_path, cli, chdir):
    """The given ConfigMap syncs after the sibling Deployment that mounts it: still found."""
    root = tmp_path / "repo"
    _write(
        root,
        {
            "app/deploy.yaml": DEPLOY,
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n"
            '  namespace: shop\n  annotations:\n    argocd.argoproj.io/sync-wave: "2"\n',
            "app/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n",
        },
    )
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "app/cm.yaml"))
    assert code == 1
    assert "deploy.yaml:4:9: sync/reference-order" in out


WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n"
CRD = (
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
    '  name: widgets.example.com\n  annotations:\n    argocd.argoproj.io/sync-wave: "5"\n'
    "spec:\n  group: example.com\n  scope: Cluster\n  names: {kind: Widget, plural: widgets}\n"
)


def test_a_sibling_crd_of_a_given_custom_resource_is_parsed(tmp_path, cli, chdir):
    root = tmp_path / "repo"
    _write(root, {"app/widget.yaml": WIDGET, "app/crd.yaml": CRD})
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "app/widget.yaml"))
    # read: Argo CD moves the CRD in front of the Widget, overriding the wave written on it
    assert code == 0 and "crd.yaml:6:35: sync/wave-overridden" in out
    assert "in front of Widget w1" in out


def test_a_given_namespace_a_kustomization_applies_reads_every_file(tmp_path, cli, chdir):
    """Objects get the namespace from the kustomization without naming it in their files."""
    root = tmp_path / "repo"
    _write(
        root,
        {
            "app/kustomization.yaml": "namespace: shop\nresources: [ns.yaml, cm.yaml]\n",
            "app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
            '  annotations:\n    argocd.argoproj.io/sync-wave: "3"\n',
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        },
    )
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "app/ns.yaml"))
    assert code == 0  # an info note: Argo CD moves the Namespace in front of the ConfigMap
    assert "ns.yaml:6:35: sync/wave-overridden" in out
    assert "in front of ConfigMap shop/settings" in out


def test_a_relevant_sibling_over_the_cap_is_a_note_and_a_full_run_reads_it(tmp_path, cli, chdir):
    root = tmp_path / "repo"
    small = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: shop\n"
        '  annotations:\n    argocd.argoproj.io/sync-wave: "1"\n'
    )
    huge = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
        '    argocd.argoproj.io/sync-wave: "5"\n' + _padding(relevance.SIZE_CAP)
    )
    _write(root, {"app/small.yaml": small, "app/huge.yaml": huge})
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "app/small.yaml"))
    assert code == 0  # a note (info), not a failure
    (line,) = out.splitlines()
    assert line.startswith(f"{root / 'app/small.yaml'}:1:1: sync/context-not-read ")
    assert "huge.yaml (1.0 MB, folder " in line and "not checked" in line
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "app"))
    assert code == 0
    assert "huge.yaml:6:35: sync/wave-overridden" in out  # read: the note on its wave
    assert "in front of ConfigMap shop/one" in out
    assert "context-not-read" not in out

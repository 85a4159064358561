"""kgraph: who lists whom among a repository's kustomizations, cached by size and mtime."""

from __future__ import annotations

import os

import pytest
from gitops_guard.repo import kgraph
from gitops_guard.repo.repository import Repository


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)


def _write(root, files):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _graph(root):
    return kgraph.Graph(Repository(root))


def test_edges_roots_and_closure(tmp_path):
    root = tmp_path / "repo"
    _write(
        root,
        {
            "apps/web/base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "apps/web/base/deploy.yaml": "kind: Deployment\n",
            "clusters/prod/web/kustomization.yaml": (
                "resources:\n  - ../../../apps/web/base\n  - https://example.com/remote.yaml\n"
                "components:\n  - ../../../components/extra\n"
            ),
            "components/extra/kustomization.yaml": "kind: Component\n",
        },
    )
    graph = _graph(root)
    overlay = str(root / "clusters/prod/web/kustomization.yaml")
    base = str(root / "apps/web/base/kustomization.yaml")
    deploy = str(root / "apps/web/base/deploy.yaml")
    assert list(graph.edges[overlay]) == [
        (True, base),
        (True, str(root / "components/extra/kustomization.yaml")),
    ]
    assert graph.roots() == [overlay]
    assert graph.roots_of(deploy) == {overlay}
    assert deploy in graph.closure(overlay)


def test_an_edited_kustomization_is_read_again(tmp_path):
    root = tmp_path / "repo"
    _write(root, {"k/kustomization.yaml": "resources: [a.yaml]\n", "k/a.yaml": "", "k/b.yaml": ""})
    _graph(root)
    target = root / "k/kustomization.yaml"
    target.write_text("resources: [a.yaml, b.yaml]\n")
    os.utime(target, ns=(1, 1))  # a different stamp even on a coarse clock
    graph = _graph(root)
    assert [t for _, t in graph.edges[str(target)]] == [
        str(root / "k/a.yaml"),
        str(root / "k/b.yaml"),
    ]


def test_broken_kustomization_lists_nothing(tmp_path):
    root = tmp_path / "repo"
    _write(root, {"k/kustomization.yaml": "resources: [unclosed\n"})
    assert _graph(root).edges[str(root / "k/kustomization.yaml")] == ()


def test_given_kustomizations_are_not_parsed_again(tmp_path, monkeypatch):
    from gitops_guard.core.documents import load_file

    root = tmp_path / "repo"
    _write(
        root,
        {
            "app/kustomization.yaml": "resources: [a.yaml, {path: b.yaml}]\n",
            "app/a.yaml": "kind: ConfigMap\n",
            "app/b.yaml": "kind: Secret\n",
            # PyYAML reads these plain entries as a float and a date: not listed paths
            "odd/kustomization.yaml": "resources:\n  - .inf\n  - 2024-01-01\n  - c.yaml\n",
            "odd/c.yaml": "kind: ConfigMap\n",
        },
    )
    given = [load_file(str(root / p)) for p in ("app/kustomization.yaml", "odd/kustomization.yaml")]
    parsed: list[str] = []
    real_parse = kgraph._parse
    monkeypatch.setattr(kgraph, "_parse", lambda key: parsed.append(key) or real_parse(key))
    graph = kgraph.Graph(Repository(root, given))
    app, odd = (os.path.join(str(root), d, "kustomization.yaml") for d in ("app", "odd"))
    assert [os.path.basename(t) for _, t in graph.edges[app]] == ["a.yaml", "b.yaml"]
    assert [os.path.basename(t) for _, t in graph.edges[odd]] == ["c.yaml"]
    assert parsed == [odd]  # only the one whose text PyYAML could read differently


@pytest.mark.parametrize(
    ("entry", "remote"),
    [
        ("https://github.com/org/repo//deploy?ref=v1", True),
        ("github.com/org/repo//deploy?ref=v1", True),
        ("github.com:org/repo.git/deploy?ref=v1", True),
        ("GitHub.com:org/repo.git/deploy", True),
        ("git@github.com:org/repo.git//deploy", True),
        ("deploy@git.example.com:org/repo.git", True),
        ("git::https://github.com/org/repo//deploy", True),
        ("gh:org/repo/deploy", False),
        ("gitlab.com:group/repo.git/deploy", False),
        ("../base", False),
        ("configs/user@host.yaml", False),
    ],
)
def test_is_remote_follows_kustomize_repospec(entry: str, remote: bool) -> None:
    """kustomize api/internal/git/repospec.go (extractHost)."""
    assert kgraph.is_remote(entry) is remote

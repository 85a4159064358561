"""core/known_problems.py: the YAML problems of given files, parsed once per content."""

from __future__ import annotations

import gitops_guard
import pytest
from gitops_guard.core import documents, known_problems


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)
    return tmp_path


def shape(source):
    return (
        source.path,
        source.text,
        source.skipped,
        [(p.path, p.line, p.column, p.rule, p.message, p.severity) for p in source.problems],
    )


CASES = {
    "ok.yaml": "a: 1\n",
    "dup.yaml": "a: 1\na: 2\n",
    "broken.yaml": "k: [\n",
    "empty.yaml": "",
    "tabs.json": '{"a":\t1}\n',
    "chart/templates/t.yaml": "kind: {{ .Values.k }}\n",
    "plain/templates/t.yaml": 'kind: "{{ .Values.k }}"\n',
    "chart/templates/q.yaml": 'kind: "{{ .Values.k }}"\n',
    "latin1.yaml": b"k: caf\xe9\n",
}


@pytest.mark.parametrize("remembered", [False, True], ids=["first run", "remembered"])
def test_the_same_as_load_file_without_documents(cache_home, monkeypatch, remembered):
    root = cache_home / "repo"
    (root / "chart").mkdir(parents=True)
    (root / "chart" / "Chart.yaml").write_text("name: chart\nversion: 1.0.0\n")
    paths = []
    for name, content in CASES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        paths.append(str(path))
    if remembered:
        known_problems.load_unparsed(paths)

        def no_parse(*args, **kwargs):
            raise AssertionError("parsed although its content is remembered")

        # the decodable files are not parsed again: their problems come from the memory
        monkeypatch.setattr(known_problems, "load_text", no_parse)
    got = known_problems.load_unparsed(paths)
    expected = [documents.load_file(p) for p in paths]
    assert [shape(s) for s in got] == [shape(s) for s in expected]
    assert all(s.documents == [] for s in got)
    assert any(s.problems for s in got) and any(not s.problems for s in got)


def test_a_changed_file_is_parsed_again(cache_home):
    path = cache_home / "x.yaml"
    path.write_text("a: 1\n")
    assert known_problems.load_unparsed([str(path)])[0].problems == []
    path.write_text("a: [\n")
    assert [p.rule for p in known_problems.load_unparsed([str(path)])[0].problems] == [
        "yaml/syntax"
    ]


@pytest.mark.parametrize("order", ["json first", "yaml first"])
def test_same_bytes_another_name_is_read_as_that_name(cache_home, order):
    """A JSON file that is not a manifest is skipped; the same broken bytes in a .yaml file
    are a syntax error: the name is in the key, whichever is remembered first."""
    text = "k: [\n"
    as_json, as_yaml = cache_home / "settings.json", cache_home / "x.yaml"
    as_json.write_text(text)
    as_yaml.write_text(text)
    paths = [as_json, as_yaml] if order == "json first" else [as_yaml, as_json]
    for path in paths:  # one at a time: the second is looked up in what the first left
        known_problems.load_unparsed([str(path)])
    got = {p.name: known_problems.load_unparsed([str(p)])[0] for p in paths}
    assert got["settings.json"].skipped and not got["settings.json"].problems
    assert [p.rule for p in got["x.yaml"].problems] == ["yaml/syntax"]


def test_a_chart_made_around_a_template_changes_the_answer(cache_home):
    path = cache_home / "app" / "templates" / "t.yaml"
    path.parent.mkdir(parents=True)
    path.write_text('kind: "{{ .Values.k }}"\n')  # YAML that parses: a template in a chart only
    before = known_problems.load_unparsed([str(path)])[0]
    documents._CHARTS.clear()
    (cache_home / "app" / "Chart.yaml").write_text("name: app\nversion: 1.0.0\n")
    after = known_problems.load_unparsed([str(path)])[0]
    assert after.skipped == "helm template" and before.skipped != "helm template"


def test_a_fifo_or_a_missing_file_is_said_as_load_file_says(cache_home):
    import os

    fifo = cache_home / "pipe.yaml"
    os.mkfifo(fifo)
    got = known_problems.load_unparsed([str(fifo)])[0]
    assert [p.rule for p in got.problems] == ["yaml/not-regular-file"]


def test_a_new_gitops_guard_or_parser_forgets_what_an_older_one_said(cache_home, monkeypatch):
    """A message reworded by an upgrade is not served from an older run's memory: the
    identity of gitops-guard, its YAML reader and PyYAML is in the cache file."""
    path = cache_home / "x.yaml"
    path.write_text("a: [\n")
    known_problems.load_unparsed([str(path)])
    memory = known_problems.KnownProblems(str(cache_home))
    (key,) = memory.entries
    skipped, problems = memory.entries[key]
    memory.entries[key] = (skipped, [(*p[:3], "an older wording", p[4]) for p in problems])
    memory.changed = True
    memory.save()
    remembered = known_problems.load_unparsed([str(path)])[0]
    assert [p.message for p in remembered.problems] == ["an older wording"]  # it is used
    monkeypatch.setattr(gitops_guard, "__version__", "99.0.0")
    fresh = known_problems.load_unparsed([str(path)])[0]
    assert [p.message for p in fresh.problems] == [
        p.message for p in documents.load_file(str(path)).problems
    ]
    assert fresh.problems[0].message != "an older wording"


@pytest.mark.parametrize("edited", ["documents", "findings", "quoting", "pyyaml"])
def test_the_identity_follows_each_module_that_words_the_results(monkeypatch, tmp_path, edited):
    """An edit of an editable install (or another PyYAML) is a new identity."""
    import importlib.machinery
    import os

    from gitops_guard.core import cache, findings, quoting

    before = known_problems._parser_identity()
    assert known_problems._parser_identity() == before  # stable while nothing changes
    if edited == "pyyaml":
        fake = tmp_path / "yaml" / "__init__.py"
        fake.parent.mkdir()
        fake.write_text("")

        class Spec:
            origin = str(fake)

        monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", lambda name: Spec())
        monkeypatch.setattr(cache, "_PARSER", [])
    else:
        module = {"documents": documents, "findings": findings, "quoting": quoting}[edited]
        info = os.stat(module.__file__)
        monkeypatch.setattr(os, "stat", _stat_moved(os.stat, module.__file__, info))
    assert known_problems._parser_identity() != before


def _stat_moved(real_stat, path, info):
    """os.stat as if ``path`` had been edited (a later time), everything else as it is."""

    class Moved:
        st_mtime_ns = info.st_mtime_ns + 1
        st_size = info.st_size

    return lambda p, *a, **k: Moved() if p == path else real_stat(p, *a, **k)

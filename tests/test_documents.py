"""Loading YAML with positions: every value at its line and column, every bad input a finding
(never an exception), bounded in time and memory.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest
from gitops_guard.core import documents
from gitops_guard.core.documents import (
    Map,
    Seq,
    containers,
    get_path,
    load_bytes,
    load_file,
    load_text,
    looks_like_helm_template,
    pod_specs,
    to_plain,
    walk,
)


def rules(source) -> list[tuple[str, int, int]]:
    return [(p.rule, p.line, p.column) for p in source.problems]


# -- positions --------------------------------------------------------------------------------


def test_positions_in_block_style():
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n" + (
        "    - name: app\n      image: nginx:v1\n    -   name: side\n        image: x\n"
    )
    (doc,) = load_text("pod.yaml", text).documents
    assert doc.pos == (1, 1)
    assert doc.data.at("kind") == (2, 7)
    assert doc.data.key_at("kind") == (2, 1)
    meta = doc.data["metadata"]
    assert isinstance(meta, Map) and meta.pos == (4, 3) and meta.at("name") == (4, 9)
    items = doc.data["spec"]["containers"]
    assert isinstance(items, Seq)
    assert items.at(0) == (7, 7) and items.at(1) == (9, 9)
    assert items[0].at("image") == (8, 14)
    assert items[1].at("image") == (10, 16)
    assert items.at(5) == items.pos  # out of range: the sequence itself
    assert meta.at("missing") == meta.pos


def test_positions_in_flow_style():
    text = 'spec: {containers: [{name: a, image: "reg.io/a:v1"}, {image: b}]}\n'
    (doc,) = load_text("f.yaml", text).documents
    items = doc.data["spec"]["containers"]
    assert items.at(0) == (1, 21)
    assert items[0].at("image") == (1, 38)
    assert items[1].at("image") == (1, 62)


def test_positions_in_multi_document_files():
    text = "# comment\na: 1\n---\nb: x\n...\n---\n\nc:\n  - 1\n  - 'two'\n"
    docs = load_text("m.yaml", text).documents
    assert [d.index for d in docs] == [0, 1, 2]
    assert [d.pos for d in docs] == [(2, 1), (4, 1), (8, 1)]
    assert docs[1].data.at("b") == (4, 4)
    assert docs[2].data["c"].at(1) == (10, 5)


def test_values_keep_how_they_were_written():
    text = 'a: 1.10\nb: "1"\nc: 0777\nd: yes\ne: null\nf: 1_000\ng: 2024-01-01\nh: plain\n'
    data = load_text("v.yaml", text).documents[0].data
    assert data["a"] == 1.1 and data.text("a") == "1.10"
    assert data["b"] == "1" and "b" not in data.raw  # quoted: a string, no raw
    assert data.raw["a"] == ("1.10", "plain")
    assert data["c"] == 0o777 and data.text("c") == "0777"
    assert data["d"] is True and data.text("d") == "yes"
    assert data["e"] is None and data.text("e") == "null"
    assert data["f"] == 1000
    assert data["g"] == "2024-01-01"  # timestamps stay text
    assert data.text("h") == "plain" and data.text("missing") is None
    seq = load_text("s.yaml", "[1, '2', x]\n").documents[0].data
    assert seq.text(0) == "1" and seq.text(1) == "2" and seq.raw[0] == ("1", "plain")


def test_int_forms():
    text = "a: 0x1F\nb: -0b101\nc: 0o17\nd: 1:30\ne: +5\n"
    data = load_text("i.yaml", text).documents[0].data
    assert (data["a"], data["b"], data["d"], data["e"]) == (31, -5, 90, 5)
    assert data["c"] == "0o17"  # YAML 1.1 (what libyaml and kubectl read) has no 0o prefix


def test_merge_keys_explicit_keys_win():
    text = "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\nl:\n  <<: [*b, {z: 4}]\n"
    data = load_text("m.yaml", text).documents[0].data
    assert dict(data["d"]) == {"x": 1, "y": 3}
    assert data["d"].at("y") == (4, 6)
    assert data["d"].at("x") == (1, 14)  # where the merged value was written
    assert dict(data["l"]) == {"x": 1, "y": 2, "z": 4}


def test_anchors_and_aliases_share_one_object():
    text = "a: &x {k: v}\nb: *x\n"
    data = load_text("a.yaml", text).documents[0].data
    assert data["a"] is data["b"]


def test_keys_true_and_one_are_different_keys():
    text = "1: a\ntrue: b\nnull: c\n~: d\n"
    source = load_text("k.yaml", text)
    assert source.problems == []
    assert source.documents[0].data == {1: "a", "true": "b", "null": "c", "~": "d"}


def test_document_properties():
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: 1}\n---\n- a list\n"
    )
    d1, d2, d3 = load_text("x.yaml", text).documents
    assert (d1.kind, d1.api_version, d1.group, d1.name, d1.namespace) == (
        "Deployment",
        "apps/v1",
        "apps",
        "web",
        "shop",
    )
    assert d1.is_kubernetes and d1.metadata is d1.data["metadata"]
    assert d2.group == "" and d2.name is None  # a non-string name is not a name
    assert d3.kind is None and not d3.is_kubernetes and d3.metadata is None


# -- bad input: a finding, never an exception -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: [1, 2\nb: c\n", [("yaml/syntax", 2, 2)]),
        (b'a: "abc\n', [("yaml/syntax", 2, 1)]),
        (b"a: b: c\n", [("yaml/syntax", 1, 5)]),
        (b"a:\n\tb: 1\n", [("yaml/tab", 2, 1)]),
        (b"spec:\n  containers:\n\t- name: x\n", [("yaml/tab", 3, 1)]),
        (b"a: 1\nb: 2\na: 3\n", [("yaml/duplicate-key", 3, 1)]),
        (b"\x00\x01\x02abc", [("yaml/not-text", 1, 1)]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [("yaml/not-text", 1, 1)]),
        ("a: ok\nb: caf\xe9\n".encode("latin-1"), [("yaml/encoding", 2, 7)]),
        (b"\xff\xfea\x00:", [("yaml/encoding", 1, 1)]),
        (b"", [("yaml/empty", 1, 1)]),
        (b"  \n\n\t\n", [("yaml/empty", 1, 1)]),
        (b"a: \x07\n", [("yaml/syntax", 1, 4)]),
        (b"kind: ConfigMap\napiVersion: v1\na: !Ref Foo\n", [("yaml/custom-tag", 3, 4)]),
        (
            b"kind: ConfigMap\napiVersion: v1\na: !!python/object:os.system x\n",
            [("yaml/custom-tag", 3, 4)],
        ),
        (b"kind: ConfigMap\napiVersion: v1\na: !GetAtt [b, c]\n", [("yaml/custom-tag", 3, 4)]),
        (b"a: &a [*a]\n", [("yaml/too-complex", 1, 1)]),
        (b"a: *nowhere\n", [("yaml/syntax", 1, 4)]),
    ],
)
def test_bad_input_becomes_a_finding(data: bytes, expected):
    source = load_bytes("bad.yaml", data)
    assert rules(source) == expected
    assert all(p.path == "bad.yaml" and p.message for p in source.problems)


def test_duplicate_key_names_the_first_one():
    (problem,) = load_text("d.yaml", "a: 1\nb: 2\na: 3\n").problems
    assert "'a'" in problem.message and "line 1" in problem.message


def test_custom_tag_document_still_loads():
    source = load_text("t.yaml", "a: !Ref Foo\nb: 2\n")
    assert source.documents[0].data == {"a": "Foo", "b": 2}


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("a: b\n".encode("utf-16"), "a: b\n"),
        (b"\xfe\xff" + "a: é\n".encode("utf-16-be"), "a: é\n"),
        (b"\xef\xbb\xbfa: b\n", "a: b\n"),
    ],
)
def test_utf16_and_boms_are_decoded(data: bytes, text: str):
    source = load_bytes("u.yaml", data)
    assert source.problems == [] and source.text == text
    assert source.documents[0].data["a"] == text[3:-1]


def test_comment_only_and_separator_only_files_are_fine():
    assert rules(load_text("c.yaml", "# nothing here\n")) == []
    source = load_text("s.yaml", "---\n---\n")
    assert source.problems == [] and [d.data for d in source.documents] == [None, None]


def test_complex_keys_do_not_crash():
    source = load_text("c.yaml", "? [a, b]\n: c\n? {x: 1}\n: d\n")
    assert source.problems == []
    assert len(source.documents[0].data) == 2


def _alias_bomb(levels: int = 9) -> bytes:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def test_alias_bomb_is_bounded_in_time_and_memory():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()  # CPU time: a loaded machine slows wall time, not this
    source = load_bytes("bomb.yaml", _alias_bomb())  # 9**10 = 3.4 billion nodes if expanded
    elapsed = time.process_time() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert rules(source) == [("yaml/too-complex", 1, 1)]
    assert "alias" in source.problems[0].message
    assert elapsed < 2.0
    assert grown_mb < 50


def test_aliases_below_the_bound_are_fine():
    source = load_bytes("small.yaml", _alias_bomb(levels=3))  # 9**4 = 6561 nodes
    assert source.problems == []


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b"{a: " * 10_000 + b"1" + b"}" * 10_000,
        "".join(" " * i + "a:\n" for i in range(10_000)).encode(),
        "".join(" " * i + "- \n" for i in range(10_000)).encode(),
        b"a:\n" + b"".join(b"  " * (i + 1) + b"- [\n" for i in range(300)),
    ],
    ids=["flow-seq", "flow-map", "block-map", "block-seq", "mixed"],
)
def test_10000_deep_nesting_is_a_finding_not_a_crash(data: bytes):
    # a hang guard, not a speed test: CPU time, so a loaded machine's waits do not count
    start = time.process_time()
    source = load_bytes("deep.yaml", data)
    assert time.process_time() - start < 5
    assert [p.rule for p in source.problems] in (["yaml/too-complex"], ["yaml/syntax"])
    assert source.documents == [] or source.documents[0].data is None


def test_nesting_just_past_our_bound_is_too_complex():
    depth = documents.MAX_DEPTH + 5
    source = load_text("deep.yaml", "[" * depth + "]" * depth)
    assert [p.rule for p in source.problems] == ["yaml/too-complex"]
    ok = load_text("ok.yaml", "[" * 50 + "]" * 50)
    assert ok.problems == []


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path):
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:  # sparse: no 10 MiB written
        handle.truncate(documents.MAX_FILE_BYTES + 1)
    source = load_file(huge)
    assert source.skipped == "too large"
    assert rules(source) == [("yaml/too-large", 1, 1)]


def test_a_big_valid_file_under_the_limit_parses_in_reasonable_time():
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + "".join(
        f"  key{i}: value {i}\n" for i in range(100_000)
    )
    start = time.process_time()  # CPU time: a hang guard, not a benchmark
    source = load_text("big.yaml", doc)
    assert time.process_time() - start < 10
    assert source.problems == [] and len(source.documents[0].data["data"]) == 100_000


def test_unreadable_file(tmp_path: Path):
    source = load_file(tmp_path / "missing.yaml")
    assert source.skipped == "unreadable"
    assert rules(source) == [("yaml/unreadable", 1, 1)]
    folder = load_file(tmp_path)
    assert [p.rule for p in folder.problems] == ["yaml/not-regular-file"]


def test_custom_tags_in_a_file_that_holds_no_kubernetes_object_are_not_judged():
    """mkdocs.yml's !!python/name:, recyclarr's !env_var: the file is not a manifest, so
    "Kubernetes cannot read it" would be wrong; in a manifest (or a kustomization) it is."""
    config = load_text("recyclarr.yml", "sonarr:\n  main:\n    api_key: !env_var SONARR_KEY\n")
    assert config.problems == [] and config.documents[0].data["sonarr"]["main"]["api_key"] == (
        "SONARR_KEY"
    )
    mkdocs = "markdown_extensions:\n  - pymdownx.superfences:\n      format: !!python/name:x.y\n"
    assert load_text("mkdocs.yml", mkdocs).problems == []
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: !env_var X\n"
    assert rules(load_text("cm.yaml", manifest)) == [("yaml/custom-tag", 5, 6)]
    kustomization = "resources: [!env_var X]\n"
    assert rules(load_text("kustomization.yaml", kustomization)) == [("yaml/custom-tag", 1, 13)]


def test_a_redefined_anchor_is_valid_yaml_and_the_latest_definition_wins():
    """YAML 1.2 (and libyaml's parser, Go yaml.v3): an alias refers to the most recent node
    with that anchor. PyYAML's composer refuses it; we read it as kubectl does."""
    text = "a: &x 1\nb: *x\nc: &x {k: v}\nd: *x\ne:\n  <<: *x\n  z: 2\n"
    source = load_text("x.yaml", text)
    assert source.problems == []
    data = source.documents[0].data
    assert (data["b"], data["d"], data["e"]) == (1, {"k": "v"}, {"k": "v", "z": 2})
    assert data.at("d") == (3, 4)  # an aliased value is where it is written: at its anchor
    # a second document starts with no anchors: an alias to the first one's is an error
    bad = load_text("x.yaml", "a: &x 1\n---\nb: *x\n")
    assert [(p.rule, p.line) for p in bad.problems] == [("yaml/syntax", 3)]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("a: *nowhere\n", "'*nowhere'"),
        ("a: b: c\n", "':' after 'b'"),
        ("a:\n  - b\n  c: d\n", "at 'c:'"),
        ("a: [1, 2\n", "opened at line 1, column 4: '[1,'"),
    ],
)
def test_a_yaml_error_names_the_alias_key_or_token(text: str, named: str):
    (problem,) = load_text("x.yaml", text).problems
    assert problem.rule == "yaml/syntax" and named in problem.message


def test_json_manifests_are_read_with_positions_tabs_included():
    text = '{\n\t"apiVersion": "v1",\n\t"kind": "ConfigMap",\n\t"metadata": {"name": "x"}\n}\n'
    source = load_text("cm.json", text)
    assert source.problems == [] and source.documents[0].kind == "ConfigMap"
    assert source.documents[0].data.at("kind") == (3, 10)
    assert source.text == text  # the text the checks quote is the file's
    # JSON with comments (VS Code's settings.json) is no manifest: not ours to judge
    jsonc = '{\n  // editor\n  "files.associations": {"*.yaml": "yaml"},\n}\n'
    assert load_text(".vscode/settings.json", jsonc).problems == []
    broken = '{"apiVersion": "v1", "kind": "ConfigMap",\n  "data": {"a": 1,}\n'
    assert [p.rule for p in load_text("cm.json", broken).problems] == ["yaml/syntax"]
    # a .yaml file with the same tabs is not JSON's business: YAML forbids them
    assert rules(load_text("cm.yaml", "a:\n\tb: 1\n")) == [("yaml/tab", 2, 1)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_only_regular_files_are_opened_never_blocking(tmp_path: Path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    dangling = tmp_path / "gone.yaml"
    dangling.symlink_to(tmp_path / "nowhere.yaml")
    device = tmp_path / "zero.yaml"
    device.symlink_to("/dev/zero")  # st_size 0, endless
    found = {p.name: load_file(p).problems for p in (fifo, dangling, device)}
    assert {n: [(f.rule, f.message.split(",")[0]) for f in ps] for n, ps in found.items()} == {
        "pipe.yaml": [("yaml/not-regular-file", "a FIFO (named pipe)")],
        "gone.yaml": [("yaml/not-regular-file", "a dangling symlink")],
        "zero.yaml": [("yaml/not-regular-file", "a device")],
    }
    real = tmp_path / "real.yaml"
    real.write_text("a: 1\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert load_file(link).documents[0].data == {"a": 1}


# -- Helm templates ---------------------------------------------------------------------------


def test_a_templates_folder_is_a_charts_only_under_a_chart_yaml(tmp_path: Path, monkeypatch):
    """Helm's layout: CHART/Chart.yaml and CHART/templates/. An ExternalSecret or an Argo
    Workflows template elsewhere holds {{ }} inside strings and is YAML to check."""
    monkeypatch.chdir(tmp_path)
    text = "metadata:\n  name: '{{ .Release.Name }}'\n"
    (tmp_path / "chart" / "templates").mkdir(parents=True)
    (tmp_path / "chart" / "Chart.yaml").write_text("name: chart\n")
    source = load_text("chart/templates/deploy.yaml", text)
    assert source.skipped == "helm template"
    assert load_text("chart/templates/sub/deploy.yaml", text).skipped == "helm template"
    plain = load_text("workflows/templates/deploy.yaml", text)
    assert plain.skipped is None and plain.documents[0].data["metadata"]["name"] == (
        "{{ .Release.Name }}"
    )


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("deploy.yaml", "{{- if .Values.enabled }}\na: 1\n{{- end }}\n"),
        ("deploy.yaml", "a: 1\nname: {{ .Values.name }}\n"),
        ("deploy.yaml", "args:\n  - {{ .Values.arg }}\n"),
        ("deploy.yaml", "a: {{ .Values.x | quote -}}\n"),
    ],
)
def test_helm_templates_are_skipped_not_parsed(path: str, text: str):
    assert looks_like_helm_template(path, text)
    source = load_text(path, text)
    assert source.skipped == "helm template" and source.documents == []
    assert rules(source) == [("yaml/helm-template", 1, 1)]


@pytest.mark.parametrize(
    "text",
    [
        "image: '{{ .Values.image }}'\n",  # quoted: a string a values file may hold
        'a: "x {{ y }}"\n',
        "plain: text\n",
        "description: use {{ and }} freely\n",
        # Argo CD notification templates: Go templates inside YAML block scalars
        "message: |\n  {{.app.metadata.name}} failed: {{range .c}}{{.message}} {{end}}\n"
        "  {{- if .x }}trimmed{{ end -}}\n",
    ],
)
def test_quoted_template_strings_are_yaml(text: str):
    assert not looks_like_helm_template("values.yaml", text)
    assert load_text("values.yaml", text).problems == []


# -- helpers ----------------------------------------------------------------------------------


KUSTOMIZE = "apiVersion: kustomize.config.k8s.io/"
FLUX = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("a/kustomization.yaml", "resources: [x.yaml]\n", True),
        ("a/Kustomization", "resources: [x.yaml]\n", True),
        ("a/kustomization.yml", "kind: Component\n", True),
        ("a/kustomization.yaml", KUSTOMIZE + "v1alpha1\nkind: Component\n", True),
        ("a/db.yaml", KUSTOMIZE + "v1alpha1\nkind: Component\n", True),
        ("a/db.yaml", KUSTOMIZE + "v1beta1\nkind: Kustomization\n", True),
        ("a/db.yaml", "resources: [x.yaml]\n", False),
        ("a/kustomization.yaml", "apiVersion: v1\nkind: ConfigMap\n", False),
        ("a/apps.yaml", FLUX, False),
        ("a/kustomization.yaml", FLUX, False),
    ],
)  # fmt: skip
def test_is_kustomization_counts_components_like_kustomize(path: str, text: str, expected: bool):
    doc = load_text(path, text).documents[0]
    assert documents.is_kustomization(path, doc) is expected
    assert documents.is_yaml_name(path.rsplit("/", 1)[1])


def test_pod_specs_containers_walk_get_path_to_plain():
    text = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n"
        "    spec:\n      template:\n        spec:\n"
        "          initContainers: [{name: i, image: a}]\n"
        "          containers: [{name: c, image: b}, not-a-map]\n"
    )
    data = load_text("c.yaml", text).documents[0].data
    (spec,) = list(pod_specs(data))
    assert spec is get_path(data, "spec", "jobTemplate", "spec", "template", "spec")
    assert [(k, c["name"]) for k, c in containers(spec)] == [
        ("containers", "c"),
        ("initContainers", "i"),
    ]
    assert get_path(data, "spec", "nope", "x") is None
    assert get_path(spec, "containers", 0, "image") == "b"
    assert get_path(spec, "containers", 9) is None
    plain = to_plain(data)
    assert type(plain) is dict and type(plain["spec"]["jobTemplate"]) is dict
    assert sum(1 for _ in walk(data)) == sum(1 for _ in walk(plain))


def test_walk_visits_shared_objects_once():
    data = load_text("a.yaml", "a: &x {k: [1]}\nb: *x\nc: *x\n").documents[0].data
    assert len(list(walk(data))) == 3  # the top mapping, {k: [1]}, [1]


# -- compact positions (issue 16: at most 150 MB at 15,000 files) -------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n  c: [x, 2]\n",
        "k:\n\n\n  v\n",  # the value lines below its key
        "x: " + "y" * 20_000 + "\nz: " + "w" * 20_000 + "\n",  # columns past the packed range
        "\n" * 1_100_000 + "deep: 1\n",  # lines past it
    ],
)
def test_packed_positions_are_the_positions(text: str):
    import yaml
    from gitops_guard.core.documents import Map, load_text

    (doc,) = load_text("a.yaml", text).documents
    events = {}
    loader = yaml.SafeLoader(text)
    node = loader.get_single_node()
    for key_node, value_node in node.value:
        events[key_node.value] = (
            (key_node.start_mark.line + 1, key_node.start_mark.column + 1),
            (value_node.start_mark.line + 1, value_node.start_mark.column + 1),
        )
    assert isinstance(doc.data, Map)
    for key, (kpos, vpos) in events.items():
        assert doc.data.key_at(key) == doc.data.key_pos[key] == kpos
        assert doc.data.at(key) == doc.data.value_pos.get(key) == vpos


def test_position_views_write_through_and_sequences_take_tuples():
    from gitops_guard.core.documents import Map, Seq

    m = Map()
    m["a"] = 1
    m.value_pos["a"] = (3, 7)
    assert m.key_pos["a"] == (3, 7) and m.at("a") == (3, 7)
    m.key_pos["a"] = (2, 1)
    assert m.key_at("a") == (2, 1) and m.at("a") == (3, 7)
    assert "a" in m.key_pos and m.value_pos.get("b", "none") == "none"
    assert m.raw == {} and m.text("a") is None
    s = Seq()
    s.append("x")
    s.item_pos.append((4, 2))
    assert s.at(0) == (4, 2) and s.at(5) == s.pos


def test_parsed_positions_are_compact_and_survive_changes():
    """Memory at scale (issue 16): a repository's documents are held together, so a parsed
    mapping keeps its own and its keys' positions in one bytes object (8 bytes each, no int
    or tuple per key) and a sequence its items' in one array; a change after parsing (kustomize
    origins are popped from rendered objects) keeps every other position right."""
    from array import array

    from gitops_guard.core.documents import COMPACT_KEYS, load_text

    keys = "".join(f"  k{i}: v{i}\n" for i in range(COMPACT_KEYS + 1))
    text = (
        "metadata:\n  name: web\n  annotations:\n    a: '1'\n    b: two\n    c: 3\n"
        f"big:\n{keys}list:\n  - x\n  - {{y: 1}}\n"
    )
    data = load_text("x.yaml", text).documents[0].data
    meta = data["metadata"]
    annotations = meta["annotations"]
    for mapping in (data, meta, annotations, data["list"][1]):
        assert type(mapping._pos) is bytes and len(mapping._pos) == 8 * (len(mapping) + 1)
    assert isinstance(data["big"]._pos, dict)  # a large one keeps a dict: lookups stay O(1)
    assert isinstance(data["list"].item_pos, array)
    line = 8 + COMPACT_KEYS + 3  # "- {y: 1}"
    assert data["list"].at(1) == (line, 5) and data["list"][1].pos == (line, 5)
    assert annotations.pos == (4, 5) and annotations.at("c") == (6, 8)
    assert annotations.key_at("b") == (5, 5) and annotations.text("c") == "3"
    assert data["big"].at(f"k{COMPACT_KEYS}") == (8 + COMPACT_KEYS, 8)
    assert dict(annotations.value_pos.items()) == {"a": (4, 8), "b": (5, 8), "c": (6, 8)}
    assert "b" in annotations.key_pos and "z" not in annotations.value_pos
    assert annotations.pop("a") == "1"
    assert annotations.at("b") == (5, 8) and annotations.at("c") == (6, 8)
    assert annotations.pos == (4, 5)
    annotations["d"] = "new"
    annotations.value_pos["d"] = (9, 9)
    assert annotations.at("d") == (9, 9) and annotations.at("c") == (6, 8)
    del meta["name"]
    assert meta.at("annotations") == (4, 5) and meta.key_at("annotations") == (3, 3)


# -- Jinja raw markers ------------------------------------------------------------------------

ANSIBLE_RAW = """- name: render the workflow
  copy:
    dest: /srv/ci.yaml
{open}
- name: workflow
  vars:
    ref: "{{{{ github.ref }}}}"
{close}
- name: done
  debug: {{msg: ok}}
"""


@pytest.mark.parametrize(
    "open_,close",
    [
        ("{% raw %}", "{% endraw %}"),
        ("  {%- raw -%}", "{%- endraw %}  "),
        ("{%raw%}", "{%endraw%}"),
    ],
)
def test_jinja_raw_marker_lines_read_as_blank_lines_positions_kept(open_, close):
    """Jinja drops a ``{% raw %}`` / ``{% endraw %}`` marker (Ansible keeps another tool's
    ``{{ }}`` from Jinja this way): the rest of the file is YAML, at its own lines."""
    text = ANSIBLE_RAW.format(open=open_, close=close)
    source = load_text("roles/ci/templates/workflow.yml", text)  # the template module's
    assert source.problems == [] and source.skipped is None
    (doc,) = source.documents
    lines = text.splitlines()
    item = doc.data[1]
    assert item.at("name") == (lines.index("- name: workflow") + 1, 9)
    assert item["vars"].at("ref") == (lines.index('    ref: "{{ github.ref }}"') + 1, 10)
    assert source.text == text  # the file's own text is what the hooks show and scan


@pytest.mark.parametrize(
    "line",
    [
        "key: {% raw %}{{ x }}{% endraw %}",  # a marker inside a value line: not a marker line
        "{% if enabled %}",  # other Jinja statements are a template, not YAML
        "{% rawness %}",
    ],
)
def test_only_whole_raw_marker_lines_are_blanked(line):
    text = f"a: 1\n{line}\nb: 2\n"
    assert rules(load_text("templates/x.yml", text))[0][0] == "yaml/syntax"


@pytest.mark.parametrize("path", ["playbook.yml", "apps/web/deployment.yaml"])
def test_a_raw_marker_outside_a_jinja_template_is_the_syntax_error_yaml_readers_meet(path):
    """Ansible parses a playbook as YAML before it templates strings, and Argo CD decodes a
    manifest as written: neither drops the marker, so the file is broken YAML for them."""
    text = ANSIBLE_RAW.format(open="{% raw %}", close="{% endraw %}")
    assert rules(load_text(path, text))[0][0] == "yaml/syntax"
    assert rules(load_text("site.yml.j2", text)) == []  # a Jinja template by its name

"""Fuzz-style property tests: arbitrary bytes and arbitrary YAML-ish text never raise, and
``gitops-guard check-images`` on them never exits other than 0 or 1 (2 would be an internal
error here: the command line and the policy are fine).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from gitops_guard.checks.images import check as images
from gitops_guard.cli import main
from gitops_guard.core.documents import load_bytes, to_plain
from gitops_guard.core.policy import DEFAULTS, Policy, deep_merge
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

POLICY = Policy(
    deep_merge(
        DEFAULTS,
        {
            "images": {"allowed_registries": ["reg.io"]},
            "environments": {"production": {"images": {"require_digest": True}}},
        },
    )
)
PATHS = st.sampled_from(
    [
        "pod.yaml",
        "kustomization.yaml",
        "values.yaml",
        "clusters/production/app/values-prod.yaml",
        "chart/templates/deployment.yaml",
    ]
)

# YAML-ish text: the pieces manifests are made of, shuffled into odd shapes
TOKENS = st.sampled_from(
    [
        "apiVersion: v1\n", "apiVersion: kustomize.config.k8s.io/v1beta1\n",
        "apiVersion: argoproj.io/v1alpha1\n", "apiVersion: helm.toolkit.fluxcd.io/v2\n",
        "kind: Pod\n", "kind: Kustomization\n", "kind: Application\n", "kind: HelmRelease\n",
        "metadata:\n", "  name: x\n", "spec:\n", "  containers:\n", "  - name: c\n",
        "    image: nginx:latest\n", "    image: reg.io/a:v1.0.0\n", "image:\n",
        "  repository: reg.io/a\n", "  tag: 1.27\n", "  digest: sha256:abc\n",
        "images:\n", "- name: a\n", "  newTag: latest\n", "  newName: quay.io/b\n",
        "values:\n", "  kustomize:\n", "    images: [a=b:latest]\n", "source:\n",
        "---\n", "...\n", "- ", "  ", "\t", ": ", "{", "}", "[", "]", ",", "&a ", "*a ",
        "<<: *a\n", "!Ref ", "!!str ", "? ", "|\n", ">-\n", "'", '"', "#",
        "# gitops-guard: ignore\n",
        "{{ .Values.x }}", "${VAR}", "$(P)", "__X__", "@", ":", "/", "\n", "\ufeff", "\x00",
        "\u2028", "é", "0777", "yes", "~", "1e3", "-1", "0x1F", "2024-01-01",
    ]
)  # fmt: skip
yamlish = st.lists(TOKENS, max_size=60).map("".join)


def check_source(path: str, data: bytes) -> None:
    source = load_bytes(path, data)
    for problem in source.problems:
        assert problem.rule.startswith("yaml/") and problem.line >= 1 and problem.column >= 1
    if source.documents:
        for finding in images.check(source, POLICY):
            assert finding.line >= 1 and finding.column >= 1
            assert finding.rule.startswith("image/")
        for doc in source.documents:
            if not any(p.rule == "yaml/too-complex" for p in source.problems):
                to_plain(doc.data)


@settings(max_examples=300, deadline=None)
@given(PATHS, st.binary(max_size=400))
@example("pod.yaml", b"\xff\xfe\x00")
@example("pod.yaml", b"\xef\xbb\xbf")
@example("pod.yaml", b"a: &a [*a, *a]\nb: *a\n")
def test_arbitrary_bytes_never_raise(path: str, data: bytes):
    check_source(path, data)


@settings(max_examples=400, deadline=None)
@given(PATHS, yamlish)
def test_arbitrary_yamlish_text_never_raises(path: str, text: str):
    check_source(path, text.encode("utf-8"))


@settings(max_examples=200, deadline=None)
@given(PATHS, st.text(max_size=300))
def test_arbitrary_unicode_text_never_raises(path: str, text: str):
    check_source(path, text.encode("utf-8", errors="surrogatepass"))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(PATHS, st.one_of(st.binary(max_size=200), yamlish.map(str.encode))),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["text", "json", "sarif", "github"]),
)
def test_main_exits_0_or_1_on_any_input(tmp_path: Path, files, fmt: str):
    folder = tmp_path / f"case-{abs(hash((tuple(files), fmt)))}"
    paths = []
    for i, (rel, data) in enumerate(files):
        target = folder / str(i) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        paths.append(str(target))
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nimages: {allowed_registries: [reg.io]}\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check-images", "--policy", str(policy), "--format", fmt, *paths])
    assert code in (0, 1), err.getvalue()
    assert err.getvalue() == ""

"""annotations: values Kubernetes rejects or Argo CD silently misreads, one object at a time."""

from __future__ import annotations

import pytest
from gitops_guard.checks.syncwaves import annotations as ann
from gitops_guard.core.documents import load_text
from gitops_guard.repo import argo


def _findings(text: str) -> list:
    doc = load_text("x.yaml", text).documents[0]
    return list(ann.check_object(doc, "x.yaml"))


def _meta(annotations: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n{annotations}"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1", '"1"'), ("true", '"true"'), ("1.10", '"1.10"'), ("0x1F", '"0x1F"'), ("~", '""')],
)
def test_unquoted_values_name_the_fix(value, shown):
    (finding,) = _findings(_meta(f"    example.com/a: {value}\n"))
    assert finding.rule == "sync/annotation-not-string"
    assert (finding.line, finding.column) == (6, 20)
    assert shown in finding.message


def test_quoted_values_and_block_scalars_are_strings():
    assert _findings(_meta("    a: \"1\"\n    b: |\n      multi\n    c: 'true'\n")) == []


@pytest.mark.parametrize(
    "wave",
    [
        '"1.5"',
        "first",
        '" 2"',
        '"2 "',
        '""',
        '"1e3"',
        '"5\\n"',  # YAML "5\n": Python's $ matches before a final newline, Atoi does not
        "|\n      5",  # a block scalar keeps its final newline: "5\n"
        '"--1"',
        '"1_000"',
        '"\u0661"',  # ARABIC-INDIC DIGIT ONE: Python's \d takes it, Go's Atoi does not
        '"9223372036854775808"',  # one past a 64-bit int: Atoi fails (out of range)
    ],
)
def test_wave_must_be_an_integer_as_atoi_reads_it(wave):
    (finding,) = _findings(_meta(f"    argocd.argoproj.io/sync-wave: {wave}\n"))
    assert finding.rule == "sync/wave-not-integer"
    assert "wave 0" in finding.message
    assert argo.parse_wave(_wave_value(wave)) is None


@pytest.mark.parametrize(
    ("wave", "number"),
    [
        ('"0"', 0),
        ('"-10"', -10),
        ('"+5"', 5),  # Atoi takes a plus sign: Argo CD syncs this in wave 5
        ('"007"', 7),
        ('"2147483647"', 2147483647),
        ('"-9223372036854775808"', -(2**63)),
    ],
)
def test_integer_waves_pass_as_atoi_reads_them(wave, number):
    assert _findings(_meta(f"    argocd.argoproj.io/sync-wave: {wave}\n")) == []
    assert argo.parse_wave(_wave_value(wave)) == number


def _wave_value(written: str) -> object:
    doc = load_text("x.yaml", _meta(f"    argocd.argoproj.io/sync-wave: {written}\n")).documents[0]
    return doc.metadata["annotations"][argo.WAVE]


def test_out_of_range_wave_says_so():
    (finding,) = _findings(_meta('    argocd.argoproj.io/sync-wave: "99999999999999999999"\n'))
    assert "64-bit" in finding.message


def test_hook_values():
    assert _findings(_meta("    argocd.argoproj.io/hook: PreSync , PostSync\n")) == []
    (bad,) = _findings(_meta("    argocd.argoproj.io/hook: postsync\n"))
    assert "did you mean PostSync?" in bad.message
    (skip,) = _findings(_meta("    argocd.argoproj.io/hook: Skip,Sync\n"))
    assert "Skip must stand alone" in skip.message
    (empty,) = _findings(_meta("    argocd.argoproj.io/hook: PreSync,\n"))
    assert "(empty)" in empty.message


def test_sync_options_known_values_and_application_only():
    ok = "    argocd.argoproj.io/sync-options: Prune=false,Delete=confirm,Replace=true\n"
    assert _findings(_meta(ok)) == []
    found = _findings(_meta("    argocd.argoproj.io/sync-options: Validate=no,PruneLast\n"))
    assert [f.rule for f in found] == ["sync/sync-option-unknown"] * 2
    (app_only,) = _findings(
        _meta("    argocd.argoproj.io/sync-options: PrunePropagationPolicy=orphan\n")
    )
    assert app_only.rule == "sync/sync-option-app-only"


def test_helm_weight_next_to_sync_wave_is_mixed():
    text = _meta('    argocd.argoproj.io/sync-wave: "1"\n    helm.sh/hook-weight: "2"\n')
    (finding,) = _findings(text)
    assert finding.rule == "sync/mixed-hook-annotations"


def test_crd_schema_labels_are_not_values():
    text = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: a.b\nspec:\n  versions:\n    - schema:\n        openAPIV3Schema:\n"
        "          properties:\n            metadata:\n              properties:\n"
        "                labels: {type: object}\n"
    )
    assert _findings(text) == []


def test_kustomization_common_annotations():
    doc = load_text(
        "kustomization.yaml",
        "commonAnnotations:\n  argocd.argoproj.io/sync-wave: two\ncommonLabels:\n  tier: 1\n",
    ).documents[0]
    rules = sorted(f.rule for f in ann.check_kustomization(doc.data, "kustomization.yaml"))
    assert rules == ["sync/annotation-not-string", "sync/wave-not-integer"]


def test_hook_phases_prefer_argo_over_helm():
    assert argo.hook_phases({argo.HOOK: "PostSync", argo.HELM_HOOK: "pre-install"}) == ["PostSync"]
    assert argo.hook_phases({argo.HELM_HOOK: "pre-install,post-upgrade"}) == ["PreSync", "PostSync"]
    assert argo.hook_phases({argo.HELM_HOOK: "test"}) is None
    assert argo.hook_phases({}) is None


def test_readme_lists_the_values_each_sync_option_takes():
    """The documented list and the finding ("Prune takes true|false|confirm") say the same."""
    from conftest import docs_text
    from gitops_guard.repo.argo import RESOURCE_OPTIONS

    readme = docs_text()
    for key, values in RESOURCE_OPTIONS.items():
        if set(values) != {"true", "false"}:
            assert f"`{key}={'|'.join(values)}`" in readme, key


def test_a_sync_wave_of_any_length_is_an_ordinary_finding():
    """int() refuses strings over 4,300 digits; a 64-bit wave has at most 19 (Atoi fails past
    that, and Argo CD uses wave 0)."""
    from gitops_guard.repo.argo import parse_wave

    assert parse_wave("0" * 5000 + "7") == 7  # leading zeros: Atoi reads 7
    assert parse_wave("9" * 5000) is None
    assert parse_wave("-" + "9" * 19) is None and parse_wave("-9223372036854775808") == -(2**63)
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n"
        f'    argocd.argoproj.io/sync-wave: "{"9" * 5000}"\n'
    )
    from gitops_guard.checks.syncwaves.check import check_annotations

    (finding,) = check_annotations(load_text("cm.yaml", text))
    assert finding.rule == "sync/wave-not-integer"
    assert "does not fit a 64-bit integer" in finding.message and len(finding.message) < 300


def test_a_value_reached_twice_through_an_alias_or_merge_key_is_reported_once():
    from gitops_guard.checks.syncwaves.check import check_annotations

    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: &l\n    a: 1\n"
        "  annotations:\n    <<: *l\n    b: 2\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: *l\n"
    )
    found = check_annotations(load_text("cm.yaml", text))
    assert sorted((f.line, f.rule) for f in found) == [
        (6, "sync/annotation-not-string"),
        (9, "sync/annotation-not-string"),
    ]

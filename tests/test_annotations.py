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
    # gitops-engine helm/hook.go IsHook: a hook, but of no phase Argo CD runs (never applied)
    assert argo.hook_phases({argo.HELM_HOOK: "test"}) == []
    assert argo.hook_phases({argo.HELM_HOOK: "crd-install"}) is None  # not a hook at all
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
    # the value written under labels and merged into annotations is named as both
    # (a label's finding never says only "annotation": scout report, ibm-mas)
    messages = {f.line: f.message for f in found}
    assert messages[6].startswith("label and annotation 'a' is 1 unquoted")
    assert messages[9].startswith("annotation 'b' is 2 unquoted")


def test_a_label_value_is_named_a_label():
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels:\n    managed-by:\n"
    (finding,) = ann.check_object(load_text("ns.yaml", text).documents[0], "ns.yaml")
    assert finding.message.startswith("label 'managed-by' has no value (YAML null)")


# -- ApplicationSet templates (checks/syncwaves/appset.py) ---------------------------------
# The ApplicationSet controller renders spec.template once per generator parameter set
# (Argo CD docs operator-manual/applicationset/Template.md, GoTemplate.md; rendering in
# applicationset/utils/utils.go, list elements in applicationset/generators/list.go).

APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: apps
  namespace: argocd
spec:
GO
  generators:
GENERATORS
  template:
    metadata:
      name: 'apps-{{NAME}}'
      annotations:
        argocd.argoproj.io/sync-wave: 'WAVE'
        argocd.argoproj.io/sync-options: 'OPTIONS'
    spec:
      project: default
      syncPolicy:
        syncOptions: ['APPOPTION']
      source: {repoURL: 'https://example.com/r.git', path: 'apps/x', targetRevision: main}
      destination: {server: 'https://kubernetes.default.svc', namespace: x}
"""


def _appset(generators: str, wave: str, options: str, app_option: str, go: bool) -> str:
    return (
        APPSET.replace("GO\n", "  goTemplate: true\n" if go else "")
        .replace("GENERATORS\n", generators)
        .replace("{{NAME}}", "{{.name}}" if go else "{{name}}")
        .replace("WAVE", wave)
        .replace("OPTIONS", options)
        .replace("APPOPTION", app_option)
    )


GIT_FILES = (
    "    - git:\n        repoURL: https://example.com/r.git\n        revision: HEAD\n"
    "        files: [{path: 'clusters/*/*/Application.yaml'}]\n"
)
LIST = "    - list:\n        elements:\n{}"


@pytest.mark.parametrize(
    ("generators", "wave", "options", "app_option", "go"),
    [
        # fasttemplate parameters of a git files generator (syn5: burhanuguz/advanced-argocd-gitops)
        (GIT_FILES, "{{ syncOrder }}", "{{opts}}", "{{appOpts}}", False),
        # fasttemplate with the git generator's own parameters
        (GIT_FILES, "{{path.basename}}", "Prune={{prune}}", "CreateNamespace={{ns}}", False),
        # Go templates: fields, pipelines, defaults
        (GIT_FILES, "{{.wave}}", "{{.opts}}", "{{ .appOpts }}", True),
        (GIT_FILES, '{{ default "0" .wave }}', "{{ .opts | trim }}", "{{.x}}", True),
        # literal list elements that give valid values (syn5: theepicsaxguy/homelab)
        (
            LIST.format(
                "          - {name: dev, syncWave: '1', opts: 'Prune=false',"
                " app: 'PruneLast=true'}\n"
                "          - {name: prod, syncWave: '-3', opts: 'ServerSideApply=true',"
                " app: 'CreateNamespace=true'}\n"
            ),
            "{{syncWave}}",
            "{{opts}}",
            "{{app}}",
            False,
        ),
        # Go template mode keeps the element as data: a number prints as itself
        (
            LIST.format(
                "          - {name: dev, wave: 2, opts: 'Prune=false', app: 'Validate=false'}\n"
            ),
            "{{ .wave }}",
            "{{.opts}}",
            "{{.app}}",
            True,
        ),
        # an element without the parameter: what the controller makes of it is not guessed
        (LIST.format("          - {name: dev}\n"), "{{syncWave}}", "{{opts}}", "{{app}}", False),
    ],
)
def test_applicationset_template_parameters_are_not_literals(
    generators, wave, options, app_option, go
):
    assert _findings(_appset(generators, wave, options, app_option, go)) == []


def test_applicationset_list_elements_are_checked_as_the_applications_they_make():
    elements = LIST.format(
        "          - {name: dev, syncWave: '1', opts: 'Prune=false', app: 'CreateNamespace=true'}\n"
        "          - name: prod\n"
        "            syncWave: 'first'\n"
        "            opts: 'prune=false'\n"
        "            app: 'CreateNamespace=yes'\n"
    )
    found = _findings(_appset(elements, "{{syncWave}}", "{{opts}}", "{{app}}", False))
    by_rule = {(f.rule, f.line): f.message for f in found}
    assert sorted(by_rule) == [
        ("sync/sync-option-unknown", 20),
        ("sync/sync-option-unknown", 24),
        ("sync/wave-not-integer", 19),
    ]
    wave = by_rule[("sync/wave-not-integer", 19)]
    assert "sync-wave 'first' (what '{{syncWave}}' becomes for the list element at line 11)" in wave
    assert "'prune=false'" in by_rule[("sync/sync-option-unknown", 20)]
    assert "did you mean Prune?" in by_rule[("sync/sync-option-unknown", 20)]
    assert "CreateNamespace takes true|false" in by_rule[("sync/sync-option-unknown", 24)]


def test_applicationset_literal_template_values_are_still_checked():
    found = _findings(_appset(GIT_FILES, "first", "Prnue=false", "CreateNamespace=yes", False))
    assert sorted(f.rule for f in found) == [
        "sync/sync-option-unknown",
        "sync/sync-option-unknown",
        "sync/wave-not-integer",
    ]
    assert "becomes" not in " ".join(f.message for f in found)


def test_applicationset_parameters_the_file_cannot_resolve_are_skipped():
    """A generator's own template, a selector, a templatePatch: the value is not known."""
    bad = LIST.format("          - {name: prod, syncWave: 'first', opts: 'x', app: 'y'}\n")
    plain = _appset(bad, "{{syncWave}}", "{{opts}}", "{{app}}", False)
    assert len(_findings(plain)) == 3  # the element's values are known: checked
    selected = bad + "      selector: {matchLabels: {name: prod}}\n"
    assert _findings(_appset(selected, "{{syncWave}}", "{{opts}}", "{{app}}", False)) == []
    patched = plain.replace(
        "  template:\n", "  templatePatch: '{{ if .x }}{}{{ end }}'\n  template:\n", 1
    )
    assert _findings(patched) == []
    own = bad + (
        "        template:\n          metadata:\n            annotations:\n"
        "              argocd.argoproj.io/sync-wave: '{{syncWave}}'\n"
    )
    assert _findings(_appset(own, "{{syncWave}}", "{{opts}}", "{{app}}", False)) == []


def test_braces_in_an_application_are_literal():
    """An Application (not an ApplicationSet) is applied as written: '{{x}}' is wave 0."""
    (finding,) = _findings(_meta("    argocd.argoproj.io/sync-wave: '{{ wave }}'\n"))
    assert finding.rule == "sync/wave-not-integer"


def test_unreadable_wave_names_the_helm_weight_argo_cd_falls_back_to():
    # gitops-engine pkg/sync/syncwaves/waves.go Wave: an Atoi failure falls back to
    # helm.Weight (pkg/sync/hook/helm/weight.go), the helm.sh/hook-weight, else 0
    text = _meta('    argocd.argoproj.io/sync-wave: "two"\n    helm.sh/hook-weight: "-4"\n')
    found = [f for f in _findings(text) if f.rule == "sync/wave-not-integer"]
    (finding,) = found
    assert "helm.sh/hook-weight -4 as the wave" in finding.message
    assert "wave 0" not in finding.message


def test_unreadable_wave_with_an_unreadable_helm_weight_is_wave_0():
    text = _meta('    argocd.argoproj.io/sync-wave: "two"\n    helm.sh/hook-weight: "x"\n')
    (finding,) = [f for f in _findings(text) if f.rule == "sync/wave-not-integer"]
    assert finding.message.endswith("Argo CD would silently use wave 0")

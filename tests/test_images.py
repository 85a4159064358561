"""check-images: every rule positive and negative, every place an image can sit.

The example files live in ``tests/data/check-images/{good,bad}/`` and are checked against
``tests/data/check-images/policy.yaml``. A good file must produce no image finding; a bad file
lists exactly the findings it must produce in ``# expect: RULE LINE:COL`` comments.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import DATA
from gitops_guard.checks.images import check as images
from gitops_guard.core.documents import load_file, load_text
from gitops_guard.core.policy import DEFAULTS, Policy, deep_merge, load_policy
from gitops_guard.core.rules import RULES

HERE = DATA / "check-images"
GOOD = sorted(p for p in (HERE / "good").rglob("*.yaml"))
BAD = sorted(p for p in (HERE / "bad").rglob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\S+) (\d+):(\d+)$", re.MULTILINE)
DIGEST = "sha256:" + "0123456789abcdef" * 4


def data_policy() -> Policy:
    return load_policy(HERE / "policy.yaml")


def policy(**images_section: object) -> Policy:
    return Policy(deep_merge(DEFAULTS, {"images": images_section}))


def check(text: str, path: str = "manifest.yaml", pol: Policy | None = None) -> list[tuple]:
    source = load_text(path, text)
    assert not [p for p in source.problems if p.rule != "yaml/empty"], source.problems
    found = images.check(source, pol or policy())
    return sorted((f.rule, f.line, f.column) for f in found)


def rules_of(text: str, path: str = "manifest.yaml", pol: Policy | None = None) -> list[str]:
    return [rule for rule, _, _ in check(text, path, pol)]


def rel(path: Path) -> str:
    return str(path.relative_to(HERE))


def pod(image: str) -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        f"    - name: c\n      image: {image}\n"
    )


# -- the example files ------------------------------------------------------------------------


@pytest.mark.parametrize("path", GOOD, ids=rel)
def test_good_files_have_no_image_findings(path: Path):
    source = load_file(path)
    found = images.check(source, data_policy()) if source.documents else []
    assert found == []
    assert all(p.rule in ("yaml/helm-template",) for p in source.problems), source.problems


@pytest.mark.parametrize("path", BAD, ids=rel)
def test_bad_files_have_exactly_their_expected_findings(path: Path):
    text = path.read_text(encoding="utf-8")
    expected = sorted((m[0], int(m[1]), int(m[2])) for m in EXPECT.findall(text))
    assert expected, f"{rel(path)} states no '# expect: RULE LINE:COL'"
    source = load_file(path)
    # a chart template is skipped as YAML, and its literal images are still checked by line
    assert [p.rule for p in source.problems] in ([], ["yaml/helm-template"])
    found = sorted((f.rule, f.line, f.column) for f in images.check(source, data_policy()))
    assert found == expected


def test_every_image_rule_has_a_bad_and_a_good_example():
    stated = {m[0] for p in BAD for m in EXPECT.findall(p.read_text(encoding="utf-8"))}
    # image/overridden needs the repository around a file (who includes it): its positive
    # and negative tests are the test_overridden_* ones below, on real git repositories
    image_rules = {r for r in RULES if r.startswith("image/") and r != "image/overridden"}
    assert image_rules <= stated, image_rules - stated
    assert len(GOOD) >= 10


def test_the_helm_chart_template_in_good_is_skipped_not_parsed():
    source = load_file(HERE / "good" / "charts" / "app" / "templates" / "deployment.yaml")
    assert source.skipped == "helm template"
    assert source.documents == []


# -- where images sit ---------------------------------------------------------------------------


def sites(text: str, path: str = "manifest.yaml") -> list[tuple[str, tuple[int, int], str]]:
    return [(s.text, s.pos, s.where) for s in images.sites(load_text(path, text))]


def test_containers_init_and_ephemeral_of_a_pod():
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  initContainers: [{name: i, image: 'reg.io/i:v1.0.0'}]\n"
        "  containers: [{name: c, image: 'reg.io/c:v1.0.0'}]\n"
        "  ephemeralContainers: [{name: e, image: 'reg.io/e:v1.0.0'}]\n"
    )
    found = {t for t, _, _ in sites(text)}
    assert found == {"reg.io/i:v1.0.0", "reg.io/c:v1.0.0", "reg.io/e:v1.0.0"}


@pytest.mark.parametrize(
    ("kind", "api", "prefix"),
    [
        ("Deployment", "apps/v1", "spec:\n  template:\n    spec:\n"),
        ("DaemonSet", "apps/v1", "spec:\n  template:\n    spec:\n"),
        ("Job", "batch/v1", "spec:\n  template:\n    spec:\n"),
        (
            "CronJob",
            "batch/v1",
            "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n",
        ),
        ("PodTemplate", "v1", "template:\n  spec:\n"),
        ("Rollout", "argoproj.io/v1alpha1", "spec:\n  template:\n    spec:\n"),
        ("Service", "serving.knative.dev/v1", "spec:\n  template:\n    spec:\n"),
        ("Workflow", "argoproj.io/v1alpha1", "spec:\n  templates:\n    - container:\n"),
    ],
)
def test_every_workload_kind_is_checked(kind: str, api: str, prefix: str):
    indent = " " * (len(prefix.splitlines()[-1]) - len(prefix.splitlines()[-1].lstrip()) + 2)
    if kind == "Workflow":  # Argo Workflows: `container: {image: ...}`, not a pod spec
        body = f"{indent}    image: reg.io/app:latest\n"
    else:
        body = f"{indent}containers:\n{indent}  - name: c\n{indent}    image: reg.io/app:latest\n"
    text = f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n{prefix}{body}"
    assert rules_of(text) == ["image/tag-latest"]


def test_kustomize_entry_is_evaluated_as_the_reference_kustomize_produces():
    text = (
        "images:\n"
        "  - name: app\n    newName: reg.io/team/app\n    newTag: v1.2.3\n"
        f"    digest: {DIGEST}\n"
        "  - name: reg.io/team/worker\n    newTag: v2.0.0\n"
        "  - name: reg.io/team/base-tag\n    newName: reg.io/team/renamed\n"
    )
    found = list(images.sites(load_text("kustomization.yaml", text)))
    assert [s.text for s in found] == [
        f"reg.io/team/app:v1.2.3@{DIGEST}",
        "reg.io/team/worker:v2.0.0",
        "reg.io/team/renamed",
    ]
    assert [s.tag_known for s in found] == [True, True, False]
    assert found[0].name_pos == (3, 14) and found[0].tag_pos == (4, 13)
    assert found[0].digest_pos == (5, 13)


def test_kustomize_entry_without_new_tag_checks_only_the_registry():
    text = "images:\n  - name: app\n    newName: quay.io/team/app\n"
    pol = policy(allowed_registries=["reg.io"])
    assert check(text, "kustomization.yaml", pol) == [("image/registry-not-allowed", 3, 14)]
    assert check(text, "kustomization.yaml") == []


def test_a_kustomization_is_recognised_by_its_api_version_whatever_its_file_name():
    text = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "images:\n  - name: app\n    newTag: latest\n"
    )
    assert rules_of(text, "overlay.yaml") == ["image/tag-latest"]
    component = text.replace("v1beta1\nkind: Kustomization", "v1alpha1\nkind: Component")
    assert rules_of(component, "component.yaml") == ["image/tag-latest"]


def test_flux_kustomization_spec_images():
    text = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
        "  name: apps\nspec:\n  images:\n    - name: app\n      newTag: '1.0'\n"
    )
    assert check(text) == [("image/tag-not-allowed", 8, 15)]


def test_argocd_kustomize_images_strings_in_source_and_sources_and_applicationsets():
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n"
        "  source:\n    kustomize:\n      images: ['app=reg.io/app:latest']\n"
        "  sources:\n    - kustomize:\n        images: ['reg.io/other:v1.0.0@sha256:12']\n"
    )
    assert rules_of(app) == ["image/invalid-reference", "image/tag-latest"]
    appset = (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: a}\nspec:\n"
        "  template:\n    spec:\n      source:\n        kustomize:\n"
        "          images: [reg.io/app]\n"
    )
    assert check(appset) == [("image/tag-missing", 9, 20)]


def test_helm_values_structured_and_string():
    text = (
        "image:\n  registry: quay.io\n  repository: team/app\n  tag: v1.0.0\n"
        "other:\n  image: nginx:1.27\n"
        "chartDefault:\n  image:\n    repository: reg.io/x\n"
    )
    found = {(s.text, s.tag_known) for s in images.sites(load_text("values.yaml", text))}
    assert found == {
        ("quay.io/team/app:v1.0.0", True),
        ("nginx:1.27", True),
        ("reg.io/x", False),
    }
    assert check(text, "values.yaml") == [("image/tag-not-allowed", 6, 10)]
    assert check(text, "values.yaml", policy(allowed_registries=["reg.io"])) == [
        ("image/registry-not-allowed", 2, 13),
        ("image/registry-not-allowed", 6, 10),
        ("image/tag-not-allowed", 6, 10),
    ]


@pytest.mark.parametrize(
    "name", ["values.yaml", "values-production.yaml", "app-values.yml", "values.prod.yaml"]
)
def test_values_files_are_recognised_by_name(name: str):
    assert images.is_values_file(name)
    assert rules_of("image:\n  repository: a\n  tag: latest\n", name) == ["image/tag-latest"]


def test_a_plain_config_file_with_an_image_key_is_not_ours():
    assert rules_of("services:\n  web:\n    image: nginx:latest\n", "docker-compose.yaml") == []
    assert not images.is_values_file("valuesfile.yaml")


def test_helmrelease_values_and_argocd_values_object():
    hr = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: a}\n"
        "spec:\n  values:\n    image:\n      repository: reg.io/a\n      tag: latest\n"
    )
    assert check(hr) == [("image/tag-latest", 8, 12)]
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n"
        "  source:\n    helm:\n      valuesObject:\n        image: reg.io/a:stable\n"
    )
    assert check(app) == [("image/tag-not-allowed", 8, 16)]


def test_labels_and_annotations_are_never_images():
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {image: web}\n"
        "  annotations:\n    image: 'not a reference'\nspec:\n  containers: []\n"
    )
    assert check(text) == []


@pytest.mark.parametrize(
    "image",
    [
        "reg.io/app:${TAG}",
        "'{{ .Values.image }}'",
        "'reg.io/app:$(params.version)'",
        "reg.io/app:__TAG__",
    ],
)
def test_templated_images_are_unresolvable_not_silently_passed(image: str):
    assert rules_of(pod(image)) == ["image/unresolvable"]


def test_json6902_patch_and_inline_kustomization_patches():
    patch = (
        "- op: replace\n  path: /spec/template/spec/containers/0/image\n"
        "  value: reg.io/app:latest\n"
    )
    assert check(patch, "patch.yaml") == [("image/tag-latest", 3, 10)]
    kustomization = (
        "resources: [base]\npatches:\n  - patch: |\n"
        "      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: a}\n"
        "      spec:\n        template:\n          spec:\n            containers:\n"
        "              - name: a\n                image: reg.io/a:latest\n"
    )
    assert check(kustomization, "kustomization.yaml") == [("image/tag-latest", 12, 24)]


# -- the policy ------------------------------------------------------------------------------


def test_default_policy_is_the_seed_rule():
    assert rules_of(pod("quay.io/anything/at-all:v1.2.3")) == []
    assert rules_of(pod("nginx")) == ["image/tag-missing"]
    assert rules_of(pod("nginx:Latest")) == ["image/tag-latest"]
    for floating in ("stable", "1.27", "latest-alpine", "v1.2", "v1.2.3-rc1"):
        assert rules_of(pod(f"nginx:{floating}")) == ["image/tag-not-allowed"], floating


def test_messages_say_what_the_policy_expects():
    source = load_text("pod.yaml", pod("nginx:1.27"))
    from_file = Policy(deep_merge(DEFAULTS, {}), "policies/gitops-guard.yaml")
    (finding,) = images.check(source, from_file)
    assert finding.message == 'tag "1.27" does not match ^v\\d+\\.\\d+\\.\\d+$'
    # no policy file: the message names the key that accepts another scheme
    (finding,) = images.check(source, policy())
    assert finding.message.startswith('tag "1.27" does not match ^v')
    assert "(the default pattern: set images.tag_pattern in policies/gitops-guard.yaml" in (
        finding.message
    )
    source = load_text("pod.yaml", pod("quay.io/a/b:v1.0.0"))
    (finding,) = images.check(source, policy(allowed_registries=["reg.io"]))
    assert "quay.io" in finding.message and "reg.io" in finding.message


def test_custom_tag_pattern_and_empty_pattern():
    pol = policy(tag_pattern=r"^\d+\.\d+$")
    assert rules_of(pod("nginx:1.27"), pol=pol) == []
    assert rules_of(pod("nginx:v1.2.3"), pol=pol) == ["image/tag-not-allowed"]
    anything = policy(tag_pattern="")
    assert rules_of(pod("nginx:whatever"), pol=anything) == []
    assert rules_of(pod("nginx:latest"), pol=anything) == ["image/tag-latest"]


def test_messages_with_an_empty_tag_pattern_name_no_pattern():
    anything = policy(tag_pattern="")
    (latest,) = images.check(load_text("pod.yaml", pod("nginx:latest")), anything)
    assert latest.message == "image 'nginx' uses tag 'latest', which floats; pin a tag"
    (missing,) = images.check(load_text("pod.yaml", pod("nginx")), anything)
    assert missing.message == "image 'nginx' has no tag, so it means 'latest'; pin a tag"
    (latest,) = images.check(load_text("pod.yaml", pod("nginx:latest")), policy())
    assert latest.message.endswith("; pin a tag matching ^v\\d+\\.\\d+\\.\\d+$")


def test_a_pattern_python_warns_about_prints_no_warning():
    # "[[:alpha:]]" is a POSIX class Python does not know: re warns (FutureWarning) on compile,
    # which would put extra lines on a hook's stderr.
    import warnings

    re.purge()  # the warning fires only when the pattern is compiled, not from re's cache
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = images.check(
            load_text("pod.yaml", pod("nginx:1.2")), policy(tag_pattern="^[[:x]]$")
        )
    assert [f.rule for f in found] == ["image/tag-not-allowed"]
    assert caught == []


@pytest.mark.parametrize(
    ("allowed", "image", "ok"),
    [
        (["docker.io"], "nginx:v1.0.0", True),
        (["docker.io/library"], "nginx:v1.0.0", True),
        (["index.docker.io"], "library/nginx:v1.0.0", True),
        (["docker.io"], "registry-1.docker.io/bitnami/redis:v1.0.0", True),
        (["docker.io/library"], "bitnami/redis:v1.0.0", False),
        (["reg.io"], "nginx:v1.0.0", False),
        (["reg.io/team"], "reg.io/team/app:v1.0.0", True),
        (["reg.io/team"], "reg.io/teamx/app:v1.0.0", False),
        (["reg.io/team/"], "reg.io/team/sub/app:v1.0.0", True),
        (["REG.io"], "reg.io/app:v1.0.0", True),
        (["localhost:5000"], "localhost:5000/app:v1.0.0", True),
        (["localhost:5000"], "localhost/app:v1.0.0", False),
        ([], "anywhere.example/app:v1.0.0", True),
    ],
)
def test_allowed_registries_with_docker_hub_normalisation(allowed, image, ok):
    found = rules_of(pod(image), pol=policy(allowed_registries=allowed))
    assert (found == []) is ok, found


def test_require_digest_and_per_environment_overrides():
    pol = Policy(
        deep_merge(
            DEFAULTS,
            {"environments": {"production": {"images": {"require_digest": True}}}},
        )
    )
    text = pod("reg.io/app:v1.0.0")
    assert rules_of(text, "clusters/staging/app/pod.yaml", pol) == []
    assert rules_of(text, "apps/app/pod.yaml", pol) == []
    assert rules_of(text, "clusters/production/app/pod.yaml", pol) == ["image/digest-required"]
    pinned = pod(f"reg.io/app:v1.0.0@{DIGEST}")
    assert rules_of(pinned, "clusters/production/app/pod.yaml", pol) == []
    digest_only = pod(f"reg.io/app@{DIGEST}")
    assert rules_of(digest_only, "clusters/production/app/pod.yaml", pol) == []
    assert rules_of(pod("reg.io/app:v1.0.0"), pol=policy(require_digest=True)) == [
        "image/digest-required"
    ]


def test_digest_required_points_at_the_tag_in_a_kustomize_entry():
    pol = policy(require_digest=True)
    text = "images:\n  - name: reg.io/app\n    newTag: v1.0.0\n"
    assert check(text, "kustomization.yaml", pol) == [("image/digest-required", 3, 13)]


def test_invalid_parts_are_reported_where_they_are_written():
    text = "images:\n  - name: reg.io/app\n    newTag: v1.0.0\n    digest: sha256:abc\n"
    assert check(text, "kustomization.yaml") == [("image/invalid-reference", 4, 13)]
    text = "image:\n  repository: reg.io/app\n  tag: -bad\n"
    assert check(text, "values.yaml") == [("image/invalid-reference", 3, 8)]


# -- end to end, through the real pre-commit ---------------------------------------------------


@pytest.mark.e2e
def test_check_image_tags_hook_through_pre_commit(hooks_repo, make_repo, run_pre_commit):
    from conftest import git, hooks_config

    good = HERE / "good"
    repo = make_repo(
        {
            ".pre-commit-config.yaml": hooks_config(hooks_repo, "check-image-tags"),
            "policies/gitops-guard.yaml": (HERE / "policy.yaml").read_text(encoding="utf-8"),
            "apps/shop/deployment.yaml": (good / "deployment.yaml").read_text(encoding="utf-8"),
            "clusters/production/shop/kustomization.yaml": (
                good / "clusters" / "production" / "app" / "kustomization.yaml"
            ).read_text(encoding="utf-8"),
            "README.md": "# shop\n",
        }
    )
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gitops-guard check-images" in result.stdout and "Passed" in result.stdout

    overlay = repo / "clusters" / "production" / "shop" / "kustomization.yaml"
    overlay.write_text(
        overlay.read_text(encoding="utf-8").replace(f"    digest: {DIGEST}\n", ""),
        encoding="utf-8",
    )
    (repo / "apps" / "shop" / "debug-pod.yaml").write_text(pod("busybox:latest"), "utf-8")
    git(repo, "add", "-A")
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apps/shop/debug-pod.yaml:8:14: image/tag-latest" in result.stdout
    assert "clusters/production/shop/kustomization.yaml:7:13: image/digest-required" in (
        result.stdout
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_only_yaml_files_are_read_when_named(cli, tmp_path: Path):
    # `gitops-guard check-images $(git ls-files)` names READMEs and scripts too
    (tmp_path / "README.md").write_text("# a: [\nimage: nginx:latest\n", encoding="utf-8")
    pod_file = tmp_path / "pod.yaml"
    pod_file.write_text(pod("nginx:latest"), encoding="utf-8")
    code, out, err = cli("check-images", str(tmp_path / "README.md"))
    assert (code, out, err) == (0, "", "")
    code, out, _ = cli("check-images", str(tmp_path / "README.md"), str(pod_file))
    assert code == 1 and out.count("\n") == 1 and "pod.yaml" in out


# -- issue 11: images the rules missed ---------------------------------------------------------


def test_a_helm_values_override_of_the_tag_alone_is_checked_where_it_is_written():
    """The chart supplies the repository; the tag that ships is the one in the values."""
    values = (
        "image:\n  tag: latest\n"
        "worker:\n  image:\n    tag: 1.0\n"
        "api:\n  image:\n    tag: v1.2.3\n"
        "ui:\n  image:\n    digest: " + DIGEST + "\n"
    )
    assert check(values, "values.yaml") == [
        ("image/tag-latest", 2, 8),
        ("image/tag-not-allowed", 5, 10),
    ]
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n"
        "spec:\n  values:\n    image:\n      tag: latest\n"
    )
    assert check(release) == [("image/tag-latest", 8, 12)]
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: x\nspec:\n"
        "  source:\n    helm:\n      parameters:\n        - name: worker.image.tag\n"
        "          value: latest\n        - name: worker.replicas\n          value: '2'\n"
    )
    assert check(app) == [("image/tag-latest", 10, 18)]
    pinned = policy(require_digest=True)
    assert check("image:\n  tag: v1.2.3\n", "values.yaml", pinned) == [
        ("image/digest-required", 2, 8)
    ]
    assert check(f"image:\n  tag: v1.2.3\n  digest: {DIGEST}\n", "values.yaml", pinned) == []


def test_json_6902_values_that_are_container_lists_or_pod_specs():
    patch = (
        "- op: add\n  path: /spec/template/spec/initContainers\n  value:\n"
        "    - name: init\n      image: busybox:latest\n"
        "- op: replace\n  path: /spec/template/spec\n  value:\n    containers:\n"
        "      - name: c\n        image: nginx\n"
        "- op: add\n  path: /spec/template/spec/containers/-\n  value:\n"
        "    name: ok\n    image: registry.example.com/ok:v1.0.0\n"
    )
    assert check(patch, "patch.yaml") == [
        ("image/tag-latest", 5, 14),
        ("image/tag-missing", 11, 16),
    ]


@pytest.mark.parametrize(
    ("digest", "says"),
    [
        ("sha256:" + "a" * 63, "63 hex characters, expected 64"),
        ("sha512:" + "a" * 64, "64 hex characters, expected 128"),
        ("sha256:" + "A" * 64, "uppercase hex at position 1"),
        ("sha256:" + "z" * 64, "character 'z' at position 1"),
        ("md5:" + "a" * 32, "not a registered one"),
    ],
)
def test_a_digest_follows_the_grammar_and_the_message_says_what_is_wrong(digest, says):
    source = load_text("p.yaml", pod(f"registry.example.com/app:v1.0.0@{digest}"))
    (finding,) = images.check(source, policy(require_digest=True))
    assert finding.rule == "image/invalid-reference" and says in finding.message
    good = load_text("p.yaml", pod("registry.example.com/app:v1.0.0@sha512:" + "a" * 128))
    assert images.check(good, policy(require_digest=True)) == []


def test_latest_pinned_by_a_digest_is_a_warning_that_says_the_digest_pins_it():
    source = load_text("p.yaml", pod(f"nginx:latest@{DIGEST}"))
    (finding,) = images.check(source, policy())
    assert (finding.rule, finding.severity) == ("image/tag-latest", "warning")
    assert "pinned by its digest" in finding.message and "misleads" in finding.message
    (floating,) = images.check(load_text("p.yaml", pod("nginx:latest")), policy())
    assert floating.severity is None  # the rule's default: error


def test_a_value_reached_twice_through_an_alias_or_merge_key_is_reported_once():
    text = (
        "defaults: &d\n  image: busybox:latest\n"
        "a:\n  <<: *d\n  name: a\nb:\n  <<: *d\n  name: b\nc: *d\n"
    )
    assert check(text, "values.yaml") == [("image/tag-latest", 2, 10)]


def test_latest_pinned_by_digest_message_names_the_expected_tag():
    digest = "sha256:" + "a" * 64
    source = load_text("pod.yaml", pod(f"nginx:latest@{digest}"))
    (finding,) = images.check(source, policy())
    assert finding.severity == "warning"
    assert finding.message.endswith("(a tag matching ^v\\d+\\.\\d+\\.\\d+$)"), finding.message
    assert "{" not in finding.message


def test_an_image_key_holding_a_web_address_or_a_picture_is_not_a_reference():
    """A chart's settings use `image:` for pictures (a dashboard background, a logo); only a
    container's image is a reference whatever it holds."""
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: home\n"
        "spec:\n  values:\n    image:\n      repository: ghcr.io/example/home\n      tag: v1.2.3\n"
        "    settings:\n      background:\n"
        "        image: https://images.example.com/photo-1?auto=format&w=2560\n"
        "      logo:\n        image: grafana-logo.png\n"
    )
    assert check(release) == []
    # the same values in a container are still checked
    assert [r for r, *_ in check(pod("https://images.example.com/photo-1"))] == [
        "image/invalid-reference"
    ]
    assert [r for r, *_ in check(pod("logo.png"))] == ["image/tag-missing"]


def test_an_unresolvable_image_warns_unless_the_policy_makes_it_an_error(chdir, cli):
    """Flux substitutes ${VAR} when it applies the object: the commit itself breaks nothing
    the hook can see, so the default is a warning a policy can raise."""
    Path("pod.yaml").write_text(pod("reg.io/app:${TAG}"), encoding="utf-8")
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 0 and "image/unresolvable" in out and out.rstrip().endswith("[warning]")
    Path("policies").mkdir()
    Path("policies/gitops-guard.yaml").write_text(
        "version: 1\nrules:\n  image/unresolvable: error\n", encoding="utf-8"
    )
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 1 and "image/unresolvable" in out and "[warning]" not in out


# -- a base's or a chart default's image that every consumer rewrites (image/overridden) ---------

BASE_POD = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
    "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
    "    spec:\n      containers:\n        - name: web\n          image: {image}\n"
)


def overlay(entry: str = "") -> str:
    text = "resources: [../../base]\n"
    return text + (f"images:\n  - {entry}\n" if entry else "")


def base_repo(make_repo, image: str, overlays: dict[str, str], **extra: str) -> Path:
    files = {
        "base/deploy.yaml": BASE_POD.replace("{image}", image),
        "base/kustomization.yaml": "resources: [deploy.yaml]\n",
        **{f"overlays/{name}/kustomization.yaml": text for name, text in overlays.items()},
        **extra,
    }
    _REPOS.append(1)
    return make_repo(files, name=f"repo{len(_REPOS)}")


_REPOS: list[int] = []


def run_both(cli, repo: Path, path: str) -> list[tuple[int, str]]:
    """(exit code, the lines about ``path``) of an all-files run and of a one-file run (what
    pre-commit passes): the two must agree."""
    import os

    from conftest import git

    old = os.getcwd()
    os.chdir(repo)
    try:
        files = git(repo, "ls-files", "*.yaml").stdout.split()
        answers = []
        for given in (files, [path]):
            code, out, err = cli("check-images", *given)
            assert "Traceback" not in err
            answers.append((code, "\n".join(x for x in out.splitlines() if x.startswith(path))))
        return answers
    finally:
        os.chdir(old)


def test_overridden_base_image_rewritten_by_every_overlay_is_info_not_an_error(make_repo, cli):
    """kustomize api/filters/imagetag/updater.go (SetImageValue): an overlay's images: entry
    that matches the base's image by name replaces its tag (newTag or digest); what deploys
    is the overlay's, checked there. Both overlays rewrite it: the base's untagged and
    ``latest`` images are moot (one info naming the overlays), in a one-file run too."""
    for image in ("registry.example.com/web", "registry.example.com/web:latest"):
        repo = base_repo(
            make_repo,
            image,
            {
                "staging": overlay("{name: registry.example.com/web, newTag: v1.2.3}"),
                "production": overlay(f"{{name: registry.example.com/web, digest: '{DIGEST}'}}"),
            },
        )
        every, alone = run_both(cli, repo, "base/deploy.yaml")
        assert every == alone
        code, lines = every
        assert code == 0, lines
        assert lines.count("\n") == 0 and "image/overridden" in lines and "[info]" in lines
        assert "overlays/production/kustomization.yaml" in lines
        assert "overlays/staging/kustomization.yaml" in lines


def test_overridden_not_when_one_overlay_includes_the_base_without_rewriting_it(make_repo, cli):
    """kustomize applies only the entries of the kustomizations on the way up: an overlay with
    no images: entry for that name (or one for another name) deploys the base image as
    written, so it stays an error, in a one-file run too."""
    for third in (overlay(), overlay("{name: registry.example.com/other, newTag: v1.0.0}")):
        repo = base_repo(
            make_repo,
            "registry.example.com/web:latest",
            {
                "staging": overlay("{name: registry.example.com/web, newTag: v1.2.3}"),
                "dev": third,
            },
        )
        every, alone = run_both(cli, repo, "base/deploy.yaml")
        assert every == alone
        assert every[0] == 1
        assert "base/deploy.yaml:11:18: image/tag-latest" in every[1]
        assert "overridden" not in every[1]


def test_overridden_not_when_an_application_applies_the_base_folder_itself(make_repo, cli):
    """An Argo CD Application whose path is the base deploys it as written (error); one that
    sets kustomize.images for it (argo-cd util/kustomize/kustomize.go: kustomize edit set
    image) rewrites it like an overlay would."""
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: raw}\n"
        "spec:\n  source:\n    repoURL: https://example.com/r.git\n    path: base\n"
    )
    overlays = {"staging": overlay("{name: registry.example.com/web, newTag: v1.2.3}")}
    repo = base_repo(make_repo, "registry.example.com/web", overlays, **{"apps/raw.yaml": app})
    every, alone = run_both(cli, repo, "base/deploy.yaml")
    assert every == alone and every[0] == 1 and "image/tag-missing" in every[1]
    rewriting = app + "    kustomize:\n      images: ['registry.example.com/web:v1.0.0']\n"
    repo = base_repo(
        make_repo, "registry.example.com/web", overlays, **{"apps/raw.yaml": rewriting}
    )
    every, alone = run_both(cli, repo, "base/deploy.yaml")
    assert every == alone and every[0] == 0
    assert "image/overridden" in every[1] and "Application raw (apps/raw.yaml)" in every[1]


def test_overridden_judges_each_part_a_rewrite_replaces(make_repo, cli):
    """newTag replaces the tag, not the name (updater.go): a registry the policy refuses still
    deploys and stays an error beside the moot tag finding; newName fixes it. A Component the
    overlay lists applies its images: too (kustomize components)."""
    policy = "version: 1\nimages:\n  allowed_registries: [registry.example.com]\n"
    repo = base_repo(
        make_repo,
        "docker.io/web:latest",
        {"staging": overlay("{name: docker.io/web, newTag: v1.2.3}")},
        **{"policies/gitops-guard.yaml": policy},
    )
    every, alone = run_both(cli, repo, "base/deploy.yaml")
    assert every == alone and every[0] == 1
    assert "image/registry-not-allowed" in every[1] and "image/overridden" in every[1]
    assert ": image/tag-latest" not in every[1]
    component = (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
        "  - {name: docker.io/web, newName: registry.example.com/web, newTag: v1.2.3}\n"
    )
    repo = base_repo(
        make_repo,
        "docker.io/web:latest",
        {"prod": "resources: [../../base]\ncomponents: [../../components/ecr]\n"},
        **{"policies/gitops-guard.yaml": policy, "components/ecr/kustomization.yaml": component},
    )
    repo_code, lines = run_both(cli, repo, "base/deploy.yaml")[1]
    assert repo_code == 0 and "image/overridden" in lines
    assert ": image/registry-not-allowed" not in lines
    kubectl = shutil.which("kubectl")
    if kubectl is not None:  # the engine agrees: the component's entry rewrote it
        built = subprocess.run(
            [kubectl, "kustomize", str(repo / "overlays" / "prod")],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "image: registry.example.com/web:v1.2.3" in built.stdout


CHART = {
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "charts/app/values.yaml": "image:\n  repository: registry.example.com/app\n  tag: latest\n",
    "charts/app/templates/deploy.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n"
        '    - name: app\n      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    ),
}


def argo_app(name: str, helm: str = "") -> str:
    text = (
        f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}}}\n"
        "spec:\n  source:\n    repoURL: https://example.com/r.git\n    path: charts/app\n"
    )
    return text + (f"    helm:\n{helm}" if helm else "")


@pytest.mark.parametrize(
    "consumer",
    [
        # argo-cd reposerver/repository/repository.go: values, valuesObject, parameters,
        # valueFiles are passed to helm template after the chart's values.yaml
        {"apps/a.yaml": argo_app("a", "      values: |\n        image:\n          tag: v1.4.2\n")},
        {"apps/a.yaml": argo_app("a", "      valuesObject: {image: {tag: v1.4.2}}\n")},
        {"apps/a.yaml": argo_app("a", "      parameters: [{name: image.tag, value: v1.4.2}]\n")},
        {
            "apps/a.yaml": argo_app("a", "      valueFiles: [values-prod.yaml]\n"),
            "charts/app/values-prod.yaml": "image: {tag: v1.4.2}\n",
        },
        # helm-controller: spec.values over the chart's defaults
        {
            "apps/hr.yaml": (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
                "metadata: {name: app, namespace: default}\nspec:\n  chart:\n    spec:\n"
                "      chart: ./charts/app\n      sourceRef: {kind: GitRepository, name: repo}\n"
                "  values: {image: {tag: v1.4.2}}\n"
            )
        },
        # kustomize HelmChartInflationGenerator: chartHome/<name>, valuesInline
        {
            "deploy/kustomization.yaml": (
                "helmGlobals: {chartHome: ../charts}\nhelmCharts:\n  - name: app\n"
                "    releaseName: app\n    valuesInline: {image: {tag: v1.4.2}}\n"
            )
        },
    ],
    ids=[
        "argo-values",
        "argo-valuesObject",
        "argo-parameters",
        "argo-valueFiles",
        "flux",
        "kustomize",
    ],
)
def test_overridden_chart_default_tag_every_consumer_sets(make_repo, cli, consumer):
    repo = make_repo({**CHART, **consumer})
    every, alone = run_both(cli, repo, "charts/app/values.yaml")
    assert every == alone
    assert every[0] == 0, every
    assert "charts/app/values.yaml:3:8: image/overridden" in every[1]


def test_overridden_not_for_a_chart_default_some_consumer_or_nobody_leaves(make_repo, cli):
    """A second Application with no value for image.tag renders the default: error. A chart
    nobody consumes is rendered with its defaults: error."""
    sets = argo_app("a", "      valuesObject: {image: {tag: v1.4.2}}\n")
    other = argo_app("b", "      valuesObject: {image: {pullPolicy: Always}}\n")
    for files in ({"apps/a.yaml": sets, "apps/b.yaml": other}, {}):
        repo = make_repo({**CHART, **files}, name=f"repo{len(files)}")
        every, alone = run_both(cli, repo, "charts/app/values.yaml")
        assert every == alone
        assert every[0] == 1, every
        assert "charts/app/values.yaml:3:8: image/tag-latest" in every[1]
        assert "overridden" not in every[1]


def test_overridden_not_when_flux_builds_the_base_through_a_generated_kustomization(make_repo, cli):
    """fluxcd/pkg kustomize/kustomize_generator.go (generateKustomization): a path with no
    kustomization file gets one listing each folder below it that has one, so the base is
    built directly there (error); a Flux Kustomization of the overlay itself is a consumer
    that rewrites it."""

    def flux(path: str) -> str:
        return (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            f"metadata: {{name: apps, namespace: flux-system}}\nspec:\n  path: {path}\n"
            "  sourceRef: {kind: GitRepository, name: flux-system}\n"
        )

    overlays = {"prod": overlay("{name: registry.example.com/web, newTag: v1.2.3}")}
    repo = base_repo(
        make_repo, "registry.example.com/web", overlays, **{"clusters/apps.yaml": flux("./")}
    )
    every, alone = run_both(cli, repo, "base/deploy.yaml")
    assert every == alone and every[0] == 1 and ": image/tag-missing" in every[1]
    repo = base_repo(
        make_repo,
        "registry.example.com/web",
        overlays,
        **{"clusters/apps.yaml": flux("./overlays/prod")},
    )
    every, alone = run_both(cli, repo, "base/deploy.yaml")
    assert every == alone and every[0] == 0 and "image/overridden" in every[1]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not found")
def test_an_invalid_reference_an_overlay_writes_is_reported_once_at_the_overlay(make_repo, cli):
    """The overlay's images: entry writes a reference that breaks the grammar (an uppercase
    placeholder as the first component: distribution/reference normalize.go reads it as a
    path component, which must be lowercase). check-images reports it at the entry; the
    rendered object check-manifests builds carries the same reference, and is reported at
    that entry too (kustomize api/image/image.go Split finds the entry by name), so once,
    not again at the base's image: line the entry replaced."""
    import os

    repo = base_repo(
        make_repo,
        "auth-api",
        {
            "prod": overlay(
                "{name: auth-api, newName: ECR_REGISTRY_PLACEHOLDER/auth-api, "
                f"digest: '{DIGEST}'}}"
            ),
            "dev": overlay(
                "{name: auth-api, newName: registry.example.com/auth-api, newTag: v1.0.0}"
            ),
        },
    )
    old = os.getcwd()
    os.chdir(repo)
    try:
        files = [str(p.relative_to(repo)) for p in sorted(repo.rglob("*.yaml"))]
        code, images_out, _ = cli("check-images", *files)
        assert code == 1
        assert images_out.count("image/invalid-reference") == 1
        assert "overlays/prod/kustomization.yaml:3:31: image/invalid-reference" in images_out
        assert "path component 'ECR_REGISTRY_PLACEHOLDER' must be lowercase" in images_out
        assert "invalid registry host" not in images_out
        code, manifests_out, err = cli("check-manifests", *files)
        assert "Traceback" not in err
        assert "base/deploy.yaml" not in manifests_out, manifests_out
        assert "image/invalid-reference" not in manifests_out
    finally:
        os.chdir(old)


def test_a_digest_pinned_reference_in_a_message_is_printed_whole_not_masked(chdir, cli):
    """Cut inside its digest (``...@sha256:c4514e18b83b7265...``), a reference read as the
    start of a token to the output masking (core/masking.py) and was masked whole; a valid
    digest is a content address the masking keeps readable, so the reference is kept whole."""
    digest = "sha256:c4514e18b83b7265b90a8f7e62cbf31868fbe539d3e6c65356d9a0f4e8356fdc"
    (chdir / "pod.yaml").write_text(pod(f"ECR_PLACEHOLDER/auth-api@{digest}"), encoding="utf-8")
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 1
    assert f"'ECR_PLACEHOLDER/auth-api@{digest}'" in out
    assert "chars)" not in out
    # an invalid digest is still cut (and what the masking makes of it is its business)
    assert images._short("r.example.com/app@sha256:" + "a" * 63 + "z" * 10).endswith("...")

"""flux_deps: dependsOn names exist (Flux's namespace rule) and form no cycle."""

from __future__ import annotations

import pytest
from gitops_guard.checks.syncwaves import flux_deps
from gitops_guard.core.documents import load_file
from gitops_guard.repo.repository import Repository


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def ks(name: str, ns: str | None = "flux-system", deps: str = "") -> str:
    meta = f"  name: {name}\n" + (f"  namespace: {ns}\n" if ns else "")
    spec = f"spec:\n  dependsOn:\n{deps}" if deps else "spec: {}\n"
    head = "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
    return head + meta + spec


def _check(tmp_path, files: dict[str, str], given: list[str]):
    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sources = [load_file(str(root / g)) for g in given]
    return flux_deps.check(Repository(root, sources), sources, all_files=False)


def test_dependency_in_an_unchanged_file_is_found(tmp_path):
    files = {"a.yaml": ks("apps", deps="    - name: infra\n"), "b.yaml": ks("infra")}
    assert _check(tmp_path, files, ["a.yaml"]) == []


def test_namespace_defaults_to_the_objects_own(tmp_path):
    files = {"a.yaml": ks("apps", ns="team", deps="    - name: infra\n"), "b.yaml": ks("infra")}
    (finding,) = _check(tmp_path, files, ["a.yaml"])
    assert finding.rule == "sync/depends-on-missing"
    assert "'infra' in namespace team" in finding.message
    files["a.yaml"] = ks(
        "apps", ns="team", deps="    - name: infra\n      namespace: flux-system\n"
    )
    assert _check(tmp_path / "2", files, ["a.yaml"]) == []


def test_helmrelease_depends_on_helmreleases_only(tmp_path):
    hr = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n"
        "  namespace: flux-system\nspec:\n  dependsOn:\n    - name: infra\n"
    )
    (finding,) = _check(tmp_path, {"a.yaml": hr, "b.yaml": ks("infra")}, ["a.yaml"])
    assert "HelmRelease 'infra'" in finding.message


def test_cycle_is_printed_once_from_a_changed_file(tmp_path):
    files = {
        "a.yaml": ks("a", deps="    - name: b\n"),
        "b.yaml": ks("b", deps="    - name: c\n"),
        "c.yaml": ks("c", deps="    - name: a\n") + ks("self", deps="    - name: self\n"),
    }
    found = _check(tmp_path, files, ["b.yaml", "c.yaml"])
    messages = sorted(f.message for f in found)
    assert [f.rule for f in found] == ["sync/depends-on-cycle"] * 2
    assert messages[0].startswith(
        "dependsOn cycle: Kustomization flux-system/a -> Kustomization flux-system/b -> "
        "Kustomization flux-system/c -> Kustomization flux-system/a"
    )
    assert "flux-system/self -> Kustomization flux-system/self" in messages[1]


def test_unchanged_cycle_is_not_reported(tmp_path):
    files = {
        "a.yaml": ks("a", deps="    - name: b\n"),
        "b.yaml": ks("b", deps="    - name: a\n"),
        "other.yaml": ks("z"),
    }
    assert _check(tmp_path, files, ["other.yaml"]) == []


def test_names_resolve_per_cluster_first(tmp_path):
    files = {
        "clusters/staging/apps.yaml": ks("apps", deps="    - name: infra\n"),
        "clusters/production/infra.yaml": ks("infra"),
    }
    (finding,) = _check(tmp_path, files, ["clusters/staging/apps.yaml"])
    assert finding.rule == "sync/depends-on-missing"
    files["infrastructure/infra.yaml"] = ks("infra")
    assert _check(tmp_path / "2", files, ["clusters/staging/apps.yaml"]) == []


def test_the_namespace_is_the_outermost_kustomizations_as_kustomize_build(tmp_path):
    """kustomize build: an outer kustomization's namespace: overrides an inner one's, and both
    override metadata.namespace; kustomize-controller applies the object with that namespace."""
    files = {
        "apps/kustomization.yaml": "namespace: kube-system\nresources: [inner]\n",
        "apps/inner/kustomization.yaml": "namespace: inner-ns\nresources: [ks.yaml]\n",
        "apps/inner/ks.yaml": ks("networks", ns=None),
        "default/ks.yaml": ks(
            "web", ns="default", deps="    - name: networks\n      namespace: kube-system\n"
        ),
    }
    assert _check(tmp_path, files, ["default/ks.yaml"]) == []
    files["default/ks.yaml"] = ks(
        "web", ns="default", deps="    - name: networks\n      namespace: inner-ns\n"
    )
    (finding,) = _check(tmp_path / "2", files, ["default/ks.yaml"])
    assert "'networks' in namespace inner-ns" in finding.message
    assert "looked in namespace inner-ns: the namespace the dependsOn entry names" in (
        finding.message
    )


def test_target_namespace_of_the_applying_flux_kustomization_wins(tmp_path):
    """kustomize-controller: spec.targetNamespace sets or overrides the namespace of every
    object the Kustomization applies (its path), Flux objects included."""
    parent = ks("cluster", ns="flux-system").replace(
        "spec: {}\n", "spec:\n  path: ./tenants\n  targetNamespace: team-a\n"
    )
    files = {
        "clusters/parent.yaml": parent,
        "tenants/infra.yaml": ks("infra", ns="flux-system"),
        "tenants/apps.yaml": ks("apps", ns=None, deps="    - name: infra\n"),
    }
    assert _check(tmp_path, files, ["tenants/apps.yaml"]) == []  # both in team-a
    files["other/apps.yaml"] = ks("apps2", ns="elsewhere", deps="    - name: infra\n")
    (finding,) = _check(tmp_path / "2", files, ["other/apps.yaml"])
    assert "'infra' in namespace elsewhere" in finding.message
    assert "Flux's default (its metadata.namespace)" in finding.message


# -- what Flux applies (checks/syncwaves/flux_build.py) ------------------------------------
# kustomize-controller builds spec.path only: an existing kustomization.yaml as it is, or one
# generated over the folder's YAML files (fluxcd/pkg kustomize/kustomize_generator.go), plus
# spec.components; postBuild substitutes variables in what it built, names included
# (fluxcd/pkg kustomize/kustomize_varsub.go; Flux docs Kustomization v1, postBuild).


def flux_ks(name: str, path: str, ns: str = "flux-system", extra: str = "") -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
        f"  name: {name}\n  namespace: {ns}\nspec:\n  interval: 1h\n  path: {path}\n"
        "  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        "    namespace: flux-system\n" + extra
    )


MISSING_CSI = "  dependsOn:\n    - name: democratic-csi\n      namespace: democratic-csi\n"


def _syn4(root: bool) -> dict[str, str]:
    """syn4 (xunholy/k8s-gitops, bjw-s home-ops): an archived ks.yaml and one that the apps
    kustomization no longer lists."""
    files = {
        ".archive/kubernetes/bazarr/ks.yaml": flux_ks(
            "bazarr", "./apps/base/home-system/bazarr/app", "home-system", MISSING_CSI
        ),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./default/echo/ks.yaml\n",
        "kubernetes/apps/default/echo/ks.yaml": flux_ks(
            "echo", "./kubernetes/apps/default/echo/app", extra=MISSING_CSI
        ),
        "kubernetes/apps/default/echo/app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: echo\n",
        "kubernetes/apps/default/old/ks.yaml": flux_ks(
            "old", "./apps/base/home-system/old/app", "home-system", MISSING_CSI
        ),
    }
    if root:
        files["clusters/main/flux-system/cluster-apps.yaml"] = flux_ks(
            "cluster-apps", "./kubernetes/apps"
        )
    return files


SYN4_GIVEN = [
    ".archive/kubernetes/bazarr/ks.yaml",
    "kubernetes/apps/default/echo/ks.yaml",
    "kubernetes/apps/default/old/ks.yaml",
]


def test_a_kustomization_nothing_applies_waits_for_nothing(tmp_path):
    found = _check(tmp_path, _syn4(root=True), SYN4_GIVEN)
    # only the listed one is applied (by cluster-apps, an entry point nothing else builds)
    assert [(f.path.rsplit("/", 3)[-3], f.rule) for f in found] == [
        ("default", "sync/depends-on-missing")
    ]
    assert "Kustomization flux-system/echo depends on" in found[0].message


def test_without_a_cluster_start_every_kustomization_is_checked(tmp_path):
    """A partial checkout: no gotk-sync, no entry point; nothing tells what is applied."""
    found = _check(tmp_path, _syn4(root=False), SYN4_GIVEN)
    assert sorted(f.message.split(" depends")[0] for f in found) == [
        "Kustomization flux-system/echo",
        "Kustomization home-system/bazarr",
        "Kustomization home-system/old",
    ]


def test_the_bootstrap_kustomization_applies_its_folder_as_flux_generates_it(tmp_path):
    """gotk-sync.yaml's flux-system Kustomization: clusters/prod has no kustomization.yaml, so
    every YAML file below it is built, a sub-folder with a kustomization.yaml as that one
    lists (infra/old.yaml is not listed there: never applied)."""
    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": flux_ks("flux-system", "./clusters/prod"),
        "clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra=MISSING_CSI),
        "clusters/prod/infra/kustomization.yaml": "resources: [infra.yaml]\n",
        "clusters/prod/infra/infra.yaml": flux_ks("infra", "./infra", extra=MISSING_CSI),
        "clusters/prod/infra/old.yaml": flux_ks("old", "./old", extra=MISSING_CSI),
    }
    given = ["clusters/prod/apps.yaml", "clusters/prod/infra/infra.yaml"]
    found = _check(tmp_path, files, [*given, "clusters/prod/infra/old.yaml"])
    assert sorted(f.message.split(" depends")[0] for f in found) == [
        "Kustomization flux-system/apps",
        "Kustomization flux-system/infra",
    ]


def test_an_archived_entry_point_is_no_cluster_start(tmp_path):
    files = _syn4(root=False)
    files[".archive/clusters/old/cluster-apps.yaml"] = flux_ks("cluster-apps", "./kubernetes/apps")
    assert len(_check(tmp_path, files, SYN4_GIVEN)) == 3  # no start: everything checked


HR = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n"
    "spec:\n  interval: 30m\n  chartRef:\n    kind: OCIRepository\n    name: app-template\n"
)
APP1_HR = HR.format(name="app1") + "  dependsOn:\n    - name: app1-anubis\n"
ANUBIS = {
    "kubernetes/components/anubis/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "resources:\n  - ./helmrelease.yaml\n"
    ),
    "kubernetes/components/anubis/helmrelease.yaml": HR.format(name='"${APP}-anubis"'),
}


def _syn8(post_build: str, components: bool = True) -> dict[str, str]:
    """syn8 (bjw-s home-ops): the HelmRelease app1 waits for app1-anubis, which the anubis
    Component makes for every app that includes it, named after the app's ${APP}."""
    extra = "  targetNamespace: default\n"
    if components:
        extra += "  components:\n    - ../../../../components/anubis\n"
    return {
        "kubernetes/flux/cluster.yaml": flux_ks("cluster-apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./default/app1/ks.yaml\n",
        "kubernetes/apps/default/app1/ks.yaml": flux_ks(
            "app1", "./kubernetes/apps/default/app1/app", extra=extra + post_build
        ),
        "kubernetes/apps/default/app1/app/helmrelease.yaml": APP1_HR,
        **ANUBIS,
    }


APP1 = "  postBuild:\n    substitute:\n      APP: app1\n"
APP1_GIVEN = ["kubernetes/apps/default/app1/app/helmrelease.yaml"]


def test_a_component_and_postbuild_substitution_make_the_dependency(tmp_path):
    assert _check(tmp_path, _syn8(APP1), APP1_GIVEN) == []
    # ${APP:=x} defaults and ${APP} in the app's own folder are substituted alike
    files = _syn8("  postBuild:\n    substitute:\n      OTHER: x\n", components=False)
    files["kubernetes/apps/default/app1/app/anubis.yaml"] = HR.format(name="${APP:=app1}-anubis")
    assert _check(tmp_path / "2", files, APP1_GIVEN) == []


def test_a_substituted_name_that_differs_is_still_missing(tmp_path):
    found = _check(tmp_path, _syn8(APP1.replace("app1", "app2")), APP1_GIVEN)
    assert [(f.rule, f.severity) for f in found] == [("sync/depends-on-missing", None)]
    assert "'app1-anubis' in namespace default" in found[0].message
    # without the component, nothing makes any *-anubis release
    found = _check(tmp_path / "2", _syn8(APP1, components=False), APP1_GIVEN)
    assert [(f.rule, f.severity) for f in found] == [("sync/depends-on-missing", None)]


def test_a_name_only_the_cluster_can_substitute_is_no_error(tmp_path):
    """substituteFrom: a ConfigMap or Secret in the cluster may set APP; the release that
    may be the dependency is named, at warning."""
    post = "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n"
    (finding,) = _check(tmp_path, _syn8(post), APP1_GIVEN)
    assert (finding.rule, finding.severity) == ("sync/depends-on-missing", "warning")
    assert "HelmRelease '${APP}-anubis'" in finding.message
    assert "components/anubis/helmrelease.yaml:1" in finding.message


def test_substitution_follows_envsubst(tmp_path):
    from gitops_guard.checks.syncwaves.flux_build import Build
    from gitops_guard.core.documents import load_text

    doc = load_text("x.yaml", HR.format(name="x")).documents[0]
    build = Build("k", None, "Flux Kustomization k")
    assert build.substitute("${APP}", doc) == "${APP}"  # no postBuild: nothing substituted
    build.vars = {"APP": "web", "EMPTY": ""}
    assert build.substitute("${APP}-db", doc) == "web-db"
    assert build.substitute("${MISSING}-db", doc) == "-db"  # unset is empty (envsubst)
    assert build.substitute("${EMPTY:=pg}-${MISSING:-x}", doc) == "pg-x"
    assert build.substitute("${APP:0:2}", doc) is None  # not guessed
    build.complete = False  # substituteFrom: the cluster may set it
    assert build.substitute("${MISSING}", doc) is None
    assert build.substitute("${APP}", doc) == "web"
    disabled = load_text(
        "x.yaml",
        HR.format(name="x").replace(
            "  name: x\n",
            "  name: x\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        ),
    ).documents[0]
    assert build.substitute("${APP}", disabled) == "${APP}"


def test_a_cycle_among_kustomizations_nothing_applies_is_none(tmp_path):
    files = {
        "clusters/main/cluster-apps.yaml": flux_ks("cluster-apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
        "kubernetes/apps/a.yaml": flux_ks("a", "./x", extra="  dependsOn:\n    - name: b\n"),
        "kubernetes/apps/b.yaml": flux_ks("b", "./x", extra="  dependsOn:\n    - name: a\n"),
    }
    given = ["kubernetes/apps/a.yaml"]
    assert [f.rule for f in _check(tmp_path, files, given)] == ["sync/depends-on-cycle"]
    files["kubernetes/apps/kustomization.yaml"] = "resources: [a.yaml]\n"  # b: archived
    assert _check(tmp_path / "2", files, given) == []


def _resourceset(inputs: str, name: str, ns: str = "flux-system", kind: str = "Kustomization"):
    api = "kustomize" if kind == "Kustomization" else "helm"
    version = "v1" if kind == "Kustomization" else "v2"
    return (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: infra\n"
        f"  namespace: flux-system\nspec:\n{inputs}  resources:\n"
        f"    - apiVersion: {api}.toolkit.fluxcd.io/{version}\n      kind: {kind}\n"
        f"      metadata:\n        name: {name}\n        namespace: {ns}\n"
        "      spec:\n        interval: 1h\n"
    )


INLINE = "  inputs:\n    - tenant: cert-manager\n    - tenant: ingress\n"


def test_a_dependency_a_resourceset_makes_from_inline_inputs_exists(tmp_path):
    # flux-operator internal/builder/resourceset.go BuildResourceSet renders each
    # spec.resources entry once per input set with the << >> delimiters: the Kustomization
    # cert-manager exists once the ResourceSet is applied
    files = {
        "rs.yaml": _resourceset(INLINE, "<< inputs.tenant >>"),
        "apps.yaml": ks("apps", deps="    - name: cert-manager\n"),
    }
    assert _check(tmp_path, files, ["apps.yaml"]) == []
    literal = {"rs.yaml": _resourceset("", "cert-manager"), "apps.yaml": files["apps.yaml"]}
    assert _check(tmp_path / "2", literal, ["apps.yaml"]) == []


def test_a_resourceset_whose_inputs_come_at_run_time_may_make_it_a_warning(tmp_path):
    inputs = "  inputsFrom:\n    - name: tenants\n"
    files = {
        "rs.yaml": _resourceset(inputs, "<< inputs.tenant >>-infra"),
        "apps.yaml": ks("apps", deps="    - name: cert-manager-infra\n"),
    }
    (finding,) = _check(tmp_path, files, ["apps.yaml"])
    assert finding.rule == "sync/depends-on-missing"
    assert finding.severity == "warning"
    assert "rs.yaml:1 makes Kustomization objects from templates" in finding.message


def test_a_resourceset_that_makes_another_name_kind_or_namespace_is_no_excuse(tmp_path):
    apps = ks("apps", deps="    - name: cert-manager\n")
    for i, rs in enumerate(
        (
            _resourceset(INLINE, "<< inputs.tenant >>-infra"),  # renders cert-manager-infra
            _resourceset(INLINE, "<< inputs.tenant >>", kind="HelmRelease"),
            _resourceset(INLINE, "<< inputs.tenant >>", ns="team"),
            _resourceset(INLINE, "<< inputs.tenant >>").replace(
                "fluxcd.controlplane.io/v1", "example.com/v1"
            ),
        )
    ):
        found = _check(tmp_path / str(i), {"rs.yaml": rs, "apps.yaml": apps}, ["apps.yaml"])
        assert [(f.rule, f.severity) for f in found] == [("sync/depends-on-missing", None)], i


def test_a_resourcestemplate_names_what_it_may_make(tmp_path):
    template = (
        "  inputs:\n    - tenant: cert-manager\n  resourcesTemplate: |\n"
        '    <<- range $t := list "a" "b" >>\n'
        "    ---\n    apiVersion: kustomize.toolkit.fluxcd.io/v1\n    kind: Kustomization\n"
        "    metadata:\n      name: << $t >>-infra-<< inputs.tenant >>\n"
        "      namespace: flux-system\n"
        "    <<- end >>\n"
    )
    rs = (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: infra\n"
        f"  namespace: flux-system\nspec:\n{template}"
    )
    files = {"rs.yaml": rs, "apps.yaml": ks("apps", deps="    - name: a-infra-cert-manager\n")}
    (finding,) = _check(tmp_path, files, ["apps.yaml"])
    assert finding.severity == "warning" and "ResourceSet" in finding.message
    files["apps.yaml"] = ks("apps", deps="    - name: cert-manager\n")
    (finding,) = _check(tmp_path / "2", files, ["apps.yaml"])
    assert finding.severity is None


def test_a_resourcestemplate_beside_resources_leaves_their_names_exact(tmp_path):
    rs = _resourceset(INLINE, "<< inputs.tenant >>") + (
        "  resourcesTemplate: |\n    apiVersion: v1\n    kind: ConfigMap\n"
        "    metadata:\n      name: << inputs.tenant >>\n"
    )
    files = {"rs.yaml": rs, "apps.yaml": ks("apps", deps="    - name: ingress\n")}
    assert _check(tmp_path, files, ["apps.yaml"]) == []


def test_a_hostile_resourceset_name_is_matched_in_linear_time(tmp_path):
    """``<<a>>x`` 25 times made the regular expression ``.*x.*x...``, which backtracks
    exponentially on a dependsOn name of sixty x and a y: the hook never finished."""
    import time

    inputs = "  inputsFrom:\n    - name: tenants\n"
    hostile = "'" + "<<a>>x" * 25 + "'"
    near_miss = "x" * 60 + "y"
    files = {
        "rs.yaml": _resourceset(inputs, hostile),
        "apps.yaml": ks("apps", deps=f"    - name: {near_miss}\n"),
    }
    started = time.process_time()
    (finding,) = _check(tmp_path, files, ["apps.yaml"])
    assert finding.rule == "sync/depends-on-missing" and finding.severity is None
    assert time.process_time() - started < 30  # a guard against a hang, not a benchmark
    # a name the template can render is still read as the ResourceSet's
    files["apps.yaml"] = ks("apps", deps="    - name: " + "x" * 25 + "\n")
    (finding,) = _check(tmp_path / "2", files, ["apps.yaml"])
    assert finding.severity == "warning"


def test_an_unclosed_action_in_a_resourcestemplate_is_literal_text(tmp_path):
    """60 KB of ``<< `` with no ``>>`` (the lazy regex rescanned to the end each time)."""
    rs = _resourceset(INLINE, "<< inputs.tenant >>") + (
        "  resourcesTemplate: |\n    # " + "<< " * 20_000 + "\n"
    )
    files = {"rs.yaml": rs, "apps.yaml": ks("apps", deps="    - name: ingress\n")}
    assert _check(tmp_path, files, ["apps.yaml"]) == []


def test_a_resourcestemplate_nested_too_deep_is_read_as_making_nothing(tmp_path):
    """3,000 levels of [ (yaml.safe_load raised RecursionError: an internal error)."""
    rs = _resourceset(INLINE, "<< inputs.tenant >>") + (
        "  resourcesTemplate: |\n    spec: " + "[" * 3000 + "\n"
    )
    files = {"rs.yaml": rs, "apps.yaml": ks("apps", deps="    - name: ingress\n")}
    assert _check(tmp_path, files, ["apps.yaml"]) == []  # ingress: from its resources
    files["apps.yaml"] = ks("apps", deps="    - name: other\n")
    assert [f.rule for f in _check(tmp_path / "2", files, ["apps.yaml"])] == [
        "sync/depends-on-missing"
    ]

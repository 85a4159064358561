"""ordering: phases then waves, and what an object needs before it (one application)."""

from __future__ import annotations

from gitops_guard.checks.syncwaves import ordering
from gitops_guard.core.documents import load_text
from gitops_guard.repo.applications import Application, make_obj


def _app(text: str, **kwargs) -> Application:
    app = Application("root", "test application")
    for key, value in kwargs.items():
        setattr(app, key, value)
    for doc in load_text("x.yaml", text).documents:
        obj = make_obj("x.yaml", doc)
        if obj is not None:
            app.objects.append(obj)
    return app


def _rules(app: Application) -> list[str]:
    return [v.rule for v in ordering.dependency_violations(app, str)]


def _obj(kind: str, name: str, annotations: str = "", extra: str = "") -> str:
    block = f"  annotations:\n{annotations}" if annotations else ""
    return f"---\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n{block}{extra}"


def test_slot_phase_then_wave():
    app = _app(
        _obj("ConfigMap", "a", "    argocd.argoproj.io/hook: PostSync,PreSync\n")
        + _obj("ConfigMap", "b", '    helm.sh/hook: post-install\n    helm.sh/hook-weight: "-3"\n')
        + _obj("ConfigMap", "c", "    argocd.argoproj.io/hook: Skip\n")
        + _obj("ConfigMap", "d", '    argocd.argoproj.io/sync-wave: "x"\n')
    )
    slots = [ordering.slot(o) for o in app.objects]
    assert [str(s) for s in slots] == ["PreSync wave 0", "PostSync wave -3", "None", "Sync wave 0"]
    assert slots[0].order < slots[3].order < slots[1].order


def test_wave_falls_back_to_the_helm_weight_as_gitops_engine_waves_go_does():
    # gitops-engine pkg/sync/syncwaves/waves.go Wave: a sync-wave absent or unreadable by
    # strconv.Atoi falls back to helm.Weight (pkg/sync/hook/helm/weight.go), which "does not
    # take into account if this is or is not a hook": an Argo CD hook keeps its Helm weight
    app = _app(
        _obj(
            "ConfigMap",
            "a",
            '    argocd.argoproj.io/hook: PreSync\n    helm.sh/hook-weight: "-5"\n',
        )
        + _obj(
            "ConfigMap",
            "b",
            '    argocd.argoproj.io/sync-wave: "x"\n    helm.sh/hook-weight: "4"\n',
        )
        + _obj("ConfigMap", "c", '    helm.sh/hook-weight: "7"\n')
    )
    assert [str(ordering.slot(o)) for o in app.objects] == [
        "PreSync wave -5",
        "Sync wave 4",
        "Sync wave 7",
    ]


def test_a_readable_wave_wins_over_the_helm_weight_and_an_unreadable_weight_is_0():
    app = _app(
        _obj(
            "ConfigMap",
            "a",
            '    argocd.argoproj.io/sync-wave: "2"\n    helm.sh/hook-weight: "5"\n',
        )
        + _obj(
            "ConfigMap", "b", '    argocd.argoproj.io/hook: PreSync\n    helm.sh/hook-weight: "x"\n'
        )
        + _obj(
            "ConfigMap",
            "c",
            '    argocd.argoproj.io/sync-wave: "x"\n    helm.sh/hook-weight: "1.5"\n',
        )
    )
    assert [str(ordering.slot(o)) for o in app.objects] == [
        "Sync wave 2",
        "PreSync wave 0",
        "Sync wave 0",
    ]


def test_helm_hooks_take_the_phases_gitops_engine_maps_and_others_are_never_synced():
    # gitops-engine pkg/sync/hook/helm/type.go maps pre-install/pre-upgrade to PreSync and
    # post-install/post-upgrade to PostSync; helm/hook.go IsHook: every other helm.sh/hook
    # value but crd-install makes a hook with no phase, which the sync never applies
    app = _app(
        _obj("ConfigMap", "a", "    helm.sh/hook: pre-upgrade,pre-install\n")
        + _obj("Pod", "test", '    "helm.sh/hook": test\n')
        + _obj("ConfigMap", "typo", "    helm.sh/hook: post-insntall\n")
        + _obj("ConfigMap", "delete", "    helm.sh/hook: pre-delete\n")
        + _obj("ConfigMap", "crd", "    helm.sh/hook: crd-install\n")
        + _obj(
            "ConfigMap", "argo", "    argocd.argoproj.io/hook: PostSync\n    helm.sh/hook: test\n"
        )
    )
    slots = [str(ordering.slot(o)) for o in app.objects]
    assert slots == [
        "PreSync wave 0",
        "None",
        "None",
        "None",
        "Sync wave 0",  # not a hook: synced with the other resources
        "PostSync wave 0",  # Argo CD's own annotation wins
    ]


def test_a_helm_test_pod_needs_no_namespace_it_is_never_synced(make_repo, cli, monkeypatch):
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n"
        "  namespace: argocd\nspec:\n  project: default\n  source:\n"
        "    repoURL: https://example.com/r.git\n    path: web\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n"
    )
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-test\n  namespace: elsewhere\n"
        "  annotations:\n    HOOK\nspec:\n  containers:\n    - name: t\n      image: busybox:1.36\n"
    )
    found = {}
    for hook, name in (('"helm.sh/hook": test', "test"), ("helm.sh/hook: post-install", "post")):
        root = make_repo({"argocd/web.yaml": app, "web/pod.yaml": pod.replace("HOOK", hook)}, name)
        monkeypatch.chdir(root)
        _code, out, _err = cli("check-sync-waves", "argocd/web.yaml", "web/pod.yaml")
        found[name] = out
    assert "sync/namespace-missing" not in found["test"], found
    assert "sync/namespace-missing" in found["post"], found


def test_waves_are_read_like_atoi():
    """Argo CD (Go's strconv.Atoi) reads "+5" as wave 5; "5\\n" is no number: wave 0."""
    app = _app(
        _obj("ConfigMap", "plus", '    argocd.argoproj.io/sync-wave: "+5"\n')
        + _obj("ConfigMap", "newline", '    argocd.argoproj.io/sync-wave: "5\\n"\n')
    )
    assert [str(ordering.slot(o)) for o in app.objects] == ["Sync wave 5", "Sync wave 0"]


POD = """\
spec:
  serviceAccountName: sa
  priorityClassName: high
  imagePullSecrets: [{name: pull}]
  volumes:
    - name: v
      projected:
        sources:
          - configMap: {name: projected-cm}
          - secret: {name: projected-secret, optional: true}
  containers:
    - name: c
      image: x
      envFrom: [{secretRef: {name: env-secret}}]
"""


def test_needs_every_pod_reference_but_optional_ones():
    app = _app(_obj("Pod", "p", extra=POD))
    needs = {(n.kind, n.name) for n in ordering.needs(app.objects[0])}
    assert needs == {
        ("ServiceAccount", "sa"),
        ("PriorityClass", "high"),
        ("Secret", "pull"),
        ("ConfigMap", "projected-cm"),
        ("Secret", "env-secret"),
    }


def test_later_dependency_is_reported_with_its_chain():
    text = _obj("Pod", "p", '    argocd.argoproj.io/sync-wave: "1"\n', POD) + _obj(
        "Secret", "env-secret", '    argocd.argoproj.io/sync-wave: "2"\n'
    )
    (violation,) = ordering.dependency_violations(_app(text), str)
    assert violation.rule == "sync/reference-order"
    assert "Pod p (Sync wave 1) --container c envFrom at x.yaml:" in violation.message
    assert "--> Secret env-secret (Sync wave 2, x.yaml:" in violation.message


def test_same_wave_and_earlier_dependencies_are_fine():
    text = (
        _obj("Pod", "p", extra=POD)
        + _obj("ServiceAccount", "sa")
        + _obj("PriorityClass", "high", '    argocd.argoproj.io/sync-wave: "-1"\n')
    )
    assert _rules(_app(text)) == []


def test_secret_made_by_external_secret_target_name():
    text = _obj("Pod", "p", "    argocd.argoproj.io/hook: PreSync\n", POD) + (
        "---\napiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n"
        "  name: from-vault\nspec:\n  target:\n    name: env-secret\n"
    )
    assert _rules(_app(text)) == ["sync/reference-order"]


def test_namespace_and_crd_in_a_later_wave_are_moved_as_argo_cd_adjust_deps_does():
    """gitops-engine pkg/sync/sync_tasks.go (Sort, adjustDeps): inside one sync the Namespace
    and the CRD move in front of the Widget with its phase and wave; what was written on them
    is overridden: an info note on each, not an ordering error."""
    ns = _obj("Namespace", "shop", '    argocd.argoproj.io/sync-wave: "5"\n')
    crd = (
        "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        '  name: widgets.example.com\n  annotations:\n    argocd.argoproj.io/sync-wave: "5"\n'
        "spec:\n  group: example.com\n  names: {kind: Widget}\n"
    )
    widget = (
        "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: shop\n"
    )
    found = list(ordering.dependency_violations(_app(ns + crd + widget), str))
    assert [(v.rule, v.severity, v.dep.kind) for v in found] == [
        ("sync/wave-overridden", "info", "Namespace"),
        ("sync/wave-overridden", "info", "CustomResourceDefinition"),
    ]
    assert found[0].at == ("x.yaml", 7, 35)  # the wave written on the Namespace
    assert "moves it in front of Widget shop/w (Sync wave 0" in found[0].message
    # nothing written on them (their default wave 0 is later than a PreSync hook): no note
    hook = widget.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n",
    )
    plain = ns.replace('  annotations:\n    argocd.argoproj.io/sync-wave: "5"\n', "")
    assert _rules(_app(plain + hook)) == []
    # in the same wave, or earlier: nothing is moved
    early = ns.replace('"5"', '"-1"')
    assert _rules(_app(early + widget)) == []


def test_policy_order_and_missing_waves():
    text = _obj("Secret", "s", '    argocd.argoproj.io/sync-wave: "1"\n') + _obj("Service", "svc")
    app = _app(text)
    (v,) = ordering.policy_violations(app, [{"before": "Secret", "after": "Service"}], str)
    assert v.obj.kind == "Service" and "no earlier than every Secret" in v.message
    assert [o.name for o in ordering.missing_waves(app, ["Service", "Secret"])] == ["svc"]


def test_generate_name_clash_needs_same_phase():
    hook = "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: j-\n  annotations:\n"
    text = (
        hook
        + "    argocd.argoproj.io/hook: PreSync\n"
        + hook
        + "    argocd.argoproj.io/hook: PreSync\n"
    )
    assert len(list(ordering.generate_name_clashes(_app(text), str))) == 1
    text = (
        hook
        + "    argocd.argoproj.io/hook: PreSync\n"
        + hook
        + "    argocd.argoproj.io/hook: Sync\n"
    )
    assert list(ordering.generate_name_clashes(_app(text), str)) == []


def test_cluster_scoped_kinds_need_no_namespace():
    ns = _obj("Namespace", "shop", '    argocd.argoproj.io/sync-wave: "5"\n')
    store = "---\napiVersion: external-secrets.io/v1beta1\nkind: ClusterSecretStore\nmetadata:\n"
    store += "  name: vault\n  namespace: shop\n"  # as kustomize's namespace transformer sets it
    crd = (
        "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: gadgets.example.com\nspec:\n  group: example.com\n  scope: Cluster\n"
        "  names: {kind: Gadget}\n"
    )
    gadget = (
        "---\napiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: shop\n"
    )
    assert _rules(_app(ns + store + crd + gadget)) == []


def test_a_file_a_directory_application_excludes_is_not_synced(make_repo, cli, monkeypatch):
    # reposerver/repository/repository.go findManifests: a file the exclude glob matches
    # (or the include glob does not) is not part of the Application
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n"
        "  namespace: argocd\nspec:\n  project: default\n  source:\n"
        "    repoURL: https://example.com/r.git\n    path: web\n    directory:\n      GLOB\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n"
    )
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: elsewhere\n"
    found = {}
    for glob in ("exclude: 'example-*.yaml'", "exclude: 'other-*.yaml'"):
        files = {"argocd/web.yaml": app.replace("GLOB", glob), "web/example-cm.yaml": cm}
        root = make_repo(files, glob.split("'")[1].split("-")[0])
        monkeypatch.chdir(root)
        _code, out, _err = cli("check-sync-waves", "argocd/web.yaml", "web/example-cm.yaml")
        found[glob] = out
    assert "sync/namespace-missing" not in found["exclude: 'example-*.yaml'"], found
    assert "sync/namespace-missing" in found["exclude: 'other-*.yaml'"], found

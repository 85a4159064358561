"""check-controls: each control/ rule fires on the mistake it names and not on the fix.

The good repositories below meet every control; each test breaks one thing (or fixes one) and
asserts exactly which findings appear. Field names and defaults come from the engines' CRDs
(Flux helm-controller v2 api/v2/helmrelease_types.go, kustomize-controller v1
api/v1/kustomization_types.go, notification-controller v1beta3 api/v1beta3/alert_types.go) and
Argo CD (pkg/apis/application/v1alpha1/types.go SyncPolicyAutomated / RetryStrategy, the
notifications catalog in notifications_catalog/).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FLUX_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 10m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: repo
  path: ./clusters/production/app
  prune: true
  wait: true
"""
APP_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: app
resources:
  - deployment.yaml
  - helmrelease.yaml
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.example.com/web:v1.0.0
"""
HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/web
      sourceRef:
        kind: GitRepository
        name: repo
        namespace: flux-system
  install:
    remediation:
      retries: 3
  upgrade:
    remediation:
      retries: 3
      strategy: rollback
  driftDetection:
    mode: enabled
"""
ALERTS = """\
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: slack
  namespace: flux-system
spec:
  type: slack
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: errors
  namespace: flux-system
spec:
  providerRef:
    name: slack
  eventSeverity: error
  eventSources:
    - kind: Kustomization
      name: "*"
    - kind: HelmRelease
      name: "*"
      namespace: app
"""

ARGO_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://example.com/repo.git
    path: apps/web
  destination:
    server: https://kubernetes.default.svc
    namespace: web
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    retry:
      limit: 5
      backoff:
        duration: 10s
"""
NOTIFICATIONS_CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-notifications-cm
data:
  subscriptions: |
    - recipients: [slack:alerts]
      triggers: [on-sync-failed, on-health-degraded]
  trigger.on-sync-failed: |
    - send: [failed]
      when: app.status.operationState.phase in ['Error', 'Failed']
  trigger.on-health-degraded: |
    - send: [degraded]
      when: app.status.health.status == 'Degraded'
"""


def flux_repo(**changes: str) -> dict[str, str]:
    files = {
        "clusters/production/flux/app.yaml": FLUX_KS,
        "clusters/production/flux/alerts.yaml": ALERTS,
        "clusters/production/app/kustomization.yaml": APP_KUSTOMIZATION,
        "clusters/production/app/deployment.yaml": DEPLOYMENT,
        "clusters/production/app/helmrelease.yaml": HELM_RELEASE,
    }
    files.update(changes)
    return files


def argo_repo(**changes: str) -> dict[str, str]:
    files = {
        "clusters/production/argocd/web.yaml": ARGO_APP,
        "bootstrap/argocd-notifications-cm.yaml": NOTIFICATIONS_CM,
        "apps/web/deployment.yaml": DEPLOYMENT,
    }
    files.update(changes)
    return files


@pytest.fixture
def controls(cli, make_repo, monkeypatch):
    """Findings of check-controls over every file of a new repository: {(path, rule)}."""

    def run(files: dict[str, str], *options: str, policy: str | None = None) -> set:
        if policy is not None:
            files = {**files, "policies/gitops-guard.yaml": policy}
        root = make_repo(files)
        monkeypatch.chdir(root)
        paths = sorted(f for f in files if f.endswith((".yaml", ".yml")))
        code, out, err = cli("check-controls", "--format", "json", *options, *paths)
        assert err == ""
        found = json.loads(out)["findings"]
        assert code == (1 if any(f["severity"] == "error" for f in found) else 0)
        run.messages = {(f["path"], f["rule"]): f["message"] for f in found}
        return {(f["path"], f["rule"]) for f in found}

    return run


def test_a_flux_repository_with_every_control_is_clean(controls):
    assert controls(flux_repo()) == set()


def test_an_argo_repository_with_every_control_is_clean(controls):
    assert controls(argo_repo()) == set()


# -- control/drift-not-reconciled ------------------------------------------------------------


def test_argo_automated_removed_loses_drift_and_prune(controls):
    app = ARGO_APP.replace("    automated:\n      prune: true\n      selfHeal: true\n", "")
    found = controls(argo_repo(**{"clusters/production/argocd/web.yaml": app}))
    assert found == {
        ("clusters/production/argocd/web.yaml", "control/drift-not-reconciled"),
        ("clusters/production/argocd/web.yaml", "control/prune-disabled"),
    }
    message = controls.messages[
        ("clusters/production/argocd/web.yaml", "control/drift-not-reconciled")
    ]
    assert "Application argocd/web in production" in message
    assert "spec.syncPolicy.automated: {selfHeal: true}" in message


def test_argo_automated_enabled_false_is_not_automated(controls):
    """Argo CD 3: ``automated.enabled: false`` turns automated sync off (SyncPolicyAutomated)."""
    app = ARGO_APP.replace("      prune: true\n", "      enabled: false\n      prune: true\n")
    found = controls(argo_repo(**{"clusters/production/argocd/web.yaml": app}))
    assert ("clusters/production/argocd/web.yaml", "control/drift-not-reconciled") in found


def test_argo_drift_alerted_on_out_of_sync_instead_of_self_heal(controls):
    app = ARGO_APP.replace("      selfHeal: true\n", "")
    assert controls(argo_repo(**{"clusters/production/argocd/web.yaml": app})) == {
        ("clusters/production/argocd/web.yaml", "control/drift-not-reconciled")
    }
    cm = NOTIFICATIONS_CM.replace("on-health-degraded]", "on-health-degraded, on-out-of-sync]") + (
        "  trigger.on-out-of-sync: |\n"
        "    - send: [oos]\n"
        "      when: app.status.sync.status == 'OutOfSync'\n"
    )
    files = argo_repo(
        **{"clusters/production/argocd/web.yaml": app, "bootstrap/argocd-notifications-cm.yaml": cm}
    )
    assert controls(files) == set()


def test_flux_kustomization_suspended_is_not_reconciled(controls):
    ks = FLUX_KS.replace("  prune: true\n", "  prune: true\n  suspend: true\n")
    found = controls(flux_repo(**{"clusters/production/flux/app.yaml": ks}))
    assert found == {("clusters/production/flux/app.yaml", "control/drift-not-reconciled")}


def test_helm_release_without_drift_detection(controls):
    hr = HELM_RELEASE.replace("  driftDetection:\n    mode: enabled\n", "")
    found = controls(flux_repo(**{"clusters/production/app/helmrelease.yaml": hr}))
    assert found == {("clusters/production/app/helmrelease.yaml", "control/drift-not-reconciled")}


def test_helm_release_drift_warn_counts_when_an_alert_covers_it(controls):
    hr = HELM_RELEASE.replace("mode: enabled", "mode: warn")
    assert controls(flux_repo(**{"clusters/production/app/helmrelease.yaml": hr})) == set()
    alerts = ALERTS.replace("      namespace: app\n", "      namespace: other\n")
    files = flux_repo(
        **{
            "clusters/production/app/helmrelease.yaml": hr,
            "clusters/production/flux/alerts.yaml": alerts,
        }
    )
    assert ("clusters/production/app/helmrelease.yaml", "control/drift-not-reconciled") in controls(
        files
    )


# -- control/prune-disabled ------------------------------------------------------------------


def test_flux_prune_false(controls):
    ks = FLUX_KS.replace("prune: true", "prune: false")
    found = controls(flux_repo(**{"clusters/production/flux/app.yaml": ks}))
    assert found == {("clusters/production/flux/app.yaml", "control/prune-disabled")}


def test_prune_allowed_by_the_policy_for_an_environment(controls):
    ks = FLUX_KS.replace("prune: true", "prune: false")
    policy = "version: 1\nenvironments:\n  production:\n    controls:\n      prune: false\n"
    files = flux_repo(**{"clusters/production/flux/app.yaml": ks})
    assert controls(files, policy=policy) == set()


# -- control/no-health-gate ------------------------------------------------------------------


def test_flux_kustomization_without_a_health_gate(controls):
    ks = FLUX_KS.replace("  wait: true\n", "")
    found = controls(flux_repo(**{"clusters/production/flux/app.yaml": ks}))
    assert found == {("clusters/production/flux/app.yaml", "control/no-health-gate")}
    message = controls.messages[("clusters/production/flux/app.yaml", "control/no-health-gate")]
    assert "Deployment, HelmRelease" in message and "spec.wait: true" in message


def test_health_checks_are_a_gate_with_or_without_a_timeout(controls):
    """kustomize-controller: timeout defaults to the interval; healthChecks still gate."""
    gated = FLUX_KS.replace(
        "  wait: true\n", "  healthChecks:\n    - kind: Deployment\n      name: web\n"
    )
    assert controls(flux_repo(**{"clusters/production/flux/app.yaml": gated})) == set()
    untimed = gated.replace("  timeout: 5m\n", "")
    assert controls(flux_repo(**{"clusters/production/flux/app.yaml": untimed})) == set()
    empty = gated.split("  healthChecks:")[0] + "  healthChecks: []\n"
    assert controls(flux_repo(**{"clusters/production/flux/app.yaml": empty})) == {
        ("clusters/production/flux/app.yaml", "control/no-health-gate")
    }


def test_a_kustomization_applying_no_workloads_needs_no_gate(controls):
    """Namespaces, RBAC, other Flux Kustomizations: nothing to wait for (the children gate)."""
    ks = FLUX_KS.replace("  wait: true\n", "")
    files = flux_repo(**{"clusters/production/flux/app.yaml": ks})
    files["clusters/production/app/kustomization.yaml"] = APP_KUSTOMIZATION.replace(
        "  - deployment.yaml\n  - helmrelease.yaml\n", "  - namespace.yaml\n"
    )
    files["clusters/production/app/namespace.yaml"] = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n"
    )
    del files["clusters/production/app/helmrelease.yaml"]
    assert controls(files) == set()


# -- the engine's own bootstrap output (flux bootstrap) --------------------------------------

FLUX_BOOTSTRAP = Path(__file__).resolve().parent / "data" / "flux-bootstrap"
ENFORCED = "version: 1\ncontrols:\n  enforce: true\n  telemetry: true\n"


def bootstrapped(env: str = "production", **extra: str) -> dict[str, str]:
    """flux_repo() after `flux bootstrap --path=clusters/<env>/flux`: gotk-components.yaml
    (the controllers, labelled part-of: flux), gotk-sync.yaml (the GitRepository and the
    Kustomization flux-system that applies the path, written without wait:
    fluxcd/flux2 pkg/manifestgen/sync/sync.go) and their kustomization.yaml."""
    files = flux_repo()
    for source in sorted(FLUX_BOOTSTRAP.glob("*.yaml")):
        text = source.read_text(encoding="utf-8").replace("ENVIRONMENT", env)
        files[f"clusters/{env}/flux/flux-system/{source.name}"] = text
    files.update(extra)
    return files


def test_flux_bootstrap_output_passes_enforced_controls(controls):
    assert controls(bootstrapped(), policy=ENFORCED) == set()


def test_a_workload_of_the_bootstrap_kustomization_that_is_not_flux_still_needs_a_gate(controls):
    sync = "clusters/production/flux/flux-system/gotk-sync.yaml"
    # an app Deployment dropped into the folder the flux-system Kustomization applies
    files = bootstrapped(**{"clusters/production/flux/web.yaml": DEPLOYMENT})
    assert controls(files, policy=ENFORCED) == {(sync, "control/no-health-gate")}
    assert "(Deployment)" in controls.messages[(sync, "control/no-health-gate")]


def test_a_flux_look_alike_outside_the_installation_namespace_needs_a_gate(controls):
    """part-of: flux alone is not Flux: flux install labels instance with its namespace."""
    sync = "clusters/production/flux/flux-system/gotk-sync.yaml"
    look_alike = DEPLOYMENT.replace(
        "  name: web\n",
        "  name: web\n  namespace: app\n  labels:\n"
        "    app.kubernetes.io/part-of: flux\n    app.kubernetes.io/instance: flux-system\n",
    )
    files = bootstrapped(**{"clusters/production/flux/web.yaml": look_alike})
    assert controls(files, policy=ENFORCED) == {(sync, "control/no-health-gate")}


# -- control/install-not-remediated, control/upgrade-not-rolled-back ---------------------------


def test_helm_release_without_install_remediation(controls):
    hr = HELM_RELEASE.replace("  install:\n    remediation:\n      retries: 3\n", "")
    found = controls(flux_repo(**{"clusters/production/app/helmrelease.yaml": hr}))
    assert found == {("clusters/production/app/helmrelease.yaml", "control/install-not-remediated")}


def test_install_retry_on_failure_strategy_counts(controls):
    hr = HELM_RELEASE.replace(
        "  install:\n    remediation:\n      retries: 3\n",
        "  install:\n    strategy:\n      name: RetryOnFailure\n",
    )
    assert controls(flux_repo(**{"clusters/production/app/helmrelease.yaml": hr})) == set()


SUBSTITUTING_KS = FLUX_KS + (
    "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n"
)


@pytest.mark.parametrize(
    ("retries", "found"),
    [
        ("${RETRIES:=3}", False),  # Flux applies the default: retries: 3
        ("${RETRIES:-3}", False),
        ("${RETRIES}", False),  # the value is in the ConfigMap: not known to be 0
        ("${RETRIES:=0}", True),  # the default Flux applies is 0: no retry
        ("0", True),
    ],
)
def test_remediation_from_flux_post_build_substitution(controls, retries, found):
    """fluxcd/pkg kustomize/kustomize_varsub.go SubstituteVariables runs envsubst over every
    object a Kustomization with postBuild builds, then reads the YAML again: the HelmRelease
    is applied with the substituted retry count, not the ``${...}`` text."""
    hr = HELM_RELEASE.replace("      retries: 3\n", f"      retries: {retries}\n")
    files = flux_repo(
        **{
            "clusters/production/flux/app.yaml": SUBSTITUTING_KS,
            "clusters/production/app/helmrelease.yaml": hr,
        }
    )
    path = "clusters/production/app/helmrelease.yaml"
    expected = (
        {(path, "control/install-not-remediated"), (path, "control/upgrade-not-rolled-back")}
        if found
        else set()
    )
    assert controls(files) == expected


def test_flux_kustomization_prune_and_wait_from_substitution(controls):
    """A child Kustomization's ``prune``/``wait`` written as ``${var:=default}`` are applied
    as their defaults by the parent's postBuild (kustomize_varsub.go)."""
    child = FLUX_KS.replace("  prune: true\n  wait: true\n", "  prune: ${PRUNE:=true}\n")
    child = child.replace("name: app\n", "name: child\n", 1) + "  wait: ${WAIT:=true}\n"
    files = flux_repo(
        **{
            "clusters/production/flux/app.yaml": SUBSTITUTING_KS,
            "clusters/production/app/kustomization.yaml": APP_KUSTOMIZATION + "  - child.yaml\n",
            "clusters/production/app/child.yaml": child,
        }
    )
    # the child lands in namespace app (the kustomization's namespace:), which the Alert does
    # not cover: its no-telemetry is true and not what this test is about
    telemetry = {("clusters/production/app/child.yaml", "control/no-telemetry")}
    assert controls(files) == telemetry
    off = child.replace("${PRUNE:=true}", "${PRUNE:=false}")
    files["clusters/production/app/child.yaml"] = off
    assert controls(files) == telemetry | {
        ("clusters/production/app/child.yaml", "control/prune-disabled")
    }


@pytest.mark.parametrize(
    ("upgrade", "ok"),
    [
        ("    remediation:\n      retries: 3\n", True),  # strategy defaults to rollback
        ("    remediation:\n      remediateLastFailure: true\n", True),
        ("    remediation:\n      retries: -1\n", True),  # negative: unlimited
        ("    remediation:\n      retries: 3\n      strategy: uninstall\n", False),
        ("    remediation:\n      retries: 0\n", False),
        ("    cleanupOnFail: true\n", False),
        ("    strategy:\n      name: RetryOnFailure\n    remediation:\n      retries: 3\n", False),
    ],
)
def test_upgrade_rollback(controls, upgrade, ok):
    hr = HELM_RELEASE.replace(
        "    remediation:\n      retries: 3\n      strategy: rollback\n", upgrade
    )
    assert "strategy: rollback" not in hr
    found = controls(flux_repo(**{"clusters/production/app/helmrelease.yaml": hr}))
    expected = (
        set()
        if ok
        else {("clusters/production/app/helmrelease.yaml", "control/upgrade-not-rolled-back")}
    )
    assert found == expected


def test_remediation_patched_in_by_the_flux_kustomization_counts(controls):
    """home-ops' pattern: a Flux Kustomization patches remediation into every HelmRelease."""
    bare = HELM_RELEASE.split("  install:")[0] + "  driftDetection:\n    mode: enabled\n"
    assert controls(flux_repo(**{"clusters/production/app/helmrelease.yaml": bare})) == {
        ("clusters/production/app/helmrelease.yaml", "control/install-not-remediated"),
        ("clusters/production/app/helmrelease.yaml", "control/upgrade-not-rolled-back"),
    }
    ks = FLUX_KS + (
        "  patches:\n"
        "    - patch: |-\n"
        "        apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "        kind: HelmRelease\n"
        "        metadata:\n"
        "          name: _\n"
        "        spec:\n"
        "          install:\n"
        "            remediation:\n"
        "              retries: 2\n"
        "          upgrade:\n"
        "            remediation:\n"
        "              remediateLastFailure: true\n"
        "      target:\n"
        "        kind: HelmRelease\n"
    )
    files = flux_repo(
        **{
            "clusters/production/app/helmrelease.yaml": bare,
            "clusters/production/flux/app.yaml": ks,
        }
    )
    assert controls(files) == set()


# -- control/sync-not-retried ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "ok"),
    [
        ("    retry:\n      limit: 5\n", True),
        ("    retry:\n      limit: -1\n", True),  # negative: unlimited
        ("    retry:\n      limit: 0\n", False),  # "If set to 0, no retries will be performed"
        ("", False),
    ],
)
def test_argo_sync_retry(controls, retry, ok):
    app = ARGO_APP.split("    retry:")[0] + retry
    found = controls(argo_repo(**{"clusters/production/argocd/web.yaml": app}))
    expected = (
        set() if ok else {("clusters/production/argocd/web.yaml", "control/sync-not-retried")}
    )
    assert found == expected


def test_application_set_template_counts_as_an_application(controls):
    appset = (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: web\n"
        "  namespace: argocd\nspec:\n  generators:\n    - list:\n        elements: [{env: a}]\n"
        "  template:\n    metadata:\n      name: 'web-{{env}}'\n    spec:\n      project: default\n"
        "      source:\n        repoURL: https://example.com/repo.git\n        path: apps/web\n"
        "      destination:\n        server: https://kubernetes.default.svc\n"
        "      syncPolicy:\n        automated:\n          prune: true\n          selfHeal: true\n"
    )
    found = controls(argo_repo(**{"clusters/production/argocd/web.yaml": appset}))
    assert found == {("clusters/production/argocd/web.yaml", "control/sync-not-retried")}
    message = controls.messages[("clusters/production/argocd/web.yaml", "control/sync-not-retried")]
    assert "ApplicationSet argocd/web (template) in production" in message


APPSET_PATCHED = (
    "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: web\n"
    "  namespace: argocd\nspec:\n  goTemplate: true\n  generators:\n    - list:\n"
    "        elements: [{name: web, autoSync: true, selfHeal: true}]\n"
    "  template:\n    metadata:\n      name: '{{ .name }}'\n    spec:\n      project: default\n"
    "      source:\n        repoURL: https://example.com/repo.git\n        path: apps/web\n"
    "      destination:\n        server: https://kubernetes.default.svc\n"
    "  templatePatch: |\n"
)
ALL_ARGO = {"control/drift-not-reconciled", "control/prune-disabled", "control/sync-not-retried"}


@pytest.mark.parametrize(
    "patch",
    [
        # the Argo CD docs' own use of templatePatch: automation for some elements only
        "    {{- if .autoSync }}\n    spec:\n      syncPolicy:\n        automated:\n"
        "          prune: true\n          selfHeal: true\n        retry:\n          limit: 5\n"
        "    {{- end }}\n",
        # values only each generator knows
        "    spec:\n      syncPolicy:\n        automated:\n          prune: {{ .prune }}\n"
        "          selfHeal: {{ .selfHeal }}\n        retry: {{ toJson .retry }}\n",
        "    spec:\n      syncPolicy: {{ toJson .syncPolicy }}\n",
    ],
    ids=["conditional", "templated-values", "templated-whole"],
)
def test_application_set_template_patch_sets_the_sync_policy(controls, patch):
    # argo-cd applicationset/controllers/template/patch.go applyTemplatePatch: the rendered
    # templatePatch is a strategic merge patch over the Application the template makes
    found = controls(argo_repo(**{"clusters/production/argocd/web.yaml": APPSET_PATCHED + patch}))
    assert found == set()


def test_a_template_patch_writing_the_whole_sync_policy_still_needs_telemetry(controls):
    # the patch sets syncPolicy (argo-cd applicationset/controllers/template/patch.go), not the
    # notifications: a subscription to an undefined trigger still reaches no one
    patched = APPSET_PATCHED + "    spec:\n      syncPolicy: {{ toJson .syncPolicy }}\n"
    cm = NOTIFICATIONS_CM.replace("on-sync-failed,", "on-sync-fail,")
    files = argo_repo(
        **{
            "clusters/production/argocd/web.yaml": patched,
            "bootstrap/argocd-notifications-cm.yaml": cm,
        }
    )
    assert controls(files) == {("clusters/production/argocd/web.yaml", "control/no-telemetry")}
    files["bootstrap/argocd-notifications-cm.yaml"] = NOTIFICATIONS_CM
    assert controls(files) == set()


@pytest.mark.parametrize(
    ("patch", "rules"),
    [
        ("    metadata:\n      labels:\n        team: web\n", ALL_ARGO),
        (
            "    spec:\n      syncPolicy:\n        automated:\n          prune: true\n"
            "          selfHeal: false\n",
            {"control/drift-not-reconciled", "control/sync-not-retried"},
        ),
        ("    spec: {{ broken\n", ALL_ARGO),  # no patch Argo CD could apply
        # hostile: 3,000 levels deep (yaml.safe_load raised RecursionError: an internal
        # error, exit 2), an alias bomb, 100 KB of unclosed actions (quadratic to scan)
        ("    spec: " + "[" * 3000 + "\n", ALL_ARGO),
        ("    a: &a [x, x]\n    b: &b [*a, *a]\n    c: &c [*b, *b]\n    d: [*c, *c]\n", ALL_ARGO),
        ("    spec: " + "{{ " * 30_000 + "\n", ALL_ARGO),
    ],
    ids=["unrelated", "self-heal-off", "unreadable", "deep", "aliases", "unclosed"],
)
def test_a_template_patch_that_sets_no_control_still_misses_it(controls, patch, rules):
    found = controls(argo_repo(**{"clusters/production/argocd/web.yaml": APPSET_PATCHED + patch}))
    assert found == {("clusters/production/argocd/web.yaml", rule) for rule in rules}


# -- control/no-telemetry --------------------------------------------------------------------


def test_alert_scoped_to_the_first_apps_namespace_misses_the_second(controls):
    files = flux_repo()
    files["clusters/production/app/kustomization.yaml"] = APP_KUSTOMIZATION + "  - other.yaml\n"
    files["clusters/production/app/other.yaml"] = HELM_RELEASE.replace(
        "  name: web\n", "  name: other\n  namespace: team-b\n", 1
    )
    found = controls(files)
    # the kustomization's namespace (app) wins over the file's; a second kustomization then
    assert found == set()
    files["clusters/production/flux/other.yaml"] = FLUX_KS.replace("name: app", "name: b").replace(
        "./clusters/production/app", "./clusters/production/b"
    )
    files["clusters/production/b/helmrelease.yaml"] = HELM_RELEASE.replace(
        "  name: web\n", "  name: web\n  namespace: team-b\n", 1
    )
    found = controls(files)
    assert found == {("clusters/production/b/helmrelease.yaml", "control/no-telemetry")}
    message = controls.messages[("clusters/production/b/helmrelease.yaml", "control/no-telemetry")]
    assert "{kind: HelmRelease, name: '*', namespace: team-b}" in message


def test_alert_needs_a_provider_that_exists(controls):
    alerts = ALERTS.replace("    name: slack\n  eventSeverity", "    name: teams\n  eventSeverity")
    found = controls(flux_repo(**{"clusters/production/flux/alerts.yaml": alerts}))
    assert found == {
        ("clusters/production/flux/app.yaml", "control/no-telemetry"),
        ("clusters/production/app/helmrelease.yaml", "control/no-telemetry"),
    }
    message = controls.messages[("clusters/production/flux/app.yaml", "control/no-telemetry")]
    assert "Provider 'teams' is not in the repository" in message


def test_a_suspended_alert_reaches_no_one(controls):
    alerts = ALERTS.replace("  eventSeverity: error\n", "  eventSeverity: error\n  suspend: true\n")
    found = controls(flux_repo(**{"clusters/production/flux/alerts.yaml": alerts}))
    assert ("clusters/production/flux/app.yaml", "control/no-telemetry") in found


def test_telemetry_auto_is_not_required_where_the_repository_sends_none(controls):
    files = flux_repo()
    del files["clusters/production/flux/alerts.yaml"]
    assert controls(files) == set()  # alerting may live outside the repository
    policy = "version: 1\ncontrols:\n  telemetry: true\n"
    assert controls(files, policy=policy) == {
        ("clusters/production/flux/app.yaml", "control/no-telemetry"),
        ("clusters/production/app/helmrelease.yaml", "control/no-telemetry"),
    }


def test_a_prometheus_rule_on_flux_metrics_is_telemetry(controls):
    files = flux_repo()
    del files["clusters/production/flux/alerts.yaml"]
    files["clusters/production/flux/rules.yaml"] = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: flux\n"
        "spec:\n  groups:\n    - name: flux\n      rules:\n        - alert: FluxNotReady\n"
        '          expr: gotk_reconcile_condition{type="Ready",status="False"} == 1\n'
    )
    assert controls(files, policy="version: 1\ncontrols:\n  telemetry: true\n") == set()


def test_argo_subscription_to_an_undefined_trigger(controls):
    cm = NOTIFICATIONS_CM.replace("on-sync-failed,", "on-sync-fail,")
    found = controls(argo_repo(**{"bootstrap/argocd-notifications-cm.yaml": cm}))
    assert found == {("clusters/production/argocd/web.yaml", "control/no-telemetry")}
    message = controls.messages[("clusters/production/argocd/web.yaml", "control/no-telemetry")]
    assert "on-sync-fail is not defined" in message and "sync failures" in message


def test_argo_subscribe_annotation_with_catalog_triggers(controls):
    """No argocd-notifications-cm in the repository: the catalog's triggers are assumed."""
    annotated = ARGO_APP.replace(
        "  namespace: argocd\n",
        "  namespace: argocd\n  annotations:\n"
        "    notifications.argoproj.io/subscribe.on-sync-failed.slack: alerts\n",
        1,
    )
    files = {
        "clusters/production/argocd/web.yaml": annotated,
        "apps/web/deployment.yaml": DEPLOYMENT,
    }
    found = controls(files)
    assert found == {("clusters/production/argocd/web.yaml", "control/no-telemetry")}
    assert (
        "degradation reaches no one"
        in controls.messages[("clusters/production/argocd/web.yaml", "control/no-telemetry")]
    )
    both = annotated.replace(
        "slack: alerts\n",
        "slack: alerts\n    notifications.argoproj.io/subscribe.on-health-degraded.slack: alerts\n",
    )
    assert controls({**files, "clusters/production/argocd/web.yaml": both}) == set()


def test_subscription_selector_must_match_the_application(controls):
    cm = NOTIFICATIONS_CM.replace(
        "    - recipients: [slack:alerts]\n",
        "    - recipients: [slack:alerts]\n      selector: team=a\n",
    )
    found = controls(argo_repo(**{"bootstrap/argocd-notifications-cm.yaml": cm}))
    assert found == {("clusters/production/argocd/web.yaml", "control/no-telemetry")}
    labelled = ARGO_APP.replace(
        "  namespace: argocd\n", "  namespace: argocd\n  labels:\n    team: a\n", 1
    )
    files = argo_repo(
        **{
            "bootstrap/argocd-notifications-cm.yaml": cm,
            "clusters/production/argocd/web.yaml": labelled,
        }
    )
    assert controls(files) == set()


# -- control/no-rollback-analysis ------------------------------------------------------------

PROGRESSIVE = "version: 1\ncontrols:\n  progressive_delivery: true\n"


def test_progressive_delivery_wants_a_canary_for_each_deployment(controls):
    found = controls(flux_repo(), policy=PROGRESSIVE)
    assert found == {("clusters/production/app/deployment.yaml", "control/no-rollback-analysis")}
    canary = (
        "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: web\n  namespace: app\n"
        "spec:\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n"
        "  analysis:\n    interval: 1m\n    threshold: 5\n"
    )
    files = flux_repo(**{"clusters/production/app/canary.yaml": canary})
    assert controls(files, policy=PROGRESSIVE) == set()
    no_analysis = canary.split("  analysis:")[0]
    files = flux_repo(**{"clusters/production/app/canary.yaml": no_analysis})
    assert controls(files, policy=PROGRESSIVE) == {
        ("clusters/production/app/deployment.yaml", "control/no-rollback-analysis")
    }


def test_a_rollout_needs_an_analysis(controls):
    rollout = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec:\n"
        "  strategy:\n    canary:\n      steps:\n        - setWeight: 20\n"
    )
    files = argo_repo(**{"apps/web/deployment.yaml": rollout})
    assert controls(files, policy=PROGRESSIVE) == {
        ("apps/web/deployment.yaml", "control/no-rollback-analysis")
    }
    analysed = (
        rollout + "        - analysis:\n            templates:\n              - templateName: ok\n"
    )
    files = argo_repo(**{"apps/web/deployment.yaml": analysed})
    assert controls(files, policy=PROGRESSIVE) == set()


# -- where the controls apply ----------------------------------------------------------------


def test_by_default_only_production_like_environments_are_held_to_the_controls(controls):
    ks = FLUX_KS.replace("prune: true", "prune: false")
    staging = {
        k.replace("production", "staging"): v.replace("production", "staging")
        for k, v in flux_repo(**{"clusters/production/flux/app.yaml": ks}).items()
    }
    assert controls(staging) == set()
    assert controls(staging, policy="version: 1\ncontrols:\n  enforce: true\n") == {
        ("clusters/staging/flux/app.yaml", "control/prune-disabled")
    }
    prod_eu = {
        k.replace("production", "prod-eu"): v.replace("production", "prod-eu")
        for k, v in staging.items()
    }
    prod_eu = {
        k.replace("staging", "prod-eu"): v.replace("staging", "prod-eu") for k, v in staging.items()
    }
    assert controls(prod_eu) == {("clusters/prod-eu/flux/app.yaml", "control/prune-disabled")}


def test_enforce_false_in_an_environment_turns_the_controls_off(controls):
    ks = FLUX_KS.replace("prune: true", "prune: false")
    policy = "version: 1\nenvironments:\n  production:\n    controls:\n      enforce: false\n"
    files = flux_repo(**{"clusters/production/flux/app.yaml": ks})
    assert controls(files, policy=policy) == set()


def test_a_base_outside_environments_runs_where_its_flux_kustomization_runs(controls):
    """The HelmRelease in apps/ is applied by a Kustomization in clusters/production/."""
    hr = HELM_RELEASE.replace("  install:\n    remediation:\n      retries: 3\n", "")
    files = flux_repo()
    del files["clusters/production/app/helmrelease.yaml"]
    files["clusters/production/app/kustomization.yaml"] = APP_KUSTOMIZATION.replace(
        "  - helmrelease.yaml\n", "  - ../../../apps/web\n"
    )
    files["apps/web/kustomization.yaml"] = "resources:\n  - helmrelease.yaml\n"
    files["apps/web/helmrelease.yaml"] = hr
    found = controls(files)
    assert found == {("apps/web/helmrelease.yaml", "control/install-not-remediated")}
    assert (
        " in production: "
        in controls.messages[("apps/web/helmrelease.yaml", "control/install-not-remediated")]
    )


def test_a_kustomize_patch_file_is_not_a_controller(controls):
    files = flux_repo()
    files["clusters/production/app/kustomization.yaml"] = APP_KUSTOMIZATION + (
        "patches:\n  - path: values-patch.yaml\n"
    )
    files["clusters/production/app/values-patch.yaml"] = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
        "spec:\n  values:\n    replicas: 2\n"
    )
    assert controls(files) == set()


def test_a_one_file_run_reports_what_the_given_file_changes(cli, make_repo, monkeypatch):
    """Narrowing the Alert (the only file given) reports the object it no longer covers."""
    alerts = ALERTS.replace("      namespace: app\n", "      namespace: other\n")
    root = make_repo(flux_repo(**{"clusters/production/flux/alerts.yaml": alerts}))
    monkeypatch.chdir(root)
    code, out, err = cli("check-controls", "clusters/production/flux/alerts.yaml")
    assert (code, err) == (1, "")
    assert out.startswith("clusters/production/app/helmrelease.yaml:4:9: control/no-telemetry ")
    code, out, _ = cli("check-controls", "clusters/production/app/deployment.yaml")
    assert (code, out) == (0, "")


def test_files_without_controllers_are_not_read(cli, make_repo, monkeypatch):
    root = make_repo({"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"})
    monkeypatch.chdir(root)
    assert cli("check-controls", "a.yaml") == (0, "", "")


def test_bad_policy_value_is_a_usage_error(cli, make_repo, monkeypatch):
    root = make_repo(
        {**flux_repo(), "policies/gitops-guard.yaml": "version: 1\ncontrols:\n  prune: maybe\n"}
    )
    monkeypatch.chdir(root)
    code, out, err = cli("check-controls", "clusters/production/flux/app.yaml")
    assert code == 2 and out == ""
    assert "controls.prune" in err and err.count("\n") == 1


def test_environments_are_found_as_every_check_finds_them(controls):
    """A folder named like a policy environment (Flux's apps/production/ layout) counts."""
    hr = HELM_RELEASE.replace("  install:\n    remediation:\n      retries: 3\n", "")
    files = {"apps/production/web/helmrelease.yaml": hr}
    assert controls(files) == {
        ("apps/production/web/helmrelease.yaml", "control/install-not-remediated")
    }
    assert controls({"apps/preview/web/helmrelease.yaml": hr}) == set()

"""The controls a new repository starts with, and the optional Prometheus alert rules.

Every template combination must pass check-controls under its own policy (which enforces the
controls in every environment, telemetry included): tests/test_template.py runs every check on
every combination. Here: the policy really asks for that, breaking a control in a generated
repository is caught, and the ``monitoring`` answer adds alert rules that Prometheus' own
``promtool check rules`` accepts and that check-controls counts as telemetry.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import git
from test_template import APP, generate


def commit(repo: Path) -> Path:
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def controls(cli, monkeypatch, repo: Path) -> tuple[int, set[tuple[str, str]]]:
    monkeypatch.chdir(repo)
    files = [f for f in git(repo, "ls-files").stdout.splitlines() if f.endswith((".yaml", ".yml"))]
    code, out, err = cli("check-controls", "--format", "json", *files)
    assert err == ""
    return code, {
        (f["path"], f["rule"])
        for f in json.loads(out)["findings"]
        if f["rule"].startswith("control/")
    }


def test_the_generated_policy_holds_every_environment_to_the_controls(tmp_path):
    from gitops_guard.core.policy import load_policy

    repo = generate(tmp_path)
    policy = load_policy(repo / "policies/gitops-guard.yaml")
    for env in ("staging", "production"):
        section = policy.section("controls", env)
        assert section["enforce"] is True and section["telemetry"] is True


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_breaking_a_control_in_staging_is_caught(tmp_path, cli, monkeypatch, engine):
    repo = generate(tmp_path, gitops_engine=engine, app_format="helm")
    if engine == "argocd":
        target = repo / f"clusters/staging/argocd/{APP}.yaml"
        text = target.read_text().replace("      prune: true\n", "")
        rule = "control/prune-disabled"
    else:
        target = repo / f"clusters/staging/{APP}/helmrelease.yaml"
        text = target.read_text().replace("    mode: enabled", "    mode: disabled")
        rule = "control/drift-not-reconciled"
    target.write_text(text)
    commit(repo)
    code, found = controls(cli, monkeypatch, repo)
    assert (code, found) == (1, {(str(target.relative_to(repo)), rule)})


def test_without_monitoring_there_is_no_monitoring_folder(tmp_path):
    assert not (generate(tmp_path) / "monitoring").exists()


def rule_groups(repo: Path) -> list[dict]:
    (rule,) = [
        d for d in yaml.safe_load_all((repo / "monitoring/gitops-alerts.yaml").read_text()) if d
    ]
    assert rule["kind"] == "PrometheusRule"
    return rule["spec"]["groups"]


@pytest.mark.parametrize(
    ("engine", "metrics"),
    [
        ("argocd", ["argocd_app_info", "argocd_app_sync_total", "sync_status", "health_status"]),
        ("flux", ["gotk_reconcile_condition"]),
    ],
)
def test_monitoring_adds_alert_rules_on_the_engines_metrics(tmp_path, engine, metrics):
    repo = generate(tmp_path, gitops_engine=engine, monitoring="prometheus")
    exprs = " ".join(r["expr"] for g in rule_groups(repo) for r in g["rules"])
    for metric in metrics:
        assert metric in exprs
    rendered = (
        subprocess.run(
            ["kubectl", "kustomize", str(repo / "monitoring")], capture_output=True, text=True
        )
        if shutil.which("kubectl")
        else None
    )
    if rendered is not None:
        assert rendered.returncode == 0, rendered.stderr
    summaries = [r["annotations"]["summary"] for g in rule_groups(repo) for r in g["rules"]]
    assert all("{{ $labels." in s for s in summaries)  # Prometheus templates survive Jinja


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not found (Debian/Ubuntu: apt-get install prometheus)",
)
@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_promtool_accepts_the_alert_rules(tmp_path, engine):
    repo = generate(tmp_path, gitops_engine=engine, monitoring="prometheus")
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": rule_groups(repo)}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not found")
def test_promtool_rejects_a_broken_rule(tmp_path):
    """The promtool test can fail: a rule with an unparsable expression is refused."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "max by ("}]}]})
    )
    result = subprocess.run(
        ["promtool", "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert result.returncode != 0


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_the_alert_rules_are_telemetry_without_the_notifications(
    tmp_path, cli, monkeypatch, engine
):
    repo = generate(tmp_path, gitops_engine=engine, monitoring="prometheus")
    if engine == "argocd":
        (repo / "bootstrap/argocd/argocd-notifications-cm.yaml").unlink()
        (repo / "bootstrap/argocd/kustomization.yaml").write_text(
            "resources:\n  - argocd-cm.yaml\n"
        )
    else:
        for env in ("staging", "production"):
            (repo / f"clusters/{env}/flux/notifications.yaml").unlink()
    commit(repo)
    assert controls(cli, monkeypatch, repo) == (0, set())
    shutil.rmtree(repo / "monitoring")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no monitoring")
    code, found = controls(cli, monkeypatch, repo)
    assert code == 1 and {rule for _, rule in found} == {"control/no-telemetry"}


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_a_repository_with_monitoring_passes_its_own_checks(tmp_path, engine):
    from gitops_guard.cli import main
    from gitops_guard.scaffold import demo

    repo = commit(generate(tmp_path, gitops_engine=engine, monitoring="prometheus"))
    for check in demo.CHECKS:
        outcome = demo.run_check(repo, check, main)
        assert outcome.code == 0, f"{check.command}: {outcome.out}{outcome.err}"
    if shutil.which("kubectl"):
        manifests = demo.Check("check-manifests", "gitops_guard.checks.manifests.check", "yaml")
        if demo.available(manifests):
            outcome = demo.run_check(repo, manifests, main)
            assert outcome.code == 0, outcome.out + outcome.err

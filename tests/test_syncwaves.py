"""check-sync-waves end to end through ``main``: every example folder, the contract, pre-commit.

Each folder under ``tests/data/check-sync-waves/{good,bad}/`` is a small repository (often a
multi-file application). A bad example marks every expected finding with a comment
``# expect: RULE[, RULE]`` on the line the finding points at; the findings must be exactly those.
A good example must produce none.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import CORPUS, DATA, hooks_config
from gitops_guard.core.rules import RULES

CASES = DATA / "check-sync-waves"
EXPECT = re.compile(r"#\s*expect:\s*(.+)$")


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """Each test gets its own listing / kustomization-graph cache (and exercises it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (CASES / kind).iterdir() if p.is_dir())


def _run(cli, case: Path, *extra: str) -> tuple[int, list[dict]]:
    policy = case / "policies" / "gitops-guard.yaml"
    args = ["check-sync-waves", "--format", "json", "--root", str(case)]
    args += ["--policy", str(policy)] if policy.exists() else []
    code, out, err = cli(*args, *extra, str(case))
    assert err == ""
    return code, json.loads(out)["findings"]


def _expected(case: Path) -> set[tuple[str, int, str]]:
    expected = set()
    for path in case.rglob("*.yaml"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = EXPECT.search(line)
            if match:
                for rule in match.group(1).split(","):
                    expected.add((str(path), number, rule.strip()))
    return expected


@pytest.mark.parametrize("case", _cases("bad"), ids=lambda p: p.name)
def test_bad_examples_report_exactly_the_marked_findings(cli, chdir, case):
    code, findings = _run(cli, case)
    got = {(str(Path(f["path"]).resolve()), f["line"], f["rule"]) for f in findings}
    want = {(str(Path(p).resolve()), line, rule) for p, line, rule in _expected(case)}
    assert got == want
    errors = [f for f in findings if f["severity"] == "error"]
    assert code == (1 if errors else 0)


@pytest.mark.parametrize("case", _cases("good"), ids=lambda p: p.name)
def test_good_examples_are_clean(cli, chdir, case):
    code, findings = _run(cli, case)
    assert findings == []
    assert code == 0


def test_every_sync_rule_has_a_bad_example():
    marked = {rule for case in _cases("bad") for _, _, rule in _expected(case)}
    sync_rules = {r for r in RULES if r.startswith("sync/")}
    # the one-file-run note needs a file over 1 MB: made at test time in test_relevance.py
    assert sync_rules - marked == {"sync/context-not-read"}


def test_chain_is_spelled_out(cli, chdir):
    _, findings = _run(cli, CASES / "bad" / "reference-order")
    messages = " ".join(f["message"] for f in findings)
    assert "Deployment web (Sync wave 0)" in messages
    assert "--serviceAccountName at" in messages
    assert "ConfigMap web-config (Sync wave 2 from commonAnnotations at" in messages
    assert "Job migrate (PreSync wave 0)" in messages
    assert "SealedSecret db (Sync wave 0" in messages  # the controller makes Secret db


def test_only_the_changed_file_still_sees_its_whole_application(cli, chdir):
    """pre-commit passes the changed file; the ConfigMap and SA come from the repository."""
    case = CASES / "bad" / "reference-order"
    code, out, _ = cli(
        "check-sync-waves", "--root", str(case), str(case / "app" / "config" / "configmap.yaml")
    )
    assert code == 1
    assert "deployment.yaml:6:35: sync/reference-order" in out
    assert "ConfigMap web-config" in out
    assert "ServiceAccount" not in out  # that violation involves no changed file


def test_an_unrelated_changed_file_reports_nothing_about_other_applications(cli, chdir):
    case = CASES / "bad" / "reference-order"
    (chdir / "other").mkdir()
    lone = chdir / "other" / "cm.yaml"
    lone.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    code, out, _ = cli("check-sync-waves", "--root", str(case), str(lone))
    assert (code, out) == (0, "")


def test_suppression_comment(cli, chdir):
    target = chdir / "cm.yaml"
    target.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n"
        "    # gitops-guard: ignore[sync/wave-not-integer]\n"
        '    argocd.argoproj.io/sync-wave: "1.5"\n'
    )
    assert cli("check-sync-waves", str(target))[:2] == (0, "")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("key: [unclosed\n", "yaml/syntax"),
        ("a:\n\tb: 1\n", "yaml/tab"),
        ("a: 1\na: 2\n", "yaml/duplicate-key"),
        ("", "yaml/empty"),
    ],
)
def test_bad_input_is_a_finding_not_a_traceback(cli, chdir, text, rule):
    target = chdir / "bad.yaml"
    target.write_text(text)
    _code, out, err = cli("check-sync-waves", str(target))
    assert "bad.yaml:" in out and rule in out
    assert err == ""


def test_helm_template_is_skipped(cli, chdir):
    target = chdir / "templates" / "job.yaml"
    target.parent.mkdir()
    target.write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  annotations:\n    argocd.argoproj.io/sync-wave: {{ .Values.wave }}\n"
    )
    code, out, _ = cli("check-sync-waves", str(target))
    assert code == 0
    assert "yaml/helm-template" in out and "sync/" not in out


def test_usage_errors_exit_2(cli, chdir):
    assert cli("check-sync-waves", "missing.yaml")[0] == 2
    assert cli("check-sync-waves", "--bogus", ".")[0] == 2
    code, _, err = cli("check-sync-waves", "--root", "nowhere", ".")
    assert code == 2 and "--root nowhere: not a folder" in err
    policy = chdir / "policy.yaml"
    policy.write_text("version: 1\nsync_waves:\n  order: [{before: Namespace}]\n")
    code, _, err = cli("check-sync-waves", "--policy", str(policy), str(policy))
    assert code == 2 and "sync_waves.order" in err and err[-1] == "\n" and err.count("\n") == 1


def _reviewed_corpus_findings() -> list[str]:
    text = (DATA / "corpus" / "check-sync-waves.txt").read_text(encoding="utf-8")
    return sorted(line for line in text.splitlines() if line and not line.startswith("#"))


def test_corpus_reports_exactly_the_reviewed_findings(cli):
    """Every finding in tests/data/corpus/check-sync-waves.txt was read and is a real ordering
    bug; a new one (a false positive) or a lost one fails, and so does another exit code."""
    if not CORPUS.is_dir():
        pytest.skip("real-world corpus not present")
    code, out, err = cli("check-sync-waves", "--format", "json", str(CORPUS))
    assert err == ""
    got = sorted(
        f"{os.path.relpath(f['path'], CORPUS).replace(os.sep, '/')}:{f['line']}:{f['column']} "
        f"{f['rule']} | {f['message'].split(': ')[0]}"
        for f in json.loads(out)["findings"]
    )
    assert got == _reviewed_corpus_findings()
    assert code == (1 if got else 0)


def test_corpus_one_file_runs_find_the_reviewed_findings_of_that_file(cli, monkeypatch):
    """What pre-commit does on a commit: only the changed file given, its application read
    from the repository (only the files that name something it names, relevance.py). Every
    corpus file with an Argo CD annotation, alone, reports exactly its reviewed findings."""
    if not CORPUS.is_dir():
        pytest.skip("real-world corpus not present")
    monkeypatch.chdir(CORPUS)
    by_path: dict[str, list[str]] = {}
    for line in _reviewed_corpus_findings():
        by_path.setdefault(line.split(":")[0], []).append(line)
    annotated = sorted(
        str(p.relative_to(CORPUS)).replace(os.sep, "/")
        for p in CORPUS.rglob("*.yaml")
        if "argocd.argoproj.io/" in p.read_text(encoding="utf-8", errors="replace")
    )
    assert len(annotated) > 20  # the corpus really holds waves, hooks and sync options
    for path in sorted({*by_path, *annotated[::4]}):
        code, out, err = cli("check-sync-waves", "--format", "json", "--root", str(CORPUS), path)
        want = by_path.get(path, [])
        assert (code, err) == (1 if want else 0, ""), path
        got = [
            f"{f['path']}:{f['line']}:{f['column']} {f['rule']} | {f['message'].split(': ')[0]}"
            for f in json.loads(out)["findings"]
        ]
        assert sorted(g for g in got if g.startswith(path + ":")) == want


@pytest.mark.e2e
def test_through_real_pre_commit(hooks_repo, run_pre_commit, make_repo):
    bad = (CASES / "bad" / "reference-order" / "app").rglob("*.yaml")
    files = {str(p.relative_to(CASES / "bad" / "reference-order")): p.read_text() for p in bad}
    files[".pre-commit-config.yaml"] = hooks_config(hooks_repo, "check-sync-waves")
    repo = make_repo(files)
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/deployment.yaml:6:35: sync/reference-order" in result.stdout
    assert "app/migrate-job.yaml:4:9: sync/reference-order" in result.stdout
    # fix the waves in the changed files only: the hook passes
    (repo / "app" / "deployment.yaml").write_text(
        files["app/deployment.yaml"].replace('"0" # expect: sync/reference-order', '"6"')
    )
    (repo / "app" / "migrate-job.yaml").write_text(
        files["app/migrate-job.yaml"].replace("PreSync", "PostSync")
    )
    result = run_pre_commit(repo, "run", "--files", "app/deployment.yaml", "app/migrate-job.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_policy_section_per_environment(cli, chdir):
    (chdir / "policies").mkdir()
    (chdir / "policies" / "gitops-guard.yaml").write_text(
        "version: 1\nenvironments:\n  production:\n    sync_waves:\n"
        "      require_wave: [Namespace]\n"
    )
    for env in ("staging", "production"):
        folder = chdir / "clusters" / env / "shop"
        folder.mkdir(parents=True)
        (folder / "kustomization.yaml").write_text("resources: [namespace.yaml]\n")
        (folder / "namespace.yaml").write_text(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
        )
    code, out, _ = cli("check-sync-waves", "--root", str(chdir), "clusters")
    assert code == 1
    assert out.splitlines() == [
        "clusters/production/shop/namespace.yaml:4:9: sync/wave-required Namespace shop has no "
        "argocd.argoproj.io/sync-wave annotation, and the policy (sync_waves.require_wave) wants "
        "an explicit wave on every Namespace"
    ]


def test_a_component_without_api_version_is_checked_as_a_kustomization():
    # kustomize accepts `kind: Component` in a kustomization.yaml with no apiVersion
    from gitops_guard.checks.syncwaves.check import check_annotations
    from gitops_guard.core.documents import load_text

    text = "kind: Component\ncommonAnnotations:\n  argocd.argoproj.io/sync-wave: soon\n"
    found = check_annotations(load_text("db/kustomization.yaml", text))
    assert [(f.line, f.rule) for f in found] == [(3, "sync/wave-not-integer")]


# -- an Application path that leaves the repository (issue 16) -----------------------------

OUTSIDE_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: escape
spec:
  source:
    repoURL: https://example.com/gitops.git
    path: {path}
    directory:
      recurse: true
"""
BAD_WAVE_CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n"
    "    argocd.argoproj.io/sync-wave: one\n"
)


@pytest.mark.parametrize("path", ["../outside", "/", "apps/../../outside", "link-out"])
def test_an_application_path_outside_the_repository_is_a_finding_and_never_walked(
    path, tmp_path, cli, monkeypatch
):
    """argo-cd util/app/path/path.go (Path) refuses an absolute path and one outside the
    root; with ``/`` and recurse the hook walked and parsed the whole filesystem."""
    from gitops_guard.repo import repository

    root = tmp_path / "repo"
    (root / "argocd").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "cm.yaml").write_text(BAD_WAVE_CM)
    (root / "link-out").symlink_to(tmp_path / "outside")
    (root / "argocd" / "app.yaml").write_text(OUTSIDE_APP.format(path=path))
    walked: list[str] = []
    real_walk = os.walk

    def spy(top, *args, **kwargs):
        walked.append(str(top))
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(repository.os, "walk", spy)
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "argocd/app.yaml"))
    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith(f"{root / 'argocd/app.yaml'}:8:11: sync/app-path-outside-repository ")
    assert ("is absolute" if path == "/" else "leaves the repository") in line
    assert walked == [] and "cm.yaml" not in out


def test_an_application_path_inside_the_repository_is_read(tmp_path, cli):
    root = tmp_path / "repo"
    (root / "argocd").mkdir(parents=True)
    (root / "apps" / "x").mkdir(parents=True)
    (root / "apps" / "x" / "cm.yaml").write_text(BAD_WAVE_CM.replace("one", '"1"'))
    (root / "argocd" / "app.yaml").write_text(OUTSIDE_APP.format(path="apps/x"))
    code, out, _ = cli("check-sync-waves", "--root", str(root), str(root / "argocd/app.yaml"))
    assert "app-path-outside-repository" not in out and code == 0, out


# -- outside a git work tree: the root holds what the kustomizations list (issue 16) ------

SA_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
spec:
  template:
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: registry.example.com/web:v1.0.0
"""
SA = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n"


def _overlay_tree(top: Path, base_entry: str = "../../../apps/x") -> Path:
    (top / "apps" / "x").mkdir(parents=True)
    (top / "apps" / "x" / "deployment.yaml").write_text(SA_DEPLOYMENT)
    (top / "apps" / "x" / "account.yaml").write_text(SA)
    (top / "apps" / "x" / "kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\n  - account.yaml\n"
    )
    overlay = top / "clusters" / "prod" / "x" / "kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text(f"resources:\n  - {base_entry}\n")
    return overlay


def test_outside_git_a_one_overlay_run_reads_the_base_it_lists(tmp_path, cli, monkeypatch):
    """No git work tree: the root was the overlay's folder, its base outside, the error missed."""
    overlay = _overlay_tree(tmp_path / "gitops")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("check-sync-waves", str(overlay.relative_to(tmp_path)))
    assert code == 1 and "sync/reference-order" in out, out


def test_what_a_kustomization_lists_outside_the_root_is_said_to_be_unread(
    tmp_path, cli, monkeypatch
):
    overlay = _overlay_tree(tmp_path / "gitops", "../" * 25 + "elsewhere/x")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("check-sync-waves", str(overlay.relative_to(tmp_path)))
    assert code == 0
    (line,) = out.splitlines()
    assert "sync/context-not-read" in line and "not checked" in line
    assert "elsewhere/x" in line


def test_in_a_git_work_tree_a_base_outside_it_is_said_to_be_unread(make_repo, cli, monkeypatch):
    repo = make_repo(
        {"clusters/prod/x/kustomization.yaml": "resources:\n  - ../../../../shared/x\n"}
    )
    monkeypatch.chdir(repo)
    code, out, _ = cli("check-sync-waves", "clusters/prod/x/kustomization.yaml")
    assert code == 0 and "sync/context-not-read" in out and "../../../../shared/x" in out


CHART_APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: {{ .Release.Name }}-clusters
spec:
  generators:
    - git:
        repoURL: https://example.com/repo.git
        revision: HEAD
        files: [{path: 'clusters/*/config.json'}]
  template:
    metadata:
      name: '{{ "{{path.basename}}" }}'
      annotations:
        argocd.argoproj.io/sync-wave: '{{ "{{ syncOrder }}" }}'
    spec:
      project: default
      source: {repoURL: 'https://example.com/repo.git', targetRevision: HEAD, path: apps}
      destination: {server: 'https://kubernetes.default.svc', namespace: apps}
"""
CHART_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ .Release.Name }}-web
  annotations:
    argocd.argoproj.io/sync-wave: {{ .Values.wave | quote }}
spec:
  project: default
  source: {repoURL: 'https://example.com/repo.git', targetRevision: HEAD, path: web}
  destination: {server: 'https://kubernetes.default.svc', namespace: web}
"""


def test_helm_templated_applications_are_judged_as_rendered(make_repo, cli, monkeypatch):
    """A chart's templates are Go templates, skipped by check-sync-waves (yaml/helm-template);
    check-manifests renders them and judges the output like any file: an ApplicationSet that
    Helm renders still holds its generator parameters (written as {{ "{{x}}" }}), which the
    ApplicationSet controller substitutes, so they are not literals there either."""
    from gitops_guard.render import engines

    if engines.helm() is None:
        pytest.skip("helm is not installed (run `.venv/bin/python .ci/install-helm`)")
    files = {
        "charts/apps/Chart.yaml": "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
        "charts/apps/values.yaml": "wave: 'first'\n",
        "charts/apps/templates/appset.yaml": CHART_APPSET,
        "charts/apps/templates/app.yaml": CHART_APP,
    }
    repo = make_repo(files)
    monkeypatch.chdir(repo)
    templates = ["charts/apps/templates/appset.yaml", "charts/apps/templates/app.yaml"]
    code, out, err = cli("check-sync-waves", "--format", "json", *templates)
    assert (code, err) == (0, "")
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"yaml/helm-template"}
    code, out, err = cli("check-manifests", "--format", "json", *templates)
    sync = [f for f in json.loads(out)["findings"] if f["rule"].startswith("sync/")]
    # the rendered Application carries the literal 'first': wave 0 in Argo CD
    assert [(f["path"], f["rule"]) for f in sync] == [
        ("charts/apps/values.yaml", "sync/wave-not-integer")
    ]
    assert "'first'" in sync[0]["message"]


def _symlinked_repo(tmp_path):
    real = tmp_path / "real"
    cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  annotations:\n"
        '    argocd.argoproj.io/sync-wave: "1"\n'
    )
    for rel, text in {
        "base/kustomization.yaml": "resources:\n  - cm.yaml\n",
        "base/cm.yaml": cm.format("base"),
        "demo/kustomization.yaml": "resources:\n  - ../base\n  - cm.yaml\n  - ../../outside\n",
        "demo/cm.yaml": cm.format("demo"),
    }.items():
        (real / rel).parent.mkdir(parents=True, exist_ok=True)
        (real / rel).write_text(text, encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    return link


def test_a_root_given_through_a_symlink_holds_its_own_files(tmp_path, cli, monkeypatch):
    """The working directory is the resolved folder (the kernel resolves it), the root as
    given keeps the link: entries inside the root are read, only a real outside one is said."""
    link = _symlinked_repo(tmp_path)
    monkeypatch.chdir(link)
    code, out, err = cli("check-sync-waves", "--root", str(link), "demo/kustomization.yaml")
    noted = [line for line in out.splitlines() if "sync/context-not-read" in line]
    assert (code, err) == (0, "")
    assert len(noted) == 1 and "'../../outside'" in noted[0], out

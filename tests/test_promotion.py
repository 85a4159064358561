"""check-promotion on real git repositories: history, shallow clones, current-only policy."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import DATA, git, hooks_config, init_repo

CHECK = DATA / "promotion" / "check"
DIGEST_A = "sha256:" + "a" * 64


def kustomization(tag: str, comment: str = "") -> str:
    return (
        "images:\n  - name: web\n    newName: registry.example.com/web\n"
        f"    newTag: {tag}{comment}\n"
    )


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def history_repo(root: Path) -> Path:
    """staging ran v1.0.0 then v1.1.0; production runs v1.0.0 (promoted earlier)."""
    root.mkdir(parents=True, exist_ok=True)
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.0.0"))
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(root)
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    commit(root, "staging: web v1.1.0")
    return root


def test_good_example_is_clean_and_bad_is_reported_at_the_production_lines(tmp_path, chdir, cli):
    shutil.copytree(CHECK / "good", chdir / "good")
    shutil.copytree(CHECK / "bad", chdir / "bad")
    code, out, err = cli("check-promotion", "--require", "current", "good")
    assert (code, out) == (0, ""), err
    code, out, _ = cli("check-promotion", "--require", "current", "bad")
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        "bad/clusters/production/api/values.yaml:4:11: promotion/not-promoted production runs "
        f"registry.example.com/api:v2.0.0@sha256:{'b' * 64}, which is not what staging runs "
        f"(v2.0.0@sha256:{'a' * 64})",
        "bad/clusters/production/web/kustomization.yaml:4:13: promotion/not-promoted production "
        "runs registry.example.com/web:v1.3.0, which is not what staging runs (v1.2.0)",
    ]


def test_history_accepts_what_staging_ran_before(tmp_path, chdir, cli):
    history_repo(chdir)
    code, out, err = cli("check-promotion")
    assert (code, out) == (0, ""), err


def test_current_policy_passes_production_lagging_behind_staging(chdir, cli):
    # production v1.0.0, staging moved on to v1.1.0: the normal state between promotions
    history_repo(chdir)
    write(chdir, "policies/gitops-guard.yaml", "version: 1\npromotion:\n  require: current\n")
    code, out, err = cli("check-promotion")
    assert (code, out) == (0, ""), err
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.2.0"))  # CI bump
    code, out, err = cli("check-promotion")
    assert (code, out) == (0, ""), err


def test_current_policy_refuses_moving_production_to_what_staging_no_longer_runs(chdir, cli):
    history_repo(chdir)
    write(chdir, "policies/gitops-guard.yaml", "version: 1\npromotion:\n  require: current\n")
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "staging: web v1.2.0")
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.1.0"))
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert "clusters/production/web/kustomization.yaml:4:13: promotion/not-promoted" in out
    assert "which is not what staging runs (v1.2.0)" in out
    assert cli("check-promotion", "--require", "history")[0] == 0  # staging ran v1.1.0 once
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.2.0"))
    assert cli("check-promotion")[0] == 0


def test_current_policy_in_ci_compares_with_the_base_revision(chdir, cli, monkeypatch):
    # the move is committed: the working tree equals HEAD, the change starts at HEAD~1
    history_repo(chdir)
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v9.0.0"))
    commit(chdir, "production: web v9.0.0 by hand")
    assert cli("check-promotion", "--require", "current")[0] == 0  # nothing changed since HEAD
    code, out, _ = cli("check-promotion", "--require", "current", "--base", "HEAD~1")
    assert code == 1 and "runs registry.example.com/web:v9.0.0" in out
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "")  # CI outside a pull request: HEAD
    assert cli("check-promotion", "--require", "current")[0] == 0
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "HEAD~1")  # pre-commit run --from-ref
    assert cli("check-promotion", "--require", "current")[0] == 1
    assert cli("check-promotion")[0] == 1  # history: staging never ran v9.0.0, whatever the base


def test_an_unreadable_base_revision_is_said_not_hidden(chdir, cli):
    # a shallow CI checkout that did not fetch the pull request's base
    history_repo(chdir)
    code, out, _ = cli("check-promotion", "--require", "current", "--base", "0" * 40)
    assert code == 0  # a warning, not an error: nothing moved since HEAD
    assert "promotion/history-unavailable" in out and "cannot be read" in out
    code, out, _ = cli("check-promotion", "--require", "current", "--base", "HEAD")
    assert (code, out) == (0, "")


def test_a_tag_staging_never_had_names_every_tag_staging_had(chdir, cli):
    history_repo(chdir)
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v9.0.0", " # hot"))
    code, out, _ = cli("check-promotion", "--format", "json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["path"] == "clusters/production/web/kustomization.yaml"
    assert (finding["line"], finding["column"]) == (4, 13)
    assert finding["rule"] == "promotion/not-promoted"
    assert "staging ran: v1.0.0, v1.1.0" in finding["message"]


def test_history_follows_helm_values_and_deleted_files(chdir, cli):
    values = "image:\n  repository: registry.example.com/api\n  tag: {}\n"
    write(chdir, "clusters/staging/api/values.yaml", values.format("v3.0.0"))
    init_repo(chdir)
    git(chdir, "rm", "-q", "clusters/staging/api/values.yaml")
    write(chdir, "clusters/staging/api/values-staging.yaml", values.format("v3.1.0"))
    commit(chdir, "staging: rename values")
    write(chdir, "clusters/production/api/values.yaml", values.format("v3.0.0"))
    assert cli("check-promotion")[0] == 0
    write(chdir, "clusters/production/api/values.yaml", values.format("v2.9.0"))
    code, out, _ = cli("check-promotion")
    assert code == 1 and "staging ran: v3.0.0, v3.1.0" in out


def test_shallow_clone_says_so_and_falls_back_to_current(tmp_path, chdir, cli):
    origin = history_repo(tmp_path / "origin")
    git(chdir, "clone", "-q", "--depth", "1", f"file://{origin}", "clone")
    clone = chdir / "clone"
    assert git(clone, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    # production lags behind staging (v1.0.0 < v1.1.0) and did not move: only the note
    code, out, _ = cli("check-promotion", "--format", "json", str(clone / "clusters"))
    findings = json.loads(out)["findings"]
    assert code == 0
    assert [f["rule"] for f in findings] == ["promotion/history-unavailable"]
    write(clone, "clusters/production/web/kustomization.yaml", kustomization("v9.0.0"))
    code, out, _ = cli("check-promotion", "--format", "json", str(clone / "clusters"))
    findings = json.loads(out)["findings"]
    assert code == 1
    rules = sorted(f["rule"] for f in findings)
    assert rules == ["promotion/history-unavailable", "promotion/not-promoted"]
    os.chdir(clone)
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert "promotion/history-unavailable" in out and "shallow clone" in out
    assert "[warning]" in out
    assert "promotion/not-promoted" in out and "(v1.1.0)" in out
    write(clone, "clusters/production/web/kustomization.yaml", kustomization("v1.1.0"))
    assert cli("check-promotion")[0] == 0  # promoted: what staging runs now


def test_outside_git_history_is_unavailable_not_a_crash(chdir, cli):
    shutil.copytree(CHECK / "good", chdir, dirs_exist_ok=True)
    code, out, _ = cli("check-promotion")
    assert code == 0
    assert "promotion/history-unavailable" in out and "not a git repository" in out


def test_app_without_a_predecessor_is_a_warning(chdir, cli):
    write(chdir, "clusters/production/solo/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0
    assert "promotion/no-predecessor" in out
    assert "staging has no overlay of solo" in out and "looked in clusters/staging/" in out


def test_no_predecessor_says_when_the_predecessor_has_no_folder_at_all(chdir, cli):
    # argoproj-labs image-updater-examples' 011-appset/cluster-addons/prod/ is production's with
    # no staging anywhere: say that, not "looked in no folder of staging"
    write(
        chdir, "addons/prod/values.yaml", "image:\n  repository: r.example.com/a\n  tag: v1.0.0\n"
    )
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 0 and out.count("\n") == 1, out
    assert (
        "staging has no overlay of addons to promote it from (staging has no folder at all: " in out
    )
    assert "looked for clusters/<env>/<app>/" in out and "no folder of staging" not in out


def test_production_ahead_of_staging_that_caught_up_later_is_not_promoted(chdir, cli):
    # production got v1.2.0 in one commit, staging in a later one: not "the same commit that
    # gives it to staging" (it gave staging v1.1.0), a step taken before staging ran it
    for env in ("staging", "production"):
        write(chdir, f"clusters/{env}/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(chdir)
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "staging v1.1.0, production v1.2.0")
    first = git(chdir, "rev-parse", "--short=12", "HEAD").stdout.strip()
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(chdir, "staging v1.2.0")
    code, out, _ = cli("check-promotion")
    assert code == 1 and out.count("\n") == 1, out
    assert "promotion/not-promoted production runs registry.example.com/web:v1.2.0 since " in out
    assert f"commit {first}, before staging ran it (staging got it later, in commit " in out
    # both in one commit is still same-change
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.3.0"))
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.3.0"))
    commit(chdir, "both v1.3.0")
    code, out, _ = cli("check-promotion")
    assert code == 1 and "promotion/same-change" in out and "in the same commit" in out


def test_three_environments_in_policy_order(chdir, cli):
    write(
        chdir,
        "policies/gitops-guard.yaml",
        "version: 1\npromotion:\n  environments: [dev, staging, production]\n",
    )
    write(chdir, "clusters/dev/web/kustomization.yaml", kustomization("v1.0.0"))
    write(chdir, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v1.1.0"))
    init_repo(chdir)
    code, out, _ = cli("check-promotion")
    assert code == 1
    assert out.startswith("clusters/staging/web/kustomization.yaml:4:13: promotion/not-promoted")
    assert "which dev never ran (dev ran: v1.0.0)" in out
    assert "clusters/production" not in out


def test_malformed_overlay_is_a_yaml_finding(chdir, cli):
    history_repo(chdir)
    write(chdir, "clusters/production/web/kustomization.yaml", "images: [\n")
    code, out, err = cli("check-promotion")
    assert code == 1
    assert "clusters/production/web/kustomization.yaml:" in out and "yaml/" in out
    assert "Traceback" not in err


def test_a_digest_pinned_image_is_printed_readably_not_masked(chdir, cli):
    """M1: a digest cut short (``sha256:c4514e18b83b...``) looked like the start of a token
    to the output masking (core/masking.py) and the whole reference was masked; the digest is
    printed whole, a content address the masking keeps readable."""
    production = "c4514e18b83b7265b90a8f7e62cbf31868fbe539d3e6c65356d9a0f4e8356fdc"
    staging = "04af9a416d532184bfd98bc73c77f936138f861572eec0fdbf5ecb6aae76189d"
    write(
        chdir,
        "base/deploy.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        "spec:\n  containers:\n    - {name: web, image: registry.example.com/web:v1.0.0}\n",
    )
    write(chdir, "base/kustomization.yaml", "resources: [deploy.yaml]\n")
    for env, digest in (("staging", staging), ("production", production)):
        write(
            chdir,
            f"overlays/{env}/kustomization.yaml",
            "resources: [../../base]\nimages:\n"
            f"  - name: registry.example.com/web\n    digest: sha256:{digest}\n",
        )
    init_repo(chdir)
    code, out, _err = cli("check-promotion")
    assert code == 1
    assert f"registry.example.com/web@sha256:{production}, which staging never ran" in out
    assert f"(staging ran: @sha256:{staging})" in out
    assert "chars)" not in out  # nothing masked


def test_digest_and_tag_matching():
    from gitops_guard.checks.promotion import same

    tagged = ("r.example.com/web", "v1", None)
    pinned = ("r.example.com/web", "v1", DIGEST_A)
    other = ("r.example.com/web", "v1", "sha256:" + "b" * 64)
    assert same(pinned, tagged)  # the tag staging ran, now pinned
    assert not same(pinned, other)  # same tag, different bytes
    assert not same(("r.example.com/api", "v1", None), tagged)
    assert not same(("r.example.com/web", None, None), ("r.example.com/web", None, None))


@pytest.mark.e2e
def test_check_promotion_hook_through_pre_commit(hooks_repo, make_repo, run_pre_commit):
    repo = make_repo(
        {
            "clusters/staging/web/kustomization.yaml": kustomization("v1.0.0"),
            "clusters/production/web/kustomization.yaml": kustomization("v1.0.0"),
        }
    )
    (repo / ".pre-commit-config.yaml").write_text(hooks_config(hooks_repo, "check-promotion"))
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    write(repo, "clusters/production/web/kustomization.yaml", kustomization("v2.0.0"))
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1
    assert "promotion/not-promoted" in result.stdout
    assert "staging ran: v1.0.0" in result.stdout


def test_a_policy_given_outside_policies_does_not_move_the_root(chdir, cli):
    history_repo(chdir)
    write(chdir, "custom-policy.yaml", "version: 1\npromotion:\n  require: current\n")
    write(chdir, "clusters/production/web/kustomization.yaml", kustomization("v9.0.0"))
    code, out, _ = cli("check-promotion", "--policy", "custom-policy.yaml")
    assert code == 1 and "which is not what staging runs (v1.1.0)" in out


def test_many_tags_are_listed_newest_last_in_version_order():
    from gitops_guard.checks.promotion import _listing, _natural

    labels = sorted([f"v1.{i}.0" for i in range(12)], key=_natural)
    assert labels[-2:] == ["v1.10.0", "v1.11.0"]
    assert _listing(labels) == "2 older, then " + ", ".join(f"v1.{i}.0" for i in range(2, 12))
    assert _listing([]) == "no tag of it"


def test_check_promotion_imports_no_heavy_module_once_it_has_run(tmp_path):
    """Start-up time (the hook runs on every commit): with the policy and every file version
    remembered, check-promotion imports no YAML parser and none of the modules the rest of
    the package may use (pathlib, dataclasses, typing, json, hashlib). The first run does
    parse, and says so: the test can fail."""
    import subprocess
    import sys

    repo = history_repo(tmp_path / "repo")
    write(repo, "policies/gitops-guard.yaml", "version: 1\n")
    commit(repo, "policy")
    heavy: tuple[str, ...] = ("yaml", "pathlib", "dataclasses", "typing", "json", "hashlib")
    heavy += ("jsonschema",)
    from gitops_guard.core import processes

    if processes._FAST:  # git started by posix_spawn (core/processes.py): no subprocess
        heavy += ("subprocess", "threading", "selectors")
    code = (
        "import sys\n"
        "from gitops_guard.cli import main\n"
        "code = main(['check-promotion'])\n"
        f"print(code, sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("GITOPS_GUARD_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert "yaml" in runs[0].stdout, runs[0].stdout + runs[0].stderr  # parsed once
    assert runs[1].stdout == "0 []\n", runs[1].stdout + runs[1].stderr
    # a changed policy file is parsed again (remembered by its exact bytes)
    write(repo, "policies/gitops-guard.yaml", "version: 1\n# changed\n")
    again = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
    )
    assert "'yaml'" in again.stdout, again.stdout + again.stderr


def _merge_repo(root: Path, resolved: str) -> Path:
    """staging v1.0.0 on main; branch a sets v1.1.0, branch b v1.2.0; b is merged into a
    with the conflict in staging's kustomization resolved by hand to ``resolved``."""
    root.mkdir(parents=True, exist_ok=True)
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.0.0"))
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.0.0"))
    init_repo(root)
    git(root, "checkout", "-q", "-b", "b")
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.2.0"))
    commit(root, "b: staging v1.2.0")
    git(root, "checkout", "-q", "main")
    write(root, "clusters/staging/web/kustomization.yaml", kustomization("v1.1.0"))
    commit(root, "main: staging v1.1.0")
    merged = git(root, "merge", "-q", "--no-edit", "b", check=False)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout + merged.stderr  # a real one
    write(root, "clusters/staging/web/kustomization.yaml", kustomization(resolved))
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-edit")
    return root


def test_a_merge_that_resolves_a_conflict_to_a_third_value_is_what_staging_ran(
    tmp_path, monkeypatch, cli
):
    """git log --raw shows a merge commit's changes only when asked (-m: against each
    parent); without them the merge's own resolution, a value neither side had, would be
    missing from staging's history, and what the merge result holds would be whatever side
    was read last."""
    root = _merge_repo(tmp_path / "repo", "v1.3.0")
    monkeypatch.chdir(root)
    # production moves, in a later commit, to what the merge gave staging: a promotion
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.3.0"))
    commit(root, "production: web v1.3.0")
    code, out, _ = cli("check-promotion")
    assert code == 0, out
    # the sides' values ran in staging too, on their branches; v1.4.0 never did anywhere
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.4.0"))
    commit(root, "production: web v1.4.0")
    code, out, _ = cli("check-promotion")
    assert code == 1 and "staging never ran (staging ran: v1.0.0, v1.1.0, v1.2.0, v1.3.0)" in out


def test_a_merge_that_puts_a_tag_into_staging_and_production_at_once_is_one_change(
    tmp_path, monkeypatch, cli
):
    """The merge commit's resolution gives staging v1.3.0; production getting v1.3.0 in the
    same merge commit is the same change (the merge result's tree, not either side's)."""
    root = tmp_path / "repo"
    _merge_repo(root, "v1.3.0")
    monkeypatch.chdir(root)
    side = git(root, "rev-parse", "b").stdout.strip()
    git(root, "reset", "-q", "--soft", "HEAD~1")  # the merge again, with production in it
    write(root, "clusters/production/web/kustomization.yaml", kustomization("v1.3.0"))
    git(root, "add", "-A")
    tree = git(root, "write-tree").stdout.strip()
    head = git(root, "rev-parse", "HEAD").stdout.strip()
    merge = git(root, "commit-tree", tree, "-p", head, "-p", side, "-m", "merge b").stdout.strip()
    git(root, "reset", "-q", "--hard", merge)
    assert len(git(root, "log", "-1", "--format=%P").stdout.split()) == 2
    code, out, _ = cli("check-promotion")
    assert code == 1 and "promotion/same-change" in out, out
    assert f"in the same commit {merge[:12]}" in out, out


# -- an images entry that matches no container deploys nothing: kustomize api/filters/imagetag
# (api/image/image.go IsImageMatched); pnz1990/kardinal-demo's environments/prod -------------

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
          image: {image}
"""


def overlay(root: Path, env: str, image: str, tag: str, extra: str = "") -> None:
    write(root, f"clusters/{env}/web/deployment.yaml", DEPLOYMENT.format(image=image))
    write(
        root,
        f"clusters/{env}/web/kustomization.yaml",
        "resources:\n  - deployment.yaml\n" + extra + "images:\n  - name: ghcr.io/acme/podinfo\n"
        f"    newTag: {tag}\n",
    )


@pytest.mark.parametrize("require", ["current", "history"])
def test_an_images_entry_matching_no_container_is_not_what_the_environment_runs(
    chdir, cli, require
):
    overlay(chdir, "staging", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    overlay(chdir, "production", "ghcr.io/acme/nginx:v1.0.0", "v1.0.0")
    init_repo(chdir)
    overlay(chdir, "production", "ghcr.io/acme/nginx:v1.27.0", "v2.0.0")
    if require == "history":
        commit(chdir, "production: nginx v1.27.0")
    _code, out, err = cli("check-promotion", "--require", require)
    # production runs nginx (staging never did), not podinfo v2.0.0: its entry changes nothing
    assert out.count("promotion/not-promoted") == 1, out + err
    assert "clusters/production/web/deployment.yaml:10:18:" in out, out
    assert "podinfo" not in out, out


@pytest.mark.parametrize(
    "extra",
    [
        "",  # the entry matches the container: production runs podinfo v2.0.0
        "  - https://github.com/acme/base//web?ref=v1\n",  # a remote base may hold podinfo
        "patches:\n  - patch: |-\n      kind: Deployment\n      metadata: {name: web}\n",
        "helmCharts:\n  - name: podinfo\n",
        "components:\n  - ../missing\n",
    ],
)
def test_an_images_entry_is_counted_as_run_unless_everything_it_may_match_is_read(
    chdir, cli, extra
):
    image = "ghcr.io/acme/podinfo:v1.0.0" if not extra else "ghcr.io/acme/nginx:v1.0.0"
    overlay(chdir, "staging", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    write(chdir, "clusters/staging/web/more.yaml", DEPLOYMENT.format(image=image))
    text = (chdir / "clusters/staging/web/kustomization.yaml").read_text()
    more = text.replace("  - deployment.yaml\n", "  - deployment.yaml\n  - more.yaml\n")
    write(chdir, "clusters/staging/web/kustomization.yaml", more)
    overlay(chdir, "production", image, "v1.0.0", extra)
    init_repo(chdir)
    overlay(chdir, "production", image, "v2.0.0", extra)
    code, out, err = cli("check-promotion", "--require", "current")
    assert code == 1, out + err
    assert "runs ghcr.io/acme/podinfo:v2.0.0" in out, out


def test_a_component_images_entry_applies_to_its_users_resources(chdir, cli):
    overlay(chdir, "staging", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    component = (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "images:\n  - name: ghcr.io/acme/podinfo\n    newTag: {}\n"
    )
    write(chdir, "clusters/production/web/kustomization.yaml", component.format("v1.0.0"))
    init_repo(chdir)
    write(chdir, "clusters/production/web/kustomization.yaml", component.format("v2.0.0"))
    _code, out, err = cli("check-promotion", "--require", "current")
    assert "runs ghcr.io/acme/podinfo:v2.0.0" in out, out + err


@pytest.mark.parametrize("require", ["current", "history"])
def test_a_container_image_an_images_entry_rewrites_is_not_what_runs(chdir, cli, require):
    # kustomize api/filters/imagetag: the entry's newTag replaces the container's tag, so
    # production runs podinfo v1.0.0 (what staging runs), not the v0.9.0 written under it
    overlay(chdir, "staging", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    overlay(chdir, "production", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    init_repo(chdir)
    overlay(chdir, "production", "ghcr.io/acme/podinfo:v0.9.0", "v1.0.0")
    if require == "history":
        commit(chdir, "production: an older tag under the entry")
    code, out, err = cli("check-promotion", "--require", require)
    assert (code, out) == (0, ""), err


@pytest.mark.parametrize(
    "entry",
    [
        "images:\n  - name: ghcr.io/acme/other\n    newTag: v1.0.0\n",  # another image
        "images:\n  - name: ghcr.io/acme/podinfo\n    newName: ghcr.io/acme/podinfo\n",  # no tag
    ],
)
def test_a_container_image_no_entry_retags_is_what_runs(chdir, cli, entry):
    overlay(chdir, "staging", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    overlay(chdir, "production", "ghcr.io/acme/podinfo:v1.0.0", "v1.0.0")
    init_repo(chdir)
    write(
        chdir,
        "clusters/production/web/deployment.yaml",
        DEPLOYMENT.format(image="ghcr.io/acme/podinfo:v0.9.0"),
    )
    write(
        chdir,
        "clusters/production/web/kustomization.yaml",
        "resources:\n  - deployment.yaml\n" + entry,
    )
    code, out, err = cli("check-promotion", "--require", "current")
    assert code == 1, out + err
    assert "production/web/deployment.yaml:10:18: promotion/not-promoted production runs " in out
    assert "ghcr.io/acme/podinfo:v0.9.0" in out, out

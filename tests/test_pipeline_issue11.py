"""The shared path of the checking commands (core/pipeline.py): what reaches a check and what
reaches the user. Issue 11: .json manifests, files that are not regular, a policy change that
re-checks the repository, ignore comments that name no rule or silence nothing, warnings
under pre-commit.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import hooks_config

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
    "    - name: c\n      image: {image}\n"
)
POLICY = "version: 1\nimages:\n  allowed_registries: [{registry}]\n"


def _pod(image: str) -> str:
    return POD.format(image=image)


def test_json_manifests_are_checked_by_check_images_and_check_sync_waves(cli, chdir):
    (chdir / "pod.json").write_text(
        '{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"metadata": {"name": "p",\n'
        '\t\t"annotations": {"argocd.argoproj.io/sync-wave": "soon"}},\n'
        '\t"spec": {"containers": [{"name": "c", "image": "nginx:latest"}]}\n}\n'
    )
    (chdir / "package.json").write_text('{\n\t"name": "site",\n\t"private": true\n}\n')
    code, out, _ = cli("check-images", "pod.json", "package.json")
    assert (code, out.split(": ")[0]) == (1, "pod.json:6:49")
    assert "image/tag-latest" in out and "package.json" not in out
    code, out, _ = cli("check-sync-waves", "pod.json", "package.json")
    assert code == 1 and out.startswith("pod.json:5:51: sync/wave-not-integer")
    # check-promotion reads YAML only: a .json file given to it is not its business
    assert cli("check-images", "package.json")[:2] == (0, "")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_dangling_symlink_or_fifo_among_the_files_is_an_info_note_not_a_stop(cli, chdir):
    """Today one dangling link in $(git ls-files) made the whole run exit 2 with no findings."""
    (chdir / "bad.yaml").write_text(_pod("nginx:latest"))
    (chdir / "gone.yaml").symlink_to(chdir / "removed.yaml")
    os.mkfifo(chdir / "pipe.yaml")
    for command in ("check-images", "check-sync-waves"):
        code, out, err = cli(command, "gone.yaml", "pipe.yaml", "bad.yaml", ".")
        assert err == ""
        assert "gone.yaml:1:1: yaml/not-regular-file a dangling symlink" in out
        assert "pipe.yaml:1:1: yaml/not-regular-file a FIFO" in out
        if command == "check-images":
            assert code == 1 and "bad.yaml:8:14: image/tag-latest" in out
        else:
            assert code == 0
    assert cli("check-images", "missing.yaml")[0] == 2  # a name that is not there at all


def test_a_changed_policy_file_rechecks_the_whole_repository(cli, chdir, make_repo):
    repo = make_repo(
        {
            "policies/gitops-guard.yaml": POLICY.format(registry="registry.example.com"),
            "apps/a/pod.yaml": _pod("registry.example.com/a:v1.0.0"),
            "apps/b/pod.yaml": _pod("registry.example.com/b:v1.0.0"),
            "docs/notes.md": "image: nginx:latest\n",
        }
    )
    os.chdir(repo)
    policy = repo / "policies" / "gitops-guard.yaml"
    policy.write_text(POLICY.format(registry="mirror.example.com"))
    # pre-commit passes only the changed file: the policy itself
    code, out, _ = cli("check-images", "policies/gitops-guard.yaml")
    assert code == 1
    assert sorted(line.split(":")[0] for line in out.splitlines()) == [
        os.path.join("apps", "a", "pod.yaml"),
        os.path.join("apps", "b", "pod.yaml"),
    ]
    assert "image/registry-not-allowed" in out
    # another changed file alone: only that file
    code, out, _ = cli("check-images", "apps/a/pod.yaml")
    assert code == 1 and "apps/b" not in out


def test_a_policy_linked_to_a_shared_file_rechecks_the_whole_repository(cli, chdir, make_repo):
    """policies/gitops-guard.yaml -> ../org/org-policy.yaml: git tracks the target, and
    pre-commit passes it by the target's name when it changes."""
    repo = make_repo(
        {
            "org/org-policy.yaml": POLICY.format(registry="registry.example.com"),
            "apps/a/pod.yaml": _pod("registry.example.com/a:v1.0.0"),
            "org/README.md": "shared\n",
        }
    )
    os.chdir(repo)
    (repo / "policies").mkdir()
    os.symlink(
        os.path.join("..", "org", "org-policy.yaml"), repo / "policies" / "gitops-guard.yaml"
    )
    (repo / "org" / "org-policy.yaml").write_text(POLICY.format(registry="mirror.example.com"))
    code, out, _ = cli("check-images", "org/org-policy.yaml")
    assert code == 1 and out.startswith(os.path.join("apps", "a", "pod.yaml")), out
    # another file of another name beside it changes nothing
    assert cli("check-images", "org/README.md")[:2] == (0, "")


def test_a_policy_commit_run_from_a_sub_folder_names_files_from_there(cli, chdir, make_repo):
    """pre-commit runs hooks at the top, but a person may run the hook from apps/: the files
    of the whole-repository check are named relative to where it runs, not absolutely."""
    repo = make_repo(
        {
            "policies/gitops-guard.yaml": POLICY.format(registry="registry.example.com"),
            "apps/a/pod.yaml": _pod("registry.example.com/a:v1.0.0"),
        }
    )
    (repo / "policies" / "gitops-guard.yaml").write_text(
        POLICY.format(registry="mirror.example.com")
    )
    os.chdir(repo / "apps")
    policy = os.path.join("..", "policies", "gitops-guard.yaml")
    code, out, _ = cli("check-images", "--policy", policy, policy)
    assert code == 1 and out.startswith(os.path.join("a", "pod.yaml") + ":"), out
    # a file above the working folder is named through ".."
    (repo / "other").mkdir()
    (repo / "other" / "pod.yaml").write_text(_pod("registry.example.com/o:v1.0.0"))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)  # git ls-files lists it
    code, out, _ = cli("check-images", "--policy", policy, policy)
    assert sorted(line.split(":")[0] for line in out.splitlines()) == [
        os.path.join("..", "other", "pod.yaml"),
        os.path.join("a", "pod.yaml"),
    ]


def test_a_policy_named_in_another_case_is_the_policy(cli, chdir, make_repo):
    """A case-insensitive file system opens Gitops-Guard.yaml as the policy file: that name,
    the same file, rechecks the repository; another file of that name does not."""
    repo = make_repo(
        {
            "policies/gitops-guard.yaml": POLICY.format(registry="registry.example.com"),
            "apps/a/pod.yaml": _pod("registry.example.com/a:v1.0.0"),
        }
    )
    os.chdir(repo)
    policy = repo / "policies" / "gitops-guard.yaml"
    policy.write_text(POLICY.format(registry="mirror.example.com"))
    os.link(policy, repo / "policies" / "Gitops-Guard.yaml")  # one file, two names
    code, out, _ = cli("check-images", "policies/Gitops-Guard.yaml")
    assert code == 1 and out.startswith(os.path.join("apps", "a", "pod.yaml")), out
    (repo / "docs").mkdir()
    (repo / "docs" / "Gitops-Guard.yaml").write_text("kind: Note\n")  # same name, another file
    assert cli("check-images", "docs/Gitops-Guard.yaml")[:2] == (0, "")


def test_an_ignore_comment_naming_no_rule_is_a_finding(cli, chdir):
    (chdir / "pod.yaml").write_text(
        _pod("nginx:latest # gitops-guard: ignore[image/tag-lates]")
        + "---\n# gitops-guard: ignore[imgae/tag-latest]\napiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: c\n"
    )
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 1  # the typo silenced nothing: the real finding stands
    lines = out.splitlines()
    assert "pod.yaml:8:14: image/tag-latest" in lines[0]
    assert lines[1].startswith("pod.yaml:8:27: policy/unknown-rule ignore comment names ")
    assert "'image/tag-lates'" in lines[1] and lines[1].endswith("[warning]")
    assert lines[2].startswith("pod.yaml:10:1: policy/unknown-rule")  # an unknown area too
    # a real id silences it, and is then used
    (chdir / "pod.yaml").write_text(_pod("nginx:latest # gitops-guard: ignore[image/tag-latest]"))
    assert cli("check-images", "pod.yaml")[:2] == (0, "")


def test_an_ignore_comment_that_silences_nothing_is_a_stale_warning(cli, chdir):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "    - name: c\n      # gitops-guard: ignore[image/tag-latest, secret/literal-credential]\n"
        "      image: registry.example.com/app:v1.2.3\n"
    )
    (chdir / "pod.yaml").write_text(text)
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 0  # a warning
    assert out == (
        "pod.yaml:8:7: policy/unused-ignore ignore comment for image/tag-latest suppresses "
        "nothing here on this run; remove it, or it will hide the next such finding on this "
        "line [warning]\n"
    )
    # the secret/ id is check-secrets' to judge, and check-sync-waves judges neither
    assert cli("check-sync-waves", "pod.yaml")[:2] == (0, "")
    # a bare ignore belongs to no one hook: never called stale
    bare = text.replace("ignore[image/tag-latest, secret/literal-credential]", "ignore")
    (chdir / "pod.yaml").write_text(bare)
    assert cli("check-images", "pod.yaml")[:2] == (0, "")


def test_the_hooks_read_json_and_show_warnings_on_a_passing_run():
    import yaml
    from conftest import ROOT

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    for hook in ("check-image-tags", "check-sync-waves"):
        assert hooks[hook]["types_or"] == ["yaml", "json"] and "types" not in hooks[hook]
    assert all(h.get("verbose") is True for h in hooks.values())


@pytest.mark.e2e
def test_under_pre_commit_a_warning_shows_and_a_policy_commit_checks_every_file(
    hooks_repo, run_pre_commit, make_repo
):
    repo = make_repo(
        {
            ".pre-commit-config.yaml": hooks_config(hooks_repo, "check-image-tags"),
            "policies/gitops-guard.yaml": POLICY.format(registry="registry.example.com"),
            "apps/a/pod.yaml": _pod(
                "registry.example.com/a:latest@sha256:" + "0123456789abcdef" * 4
            ),
            "apps/b/pod.json": '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"},'
            ' "spec": {"containers": [{"name": "c", "image": "registry.example.com/b:v1.0.0"}]}}\n',
        }
    )
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "apps/a/pod.yaml:8:14: image/tag-latest" in result.stdout  # the warning is shown
    assert "pinned by its digest" in result.stdout
    (repo / "policies" / "gitops-guard.yaml").write_text(POLICY.format(registry="mirror.io"))
    result = run_pre_commit(repo, "run", "--files", "policies/gitops-guard.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apps/a/pod.yaml:8:14: image/registry-not-allowed" in result.stdout
    assert "apps/b/pod.json:1:" in result.stdout and "registry-not-allowed" in result.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    "command",
    ["check-images", "check-secrets", "check-sync-waves", "check-controls", "check-manifests"],
)
@pytest.mark.parametrize("given", ["files", "folder"])
def test_no_command_opens_a_fifo_or_a_device_given_or_beside_a_changed_file(
    cli, chdir, command, given
):
    """A FIFO named *.yaml blocked check-secrets and the one-file runs that search siblings
    (repository.containing); a link to /dev/zero was read until memory ran out; check-manifests
    blocked in its scan for Argo CD Applications and in reading a finding's lines."""

    (chdir / "app").mkdir()
    os.mkfifo(chdir / "app" / "pipe.yaml")
    (chdir / "app" / "zero.yaml").symlink_to("/dev/zero")
    (chdir / "app" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n"
        "  annotations:\n    argocd.argoproj.io/sync-wave: '1'\n"
    )
    (chdir / "app" / "argocd-cm.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n"
        "  annotations:\n    argocd.argoproj.io/sync-wave: '1'\n"
    )
    import resource
    import subprocess
    import sys

    FILES = ("app/cm.yaml", "app/argocd-cm.yaml", "app/pipe.yaml") if given == "files" else ("app",)

    def limit() -> None:  # a regression must fail this test, not exhaust the machine
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    try:
        done = subprocess.run(
            [sys.executable, "-m", "gitops_guard", command, *FILES],
            cwd=chdir,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command} blocked on a FIFO")
    code, out, err = done.returncode, done.stdout, done.stderr
    assert err == "" and code in (0, 1), err
    assert "app/pipe.yaml:1:1: yaml/not-regular-file a FIFO" in out
    if given == "folder":
        assert "app/zero.yaml:1:1: yaml/not-regular-file a device" in out

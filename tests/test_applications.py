"""applications: which manifests sync together, with kustomize's namespace and annotations."""

from __future__ import annotations

import os

import pytest
from gitops_guard.core.documents import load_file
from gitops_guard.repo.applications import Builder
from gitops_guard.repo.repository import Repository


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _apps(tmp_path, files: dict[str, str], given: list[str]):
    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sources = [load_file(str(root / g)) for g in given]
    repo = Repository(root, sources)
    return root, list(Builder(repo).applications(all_files=False))


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
WAVE = '  annotations:\n    argocd.argoproj.io/sync-wave: "{wave}"\n'


def test_outer_overlay_wins_and_sets_the_namespace(tmp_path):
    files = {
        "base/kustomization.yaml": 'commonAnnotations:\n  argocd.argoproj.io/sync-wave: "1"\n'
        "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: gen\n",
        "base/cm.yaml": CM.format(name="own") + WAVE.format(wave=7),
        "overlay/kustomization.yaml": "namespace: shop\nresources: [../base]\n"
        'commonAnnotations:\n  argocd.argoproj.io/sync-wave: "3"\n',
    }
    root, apps = _apps(tmp_path, files, ["base/cm.yaml"])
    (app,) = apps
    assert app.root == str(root / "overlay/kustomization.yaml")
    objs = {o.name: o for o in app.objects}
    assert set(objs) == {"own", "gen"}
    assert objs["own"].annotations["argocd.argoproj.io/sync-wave"] == "3"
    assert objs["own"].namespace == "shop" and objs["gen"].generated
    assert objs["own"].wave_at[0] == str(root / "overlay/kustomization.yaml")
    assert objs["own"].via == (str(root / "base/kustomization.yaml"), app.root)


def test_a_file_no_kustomization_lists_belongs_to_its_folder(tmp_path):
    files = {"loose/a.yaml": CM.format(name="a"), "loose/b.yaml": CM.format(name="b")}
    root, apps = _apps(tmp_path, files, ["loose/a.yaml"])
    (app,) = apps
    assert app.files == {str(root / "loose/a.yaml"), str(root / "loose/b.yaml")}
    assert app.description.startswith("folder ")
    # b names nothing a names, so no ordering finding can involve both: b is not parsed
    assert sorted(o.name for o in app.objects) == ["a"]


def test_argo_application_points_at_a_folder_recursively(tmp_path):
    app_yaml = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\nspec:\n"
        "  source:\n    path: apps/shop\n    directory:\n      recurse: true\n"
        "  syncPolicy:\n    syncOptions: [SkipDryRunOnMissingResource=true]\n"
    )
    files = {
        "argocd/shop.yaml": app_yaml,
        "apps/shop/a.yaml": CM.format(name="a"),
        "apps/shop/deep/b.yaml": CM.format(name="b"),
    }
    root, apps = _apps(tmp_path, files, ["argocd/shop.yaml", "apps/shop/deep/b.yaml"])
    shop = next(a for a in apps if "Argo CD Application shop" in a.description)
    assert shop.files == {str(root / "apps/shop/a.yaml"), str(root / "apps/shop/deep/b.yaml")}
    assert sorted(o.name for o in shop.objects) == ["b"]  # a names nothing b names
    assert shop.skip_dry_run
    assert not any(a.description.startswith("folder") and "deep" in a.description for a in apps)


def test_unrelated_applications_are_not_built(tmp_path):
    files = {
        "one/kustomization.yaml": "resources: [a.yaml]\n",
        "one/a.yaml": CM.format(name="a"),
        "two/kustomization.yaml": "resources: [b.yaml]\n",
        "two/b.yaml": CM.format(name="b"),
    }
    root, apps = _apps(tmp_path, files, ["one/a.yaml"])
    assert [a.root for a in apps] == [str(root / "one/kustomization.yaml")]


def test_kustomization_cycles_do_not_hang(tmp_path):
    files = {
        "a/kustomization.yaml": "resources: [../b, x.yaml]\n",
        "b/kustomization.yaml": "resources: [../a]\n",
        "a/x.yaml": CM.format(name="x"),
    }
    _, apps = _apps(tmp_path, files, ["a/x.yaml"])
    assert all(isinstance(a.objects, list) for a in apps)


NO_PATH_APP = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\nspec:\n  SOURCE"
)


@pytest.mark.parametrize(
    ("source", "remote", "folders", "opaque"),
    [
        # argo-cd pkg/apis/application/v1alpha1/types.go: Path is a Go string, `path:` with
        # no value (or none) is "": the root of the repository repoURL names
        ("source:\n    repoURL: https://example.com/org/repo.git\n    path:\n", True, ["."], False),
        ("source:\n    repoURL: https://example.com/org/repo.git\n", True, ["."], False),
        # another repository's root, or one not known to be this one: not shown here
        ("source:\n    repoURL: https://example.com/org/other.git\n", True, [], True),
        ("source:\n    repoURL: https://example.com/org/repo.git\n", False, [], True),
        # a ref-only entry renders nothing (reposerver/repository/repository.go
        # GenerateManifest), and a Helm repository's chart has no path
        (
            "sources:\n  - repoURL: https://example.com/org/repo.git\n    ref: values\n"
            "  - repoURL: https://charts.example.com\n    chart: web\n",
            True,
            [],
            True,
        ),
    ],
    ids=["null", "missing", "other-repository", "no-remote", "ref-only"],
)
def test_an_application_source_with_no_path_is_the_root(tmp_path, source, remote, folders, opaque):
    from conftest import git
    from gitops_guard.repo.applications import argo_applications

    root = tmp_path / "repo"
    (root / "argocd").mkdir(parents=True)
    (root / "argocd/root.yaml").write_text(NO_PATH_APP.replace("SOURCE", source))
    (root / "cm.yaml").write_text(CM.format(name="a"))
    git(root, "init", "-q")
    if remote:
        git(root, "remote", "add", "origin", "git@example.com:org/repo.git")
    sources = [load_file(str(root / "argocd/root.yaml"))]
    (app,) = argo_applications(Builder(Repository(root, sources)), sources)
    assert [os.path.relpath(f, root) for f in app.folders] == folders
    assert app.opaque is opaque
    # the root is a directory application holding its manifests
    given = [load_file(str(root / "cm.yaml"))]
    built = Builder(Repository(root, given)).applications(all_files=False)
    dirs = [a for a in built if "Argo CD Application root" in a.description]
    assert [sorted(os.path.relpath(f, root) for f in a.files) for a in dirs] == (
        [["cm.yaml"]] if folders else []
    ), [a.description for a in built]

"""check-sync-waves never crashes: YAML-ish repositories of odd shapes exit 0 or 1, never 2.

Each example is a small repository (a kustomization and two manifests built from the pieces
sync waves, hooks, kustomize and Flux are made of), checked file by file and as a whole.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from gitops_guard.cli import main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOKENS = st.sampled_from(
    [
        "apiVersion: v1\n", "apiVersion: batch/v1\n", "apiVersion: argoproj.io/v1alpha1\n",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n", "apiVersion: example.com/v1\n",
        "apiVersion: apiextensions.k8s.io/v1\n", "kind: Namespace\n", "kind: ConfigMap\n",
        "kind: Job\n", "kind: Application\n", "kind: Kustomization\n", "kind: Widget\n",
        "kind: CustomResourceDefinition\n", "metadata:\n", "  name: x\n", "  name: argocd-cm\n",
        "  namespace: x\n", "  generateName: g-\n", "  annotations:\n",
        "    argocd.argoproj.io/sync-wave: \"-1\"\n", "    argocd.argoproj.io/sync-wave: 2\n",
        "    argocd.argoproj.io/hook: PreSync,Skip\n", "    argocd.argoproj.io/hook: PostSync\n",
        "    argocd.argoproj.io/sync-options: CreateNamespace=true,Prune\n",
        "    helm.sh/hook: pre-install\n", "spec:\n", "  group: example.com\n",
        "  names: {kind: Widget}\n", "  dependsOn:\n", "    - name: x\n", "  - name: x\n",
        "  template:\n", "    spec:\n", "      serviceAccountName: x\n", "      containers:\n",
        "        - name: c\n", "          envFrom: [{configMapRef: {name: x}}]\n",
        "resources:\n", "- a.yaml\n", "- b.yaml\n", "- ../\n", "- .\n", "- sub\n",
        "namespace: x\n", "commonAnnotations:\n", "configMapGenerator:\n", "data:\n",
        "  resource.customizations: x\n", "---\n", "- ", "  ", ": ", "{", "}", "[", "]", ",",
        "&a ", "*a ", "'", '"', "#", "~", "1", "\t", "{{ x }}", "\n",
    ]
)  # fmt: skip
files = st.lists(TOKENS, max_size=40).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files, files, files)
def test_odd_repositories_never_crash(kustomization: str, a: str, b: str):
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "sub").mkdir()
        (root / "kustomization.yaml").write_text(kustomization, encoding="utf-8")
        (root / "a.yaml").write_text(a, encoding="utf-8")
        (root / "sub" / "b.yaml").write_text(b, encoding="utf-8")
        (root / "sub" / "kustomization.yaml").write_text("resources: [b.yaml, ../a.yaml]\n")
        saved = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(root / ".cache")  # the caches are exercised too
        try:
            for targets in ([str(root)], [str(root / "a.yaml")], [str(root / "sub" / "b.yaml")]):
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(["check-sync-waves", "--root", str(root), *targets])
                assert code in (0, 1), err.getvalue()
                assert err.getvalue() == ""
        finally:
            if saved is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = saved

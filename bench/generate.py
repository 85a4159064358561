"""Generate a deterministic synthetic GitOps repository for benchmarks.

    python bench/generate.py OUT_DIR [--files 5000] [--seed 1] [--envs staging,production]
                             [--violations 0]

The repository looks like the ones gitops-guard is written for: ``apps/<app>/`` holds each
application (kustomize bases with Deployments, StatefulSets or CronJobs, Services, ConfigMaps,
SealedSecrets, PreSync migration Jobs; or Helm values files), ``clusters/<env>/<app>/`` holds
its per-environment overlay (kustomize ``images:`` with tag and digest, patches, Helm values,
a Flux HelmRelease or Kustomization, or an Argo CD Application with a sync wave), and
``policies/gitops-guard.yaml`` the policy. Many files hold several documents.

With ``--violations 0`` (the default) the repository is clean under its own policy: every
image comes from ``registry.example.com``, tags are ``vX.Y.Z``, production images carry
digests and production runs what staging runs. ``--violations N`` plants N image violations
(one per app, spread evenly) and lists them, ``path:line rule``, in ``VIOLATIONS.txt``.

The same arguments always produce byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "registry.example.com"
TEAMS = ("payments", "search", "identity", "platform", "data", "growth", "media", "ops")
WORDS = (
    "api", "worker", "gateway", "billing", "catalog", "checkout", "ledger", "notifier",
    "profile", "ranker", "indexer", "auth", "session", "thumbnail", "export", "report",
    "scheduler", "inventory", "pricing", "quote", "audit", "mailer", "webhook", "feed",
)  # fmt: skip
POLICY = """\
# yaml-language-server: $schema=./gitops-guard.schema.json
version: 1
images:
  allowed_registries: [registry.example.com]
  tag_pattern: '^v\\d+\\.\\d+\\.\\d+$'
  require_digest: false
promotion:
  environments: [{envs}]
  require: history
environments:
  production:
    images:
      require_digest: true
"""


def digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("/".join(parts).encode()).hexdigest()


def b64ish(rng: random.Random, n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "Ag" + "".join(rng.choice(alphabet) for _ in range(n)) + "=="


@dataclass
class App:
    index: int
    name: str
    team: str
    fmt: str  # kustomize | helm
    workload: str  # Deployment | StatefulSet | CronJob
    engine: str  # argocd | flux
    version: str
    wave: int
    sealed: bool
    migration: bool
    sidecar: bool
    replicas: int
    port: int
    env_vars: list[tuple[str, str]] = field(default_factory=list)

    @property
    def image(self) -> str:
        return f"{REGISTRY}/{self.team}/{self.name}"


def make_app(rng: random.Random, index: int) -> App:
    name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index:04d}"
    workload = rng.choices(("Deployment", "StatefulSet", "CronJob"), (70, 15, 15))[0]
    return App(
        index=index,
        name=name,
        team=rng.choice(TEAMS),
        fmt="helm" if rng.random() < 0.3 else "kustomize",
        workload=workload,
        engine="flux" if rng.random() < 0.35 else "argocd",
        version=f"v{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}",
        wave=rng.choice((-1, 0, 0, 1, 2, 5)),
        sealed=rng.random() < 0.35,
        migration=workload != "CronJob" and rng.random() < 0.2,
        sidecar=rng.random() < 0.25,
        replicas=rng.choice((1, 2, 3, 4)),
        port=rng.choice((8080, 8443, 9000, 3000)),
        env_vars=[
            (f"{rng.choice(WORDS).upper()}_{k}", rng.choice(("true", "info", "30s", "eu-west-1")))
            for k in range(rng.randint(1, 5))
        ],
    )


# -- manifests --------------------------------------------------------------------------------


def labels(app: App, indent: int) -> str:
    pad = " " * indent
    return (
        f"{pad}app.kubernetes.io/name: {app.name}\n"
        f"{pad}app.kubernetes.io/part-of: {app.team}\n"
        f"{pad}app.kubernetes.io/managed-by: kustomize\n"
    )


def container(app: App, indent: int, image: str) -> str:
    pad = " " * indent
    env = "".join(
        f'{pad}    - name: {k}\n{pad}      value: "{v}"\n' for k, v in app.env_vars
    )  # fmt: skip
    text = (
        f"{pad}- name: {app.name}\n"
        f"{pad}  image: {image}\n"
        f"{pad}  imagePullPolicy: IfNotPresent\n"
        f"{pad}  ports:\n"
        f"{pad}    - name: http\n"
        f"{pad}      containerPort: {app.port}\n"
        f"{pad}      protocol: TCP\n"
        f"{pad}  env:\n{env}"
        f"{pad}  envFrom:\n"
        f"{pad}    - configMapRef:\n"
        f"{pad}        name: {app.name}-config\n"
        f"{pad}  resources:\n"
        f"{pad}    requests: {{cpu: 100m, memory: 128Mi}}\n"
        f"{pad}    limits: {{cpu: '1', memory: 512Mi}}\n"
        f"{pad}  readinessProbe:\n"
        f"{pad}    httpGet: {{path: /healthz, port: http}}\n"
        f"{pad}    periodSeconds: 10\n"
        f"{pad}  securityContext:\n"
        f"{pad}    runAsNonRoot: true\n"
        f"{pad}    readOnlyRootFilesystem: true\n"
        f"{pad}    allowPrivilegeEscalation: false\n"
    )
    if app.sidecar:
        text += (
            f"{pad}- name: proxy\n"
            f"{pad}  image: {REGISTRY}/mirror/envoy:v1.29.1\n"
            f"{pad}  args: [--config-path, /etc/envoy/envoy.yaml]\n"
            f"{pad}  ports: [{{name: admin, containerPort: 9901}}]\n"
        )
    return text


def pod_spec(app: App, indent: int, image: str) -> str:
    pad = " " * indent
    text = f"{pad}serviceAccountName: {app.name}\n"
    if app.index % 4 == 0:
        text += (
            f"{pad}initContainers:\n"
            f"{pad}  - name: wait-for-db\n"
            f"{pad}    image: {REGISTRY}/platform/wait-for:v2.1.0\n"
            f'{pad}    args: ["--host", "{app.name}-db", "--timeout", "60s"]\n'
        )
    return text + f"{pad}containers:\n" + container(app, indent + 2, image)


def workload(app: App, image: str) -> str:
    meta = f"metadata:\n  name: {app.name}\n  labels:\n{labels(app, 4)}"
    if app.workload == "CronJob":
        return (
            "apiVersion: batch/v1\nkind: CronJob\n" + meta + "spec:\n"
            f'  schedule: "{app.index % 60} */6 * * *"\n'
            "  concurrencyPolicy: Forbid\n"
            "  jobTemplate:\n    spec:\n      backoffLimit: 2\n      template:\n"
            f"        metadata:\n          labels:\n{labels(app, 12)}"
            "        spec:\n          restartPolicy: OnFailure\n" + pod_spec(app, 10, image)
        )
    extra = f"  serviceName: {app.name}\n" if app.workload == "StatefulSet" else ""
    text = (
        f"apiVersion: apps/v1\nkind: {app.workload}\n" + meta + "  annotations:\n"
        f'    argocd.argoproj.io/sync-wave: "{app.wave}"\n'
        f"spec:\n  replicas: {app.replicas}\n{extra}"
        f"  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app.name}\n"
        f"  template:\n    metadata:\n      labels:\n{labels(app, 8)}"
        "    spec:\n" + pod_spec(app, 6, image)
    )
    if app.workload == "StatefulSet":
        text += (
            "  volumeClaimTemplates:\n    - metadata:\n        name: data\n"
            "      spec:\n        accessModes: [ReadWriteOnce]\n"
            "        resources:\n          requests:\n            storage: 10Gi\n"
        )
    return text


def service(app: App) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {app.name}\n  labels:\n"
        f"{labels(app, 4)}spec:\n  selector:\n    app.kubernetes.io/name: {app.name}\n"
        f"  ports:\n    - name: http\n      port: 80\n      targetPort: {app.port}\n"
    )


def service_account(app: App) -> str:
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app.name}\n"


def configmap(app: App, rng: random.Random) -> str:
    settings = "".join(
        f"    {rng.choice(WORDS)}.{rng.choice(WORDS)}.{k}: {rng.randint(1, 999)}\n"
        for k in range(rng.randint(3, 12))
    )
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app.name}-config\n"
        '  annotations:\n    argocd.argoproj.io/sync-wave: "-1"\n'
        f"data:\n  LOG_LEVEL: info\n  TEAM: {app.team}\n"
        f"  application.properties: |\n{settings}"
    )


def sealed_secret(app: App, rng: random.Random) -> str:
    return (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
        f"metadata:\n  name: {app.name}-credentials\n  annotations:\n"
        '    argocd.argoproj.io/sync-wave: "-1"\n'
        "spec:\n  encryptedData:\n"
        f"    DATABASE_PASSWORD: {b64ish(rng, 300)}\n"
        f"    API_TOKEN: {b64ish(rng, 300)}\n"
        "  template:\n    type: Opaque\n"
        f"    metadata:\n      name: {app.name}-credentials\n"
    )


def migration_job(app: App, image: str) -> str:
    return (
        f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {app.name}-migrate\n"
        "  annotations:\n    argocd.argoproj.io/hook: PreSync\n"
        "    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded\n"
        "spec:\n  backoffLimit: 1\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers:\n"
        f"        - name: migrate\n          image: {image}\n"
        '          command: ["/app/migrate", "up"]\n'
    )


def base_kustomization(app: App, resources: list[str]) -> str:
    items = "".join(f"  - {r}\n" for r in resources)
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n{items}"
        f"labels:\n  - pairs:\n      app.kubernetes.io/part-of: {app.team}\n"
        f"images:\n  - name: {app.image}\n    newTag: {app.version}\n"
    )


def overlay_kustomization(app: App, env: str) -> str:
    ns = f"{app.team}-{env}"
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {ns}\n"
        f"resources:\n  - ../../../apps/{app.name}/base\n"
        "patches:\n  - path: patch.yaml\n"
        "images:\n"
        f"  - name: {app.image}\n"
        f"    newTag: {app.version}\n"
        f"    digest: {digest(app.image, app.version)}\n"
    )


def overlay_patch(app: App, env: str) -> str:
    replicas = app.replicas * (2 if env == "production" else 1)
    if app.workload == "CronJob":
        return (
            f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {app.name}\n"
            "spec:\n  suspend: false\n"
        )
    return (
        f"apiVersion: apps/v1\nkind: {app.workload}\nmetadata:\n  name: {app.name}\n"
        f"spec:\n  replicas: {replicas}\n"
    )


def helm_values(app: App, env: str | None) -> str:
    if env is None:  # the app's defaults
        return (
            f"replicaCount: {app.replicas}\n"
            "image:\n"
            f"  registry: {REGISTRY}\n"
            f"  repository: {app.team}/{app.name}\n"
            f"  tag: {app.version}\n"
            "  pullPolicy: IfNotPresent\n"
            f"service:\n  type: ClusterIP\n  port: {app.port}\n"
            "resources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n"
            "ingress:\n  enabled: false\n"
            "metrics:\n  enabled: true\n  serviceMonitor:\n    interval: 30s\n"
        )
    return (
        f"replicaCount: {app.replicas * (2 if env == 'production' else 1)}\n"
        "image:\n"
        f"  registry: {REGISTRY}\n"
        f"  repository: {app.team}/{app.name}\n"
        f"  tag: {app.version}\n"
        f"  digest: {digest(app.image, app.version)}\n"
        f"ingress:\n  enabled: true\n  hosts:\n    - host: {app.name}.{env}.example.com\n"
        "      paths: [{path: /, pathType: Prefix}]\n"
    )


def helm_release(app: App, env: str) -> str:
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata:\n  name: {app.name}\n  namespace: {app.team}-{env}\n"
        "spec:\n  interval: 10m\n  chart:\n    spec:\n      chart: service\n"
        "      version: 3.4.1\n      sourceRef:\n        kind: HelmRepository\n"
        "        name: platform-charts\n        namespace: flux-system\n"
        "  valuesFrom:\n    - kind: ConfigMap\n"
        f"      name: {app.name}-values\n"
        "  values:\n    image:\n"
        f"      registry: {REGISTRY}\n"
        f"      repository: {app.team}/{app.name}\n"
        f"      tag: {app.version}\n"
        f"      digest: {digest(app.image, app.version)}\n"
        "---\n"
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        f"metadata:\n  name: platform-charts\n  namespace: {app.team}-{env}\n"
        f"spec:\n  type: oci\n  interval: 1h\n  url: oci://{REGISTRY}/charts\n"
    )


def flux_kustomization(app: App, env: str) -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {app.name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  path: ./clusters/{env}/{app.name}\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        f"  targetNamespace: {app.team}-{env}\n"
        "  dependsOn:\n    - name: infrastructure\n"
    )


def argocd_application(app: App, env: str) -> str:
    text = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata:\n  name: {app.name}-{env}\n  namespace: argocd\n"
        f'  annotations:\n    argocd.argoproj.io/sync-wave: "{app.wave + 1}"\n'
        "  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n"
        "spec:\n  project: default\n  source:\n"
        "    repoURL: https://git.example.com/platform/gitops.git\n"
        "    targetRevision: main\n"
        f"    path: clusters/{env}/{app.name}\n"
    )
    if app.fmt == "helm":
        text += "    helm:\n      valueFiles: [values.yaml]\n"
    text += (
        f"  destination:\n    server: https://kubernetes.default.svc\n"
        f"    namespace: {app.team}-{env}\n"
        "  syncPolicy:\n    automated: {prune: true, selfHeal: true}\n"
        "    syncOptions: [CreateNamespace=true, ServerSideApply=true]\n"
    )
    return text


def app_files(app: App, envs: list[str], rng: random.Random) -> Iterator[tuple[str, str]]:
    """The files of one application, in a fixed order (the file budget cuts the tail)."""
    base = f"apps/{app.name}"
    image = f"{app.image}:{app.version}"
    if app.fmt == "helm":
        yield f"{base}/values.yaml", helm_values(app, None)
        for env in envs:
            where = f"clusters/{env}/{app.name}"
            yield f"{where}/values.yaml", helm_values(app, env)
            if app.engine == "flux":
                yield f"{where}/helmrelease.yaml", helm_release(app, env)
            else:
                yield f"{where}/application.yaml", argocd_application(app, env)
        return
    docs = [service_account(app), workload(app, image)]
    if app.workload != "CronJob":
        docs.append(service(app))
    yield f"{base}/base/{app.workload.lower()}.yaml", "---\n".join(docs)
    resources = [f"{app.workload.lower()}.yaml", "configmap.yaml"]
    yield f"{base}/base/configmap.yaml", configmap(app, rng)
    if app.sealed:
        resources.append("sealedsecret.yaml")
        yield f"{base}/base/sealedsecret.yaml", sealed_secret(app, rng)
    if app.migration:
        resources.append("migrate-job.yaml")
        yield f"{base}/base/migrate-job.yaml", migration_job(app, image)
    yield f"{base}/base/kustomization.yaml", base_kustomization(app, resources)
    for env in envs:
        where = f"clusters/{env}/{app.name}"
        yield f"{where}/kustomization.yaml", overlay_kustomization(app, env)
        yield f"{where}/patch.yaml", overlay_patch(app, env)
        if app.engine == "flux":
            yield f"clusters/{env}/flux/{app.name}.yaml", flux_kustomization(app, env)
        else:
            yield f"clusters/{env}/argocd/{app.name}.yaml", argocd_application(app, env)


# -- planted violations -----------------------------------------------------------------------

_PLANTS = (
    ("image/tag-latest", ":latest"),
    ("image/tag-not-allowed", ":1.27"),
    ("image/registry-not-allowed", "docker.io/library/nginx:v1.25.3"),
    ("image/tag-missing", ""),
)


def plant(path: str, text: str, kind: int) -> tuple[str, int, str] | None:
    """Break the first ``image:`` line of a file; return (text, line, rule) or None."""
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if stripped.startswith(("image: ", "- image: ")) and REGISTRY in line:
            rule, change = _PLANTS[kind % len(_PLANTS)]
            prefix, _, ref = line.partition("image: ")
            name = ref.split("@")[0].rsplit(":", 1)[0]
            ref = change if rule == "image/registry-not-allowed" else name + change
            lines[number - 1] = f"{prefix}image: {ref}"
            return "\n".join(lines), number, rule
    return None


def generate(out: Path, files: int, seed: int, envs: list[str], violations: int) -> int:
    rng = random.Random(seed)
    planned: list[tuple[str, str]] = [
        ("policies/gitops-guard.yaml", POLICY.format(envs=", ".join(envs)))
    ]
    for env in envs:
        planned.append(
            (
                f"clusters/{env}/namespaces.yaml",
                "---\n".join(
                    f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {team}-{env}\n"
                    for team in TEAMS
                ),
            )
        )
    apps: list[list[tuple[str, str]]] = []
    index = 0
    while len(planned) < files:
        app = make_app(rng, index)
        app_list = list(app_files(app, envs, rng))
        apps.append(app_list)
        planned.extend(app_list[: files - len(planned)])
        index += 1
    planted: list[str] = []
    if violations:
        candidates = [
            i for i, (p, t) in enumerate(planned) if p.startswith("apps/") and "image: " in t
        ]
        step = max(1, len(candidates) // violations)
        for n, i in enumerate(candidates[::step][:violations]):
            path, text = planned[i]
            result = plant(path, text, n)
            if result is not None:
                planned[i] = (path, result[0])
                planted.append(f"{path}:{result[1]} {result[2]}")
    for rel, text in planned:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if planted:
        (out / "VIOLATIONS.txt").write_text("\n".join(planted) + "\n", encoding="utf-8")
    return len(planned)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", metavar="OUT_DIR", help="folder to create (must be empty)")
    parser.add_argument("--files", type=int, default=5000, help="YAML files (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--envs", default="staging,production", help="environments, promotion order"
    )
    parser.add_argument("--violations", type=int, default=0, help="image violations to plant")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"generate.py: error: {out} is not empty", file=sys.stderr)
        return 2
    if args.files < 1 + len(args.envs.split(",")):
        print("generate.py: error: --files is too small", file=sys.stderr)
        return 2
    envs = [e.strip() for e in args.envs.split(",") if e.strip()]
    count = generate(out, args.files, args.seed, envs, args.violations)
    total = sum(f.stat().st_size for f in out.rglob("*.yaml"))
    print(f"{count} YAML files, {total / 1e6:.1f} MB in {os.fspath(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

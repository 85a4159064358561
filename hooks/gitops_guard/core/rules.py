"""Every rule gitops-guard reports, as data: id, default severity, summary, documentation.

The rule table in docs/rules.md is checked against this table by a test, so the two cannot drift.
Policy files may change a rule's severity (``rules: {image/unresolvable: warning}``) or turn
it off. Each area keeps its rules in its own section of the one table below.
"""

from __future__ import annotations

from gitops_guard.core.findings import ERROR, INFO, WARNING


class Rule:
    """One rule: what it is called, how bad it is, what it means."""

    __slots__ = ("doc", "id", "severity", "summary")

    def __init__(self, id: str, severity: str, summary: str, doc: str = "") -> None:
        self.id = id
        self.severity = severity
        self.summary = summary
        self.doc = doc

    def __repr__(self) -> str:
        return f"Rule({self.id!r})"


_RULES = [
    # -- yaml/: the file itself -------------------------------------------------------------
    Rule(
        "yaml/syntax",
        ERROR,
        "The file is not valid YAML.",
        "Reported at the parser's line and column with its reason.",
    ),
    Rule(
        "yaml/tab",
        ERROR,
        "A tab character is used for indentation.",
        "YAML forbids tabs in indentation; editors hide them.",
    ),
    Rule(
        "yaml/duplicate-key",
        ERROR,
        "A mapping repeats a key.",
        "Tools disagree on which value wins (kubectl keeps the last, some the first).",
    ),
    Rule(
        "yaml/custom-tag",
        ERROR,
        "A value carries a custom tag such as `!Ref`.",
        "Kubernetes manifests are plain YAML; custom tags belong to other tools. A file that "
        "holds no Kubernetes object (mkdocs.yml, an app's own config) is not judged.",
    ),
    Rule(
        "yaml/too-complex",
        ERROR,
        "Nesting too deep or an alias bomb.",
        "Bounded so a hostile file cannot exhaust time or memory; the document is skipped.",
    ),
    Rule(
        "yaml/not-text",
        ERROR,
        "The file is binary, not YAML.",
        "A NUL byte in the first 8 KiB marks a binary file.",
    ),
    Rule(
        "yaml/encoding",
        ERROR,
        "The file is not UTF-8 (or UTF-16 with a BOM).",
        "Reported at the first byte that does not decode.",
    ),
    Rule(
        "yaml/too-large",
        ERROR,
        "The file is over 10 MiB and is not checked.",
        "No manifest is this large; a generated artifact probably slipped in.",
    ),
    Rule("yaml/unreadable", ERROR, "The file cannot be read.", ""),
    Rule(
        "yaml/not-regular-file",
        INFO,
        "A path given is not a regular file (a dangling symlink, a FIFO, a device); skipped.",
        "Only regular files are opened, without blocking: a FIFO named `*.yaml` would wait "
        "for a writer forever, and a link to `/dev/zero` never ends.",
    ),
    Rule(
        "yaml/empty",
        INFO,
        "The file holds no YAML document.",
        "Informational: nothing to check, nothing wrong.",
    ),
    Rule(
        "yaml/helm-template",
        INFO,
        "A Helm chart template is skipped, not parsed.",
        "`{{ }}` templates are Go text/template, not YAML; check the rendered values instead.",
    ),
    # -- policy/: the policy file -----------------------------------------------------------
    Rule(
        "policy/unknown-rule",
        WARNING,
        "An ignore comment names a rule id that does not exist.",
        "A typo (`image/tag-lates`) would otherwise suppress nothing, silently. Reported by "
        "the hook whose area the id names (an unknown area: check-images, check-secrets).",
    ),
    Rule(
        "policy/unused-ignore",
        WARNING,
        "An ignore comment suppresses nothing on this run.",
        "A stale comment (the violation was fixed, or `promote` kept the line byte for byte) "
        "would hide the next violation on its line. Judged by the hook that owns the rule's "
        "area; a bare `# gitops-guard: ignore` is never judged.",
    ),
    Rule(
        "policy/invalid",
        ERROR,
        "The policy file does not match its schema.",
        "Exit code 2 with the bad key named; see `gitops-guard policy-schema`.",
    ),
    # -- image/: image references -----------------------------------------------------------
    Rule(
        "image/invalid-reference",
        ERROR,
        "The image reference breaks the distribution/reference grammar.",
        "Uppercase repository, bad digest, tag over 128 characters, empty name...",
    ),
    Rule(
        "image/registry-not-allowed",
        ERROR,
        "The image's registry is not in `images.allowed_registries`.",
        "Docker Hub short names are normalised first: `nginx` is `docker.io/library/nginx`.",
    ),
    Rule(
        "image/tag-missing",
        ERROR,
        "The image has no tag and no digest, so it means `latest`.",
        "An untagged reference floats; pin a tag (and a digest where required).",
    ),
    Rule(
        "image/tag-latest",
        ERROR,
        "The image uses the `latest` tag (any case).",
        "`latest` floats: the same manifest runs different code over time. Pinned by a valid "
        "digest (`name:latest@sha256:...`) exactly one image is pulled: a warning (the tag "
        "misleads; peers such as kube-linter and Kyverno's disallow-latest-tag pass it). A Helm "
        "values override of the tag alone (`image: {tag: latest}`) is checked too.",
    ),
    Rule(
        "image/tag-not-allowed",
        ERROR,
        "The tag does not match `images.tag_pattern`.",
        "The default pattern `^v\\d+\\.\\d+\\.\\d+$` refuses floating tags like `stable`, `1.27`.",
    ),
    Rule(
        "image/digest-required",
        ERROR,
        "The policy requires a `@sha256:` digest and the image has none.",
        "Set `images.require_digest: true`, usually for production only.",
    ),
    Rule(
        "image/overridden",
        INFO,
        "An image in a kustomize base or a chart's default values that every consumer rewrites.",
        "What deploys is each consumer's rewrite (an overlay's `images:` entry, an "
        "Application's or HelmRelease's values), checked where it is written; reported "
        "instead of the rules the rewrite makes moot. A consumer that leaves the image as "
        "written (an overlay without an `images:` entry for it, an Application of the base "
        "folder itself, a chart nobody gives values) keeps those rules at their severity.",
    ),
    Rule(
        "image/unresolvable",
        WARNING,
        "The image is templated (`{{ }}`, `${VAR}`, `$(VAR)`) and cannot be checked.",
        "A warning, shown on every run: Flux substitutes `${VAR}` and Argo CD fills in an "
        "ApplicationSet's `{{ }}` when they apply it, so the commit breaks nothing the hook "
        "can see; the rendered image is checked where it is written (check-manifests renders "
        "charts). Raise it to an error with `rules: {image/unresolvable: error}` to require "
        "literal images.",
    ),
    # -- secret/: committed secrets (secrets.py) --------------------------------------------
    Rule(
        "secret/k8s-secret-plaintext",
        ERROR,
        "A core v1 Secret keeps plaintext `data` or `stringData` in Git.",
        "Whatever its keys: base64 is encoding, not encryption. The message names what the "
        "decoded values hold (private key, token, docker auth). Empty values, placeholders "
        "and public certificates alone do not count.",
    ),
    Rule(
        "secret/template-plaintext",
        ERROR,
        "A SealedSecret or ExternalSecret template holds a literal value.",
        "`spec.template.data` (SealedSecret) and `spec.target.template.data` (ExternalSecret) "
        "are stored unencrypted; only `{{ }}` templates belong there.",
    ),
    Rule(
        "secret/sops-not-encrypted",
        ERROR,
        "A value in a SOPS-encrypted file is not `ENC[...]`.",
        "Keys exempted by `unencrypted_suffix`/`unencrypted_regex` (or not selected by "
        "`encrypted_suffix`/`encrypted_regex`) are scanned like any other value instead.",
    ),
    Rule(
        "secret/kustomize-secret-literal",
        ERROR,
        "A kustomize secretGenerator takes a plaintext literal, env file or file.",
        "The generated Secret is plaintext in Git; missing or SOPS-encrypted sources pass.",
    ),
    Rule(
        "secret/literal-credential",
        ERROR,
        "A key or env name says password, token, secret or API key and its value is literal.",
        "Env entries, Argo CD helm.parameters, Helm values, HelmRelease spec.values, "
        "ConfigMaps. References, placeholders and obvious dummies pass.",
    ),
    Rule(
        "secret/private-key",
        ERROR,
        "A private key is committed.",
        "detect-secrets' PrivateKeyDetector; public certificates pass.",
    ),
    Rule(
        "secret/provider-token",
        ERROR,
        "A provider token or key (AWS, GitHub, GitLab, Slack, Stripe, JWT...) is committed.",
        "detect-secrets' provider plugins; the message names the provider.",
    ),
    Rule(
        "secret/url-credentials",
        ERROR,
        "A URL carries a user name and password.",
        "`postgres://user:pass@host`: detect-secrets' BasicAuthDetector.",
    ),
    Rule(
        "secret/high-entropy-string",
        ERROR,
        "A value looks random enough to be a key (base64 or hex entropy).",
        "detect-secrets' entropy plugins on whole values; digests, revisions, checksums, "
        "ids and certificates are not checked for entropy.",
    ),
    Rule(
        "secret/not-scanned",
        INFO,
        "A file is binary or too large and was not scanned (or only in part).",
        "Binary files are skipped; files over 10 MiB are scanned up to that size.",
    ),
    # -- sync/: Argo CD sync waves, hooks, ordering; Flux dependsOn (syncwaves.py) ------------
    Rule(
        "sync/annotation-not-string",
        ERROR,
        "An annotation or label value is not a string (unquoted `1`, `true`, `null`).",
        "Kubernetes rejects the object; quote the value. Also checked in kustomize "
        "`commonAnnotations` / `commonLabels`.",
    ),
    Rule(
        "sync/wave-not-integer",
        ERROR,
        "`argocd.argoproj.io/sync-wave` is not an integer string, so Argo CD uses its "
        "`helm.sh/hook-weight`, else wave 0.",
        "Read as Go's `strconv.Atoi` reads it: an optional sign and digits, nothing else "
        '(`"+5"` is wave 5; `"1.5"`, `"first"`, `" 2"`, `"5\\n"` all become wave 0, or the '
        "object's `helm.sh/hook-weight` where it has one: gitops-engine `syncwaves.Wave`).",
    ),
    Rule(
        "sync/hook-unknown",
        ERROR,
        "`argocd.argoproj.io/hook` names an unknown phase, or combines `Skip` with others.",
        "Known: PreSync, Sync, PostSync, SyncFail, Skip, PreDelete, PostDelete (comma-separated).",
    ),
    Rule(
        "sync/hook-delete-policy-unknown",
        ERROR,
        "`argocd.argoproj.io/hook-delete-policy` names an unknown policy.",
        "Known: HookSucceeded, HookFailed, BeforeHookCreation.",
    ),
    Rule(
        "sync/sync-option-unknown",
        ERROR,
        "A sync option is unknown to Argo CD or has a value it does not accept.",
        "Checked in the annotation and in an Application's `spec.syncPolicy.syncOptions`.",
    ),
    Rule(
        "sync/sync-option-app-only",
        ERROR,
        "An Application-only sync option (`CreateNamespace`, ...) is set on a resource.",
        "CreateNamespace, PrunePropagationPolicy, ApplyOutOfSyncOnly, FailOnSharedResource and "
        "ClientSideApplyMigration only work in `spec.syncPolicy.syncOptions`.",
    ),
    Rule(
        "sync/mixed-hook-annotations",
        WARNING,
        "Argo CD and Helm hook annotations are mixed on one object; Helm's are ignored.",
        "",
    ),
    Rule(
        "sync/hook-generate-name-clash",
        WARNING,
        "Two hooks of the same phase share a `generateName`.",
        "Argo CD keys hook results by kind, namespace and name; give each hook its own.",
    ),
    Rule(
        "sync/namespace-order",
        ERROR,
        "An object's Namespace is created only by an Application that syncs later.",
        "Argo CD moves a Namespace in front of what needs it only inside one sync "
        "(gitops-engine `sync_tasks.go`, `adjustDeps`); a sibling child Application in a "
        "later wave of the same parent is another sync.",
    ),
    Rule(
        "sync/namespace-missing",
        ERROR,
        "A namespaced object's Namespace is created by nothing.",
        "No Namespace object in the repository, no `CreateNamespace=true` on the Application "
        "that deploys it (or one with that destination namespace), and not a namespace every "
        "cluster has (`default`, `kube-system`, `kube-public`, `kube-node-lease`, `kube-*`, "
        "`openshift-*`). Judged for objects an Argo CD Application of the repository deploys.",
    ),
    Rule(
        "sync/reference-order",
        ERROR,
        "A pod spec references a ServiceAccount, ConfigMap, Secret, PVC or PriorityClass "
        "that syncs later.",
        "Argo CD does not reorder these; the workload stays unhealthy and the sync waits.",
    ),
    Rule(
        "sync/crd-order",
        ERROR,
        "A custom resource's CRD is installed only by an Application that syncs later.",
        "Not reported when the resource or its Application sets "
        "`SkipDryRunOnMissingResource=true`.",
    ),
    Rule(
        "sync/crd-missing",
        ERROR,
        "A custom resource's CRD is nowhere in the repository and nothing skips the dry run.",
        "Judged for objects an Argo CD Application of the repository deploys, when no "
        "Application installs a chart, another repository's path or a kustomization with a "
        "remote base and no OLM object is present (either may bring the CRD); "
        "`SkipDryRunOnMissingResource=true` on the resource or its Application silences it.",
    ),
    Rule(
        "sync/wave-overridden",
        INFO,
        "A Namespace or CRD is written in a later wave than an object of its sync that needs it.",
        "Argo CD moves it in front of that object with that object's phase and wave "
        "(gitops-engine `sync_tasks.go`, `adjustDeps`): the wave written on it is overridden.",
    ),
    Rule(
        "sync/app-health-missing",
        ERROR,
        "Child Applications carry sync waves but `argocd-cm` has no Application health check.",
        "Without it the parent Application does not wait for a child, so waves order nothing. "
        "The check counts as present when any file adds it to argocd-cm as built: a "
        "configMapGenerator merge, an inline patch, Helm `configs.cm` values, or the "
        "argocd-operator's `resourceHealthChecks`.",
    ),
    Rule(
        "sync/depends-on-missing",
        ERROR,
        "A Flux `dependsOn` names an object that is not in the repository.",
        "Names are read as Flux applies them: after `postBuild.substitute`, with "
        "`spec.components` built in. Only objects a Flux Kustomization reachable from the "
        "cluster's start applies are checked (an archived or unlisted ks.yaml waits for "
        "nothing); with no start in the repository, every object. A dependency only a name "
        "that `substituteFrom` sets may provide is a warning. A Flux Operator ResourceSet "
        "makes the objects its templates name: one made from inline `inputs` exists, one "
        "only run-time inputs (`inputsFrom`, `resourcesTemplate`) may make is a warning.",
    ),
    Rule("sync/depends-on-cycle", ERROR, "Flux `dependsOn` entries form a cycle.", ""),
    Rule(
        "sync/app-path-outside-repository",
        ERROR,
        "An Argo CD Application's `spec.source.path` is absolute or leaves the repository.",
        "Argo CD refuses such a path (util/app/path/path.go: 'app path is absolute', 'app path "
        "outside root'), so the Application never syncs; the hook never reads that folder.",
    ),
    Rule(
        "sync/wave-required",
        ERROR,
        "An object of a kind in `sync_waves.require_wave` has no explicit sync-wave.",
        "",
    ),
    Rule(
        "sync/policy-order",
        ERROR,
        "An object syncs earlier than a kind `sync_waves.order` says must come first.",
        "",
    ),
    Rule(
        "sync/context-not-read",
        INFO,
        "A file next to a changed one was too large to read for ordering in a one-file run.",
        "A one-file run parses only the files of the application that name something the "
        "changed files name, and reads none over 1 MB; a full run reads every file.",
    ),
    # -- control/: the controllers keep the cluster on Git and say when they cannot ----------
    Rule(
        "control/drift-not-reconciled",
        ERROR,
        "Changes made in the cluster are neither reverted nor alerted on.",
        "Argo CD `syncPolicy.automated.selfHeal: true` (or a subscribed trigger on OutOfSync); "
        "a Flux Kustomization that is not suspended and has an `interval`; a HelmRelease with "
        "`driftDetection.mode: enabled` (or `warn` with an Alert covering it).",
    ),
    Rule(
        "control/prune-disabled",
        ERROR,
        "Objects removed from Git stay in the cluster.",
        "Argo CD `syncPolicy.automated.prune: true`, Flux `prune: true`; "
        "`controls.prune: false` allows it for an environment.",
    ),
    Rule(
        "control/no-health-gate",
        ERROR,
        "A Flux Kustomization applies workloads without waiting for them to be ready.",
        "`wait: true`, or `healthChecks` (the `timeout` defaults to the interval); without a "
        "gate a failed rollout passes as applied and `dependsOn` does not wait for it.",
    ),
    Rule(
        "control/install-not-remediated",
        ERROR,
        "A HelmRelease leaves a failed install failed.",
        "`install.remediation.retries` (or `install.strategy.name: RetryOnFailure`).",
    ),
    Rule(
        "control/upgrade-not-rolled-back",
        ERROR,
        "A HelmRelease does not roll back a failed upgrade.",
        "`upgrade.remediation.retries` or `remediateLastFailure: true`, with strategy "
        "`rollback` (the default).",
    ),
    Rule(
        "control/sync-not-retried",
        ERROR,
        "An Argo CD Application does not retry a failed sync.",
        "`syncPolicy.retry.limit` (non-zero) with a `backoff`.",
    ),
    Rule(
        "control/no-rollback-analysis",
        ERROR,
        "A Deployment has no progressive rollout that rolls back on failed analysis.",
        "Only with `controls.progressive_delivery: true`: an Argo Rollouts `Rollout` with an "
        "analysis, or a Flagger `Canary` with `analysis` targeting the Deployment.",
    ),
    Rule(
        "control/no-telemetry",
        ERROR,
        "Sync failures and degradation of a controller reach no one.",
        "Argo CD notifications subscriptions whose triggers are defined, a Flux Alert covering "
        "the object (kind, name or `*`, namespace) with a Provider that exists, or a Prometheus "
        "rule on the engine's metrics.",
    ),
    # -- render/: what the cluster gets, rendered (checks/manifests, render/) ----------------
    Rule(
        "render/build-failed",
        ERROR,
        "A kustomization, chart or Application does not render.",
        "Reported where the render starts, with the renderer's own reason on one line.",
    ),
    Rule(
        "render/path-missing",
        ERROR,
        "A path a render needs does not exist (a listed file, an Application or Flux path).",
        "Resources, generator inputs, patches, values files, Argo CD `path`, Flux `path`.",
    ),
    Rule(
        "render/schema",
        ERROR,
        "A rendered object does not match its schema (a wrong type or a missing field).",
        "Kubernetes' schemas for `kubernetes.version`, the repository's CRDs, vendored CRDs.",
    ),
    Rule(
        "render/unknown-field",
        ERROR,
        "A rendered object has a field its schema does not know.",
        "A misspelling (`resource:`, `prun:`) the API server rejects or silently drops.",
    ),
    Rule(
        "render/image-unused",
        WARNING,
        "A kustomize `images:` entry matches no container image, so it changes nothing.",
        "Checked against every render that includes the kustomization.",
    ),
    Rule(
        "render/nothing-included",
        WARNING,
        "An Argo CD directory Application's `include`/`exclude` keeps none of its manifests.",
        "Argo CD renders nothing from that source and says no error; a typo'd glob.",
    ),
    Rule(
        "render/no-schema",
        INFO,
        "No schema is known for a rendered kind, so its objects are not validated.",
        "Add the kind's CRD to the repository to have it checked.",
    ),
    Rule(
        "render/remote-source",
        INFO,
        "A kustomization reads from the network (a remote base or file), so it is not rendered.",
        "A hook never fetches; render it in CI with network access.",
    ),
    Rule(
        "render/remote-chart",
        INFO,
        "A chart comes from a Helm repository or is not vendored, so it is not rendered.",
        "A hook never fetches; vendor the chart (`helm dependency build`) to have it checked.",
    ),
    Rule(
        "render/renderer-missing",
        WARNING,
        "kustomize (or kubectl) or helm is not installed, so some applications are not rendered.",
        "One finding per missing renderer, naming what it leaves unrendered.",
    ),
    # -- promotion/: same artifact from one environment to the next (promotion.py) ----------
    Rule(
        "promotion/not-promoted",
        ERROR,
        "The environment runs an image the environment before it never ran.",
        "Compared with the predecessor's current reference or its git history "
        "(`promotion.require`); the message lists the tags the predecessor had.",
    ),
    Rule(
        "promotion/same-change",
        ERROR,
        "The environment gets an artifact in the same commit or pull request as its predecessor.",
        "With `require: history` the predecessor must have run it in an earlier commit (in a "
        "pull request: at the base revision); the commit that creates an app's overlay is not "
        "a promotion.",
    ),
    Rule(
        "promotion/unknown-environment",
        ERROR,
        "A folder beside the environments' folders looks like an environment but is not in "
        "the policy.",
        "Add it to `promotion.environments` (or map it with `promotion.paths`), or rename it: "
        "a new cluster is never silently unguarded. Without `promotion.environments` in the "
        "policy file the order is only the default guess (staging, production), and the "
        "finding is a warning.",
    ),
    Rule(
        "promotion/no-environments",
        WARNING,
        "No folder of any environment in `promotion.environments` was found.",
        "The message says where it looked; map the environments with `promotion.paths`.",
    ),
    Rule(
        "promotion/no-predecessor",
        WARNING,
        "The app has no overlay in the environment before this one to promote from.",
        "Create the app's overlay in the previous environment, or run the app there first.",
    ),
    Rule(
        "promotion/history-unavailable",
        WARNING,
        "Git history is missing or partly unreadable (shallow clone, no repository, corrupt "
        "objects, git not installed or not runnable), so not every reference counts.",
        "Fetch full history in CI (`fetch-depth: 0`) for the `history` check; `git fsck` "
        "names corrupt objects.",
    ),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}

#: the rule areas each checking command owns: an ignore comment for a rule of an area is
#: judged (stale or not) by the command that owns it, and by no other
COMMAND_AREAS: dict[str, tuple[str, ...]] = {
    "check-images": ("image/", "yaml/"),
    "check-secrets": ("secret/",),
    "check-sync-waves": ("sync/",),
    "check-promotion": ("promotion/",),
    "check-manifests": ("render/",),
    "check-controls": ("control/",),
}

"""The per-kind rules: core Secrets, SealedSecret / ExternalSecret templates, SOPS files,
kustomize generators and Argo CD Helm values.

Each kind of object keeps credentials in its own places and encrypts them in its own way; each
rule here knows one of them, and hands every other value back to the scanner's value rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from gitops_guard.checks.secrets.embedded import embedded_credentials
from gitops_guard.checks.secrets.engine import empty_pem
from gitops_guard.checks.secrets.values import (
    BINARY_PROBE,
    HASH_LIKE,
    KEYWORD_TYPE,
    PLACEHOLDER_WORD,
    RANDOM_PART,
    article,
    b64decode,
    credential_word,
    describe,
    dummy_credential,
    is_dummy,
    is_placeholder,
    key_words,
    mask,
    names_a_key,
    public_certificate,
    rule_for,
    sensitive_kind,
)
from gitops_guard.core.documents import (
    Document,
    Map,
    Pos,
    Seq,
    load_text,
)
from gitops_guard.core.findings import quote


class KindRules:
    """Rules per kind of object, mixed into the scanner (they call ``add``, ``value`` and
    ``document``)."""

    def core_secret(self, doc: Document, skip: set[int], sops: Any) -> None:
        data: Map = doc.data
        entries: list[tuple[str, str, str, Pos]] = []  # key, as written, decoded, position
        invalid: list[str] = []
        #: a value is substituted at deploy time (Flux postBuild ``${VAR}``, a template)
        templated = False
        for field in ("data", "stringData"):
            values = data.get(field)
            if not isinstance(values, Map):
                continue
            if sops is None:
                skip.add(id(values))  # else: each value is checked against SOPS' rules
            for key, written, pos in self.written(values):
                if written is None or not written.strip():
                    continue
                written = written.strip()
                if is_placeholder(written):
                    templated = templated or not BARE_PLACEHOLDER.match(written)
                    continue
                if sops is not None and not sops_exempt((field, key), sops):
                    continue
                decoded = written
                if field == "data":
                    raw = b64decode(written)
                    if raw is None:
                        invalid.append(str(key))
                    else:
                        decoded = raw.decode("utf-8", "replace")
                entries.append((str(key), written, decoded, pos))
        entries = [e for e in entries if not _empty_docker_config(e[0], e[2])]
        if not entries or all(public_certificate(e[2]) for e in entries):
            return
        if _argocd_settings_only(doc, entries):
            return
        if templated and not any(self.credential_entry(e[0], e[2]) for e in entries):
            return  # ``username: pgadmin`` beside ``password: ${SECRET_POSTGRES_PASSWORD}``
        unique = list(dict.fromkeys(e[0] for e in entries))
        keys = ", ".join(unique[:5]) + (", ..." if len(unique) > 5 else "")
        notes: list[str] = []
        advice = "commit it encrypted (SealedSecret, SOPS) or reference it (ExternalSecret)"
        if all(_stand_in(e[2]) for e in entries):
            advice = (
                "the values look like placeholders, and the next edit would commit real ones: "
                "keep the object out of Git (SealedSecret, SOPS, ExternalSecret)"
            )
        else:
            for key, _, decoded, _ in entries:
                if not _stand_in(decoded):  # a dummy holds nothing: say nothing of it
                    notes.extend(self.name_contents(key, decoded))
        if invalid:
            notes.append(f"data not base64 in {', '.join(dict.fromkeys(invalid))}")
        twice = [k for k in unique if sum(e[0] == k for e in entries) > 1]
        if twice:
            notes.append(f"key {', '.join(twice)} written more than once")
        found = f"; holds {'; '.join(dict.fromkeys(notes))}" if notes else ""
        name = doc.name or "(unnamed)"
        secrets = tuple(dict.fromkeys(v for e in entries for v in (e[1], e[2])))
        self.add(
            self._pos(min(e[3] for e in entries)),  # the first value written
            "secret/k8s-secret-plaintext",
            f"Secret {quote(name)} keeps {len(entries)} plaintext value(s) in Git "
            f"(keys: {keys}){found}; {advice}",
            secrets,
            KEYWORD_TYPE,
            tuple(unique),
        )

    def credential_entry(self, key: str, decoded: str) -> bool:
        """A plaintext value of a Secret whose credentials are substituted at deploy time
        that may be a credential: anything but a public key or certificate and an
        identifier (a user name, host, port, database name: IDENTIFIER_LAST) that the
        template rules (:meth:`credential_literal`) do not call a credential and that does
        not look random."""
        if public_certificate(decoded):
            return False
        words = key_words(key.rsplit("/", 1)[-1])
        if not words or words[-1] not in IDENTIFIER_LAST or credential_word(key):
            return True
        return bool(RANDOM_PART.search(decoded)) or self.credential_literal(key, decoded)

    def written(self, values: Map) -> list[tuple[Any, str | None, Pos]]:
        """(key, value as written, position) of every entry, in file order, including values
        a later duplicate key hides: kubectl applies the last one, but all of them are in Git
        (and the finding belongs at the first)."""
        items = [(key, values.text(key), values.at(key)) for key in values]
        if self.duplicates and self.offset == 0:
            items.extend(self._shadowed(values))
            items.sort(key=lambda item: item[2])
        return items

    def _shadowed(self, values: Map) -> list[tuple[Any, str | None, Pos]]:
        """The hidden entries, read from the file's node graph (which keeps every pair)."""
        import yaml

        if self._nodes is None:
            try:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                self._nodes = [
                    n for n in yaml.compose_all(self.text, Loader=loader) if n is not None
                ]
            except (yaml.YAMLError, RecursionError):
                self._nodes = []
        node = _mapping_node_at(self._nodes, values.pos)
        if node is None:
            return []
        last = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        return [
            (k.value, v.value, (v.start_mark.line + 1, v.start_mark.column + 1))
            for k, v in node.value
            if isinstance(k, yaml.ScalarNode)
            and isinstance(v, yaml.ScalarNode)
            and last[k.value] is not v
        ]

    def name_contents(self, key: str, text: str) -> Iterator[str]:
        """Name what a Secret value holds, never the value itself."""
        if "PRIVATE KEY-----" in text:
            yield f"a private key in '{key}'"
            return
        if key in (".dockerconfigjson", ".dockercfg"):
            yield from _docker_auths(key, text)
            return
        hits = self.engine.scan_value(text.strip(), entropy=False)
        for hit in hits[:2]:
            yield f"{article(hit.type)} {hit.type} in '{key}'"
        if not hits:
            kind = sensitive_kind(key)
            if kind is not None:
                yield f"{article(kind)} {kind} in '{key}'"

    def template(self, template: Any, owner: str, skip: set[int]) -> None:
        """Literal values in a SealedSecret / ExternalSecret template are plain Secret data."""
        if not isinstance(template, Map):
            return
        for field in ("data", "stringData"):
            values = template.get(field)
            if not isinstance(values, Map):
                continue
            skip.add(id(values))
            for key, _ in values.items():
                written = values.text(key)
                if written is None or not written.strip():
                    continue
                written = written.strip()
                if is_placeholder(written):
                    hits = self.engine.scan_value(written, entropy=False)
                    if hits:  # a template that embeds a credential around its variables
                        self.add(
                            self._pos(values.at(key)),
                            rule_for(hits[0]),
                            f"{key}: {describe(hits[0])}",
                            tuple(h.secret for h in hits),
                            hits[0].type,
                        )
                    continue
                if public_certificate(written):
                    continue
                if owner == "ExternalSecret" and not self.credential_literal(str(key), written):
                    continue  # ``DATABASE_TYPE: postgres`` beside ``{{ .password }}``
                notes = list(self.name_contents(str(key), written))
                found = f" ({'; '.join(notes)})" if notes else ""
                self.add(
                    self._pos(values.at(key)),
                    "secret/template-plaintext",
                    f"{owner} template.{field}.{key} is a literal {mask(written)}{found}: it is "
                    "stored unencrypted; move it into the encrypted data or the secret store",
                    (written,),
                    KEYWORD_TYPE,
                )

    def credential_literal(self, key: str, written: str) -> bool:
        """A template literal that is a credential by its name or by the value rules (a
        provider token, a credential inside it, entropy): plain configuration is not."""
        kind = sensitive_kind(key)
        if kind is not None and not is_dummy(written) and not names_a_key(key, written, ()):
            return True
        if embedded_credentials(written):
            return True
        return bool(self.engine.scan_value(written, entropy=not HASH_LIKE.match(written)))

    def kustomization(self, data: Map) -> None:
        base = os.path.dirname(self.path)
        for generator, secret in (("secretGenerator", True), ("configMapGenerator", False)):
            items = data.get(generator)
            if not isinstance(items, Seq):
                continue
            for entry in items:
                if isinstance(entry, Map):
                    self.generator(entry, generator, secret, base)

    def generator(self, entry: Map, generator: str, secret: bool, base: str) -> None:
        name = entry.get("name") if isinstance(entry.get("name"), str) else "(unnamed)"
        literals = entry.get("literals")
        if isinstance(literals, Seq):
            for i, literal in enumerate(literals):
                if not isinstance(literal, str) or "=" not in literal:
                    continue
                key, _, value = literal.partition("=")
                value = value.strip().strip("\"'")
                if not value or is_placeholder(value):
                    continue
                if secret:
                    self.add(
                        self._pos(literals.at(i)),
                        "secret/kustomize-secret-literal",
                        f"secretGenerator {quote(name)} literal {key.strip()} is plaintext "
                        f"{mask(value)}; use an encrypted source (SOPS, SealedSecret)",
                        (value, literal),
                        KEYWORD_TYPE,
                    )
                else:
                    kind = sensitive_kind(key.strip())
                    if kind is not None and not is_dummy(value):
                        self.add(
                            self._pos(literals.at(i)),
                            "secret/literal-credential",
                            f"configMapGenerator {quote(name)} literal {key.strip()}: literal "
                            f"{kind} {mask(value)}; a ConfigMap is not the place for it",
                            (value, literal),
                            KEYWORD_TYPE,
                        )
        if not secret:
            return
        sources: list[tuple[str, Pos, bool]] = []  # file, position, is an env file
        for field in ("envs", "files"):
            items = entry.get(field)
            if isinstance(items, Seq):
                for i, item in enumerate(items):
                    if isinstance(item, str):
                        sources.append((item, items.at(i), field == "envs"))
        if isinstance(entry.get("env"), str):
            sources.append((entry["env"], entry.at("env"), True))
        for item, pos, is_env in sources:
            rel = item.split("=", 1)[1] if not is_env and "=" in item else item
            target = os.path.join(base, rel)
            root = os.path.realpath(base or ".")
            if os.path.commonpath([root, os.path.realpath(target)]) != root:
                continue  # kustomize refuses files outside the kustomization's folder too
            content = _read_small(target)
            if content is None or ("ENC[" in content and "sops" in content):
                continue  # missing (generated at build time) or SOPS-encrypted
            values = _env_values(content) if is_env else ([content.strip()] if content else [])
            values = [v for v in values if v and not is_placeholder(v)]
            if not values or all(public_certificate(v) for v in values):
                continue
            what = f"{len(values)} plaintext value(s) from" if is_env else "the plaintext file"
            self.add(
                self._pos(pos),
                "secret/kustomize-secret-literal",
                f"secretGenerator {quote(name)} reads {what} {rel}; commit it encrypted "
                "(SOPS) or generate it outside Git",
                tuple(values),
                KEYWORD_TYPE,
            )

    def argo_values(self, app: Map) -> None:
        """``helm.values`` is a YAML string inside the Application: parse it and scan it."""
        spec = app.get("spec")
        if app.get("kind") == "ApplicationSet" and isinstance(spec, Map):
            template = spec.get("template")
            spec = template.get("spec") if isinstance(template, Map) else None
        if not isinstance(spec, Map):
            return
        sources = [spec.get("source")]
        if isinstance(spec.get("sources"), Seq):
            sources.extend(spec["sources"])
        for source in sources:
            helm = source.get("helm") if isinstance(source, Map) else None
            if not isinstance(helm, Map) or not isinstance(helm.get("values"), str):
                continue
            line = helm.at("values")[0]
            raw = helm["values"]
            self.inlined.add(id(raw))  # the walk does not read it a second time
            inner = load_text(self.path, raw)
            saved = getattr(self, "offset", 0)
            for doc in inner.documents:
                self.document(doc, offset=saved + line)  # block scalar: content starts below
            self.offset = saved

    def inline_values(self, raw: str, pos: Pos) -> bool:
        """``helm: {values: |...}`` outside an Application: an app-of-apps chart's values or
        a Helm values file that a template renders into an Application's
        ``spec.source.helm.values`` (Argo CD ``ApplicationSourceHelm.Values``, "Helm values to
        be passed to helm template, typically defined as a block"; argo-helm's argocd-apps
        chart takes ``applications.<name>.source.helm.values`` the same way). The block is
        the values the child chart gets: parsed and scanned as YAML, as ``argo_values`` does,
        so ``auth.rootPassword: ...`` in it is a literal credential. False (the caller reads
        it line by line) when it is no YAML mapping."""
        depth = getattr(self, "inline_depth", 0)
        if depth >= MAX_INLINE_DEPTH:
            return False  # values inside values inside values...: read line by line from here
        inner = load_text(self.path, raw)
        docs = [d for d in inner.documents if isinstance(d.data, Map)]
        if inner.problems or not docs:
            return False
        saved = (getattr(self, "offset", 0), self.no_entropy, self.ids, self.secret_names)
        self.inline_depth = depth + 1
        try:
            for doc in docs:
                self.document(doc, offset=saved[0] + pos[0])  # block scalar: content below
        finally:
            self.inline_depth = depth
            self.offset, self.no_entropy, self.ids, self.secret_names = saved
        return True


#: how many ``helm: {values: |}`` blocks inside each other are parsed as YAML (each level is
#: a parse and a walk of its own: 250 levels exhausted Python's stack); deeper ones are read
#: line by line
MAX_INLINE_DEPTH = 8

#: what a docker config holds (docker/cli cli/config/configfile/file.go ConfigFile and
#: types.AuthConfig); any other key is not a docker config's, and may hold a real secret
_DOCKER_CONFIG_KEYS = frozenset({"auths", "credsStore", "credHelpers"})
_DOCKER_ENTRY_KEYS = frozenset(
    {"username", "password", "auth", "email", "identitytoken", "registrytoken", "serveraddress"}
)
#: a registry as a legacy ``.dockercfg`` key: a host (with a dot or a port) or a URL of one
_REGISTRY_KEY = re.compile(r"^(?:https?://)?(?:localhost|[\w-]+(?:\.[\w-]+)+)(?::\d+)?(?:/\S*)?$")


def docker_config_stand_ins(value: str) -> bool:
    """A docker config (``{"auths": {registry: {username, password, auth}}}``, base64 or
    plain, as ``kubectl create secret docker-registry`` writes ``.dockerconfigjson``) whose
    every credential is a stand-in (``pepe``/``pass``, ``user``/``password``): an example
    pull secret, not a credential. One real password, token or ``auth`` in it, or no
    credential at all, and this is False (the value is judged as before)."""
    import json

    text = value
    if not value.lstrip().startswith("{"):
        raw = b64decode(value)
        if raw is None:
            return False
        text = raw.decode("utf-8", "replace")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(config, dict):
        return False
    if "auths" in config:  # config.json: nothing but auths (and credential helper names)
        auths = config["auths"]
        if not isinstance(auths, dict) or set(config) - _DOCKER_CONFIG_KEYS:
            return False
    else:  # the legacy .dockercfg: registries at the top
        auths = config
        if not all(_REGISTRY_KEY.match(key) for key in auths):
            return False
    secrets: list[tuple[str, str]] = []
    for entry in auths.values():
        if not isinstance(entry, dict) or set(entry) - _DOCKER_ENTRY_KEYS:
            return False  # another key may hold anything: the value is judged as a whole
        for field in ("password", "identitytoken", "registrytoken"):
            if isinstance(entry.get(field), str) and entry[field]:
                secrets.append((field, entry[field]))
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            pair = b64decode(entry["auth"])
            if pair is None or b":" not in pair:
                return False
            secrets.append(("password", pair.decode("utf-8", "replace").split(":", 1)[1]))
    return bool(secrets) and all(dummy_credential(v, k) for k, v in secrets)


#: Argo CD's declarative Secrets (label ``argocd.argoproj.io/secret-type``) and the keys of
#: theirs that are settings, not credentials (Argo CD ``docs/operator-manual/declarative-setup.md``:
#: repositories, repository credential templates, clusters); Kargo's credential Secrets (label
#: ``kargo.akuity.io/cred-type``, formerly ``kargo.akuity.io/secret-type``) take ``repoURL``,
#: ``repoURLIsRegex``, ``username`` and ``password`` (Kargo docs, managing credentials).
#: ``password``, ``sshPrivateKey``, ``tlsClientCertKey``, ``githubAppPrivateKey``,
#: ``bearerToken``, ``gcpServiceAccountKey`` and a cluster's ``config`` are the credentials.
_ARGOCD_SECRET_TYPES = frozenset(
    ("repository", "repo-creds", "repository-write", "repo-write-creds", "cluster")
)
_ARGOCD_SETTINGS = frozenset(
    (
        "type",
        "url",
        "name",
        "project",
        "username",
        "insecure",
        "insecureIgnoreHostKey",
        "enableLfs",
        "enableOCI",
        "insecureOCIForceHttp",
        "proxy",
        "noProxy",
        "forceHttpBasicAuth",
        "depth",
        "githubAppID",
        "githubAppInstallationID",
        "githubAppEnterpriseBaseUrl",
        "tlsClientCertData",
        "useAzureWorkloadIdentity",
        "server",
        "namespaces",
        "clusterResources",
        "repoURL",
        "repoURLIsRegex",
    )
)


def _argocd_settings_only(doc: Document, entries: list[tuple[str, str, str, Pos]]) -> bool:
    """An Argo CD repository or cluster Secret that holds only settings (a public repository
    is ``type`` and ``url``; a credential left as a placeholder is already out of
    ``entries``): plain text by design, nothing to encrypt."""
    metadata = doc.data.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Map) else None
    if not isinstance(labels, Map):
        return False
    argocd = labels.get("argocd.argoproj.io/secret-type") in _ARGOCD_SECRET_TYPES
    kargo = labels.get("kargo.akuity.io/secret-type") in _ARGOCD_SECRET_TYPES or isinstance(
        labels.get("kargo.akuity.io/cred-type"), str
    )
    if not (argocd or kargo):
        return False
    return all(key in _ARGOCD_SETTINGS for key, _, value, _ in entries if not _stand_in(value))


def _stand_in(value: str) -> bool:
    """A Secret value that stands in for the real one: a dummy word, a word or a part waiting
    to be filled in, or a private-key block with no key inside (Argo CD's documented repository
    Secrets hold ``-----BEGIN OPENSSH PRIVATE KEY-----`` / ``...`` / ``-----END ...``)."""
    return (
        is_dummy(value)
        or bool(PLACEHOLDER_WORD.match(value))
        or (
            len(value) < 200
            and "\n" not in value
            and "</" not in value
            and bool(_FILL_IN.search(value))
        )
        or empty_pem(value)
    )


#: ``<myemail>@gmail.com``: a part a person fills in (Argo CD's notifications Secret docs);
#: in a one-line value only (an XML file's ``<password>`` element is no fill-in)
_FILL_IN = re.compile(r"<[A-Za-z][\w .-]{0,40}>")


def _empty_docker_config(key: str, text: str) -> bool:
    """``.dockerconfigjson: e30=`` is ``{}``: a pull secret with no registry in it yet."""
    if key not in (".dockerconfigjson", ".dockercfg"):
        return False
    import json

    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if isinstance(config, dict) and set(config) <= {"auths"}:
        return not config.get("auths")
    return config in ({}, [])


def _docker_auths(key: str, text: str) -> Iterator[str]:
    import json

    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        yield f"an unreadable {key}"
        return
    if not isinstance(config, dict):
        return
    auths = config.get("auths") if isinstance(config.get("auths"), dict) else config
    for registry, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        auth = entry.get("auth")
        if isinstance(auth, str):
            raw = b64decode(auth)
            if raw is not None and b":" in raw:
                yield f"{key} auth for {registry} that decodes to user:password"
                continue
        if entry.get("password"):
            yield f"a password for {registry} in {key}"


#: the last word of a key that names who or where, not a credential (``username``,
#: ``DB_HOST``, ``port``, ``database``): the plaintext a database Secret keeps beside its
#: substituted password
IDENTIFIER_LAST = frozenset(
    {
        "user", "username", "login", "email", "host", "hostname", "server", "port", "name",
        "database", "db", "dbname", "schema", "address", "endpoint", "region", "namespace",
    }
)  # fmt: skip
#: a placeholder a person fills in (``<password>``), not one a tool substitutes
BARE_PLACEHOLDER = re.compile(r"^<[^<>:]*>$")


def sops_config(data: Map) -> Map | None:
    sops = data.get("sops")
    if isinstance(sops, Map) and "mac" in sops and "version" in sops:
        return sops
    return None


def sops_exempt(path: tuple[Any, ...], sops: Map) -> bool:
    """Keys SOPS leaves in clear: ``unencrypted_suffix``/``_regex`` match, or the
    ``encrypted_suffix``/``_regex`` does not. The regexes come from the file under review:
    one that cannot be evaluated in linear time (see :func:`safe_search`) exempts nothing, so
    the values it would cover must be ``ENC[...]``."""
    keys = [k for k in path if isinstance(k, str)]
    unenc_suffix = sops.get("unencrypted_suffix")
    enc_suffix = sops.get("encrypted_suffix")
    unenc_regex = sops.get("unencrypted_regex")
    enc_regex = sops.get("encrypted_regex")
    if not any((unenc_suffix, enc_suffix, unenc_regex, enc_regex)):
        unenc_suffix = "_unencrypted"
    if isinstance(unenc_suffix, str) and any(k.endswith(unenc_suffix) for k in keys):
        return True
    if isinstance(unenc_regex, str) and any(safe_search(unenc_regex, k) is True for k in keys):
        return True
    if isinstance(enc_suffix, str) and not any(k.endswith(enc_suffix) for k in keys):
        return True
    return isinstance(enc_regex, str) and all(safe_search(enc_regex, k) is False for k in keys)


def safe_search(pattern: str, text: str) -> bool | None:
    """Whether the file's own ``pattern`` matches in ``text``, in linear time (RE2, through
    core/patterns.py, as SOPS evaluates it with Go's ``regexp``); None when the pattern
    cannot run there (backreferences, lookaround, too large, no RE2)."""
    from gitops_guard.core.patterns import PatternError, compile_pattern

    try:
        return compile_pattern(pattern).search(text)
    except PatternError:
        return None


def _mapping_node_at(roots: list[Any], pos: Pos) -> Any:
    """The composed mapping node that starts at ``pos`` (1-based), or None."""
    import yaml

    stack, seen = list(roots), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            if (node.start_mark.line + 1, node.start_mark.column + 1) == pos:
                return node
            stack.extend(item for pair in node.value for item in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _read_small(path: str) -> str | None:
    try:
        if os.path.getsize(path) > 1024 * 1024:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if b"\x00" in data[:BINARY_PROBE]:
        return None
    return data.decode("utf-8", "replace")


def _env_values(text: str) -> list[str]:
    values = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        values.append(line.split("=", 1)[1].strip().strip("\"'"))
    return values

"""False alarms of check-secrets found on public GitOps repositories, each beside the secret
the same rule must still catch. Every image, key and token here is built at run time
(tests/tokens.py: no committed file holds a token-shaped string)."""

from __future__ import annotations

import base64
import random
import struct
import zlib
from pathlib import Path

import pytest
from tokens import ALNUM as ALNUM_CHARS
from tokens import B64, FAMILIES, PEM_BEGIN, PEM_END, body

RNG = random.Random(41)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def private_key() -> str:
    return next(f for f in FAMILIES if f.name == "Private key").make(RNG)


def random_secret() -> str:
    """A random key, base64 (``openssl rand -base64 48``)."""
    return b64(RNG.randbytes(48))


# -- 1. base64 images -------------------------------------------------------------------------


def png(width: int = 12) -> bytes:
    """A real PNG (PNG spec: signature, IHDR, IDAT, IEND) of random pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00" + bytes(RNG.randrange(256) for _ in range(width * 3)) for _ in range(width)
    )
    header = struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def svg() -> bytes:
    """An icon like a Crossplane package's: a few shapes with long numeric paths."""
    numbers = " ".join(f"{RNG.uniform(0, 65):.8f}" for _ in range(40))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="65" height="65">'
        '<rect width="65" height="65" rx="16" fill="#6651CC"/>'
        f'<path fill="#9271F3" d="M{numbers}z"/></svg>'
    ).encode()


CROSSPLANE = """apiVersion: meta.pkg.crossplane.io/v1alpha1
kind: Configuration
metadata:
  name: platform-ref
  annotations:
    iconData: {icon}
"""
BINARY_CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: branding\nbinaryData:\n  {name}: {data}\n"
)


@pytest.mark.parametrize(
    "name,data",
    [
        ("logo.png", lambda: png()),
        ("logo.jpg", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + RNG.randbytes(400)),
        ("logo.gif", lambda: b"GIF89a" + RNG.randbytes(400)),
        ("logo.webp", lambda: b"RIFF\x00\x10\x00\x00WEBPVP8 " + RNG.randbytes(400)),
        ("favicon.ico", lambda: b"\x00\x00\x01\x00\x01\x00" + RNG.randbytes(400)),
        ("icon.svg", lambda: svg()),
        ("icon.svg", lambda: b'<?xml version="1.0" encoding="UTF-8"?>\n' + svg()),
    ],
)
def test_a_base64_image_is_not_a_high_entropy_secret_a_random_key_is(name, data, tmp_path, cli):
    """ConfigMap ``binaryData`` logos and Crossplane ``iconData`` (upbound platform-ref-*
    crossplane.yaml) decode to a known file format, not to key material."""
    encoded = b64(data())
    path = write(tmp_path, "cm.yaml", BINARY_CM.format(name=name, data=encoded))
    assert cli("check-secrets", path) == (0, "", "")
    # the same image wrapped over lines in a block scalar (kubectl create configmap writes it)
    wrapped = "\n".join("    " + encoded[i : i + 76] for i in range(0, len(encoded), 76))
    path = write(tmp_path, "wrapped.yaml", BINARY_CM.format(name=name, data="|\n" + wrapped))
    assert cli("check-secrets", path) == (0, "", "")
    # a random key of the same length under the same key is still a finding
    secret = b64(RNG.randbytes(len(data()) if len(data()) < 200 else 180))
    path = write(tmp_path, "key.yaml", BINARY_CM.format(name=name, data=secret))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/high-entropy-string" in out, out


def test_crossplane_icon_data_passes_a_random_annotation_does_not(tmp_path, cli):
    path = write(tmp_path, "crossplane.yaml", CROSSPLANE.format(icon=b64(svg())))
    assert cli("check-secrets", path) == (0, "", "")
    path = write(tmp_path, "other.yaml", CROSSPLANE.format(icon=random_secret()))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/high-entropy-string" in out


def test_base64_xml_with_a_credential_in_it_is_not_an_image(tmp_path, cli):
    """XML text is skipped only when nothing in it is named like a credential."""
    from gitops_guard.checks.secrets.values import encoded_media

    assert encoded_media(b64(svg()))
    settings = (
        f"<?xml version='1.0'?><settings><password>{body(RNG, B64, 40)}</password></settings>"
    )
    assert not encoded_media(b64(settings.encode()))
    assert not encoded_media(random_secret())
    # a PNG signature alone does not make invalid base64 an image
    assert not encoded_media(b64(png())[:-3] + "!!!")


def test_a_base64_image_in_a_json_file_passes_a_random_key_does_not(tmp_path, cli):
    """Files that are not YAML are scanned line by line: the same rule applies there."""
    path = write(tmp_path, "assets.txt", f'icon = "{b64(png())}"\n')
    assert cli("check-secrets", path) == (0, "", "")
    path = write(tmp_path, "keys.txt", f'setting = "{random_secret()}"\n')
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/high-entropy-string" in out, out


# -- 2. documented placeholder words ------------------------------------------------------------

SAMPLE_ENV = """# The Weave GitOps dashboard admin password
# `generated` - this will generate a token and print it in the logs
export BOOTSTRAP_WEAVE_GITOPS_ADMIN_PASSWORD="{value}" # NOTE: alphanumeric characters and dashes
export BOOTSTRAP_FLUX_GITHUB_WEBHOOK_SECRET="{value}"
"""


@pytest.mark.parametrize("name", [".config.sample.env", ".env"])
def test_generated_is_a_placeholder_a_password_is_not(name, tmp_path, cli):
    """onedr0p's cluster-template ``.config.sample.env``: ``generated`` asks the bootstrap to
    generate the secret. A password in the same place is still a finding."""
    path = write(tmp_path, name, SAMPLE_ENV.format(value="generated"))
    assert cli("check-secrets", path) == (0, "", "")
    real = body(RNG, "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 14)
    path = write(tmp_path, "x" + name, SAMPLE_ENV.format(value=real))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and out.count("secret/literal-credential") == 2, out
    assert real not in out


# -- 3. a private key's BEGIN line with no key -------------------------------------------------

ENV_EXAMPLE = """# TLS is disabled by default - run behind a reverse proxy
# Or inline (not recommended - use files instead)
# TLS_KEY={begin}\\n...
# TLS_CERT=-----BEGIN CERTIFICATE-----\\n...
"""


def test_a_commented_begin_line_with_no_key_body_is_not_a_key(tmp_path, cli):
    path = write(tmp_path, ".env.example", ENV_EXAMPLE.format(begin=PEM_BEGIN))
    assert cli("check-secrets", path) == (0, "", "")
    # a YAML comment, and a value that only names the marker (a policy's pattern)
    cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
        f"# key: {PEM_BEGIN}\n"
        f'data:\n  marker: "{PEM_BEGIN}"\n'
    )
    assert cli("check-secrets", write(tmp_path, "c.yaml", cm)) == (0, "", "")


@pytest.mark.parametrize(
    "name,text",
    [
        # a PEM file, whole or cut before its END line
        ("key.pem", lambda k: k + "\n"),
        ("cut.pem", lambda k: "\n".join(k.splitlines()[:-1]) + "\n"),
        # a key in one line with escaped newlines (a .env, a JSON string)
        (".env", lambda k: 'TLS_KEY="' + k.replace("\n", "\\n") + '"\n'),
        # the same .env line commented out: still a key in Git
        (".env.example", lambda k: '# TLS_KEY="' + k.replace("\n", "\\n") + '"\n'),
        # a key commented out line by line in YAML
        (
            "c.yaml",
            lambda k: (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                + "".join(f"# {line}\n" for line in k.splitlines())
            ),
        ),
    ],
)
def test_a_private_key_with_its_body_is_still_found(name, text, tmp_path, cli):
    key = private_key()
    code, out, _ = cli("check-secrets", write(tmp_path, name, text(key)))
    assert code == 1 and "secret/private-key" in out, out
    assert not any(line in out for line in key.splitlines()[1:-1])


def test_header_only_and_body_follows():
    from gitops_guard.checks.secrets.engine import header_only, key_body_follows

    assert header_only(f"# TLS_KEY={PEM_BEGIN}\\n...")
    assert not header_only(f"{PEM_BEGIN}\\n{body(RNG, B64, 64)}")
    assert not header_only(f"{PEM_BEGIN}\n{PEM_END}")
    assert key_body_follows(["", f"# {body(RNG, B64, 64)}"])
    assert key_body_follows(["Proc-Type: 4,ENCRYPTED"])
    assert not key_body_follows(["# TLS_CERT=-----BEGIN CERTIFICATE-----\\n..."])
    assert not key_body_follows([])


# -- 4. SSH public keys and known_hosts ---------------------------------------------------------


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def ssh_public(kind: str) -> str:
    """``<type> <base64 blob>``: the blob is the wire encoding of RFC 4253 section 6.6
    (RFC 5656 for ECDSA, RFC 8709 for Ed25519), with random key bytes."""
    if kind == "ssh-ed25519":
        blob = _string(b"ssh-ed25519") + _string(RNG.randbytes(32))
    elif kind == "ecdsa-sha2-nistp256":
        point = b"\x04" + RNG.randbytes(64)
        blob = _string(kind.encode()) + _string(b"nistp256") + _string(point)
    else:
        blob = _string(b"ssh-rsa") + _string(b"\x01\x00\x01") + _string(RNG.randbytes(257))
    return f"{kind} {b64(blob)}"


def known_hosts() -> str:
    salt, digest = b64(RNG.randbytes(20)), b64(RNG.randbytes(20))
    return "\n".join(
        [
            f"github.com {ssh_public('ssh-ed25519')}",
            f"github.com,140.82.121.4 {ssh_public('ecdsa-sha2-nistp256')}",
            f"[git.example.com]:2222 {ssh_public('ssh-rsa')}",
            f"|1|{salt}|{digest} {ssh_public('ssh-ed25519')}",
            f"@cert-authority *.example.com {ssh_public('ssh-ed25519')}",
        ]
    )


def enc() -> str:
    return (
        f"ENC[AES256_GCM,data:{b64(RNG.randbytes(48))},iv:{b64(RNG.randbytes(32))},"
        f"tag:{b64(RNG.randbytes(16))},type:str]"
    )


def deploy_key(identity: str | None, regex: str | None = "^identity$") -> str:
    """``flux create secret git`` output (identity, identity.pub, known_hosts), encrypted
    with an ``encrypted_regex`` that leaves the public parts in clear (no ``regex``: a plain
    Secret; no ``identity``: its public parts only)."""
    lines = "\n".join("      " + line for line in known_hosts().splitlines())
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: github-deploy-key\nstringData:\n"
    if identity is not None:
        text += f"  identity: {identity}\n"
    text += f"  identity.pub: {ssh_public('ssh-ed25519')} flux\n  known_hosts: |\n{lines}\n"
    if regex is not None:
        text += (
            "sops:\n  age:\n    - recipient: age1example\n"
            f'  lastmodified: "2023-04-03T13:22:31Z"\n  mac: {enc()}\n'
            f"  encrypted_regex: {regex}\n  version: 3.7.3\n"
        )
    return text


def test_ssh_public_keys_left_clear_by_sops_encrypted_regex_pass(tmp_path, cli):
    """SOPS encrypts only the keys ``encrypted_regex`` matches (getsops/sops README,
    "Encrypting only parts of a file"): a public key and known_hosts are public."""
    path = write(tmp_path, "deploy-key.sops.yaml", deploy_key(enc()))
    assert cli("check-secrets", path) == (0, "", "")
    # a plain Secret of only the public parts passes too
    path = write(tmp_path, "public.yaml", deploy_key(None, regex=None))
    assert cli("check-secrets", path) == (0, "", "")


def test_a_private_key_left_clear_beside_public_ones_is_found(tmp_path, cli):
    key = "|\n" + "\n".join(f"    {line}" for line in private_key().splitlines())
    # the regex leaves identity clear: a private key in Git
    path = write(tmp_path, "a.sops.yaml", deploy_key(key, regex="^password$"))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/k8s-secret-plaintext" in out and "private key" in out, out
    # the same three keys in a plain Secret
    code, out, _ = cli("check-secrets", write(tmp_path, "b.yaml", deploy_key(key, regex=None)))
    assert code == 1 and "keys: identity, identity.pub, known_hosts" in out, out


def test_an_ssh_key_line_must_hold_an_ssh_key_blob():
    from gitops_guard.checks.secrets.values import public_certificate, ssh_public_keys

    assert ssh_public_keys(known_hosts())
    assert ssh_public_keys(ssh_public("ssh-rsa") + " user@host")
    # a random base64 body after the type: not a key blob (a secret pasted in its place)
    assert not ssh_public_keys(f"github.com ssh-ed25519 AAAA{body(RNG, B64, 64)}")
    # a blob of another type than the line names
    blob = ssh_public("ssh-rsa").split()[1]
    assert not ssh_public_keys(f"github.com ssh-ed25519 {blob}")
    assert not ssh_public_keys(known_hosts() + "\nnot a key line")
    assert not public_certificate(known_hosts() + "\n" + private_key())


# -- 5. identifiers beside substituted credentials ----------------------------------------------

PG_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: cloudnative-pg-secret
  namespace: databases
type: Opaque
stringData:
{entries}"""


@pytest.mark.parametrize(
    "entries",
    [
        "  username: pgadmin\n  password: ${SECRET_POSTGRES_PASSWORD}\n",
        "  DB_HOST: postgres-rw.databases.svc.cluster.local\n  DB_PORT: '5432'\n"
        "  DB_USER: app\n  DB_NAME: app\n  DB_PASSWORD: ${SECRET_APP_DB_PASSWORD}\n",
    ],
)
def test_substituted_credentials_beside_identifiers_pass_as_in_an_external_secret_template(
    entries, tmp_path, cli
):
    """Consistent with the ExternalSecret template rule (kinds.py ``credential_literal``:
    ``DATABASE_TYPE: postgres`` beside ``{{ .password }}`` passes): when the credential is a
    deploy-time substitution (Flux postBuild ``${VAR}``), a user, host, port or database
    name left in clear is not a credential."""
    path = write(tmp_path, "secret.yaml", PG_SECRET.format(entries=entries))
    assert cli("check-secrets", path) == (0, "", "")


@pytest.mark.parametrize(
    "entries,keys",
    [
        # nothing substituted: the object is applied as written (kinds.py's choice stands)
        ("  username: pgadmin\n", "username"),
        # a credential-named key with a literal, even a dummy one
        ("  username: pgadmin\n  password: changeme\n  token: ${T}\n", "username, password"),
        # an identifier key holding a random-looking value
        ("  username: aK7f3Qz9Lm2xPw\n  password: ${P}\n", "username"),
        # a hand-filled placeholder is no substitution
        ("  username: pgadmin\n  password: <password>\n", "username"),
        # a key that is no identifier
        ("  username: pgadmin\n  password: ${P}\n  EXTRA: value\n", "username, EXTRA"),
    ],
)
def test_secret_with_substituted_credentials_still_reports_credential_literals(
    entries, keys, tmp_path, cli
):
    path = write(tmp_path, "secret.yaml", PG_SECRET.format(entries=entries))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and f"(keys: {keys})" in out, out


# -- 6. a SOPS stub ----------------------------------------------------------------------------

STUB = """apiVersion: v1
kind: Secret
metadata:
  name: openclaw-secret
stringData:
  ANTHROPIC_API_KEY: ENC[AES256_GCM,data:PLACEHOLDER,iv:PLACEHOLDER,tag:PLACEHOLDER,type:str]
{extra}sops:
  age: []
  lastmodified: ""
  mac: ""
  pgp: []
  version: ""
"""


def test_a_sops_stub_is_one_finding_at_its_empty_mac(tmp_path, cli):
    path = write(tmp_path, "secret.enc.yaml", STUB.format(extra=""))
    code, out, _ = cli("check-secrets", path)
    lines = out.splitlines()
    assert code == 1 and len(lines) == 1, out
    mac_line = STUB.format(extra="").splitlines().index('  mac: ""') + 1
    assert lines[0].startswith(f"{path}:{mac_line}:8: secret/sops-not-encrypted sops metadata ")
    assert "empty mac (3 value(s) not ENC[...]" in lines[0] and "never encrypted" in lines[0]


def test_a_sops_stub_with_a_plaintext_credential_reports_it_too(tmp_path, cli):
    extra = "  OPENCLAW_GATEWAY_TOKEN: Wq8vTz3Lk9mXp2Rb\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yaml", STUB.format(extra=extra)))
    assert code == 1 and "secret/sops-not-encrypted" in out
    assert "secret/k8s-secret-plaintext" in out and "keys: OPENCLAW_GATEWAY_TOKEN" in out
    assert "Wq8vTz3Lk9mXp2Rb" not in out


def test_a_sops_file_with_a_mac_still_reports_each_plaintext_value(tmp_path, cli):
    text = STUB.format(extra="  ADDED: plain-after-encryption\n")
    text = text.replace('mac: ""', f"mac: {enc()}").replace('version: ""', "version: 3.9.0")
    text = text.replace('lastmodified: ""', 'lastmodified: "2025-01-01T00:00:00Z"')
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yaml", text))
    found = [line for line in out.splitlines() if "sops-not-encrypted" in line]
    assert code == 1 and len(found) == 4, out  # apiVersion, kind, name, ADDED
    assert "ADDED: value is not ENC[...]" in out


# -- 7. Argo CD's documented repository Secrets: a key block with no key ----------------------

REPO_CREDS = """apiVersion: v1
kind: Secret
metadata:
  name: argoproj-ssh-creds
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: repo-creds
stringData:
  url: git@github.com:argoproj-labs
  type: helm
  sshPrivateKey: |
{key}
"""


def test_an_argocd_repository_secret_with_an_elided_key_passes_a_real_key_does_not(tmp_path, cli):
    """argoproj/argo-cd docs/operator-manual/argocd-repo-creds.yaml and
    argocd-repositories.yaml: ``sshPrivateKey`` / ``githubAppPrivateKey`` hold the armour
    lines around ``...`` (engine.empty_pem), the settings beside it are plain by design."""
    begin, end = (m.replace("RSA", "OPENSSH") for m in (PEM_BEGIN, PEM_END))
    elided = f"    {begin}\n    ...\n    {end}"
    path = write(tmp_path, "creds.yaml", REPO_CREDS.format(key=elided))
    assert cli("check-secrets", path) == (0, "", "")
    real = "\n".join("    " + line for line in private_key().splitlines())
    path = write(tmp_path, "real.yaml", REPO_CREDS.format(key=real))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/k8s-secret-plaintext" in out and "a private key in" in out


def test_a_fill_in_part_makes_a_value_a_placeholder_in_the_advice(tmp_path, cli):
    """Argo CD's notifications Secret docs: ``email-username: <myemail>@gmail.com`` beside
    bare placeholders. The object is still reported (a Secret is applied as written), with
    the placeholder advice; a real address beside them gets the usual one."""
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: argocd-notifications-secret\n"
        "stringData:\n  slack-token: <my-slack-token>\n  email-username: {user}\n"
        "  email-password: <mypassword>\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "a.yaml", text.format(user="<me>@x.io")))
    assert code == 1 and "the values look like placeholders" in out, out
    code, out, _ = cli("check-secrets", write(tmp_path, "b.yaml", text.format(user="ops@x.io")))
    assert code == 1 and "commit it encrypted" in out, out


# -- 8. a value made of its key's own words ---------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        # open-telemetry/opentelemetry-demo .env ("defined in src/postgresql/init.sql")
        "POSTGRES_ASTRONOMY_PASSWORD=astronomy_password    # defined in init.sql",
        "POSTGRES_MONITORING_PASSWORD=monitoring_password",
        # getsops/sops examples/keyvalue-secrets.yaml (an example to encrypt)
        "database_password: super_secret_password",
        "JWT_SECRET=very_long_random_jwt_secret_key_here",
        "POSTGRES_PASSWORD=postgres",
    ],
)
def test_a_credential_that_only_describes_itself_passes(line, tmp_path, cli):
    name = "values.yaml" if ": " in line else ".env"
    assert cli("check-secrets", write(tmp_path, name, line + "\n")) == (0, "", "")


@pytest.mark.parametrize(
    "line",
    [
        "POSTGRES_ASTRONOMY_PASSWORD=astronomy_{random}",
        "POSTGRES_PASSWORD=correct-horse-battery-staple",
        "database_password: orbital_lantern_password",
        "API_TOKEN=apikey-{random}",
    ],
)
def test_a_credential_with_words_of_its_own_is_still_reported(line, tmp_path, cli):
    line = line.format(random=body(RNG, ALNUM_CHARS, 8))
    name = "values.yaml" if ": " in line else ".env"
    code, out, _ = cli("check-secrets", write(tmp_path, name, line + "\n"))
    assert code == 1 and "secret/literal-credential" in out, out


def test_describes_itself_needs_letters_and_the_keys_words():
    from gitops_guard.checks.secrets.values import describes_itself

    assert describes_itself("POSTGRES_ASTRONOMY_PASSWORD", "astronomy_password")
    assert describes_itself("adminPassword", "superSecretPassword")
    assert not describes_itself("POSTGRES_PASSWORD", "astronomy_password")
    assert not describes_itself("password", "password1")
    assert not describes_itself("password", "")


# -- 9. base64 of a dummy ---------------------------------------------------------------------

DEX = """config:
  staticClients:
    - id: default
      name: "Default-Cluster"
      secret: {secret}
"""


def test_base64_of_a_dummy_under_a_credential_key_passes_base64_of_a_password_does_not(
    tmp_path, cli
):
    """kubeapps' dex values (copied into bitnami-labs/sealed-secrets site/): dex's example
    client ``secret: ZXhhbXBsZS1hcHAtc2VjcmV0`` is base64 of ``example-app-secret``."""
    for text in (b"example-app-secret", b"example-app-secret-second-cluster", b"changeme"):
        path = write(tmp_path, "dex.yaml", DEX.format(secret=b64(text)))
        assert cli("check-secrets", path) == (0, "", ""), text
    for raw in (b"Tr0ub4dor&3xyz", RNG.randbytes(18)):
        path = write(tmp_path, "dex.yaml", DEX.format(secret=b64(raw)))
        code, out, _ = cli("check-secrets", path)
        assert code == 1 and "secret/" in out, raw


# -- 10. a documented URL with dummy credentials in a comment ----------------------------------

GRAFANA_INI = """[database]
# Use either URL or the previous fields to configure the database
# Example: mysql://user:{password}@host:port/database
;url =
"""


def test_a_url_example_with_a_dummy_password_passes_a_real_one_does_not(tmp_path, cli):
    """Grafana's conf/sample.ini, copied into open-telemetry/opentelemetry-demo
    src/grafana/grafana.ini: ``mysql://user:secret@host:port/database``."""
    path = write(tmp_path, "grafana.ini", GRAFANA_INI.format(password="secret"))
    assert cli("check-secrets", path) == (0, "", "")
    path = write(tmp_path, "grafana.ini", GRAFANA_INI.format(password="Xq7pL2vR9kT"))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/url-credentials" in out, out


# -- 10b. a placeholder URL (user, password and host all stand-ins) -----------------------------

KUBECTL_EXAMPLE = """# Example:
#   kubectl create secret generic s \\
#     --from-literal=conn_url=mysql://{user}:{password}@{host}:3306/db
replicas: 1
"""
#: documentation stand-ins: detect-secrets' BasicAuthDetector (detect_secrets/plugins/
#: basic_auth.py) matches every ``://user:password@`` and knows no placeholder
STAND_IN_URLS = [
    ("user", "pass", "host"),
    ("USER", "PASSWORD", "localhost"),
    ("username", "password", "hostname"),
    ("myuser", "changeme", "db.example.com"),
    ("user", "secret", "postgres.test"),
]


def _random_password() -> str:
    return "".join(RNG.choice(ALNUM_CHARS) for _ in range(14))


@pytest.mark.parametrize("user, password, host", STAND_IN_URLS)
def test_a_placeholder_url_passes_in_a_comment_and_in_a_value(user, password, host, tmp_path, cli):
    """``mysql://user:pass@host:3306/db`` in a commented ``kubectl create secret`` example
    (and the same URL as a value, in a .env line or in a script) documents the shape."""
    path = write(
        tmp_path, "values.yaml", KUBECTL_EXAMPLE.format(user=user, password=password, host=host)
    )
    assert cli("check-secrets", path) == (0, "", "")
    url = f"mysql://{user}:{password}@{host}:3306/db"
    for name, text in (
        ("v.yaml", f'conn_url: {url}\nextra:\n  dsn: "{url}"\n'),
        ("app.env", f"DATABASE_URL={url}\n"),
        ("run.sh", f"#!/bin/sh\nmysql --url {url}\n"),
    ):
        assert cli("check-secrets", write(tmp_path, name, text)) == (0, "", ""), name


@pytest.mark.parametrize(
    "user, password, host",
    [
        ("user", None, "host"),  # a random password
        ("user", "hunter2", "localhost"),  # a chosen word that is no placeholder
        ("app", "pass", "host"),  # a real user
        ("user", "pass", "db.prod.acme.io"),  # a real host
    ],
)
def test_a_url_with_one_real_part_is_still_found(user, password, host, tmp_path, cli):
    password = password or _random_password()
    path = write(
        tmp_path, "values.yaml", KUBECTL_EXAMPLE.format(user=user, password=password, host=host)
    )
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "values.yaml:3:" in out and "secret/url-credentials" in out, out
    assert password not in out
    url = f"mysql://{user}:{password}@{host}:3306/db"
    code, out, _ = cli("check-secrets", write(tmp_path, "v.yaml", f"conn_url: {url}\n"))
    assert code == 1 and "secret/url-credentials" in out, out


def test_a_placeholder_url_in_a_secret_object_is_still_found(tmp_path, cli):
    """A Secret is applied as written: its stand-in URL is the cluster's credential."""
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
        "stringData:\n  conn_url: mysql://user:pass@host:3306/db\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "secret.yaml", text))
    assert code == 1 and "secret/k8s-secret-plaintext" in out, out


def test_stand_in_url_reads_user_password_and_host():
    from gitops_guard.checks.secrets.values import stand_in_url

    text = "x mysql://user:pass@host:3306/db and https://user:pass@api.acme.io/"
    assert stand_in_url(text, text.find("://"))
    assert stand_in_url(text, text.find("pass"))
    assert not stand_in_url(text, text.rfind("://"))
    assert not stand_in_url("no url here", 3)
    assert stand_in_url("h://user:pass@[::1]:80/", 1)
    assert not stand_in_url("h://user:pass@example.com.evil.io/", 1)


# -- 10c. helmfile / Helm Go templates of YAML ----------------------------------------------------


def bcrypt_hash() -> str:
    """The shape ``htpasswd -nbBC 10`` writes: ``$2a$10$`` and 53 characters of bcrypt's
    base64 (``./A-Za-z0-9``), random here."""
    alphabet = "./" + ALNUM_CHARS
    return "$2a$10$" + "".join(RNG.choice(alphabet) for _ in range(53))


ARGOCD_VALUES = """configs:
  secret:
    argocdServerAdminPassword: {password}
    extra:
      url: https://github.com/{{{{ .Values.org }}}}
"""


@pytest.mark.parametrize("name", ["values.yaml.gotmpl", "secrets.yaml.tpl", "values.yaml"])
def test_a_bcrypt_admin_password_in_a_values_template_is_found_as_in_yaml(name, tmp_path, cli):
    """helmfile renders ``values.yaml.gotmpl`` and reads it as YAML (helmfile
    pkg/state/envvals_loader.go): its literal values are the release's values."""
    hashed = bcrypt_hash()
    path = write(tmp_path, name, ARGOCD_VALUES.format(password=hashed))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and f"{name}:3:32: secret/literal-credential" in out, out
    assert hashed not in out


@pytest.mark.parametrize(
    "password",
    [
        '{{ requiredEnv "ARGOCD_ADMIN_PASSWORD" | quote }}',
        "{{.Values.adminPassword}}",
        '"{{ .Values.adminPassword }}"',
        "changeme",
        "$ARGOCD_ADMIN_PASSWORD",
    ],
)
def test_a_template_expression_or_dummy_in_a_values_template_passes(password, tmp_path, cli):
    path = write(tmp_path, "values.yaml.gotmpl", ARGOCD_VALUES.format(password=password))
    assert cli("check-secrets", path) == (0, "", ""), password


# -- 11. a vendor's published default ---------------------------------------------------------


def test_grafanas_published_default_secret_key_passes_another_key_does_not(tmp_path, cli):
    """grafana/grafana conf/defaults.ini ``[security] secret_key``: the same value in every
    Grafana install's sample configuration, known to all (not a leak of this repository)."""
    from gitops_guard.checks.secrets.values import PUBLISHED_DEFAULTS

    # Grafana's key is the one of mixed case and digits (the others are words)
    (default,) = [d for d in PUBLISHED_DEFAULTS if any(c.isdigit() for c in d)]
    text = "[security]\n# used for signing\n;secret_key = {key}\nsecret_key = {key}\n"
    path = write(tmp_path, "grafana.ini", text.format(key=default))
    assert cli("check-secrets", path) == (0, "", "")
    own = body(RNG, ALNUM_CHARS, len(default))
    code, out, _ = cli("check-secrets", write(tmp_path, "g.ini", text.format(key=own)))
    assert code == 1 and out.count("secret/literal-credential") == 2, out
    assert own not in out


# -- 12. published defaults of charts and docs -------------------------------------------------

KPS_VALUES = """grafana:
  enabled: true
  adminUser: admin
  adminPassword: {password}
"""


def test_kube_prometheus_stacks_default_grafana_password_passes_another_does_not(tmp_path, cli):
    """prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml ships
    ``grafana.adminPassword: prom-operator``; copies of it in a HelmRelease's values are
    the chart's default, known to all. A password of one's own there is still reported."""
    from gitops_guard.checks.secrets.values import PUBLISHED_DEFAULTS

    assert "prom-operator" in PUBLISHED_DEFAULTS
    path = write(tmp_path, "values.yaml", KPS_VALUES.format(password="prom-operator"))
    assert cli("check-secrets", path) == (0, "", "")
    own = body(RNG, ALNUM_CHARS, 14)
    code, out, _ = cli("check-secrets", write(tmp_path, "v.yaml", KPS_VALUES.format(password=own)))
    assert code == 1 and "adminPassword: literal password" in out and own not in out, out


KAFKA_CLIENT = (
    "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
    'username="admin" password="{password}";\n'
    "KAFKA_ADMIN_PASSWORD={password}\n"
)


def test_kafkas_documented_jaas_password_passes_another_does_not(tmp_path, cli):
    """apache/kafka docs/security.html (JAAS configuration for Kafka brokers) writes
    ``password="admin-secret"`` / ``user_alice="alice-secret"``: Strimzi and bitnami/kafka
    setups copy it. A password of one's own on the same lines is reported twice."""
    path = write(tmp_path, "client.properties", KAFKA_CLIENT.format(password="admin-secret"))
    assert cli("check-secrets", path) == (0, "", "")
    own = body(RNG, ALNUM_CHARS, 16)
    path = write(tmp_path, "own.properties", KAFKA_CLIENT.format(password=own))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and out.count("secret/literal-credential") == 2 and own not in out, out


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(claims: dict, secret: bytes) -> str:
    import hashlib
    import hmac
    import json

    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


JWT_PLACES = {
    "values.yaml": "auth:\n  token: {t}\n  header: 'Bearer {t}'\n",
    ".env": "API_TOKEN={t}\ncurl -H 'Authorization: Bearer {t}'\n",
    "README.md": "Decode it: `{t}`\n",
}


@pytest.mark.parametrize("name", sorted(JWT_PLACES))
def test_jwt_ios_example_token_passes_a_token_of_another_key_or_claims_does_not(
    name, tmp_path, cli
):
    """jwt.io's debugger example, copied into docs and configs as a sample: its claims
    (``{"sub":"1234567890","name":"John Doe","iat":1516239022}``) signed HS256 with the
    secret jwt.io publishes (jsonwebtoken/jsonwebtoken.github.io default tokens). The
    signature is verified: the same claims signed with another key, or other claims signed
    with jwt.io's key, are tokens."""
    from gitops_guard.checks.secrets.engine import JWT_IO_CLAIMS, JWT_IO_SECRETS

    text = JWT_PLACES[name]
    for claims in JWT_IO_CLAIMS:
        for secret in JWT_IO_SECRETS:
            path = write(tmp_path, name, text.format(t=jwt(claims, secret)))
            assert cli("check-secrets", path) == (0, "", ""), (claims, secret)
    own_key = jwt(JWT_IO_CLAIMS[0], RNG.randbytes(32))
    own_claims = jwt({"sub": body(RNG, "0123456789", 10), "iat": 1516239022}, JWT_IO_SECRETS[0])
    for token in (own_key, own_claims):
        code, out, _ = cli("check-secrets", write(tmp_path, "x" + name, text.format(t=token)))
        assert code == 1 and "JSON Web Token" in out and token not in out, out


def test_published_jwt_reads_the_whole_token_where_detect_secrets_stops():
    from gitops_guard.checks.secrets.engine import JWT_IO_CLAIMS, JWT_IO_SECRETS, published_jwt

    token = jwt(JWT_IO_CLAIMS[0], JWT_IO_SECRETS[0])
    head = token.rsplit(".", 1)[0] + "."  # detect-secrets' lazy match ends here
    assert published_jwt(token) and published_jwt(head, f"x: {token} y")
    assert not published_jwt(head, f"x: {head}")  # no signature
    assert not published_jwt(token[:-2] + "AA")
    assert not published_jwt("eyJ.not.json")


def test_a_password_that_only_starts_with_jwt_ios_token_is_still_a_password(tmp_path, cli):
    """The example token is a stand-in only as the whole value: jwt.io's token with a
    random tail is a chosen secret (it was passed as a dummy)."""
    from gitops_guard.checks.secrets.engine import JWT_IO_CLAIMS, JWT_IO_SECRETS

    token = jwt(JWT_IO_CLAIMS[0], JWT_IO_SECRETS[0])
    tail = body(RNG, ALNUM_CHARS, 22)
    code, out, _ = cli("check-secrets", write(tmp_path, "v.yaml", f'password: "{token}/{tail}"\n'))
    assert code == 1 and tail not in out, out
    assert cli("check-secrets", write(tmp_path, "w.yaml", f'password: "{token}"\n')) == (0, "", "")


# -- 13. a base64 private key over a block scalar's lines ---------------------------------------


def encoded_key(width: int | None) -> str:
    text = b64((private_key() + "\n").encode())
    if width is None:
        return text
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def indented(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


@pytest.mark.parametrize("style", ["|", "|-", ">-"])
def test_a_base64_private_key_wrapped_in_a_block_scalar_is_one_finding_at_its_value(
    style, tmp_path, cli
):
    """``kubectl get secret -o yaml`` data (``tls.key: LS0tLS1CRUdJTi...``) pasted into a
    ConfigMap or a values file, wrapped at 76 columns (``base64`` does): decoded, it is a
    private key. One finding, at the value's line, not one per line and not none."""
    key = encoded_key(76)
    cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tls\ndata:\n"
        f"  tls.crt: ''\n  tls.key: {style}\n{indented(key, 4)}\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "cm.yaml", cm))
    assert code == 1 and out.count("\n") == 1, out
    assert out.startswith(f"{tmp_path / 'cm.yaml'}:7:12: secret/private-key tls.key: base64 of")
    assert not any(line in out for line in key.splitlines())
    values = f"ingress:\n  tls:\n    key: {style}\n{indented(key, 6)}\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "values.yaml", values))
    assert code == 1 and out.count("\n") == 1 and ":3:10: secret/private-key key:" in out, out


def test_a_base64_private_key_on_one_line_and_in_a_secret_is_reported_once(tmp_path, cli):
    key = encoded_key(None)
    path = write(tmp_path, ".env", f"TLS_KEY={key}\n")
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and out.count("\n") == 1 and ":1:9: secret/private-key TLS_KEY" in out, out
    # a Secret's data: the structural finding names it, nothing more
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\n"
        f"data:\n  tls.key: |\n{indented(encoded_key(76), 4)}\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yaml", secret))
    assert code == 1 and out.count("\n") == 1 and "a private key in 'tls.key'" in out, out


@pytest.mark.parametrize(
    "text",
    [
        # base64 of a certificate, of an empty key block, of other text starting with dashes
        lambda: b64(b"-----BEGIN CERTIFICATE-----\n" + b64(RNG.randbytes(300)).encode()),
        lambda: b64(f"{PEM_BEGIN}\n...\n{PEM_END}\n".encode()),
        lambda: b64(b"--- a document\n" + b"x: 1\n" * 30),
    ],
)
def test_base64_of_no_private_key_is_not_reported_as_one(text, tmp_path, cli):
    value = "\n".join(text()[i : i + 76] for i in range(0, len(text()), 76))
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ca.crt: |\n"
    cm += indented(value, 4) + "\n"
    _, out, _ = cli("check-secrets", write(tmp_path, "cm.yaml", cm))
    assert "secret/private-key" not in out, out


# -- 14. Ansible files with {% raw %} blocks ---------------------------------------------------

ANSIBLE = """- name: deploy the workflow
  ansible.builtin.copy:
    dest: /srv/.github/workflows/ci.yaml
    content: |
      on: push
{{% raw %}}
- name: workflow vars
  vars:
    ref: "{{{{ github.ref }}}}"
    {line}
{{% endraw %}}
- name: done
  ansible.builtin.debug:
    msg: ok
"""


def test_an_ansible_raw_block_is_yaml_and_a_password_in_it_is_still_found(tmp_path, cli):
    """The raw markers no longer make the file broken YAML (an error of its own): a
    credential inside the block is found at its line, by the YAML walker."""
    path = write(
        tmp_path, "roles/ci/templates/tasks.yml", ANSIBLE.format(line="token: ${{ secrets.TOKEN }}")
    )
    assert cli("check-secrets", path) == (0, "", "")
    own = body(RNG, ALNUM_CHARS, 18)
    path = write(tmp_path, "roles/ci/templates/own.yml", ANSIBLE.format(line=f"password: {own}"))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and out.count("\n") == 1 and own not in out, out
    assert ":10:15: secret/literal-credential password: literal password" in out, out


def test_a_raw_block_of_template_keys_is_scanned_line_by_line(tmp_path, cli):
    """An unquoted ``{{ }}`` inside the block reads as a mapping used as a key: a template,
    not YAML (documents.load_text). The line scanners still read every line of it."""
    own = body(RNG, ALNUM_CHARS, 18)
    line = f"{{{{ item }}}}: x\n    DB_PASSWORD={own}"
    code, out, _ = cli(
        "check-secrets", write(tmp_path, "roles/ci/templates/t.yml", ANSIBLE.format(line=line))
    )
    assert code == 1 and out.count("\n") == 1 and ":11:17: secret/literal-credential" in out, out
    assert own not in out


EAP_DC = """apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata:
  name: mta-web-console
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - name: SSO_SAML_KEYSTORE_SECRET
              value: eap7-app-secret
            - name: SSO_SAML_KEYSTORE_PASSWORD
              value: {password}
"""


def test_the_eap_templates_sample_keystore_password_passes_another_does_not(tmp_path, cli):
    """gitops-catalog migration-toolkit-apps mta-web-console-dc.yaml, from Red Hat's EAP
    OpenShift template: ``SSO_SAML_KEYSTORE_PASSWORD`` defaults to ``mykeystorepass``, the
    password of the sample keystore in its published secrets/eap7-app-secret.json
    (jboss-openshift/application-templates eap/README_SSO.adoc)."""
    path = write(tmp_path, "dc.yaml", EAP_DC.format(password="mykeystorepass"))
    assert cli("check-secrets", path) == (0, "", "")
    own = body(RNG, ALNUM_CHARS, 14)
    code, out, _ = cli("check-secrets", write(tmp_path, "own.yaml", EAP_DC.format(password=own)))
    assert code == 1 and "SSO_SAML_KEYSTORE_PASSWORD: literal password" in out, out


# -- 15. Renovate's encrypted config -----------------------------------------------------------


def _pgp_length(n: int) -> bytes:
    """A new-format OpenPGP packet length (RFC 4880 section 4.2.2)."""
    if n < 192:
        return bytes([n])
    if n < 8384:
        n -= 192
        return bytes([(n >> 8) + 192, n & 0xFF])
    return b"\xff" + n.to_bytes(4, "big")


def pgp_message() -> str:
    """What Renovate's encryption page makes of a token: base64 of an OpenPGP message, a
    public-key encrypted session key (tag 1, version 3, RSA-4096) and the encrypted data
    (tag 18). The ciphertext bytes are random."""
    session = b"\x03" + RNG.randbytes(8) + b"\x01" + (4096).to_bytes(2, "big") + RNG.randbytes(512)
    data = b"\x01" + RNG.randbytes(160)
    raw = b"\xc1" + _pgp_length(len(session)) + session + b"\xd2" + _pgp_length(len(data)) + data
    return b64(raw)


RENOVATE = {
    "renovate.json": '{{\n  "extends": ["config:recommended"],\n  "encrypted": {{\n'
    '    "npmToken": "{value}"\n  }}\n}}\n',
    ".github/renovate.json5": "{{\n  // the private registry\n  encrypted: {{\n"
    '    npmToken: "{value}",\n  }},\n}}\n',
}


@pytest.mark.parametrize("name", sorted(RENOVATE))
def test_renovates_encrypted_values_pass_a_token_or_random_key_there_does_not(name, tmp_path, cli):
    """renovatebot/renovate lib/config/decrypt.ts: every value of an ``encrypted`` object is
    an OpenPGP message Renovate decrypts with its private key; committing it is Renovate's
    documented way to give it a token. A token written there in clear, or random base64
    that is no OpenPGP message, is still reported."""
    text = RENOVATE[name]
    assert cli("check-secrets", write(tmp_path, name, text.format(value=pgp_message()))) == (
        0,
        "",
        "",
    )
    token = next(f for f in FAMILIES if f.name.startswith("GitHub")).make(RNG)
    lookalike = "wcFMA" + b64(RNG.randbytes(600))[5:]  # the prefix, then no packet structure
    for value in (token, lookalike):
        code, out, _ = cli("check-secrets", write(tmp_path, "x/" + name, text.format(value=value)))
        assert code == 1 and "secret/" in out and value not in out, out


def test_pgp_ciphertext_needs_a_session_key_packet_then_encrypted_data():
    from gitops_guard.checks.secrets.values import pgp_ciphertext

    message = pgp_message()
    assert pgp_ciphertext(message)
    raw = base64.b64decode(message)
    assert not pgp_ciphertext(b64(raw[:527]))  # the session key alone
    assert not pgp_ciphertext(b64(raw[:600]))  # the encrypted data cut short
    assert not pgp_ciphertext(b64(b"\xc1" + raw[1:3] + b"\x04" + raw[4:]))  # no version 3/6
    assert not pgp_ciphertext(random_secret())


# -- 16. a password that is the user name beside it --------------------------------------------

PRICELIST_VALUES = """mysql:
  architecture: standalone
  auth:
    database: "pricelist"
    username: "pricelist"
    password: "{password}"
"""
PRICELIST_DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: pricelist
spec:
  template:
    spec:
      containers:
        - name: pricelist
          image: quay.io/redhatworkshops/pricelist:latest
          env:
            - name: MYSQL_DATABASE
              value: pricelist
            - name: MYSQL_PASSWORD
              value: {password}
            - name: MYSQL_USER
              value: pricelist
"""


@pytest.mark.parametrize("text", [PRICELIST_VALUES, PRICELIST_DEPLOY])
def test_a_password_equal_to_the_user_or_database_beside_it_passes_another_does_not(
    text, tmp_path, cli
):
    """christianh814/gitops-examples (the pricelist demo of Red Hat's workshops):
    ``password: pricelist`` beside ``username: pricelist`` and ``database: pricelist``, in
    Helm values and in a Deployment's env. It says nothing the file does not already say
    (as ``postgres`` under POSTGRES_PASSWORD); a password of its own is reported."""
    assert cli("check-secrets", write(tmp_path, "a.yaml", text.format(password="pricelist"))) == (
        0,
        "",
        "",
    )
    own = body(RNG, ALNUM_CHARS, 12)
    code, out, _ = cli("check-secrets", write(tmp_path, "b.yaml", text.format(password=own)))
    assert code == 1 and out.count("secret/literal-credential") == 1 and own not in out, out


def test_a_random_user_name_does_not_make_the_same_password_pass(tmp_path, cli):
    """Only a plain name counts: a random value under ``username`` is no name the password
    may repeat (an API key used as both, a generated pair)."""
    lower = "abcdefghjkmnpqrstuvwxyz"
    generated = body(RNG, lower, 8) + body(RNG, "23456789", 4) + body(RNG, lower, 4)
    for value in (body(RNG, ALNUM_CHARS, 20), generated):
        text = f"auth:\n  username: {value}\n  password: {value}\n"
        code, out, _ = cli("check-secrets", write(tmp_path, "v.yaml", text))
        assert code == 1 and "password: literal password" in out and value not in out, out
    # and a Secret keeping user and password in clear is still reported as a Secret
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
        "  username: pricelist\n  password: pricelist\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yaml", secret))
    assert code == 1 and "secret/k8s-secret-plaintext" in out, out


def test_only_a_password_may_repeat_a_plain_name_and_only_a_word_like_one(tmp_path, cli):
    """A token or API key equal to the login beside it is still a literal credential, and a
    lower-case value with a digit inside (``qmz7rkvtwpxa``, generated) is no plain name."""
    word = "".join(RNG.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(13))
    for key in ("API_TOKEN", "API_KEY", "CLIENT_SECRET"):
        text = f"env:\n  API_LOGIN: {word}\n  {key}: {word}\n"
        code, out, _ = cli("check-secrets", write(tmp_path, "t.yaml", text))
        assert code == 1 and "secret/literal-credential" in out and word not in out, (key, out)
    generated = word[:4] + "7" + word[4:11]
    text = f"env:\n  DB_USER: {generated}\n  DB_PASSWORD: {generated}\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "g.yaml", text))
    assert code == 1 and "secret/literal-credential" in out and generated not in out, out
    same = f"env:\n  DB_USER: {word}2\n  DB_PASSWORD: {word}2\n"  # a name with a number
    assert cli("check-secrets", write(tmp_path, "n.yaml", same)) == (0, "", "")


# -- 17. reviewed findings on real repositories that stay ---------------------------------------


def test_reviewed_true_findings_on_real_repositories_stay(tmp_path, cli):
    """fluxcd/flux2-monitoring-example commits ``grafana.adminPassword: flux`` in its
    kube-prometheus-stack HelmRelease: the repository's own choice, the live admin password
    of every cluster that applies it (no chart default, no user name beside it).
    FalkWinkler/k3s-gitops's vaultwarden HelmRelease uses ``*port`` with no ``&port`` anchor:
    invalid YAML (Flux's YAML decoder rejects an unknown alias too), so the file cannot be
    checked with its structure and says so."""
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
        "  name: kube-prometheus-stack\nspec:\n  values:\n    grafana:\n"
        "      defaultDashboardsEnabled: false\n      adminPassword: flux\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "release.yaml", release))
    assert code == 1 and ":9:22: secret/literal-credential adminPassword" in out, out
    broken = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: vw\n"
        "spec:\n  values:\n    ingress:\n      main:\n        hosts:\n          - paths:\n"
        "              - service:\n                  port: *port\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "vw.yaml", broken))
    assert code == 1 and ":12:25: yaml/syntax found undefined alias" in out, out


# -- 18. annotation maps of Helm values, app-of-apps values, example pull-secret configs --------

NETBOX_VALUES = """ingress:
  enabled: true
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: {value}
    nginx.ingress.kubernetes.io/auth-secret-type: auth-file
"""


def test_an_annotation_naming_the_basic_auth_secret_in_helm_values_passes(tmp_path, cli):
    """marokiki/infra's netbox values: ``ingress.annotations`` is copied onto the Ingress's
    metadata.annotations, where ``nginx.ingress.kubernetes.io/auth-secret`` names the Secret
    holding the htpasswd file (ingress-nginx docs/examples/auth/basic: "name of the secret
    that contains the user/password definitions"), ``namespace/name`` or ``name``."""
    for ref in ("flux-system/netbox-basic-auth", "basic-auth"):
        path = write(tmp_path, "values.yaml", NETBOX_VALUES.format(value=ref))
        code, out, _ = cli("check-secrets", path)
        assert code == 0 and out == "", out
    # a token pasted into an annotation of the same map is still found (no object's name)
    token = random_secret()
    path = write(tmp_path, "values.yaml", NETBOX_VALUES.format(value=token))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/literal-credential" in out and token not in out, out
    # and the key-name rule keeps its hold outside annotation maps
    text = f"ingress:\n  auth:\n    secret: {body(RNG, ALNUM_CHARS, 18)}\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "other.yaml", text))
    assert code == 1 and "secret/literal-credential" in out, out


def test_a_password_under_a_credential_named_annotation_key_of_values_is_found(tmp_path, cli):
    """In a values annotation map only a value that names an object passes the name rule:
    ``podAnnotations: {db-password: Winter2025x}`` is a literal password."""
    word = "Winter" + body(RNG, "0123456789", 4) + "x"
    for text in (
        f"podAnnotations:\n  db-password: {word}\n",
        f"ingress:\n  annotations:\n    basic-auth-password: {word}\n",
    ):
        code, out, _ = cli("check-secrets", write(tmp_path, "values.yaml", text))
        assert code == 1 and "secret/literal-credential" in out and word not in out, out
    # an object's own metadata.annotations keep annotation names out of the name rule
    cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  annotations:\n"
        "    example.com/auth-secret: team/basic-auth\n"
    )
    assert cli("check-secrets", write(tmp_path, "cm.yaml", cm)) == (0, "", "")


APP_OF_APPS_VALUES = """argo-project:
  argo:
    applicationRequirements:
      chart: mariadb
      helm:
        values: |
          fullnameOverride: wp-db
          auth:
            rootPassword: {root}
            database: wordpress
            username: wpuser
"""


def test_helm_values_inside_app_of_apps_values_are_read_as_yaml(tmp_path, cli):
    """Mikroways/argo-gitops-demo-example's project chart values carry the child chart's values
    as ``helm.values: |`` (the chart renders them into an Application's
    ``spec.source.helm.values``): a literal ``auth.rootPassword`` there is what Argo CD passes
    to the chart, found as in an Application (it was read as plain text and missed)."""
    root = body(RNG, ALNUM_CHARS, 16)
    path = write(tmp_path, "values.yaml", APP_OF_APPS_VALUES.format(root=root))
    code, out, _ = cli("check-secrets", path)
    # the line is the file's; the column, as for an Application's helm.values, is the block's
    assert code == 1 and ":9:" in out and "secret/literal-credential rootPassword" in out, out
    assert root not in out
    # a reference or a placeholder there passes, as it would in an Application
    for stand_in in ("${MARIADB_ROOT_PASSWORD}", "changeme"):
        path = write(tmp_path, "values.yaml", APP_OF_APPS_VALUES.format(root=stand_in))
        code, out, _ = cli("check-secrets", path)
        assert code == 0 and out == "", out


def docker_config(user: str, password: str) -> str:
    auth = b64(f"{user}:{password}".encode())
    entry = f'{{"username":"{user}","password":"{password}","auth":"{auth}"}}'
    return b64(f'{{"auths":{{"registry.example.org":{entry}}}}}'.encode())


def test_an_example_pull_secret_config_in_values_passes_a_real_one_does_not(tmp_path, cli):
    """Mikroways/argo-gitops-demo-example's project values hold ``registrySecret.
    dockerconfigjson``: base64 of a docker config (``kubectl create secret docker-registry``)
    whose only credential is ``pepe``/``pass``, an example; entropy alone called it a secret."""
    text = "registrySecret:\n  dockerconfigjson: {value}\n"
    path = write(tmp_path, "values.yaml", text.format(value=docker_config("pepe", "pass")))
    code, out, _ = cli("check-secrets", path)
    assert code == 0 and out == "", out
    password = body(RNG, ALNUM_CHARS, 24)
    value = docker_config("robot", password)
    code, out, _ = cli("check-secrets", write(tmp_path, "values.yaml", text.format(value=value)))
    assert code == 1 and "dockerconfigjson" in out and password not in out and value not in out
    # in a Secret the example config is still plaintext Secret data (applied as written)
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\n"
        "type: kubernetes.io/dockerconfigjson\ndata:\n"
        f"  .dockerconfigjson: {docker_config('robot', password)}\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "secret.yaml", secret))
    assert code == 1 and "secret/k8s-secret-plaintext" in out, out


def test_a_json_config_with_a_stand_in_password_is_no_docker_config(tmp_path, cli):
    """Only a docker config is read as one: a JSON settings object whose ``password`` is a
    stand-in must not hide the AWS key beside it (any object was read as registries), and a
    docker config with a key of another kind is judged whole."""
    import json

    aws = next(f for f in FAMILIES if f.name == "AWS access key id").make(RNG)
    settings = json.dumps({"db": {"password": "changeme", "api_key": aws}})
    cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n"
        f"  settings.json: '{settings}'\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "cm.yaml", cm))
    assert code == 1 and aws not in out, out
    token = aws
    headers = json.dumps(
        {"auths": {"registry.example.com": {"auth": ""}}, "HttpHeaders": {"X-Token": token}}
    )
    text = f"registrySecret:\n  dockerconfigjson: {b64(headers.encode())}\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "values.yaml", text))
    assert code == 1 and token not in out, out


def test_a_json_value_nested_too_deep_is_no_internal_error(tmp_path, cli):
    deep = '{"a":' * 20_000 + "1" + "}" * 20_000
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  x.json: '{deep}'\n"
    code, _, err = cli("check-secrets", write(tmp_path, "deep.yaml", cm))
    assert code in (0, 1) and "internal error" not in err and "Traceback" not in err, err


def _nested_values(levels: int, inner: str) -> str:
    text = inner
    for _ in range(levels):
        text = "helm:\n  values: |\n" + "".join(f"    {line}\n" for line in text.splitlines())
    return text


def test_helm_values_blocks_nested_deep_are_no_internal_error(tmp_path, cli):
    """Each ``helm: {values: |}`` level is parsed and walked: 250 of them exhausted Python's
    stack. Past eight levels a block is judged as one value, as before blocks were parsed."""
    password = body(RNG, ALNUM_CHARS, 20)
    text = _nested_values(3, f"auth:\n  rootPassword: {password}\n")
    code, out, _ = cli("check-secrets", write(tmp_path, "values.yaml", text))
    assert code == 1 and "rootPassword" in out and password not in out, out
    deep = _nested_values(250, f"auth:\n  rootPassword: {password}\n")
    code, out, err = cli("check-secrets", write(tmp_path, "deep.yaml", deep))
    assert code in (0, 1) and "internal error" not in err and "Traceback" not in err, err
    assert password not in out


TRAEFIK_MIDDLEWARE = """apiVersion: {api}
kind: Middleware
metadata:
  name: admin-auth
spec:
  {auth}:
    secret: {value}
"""


@pytest.mark.parametrize("api", ["traefik.io/v1alpha1", "traefik.containo.us/v1alpha1"])
@pytest.mark.parametrize("auth", ["basicAuth", "digestAuth"])
def test_a_traefik_middleware_names_its_auth_secret_a_literal_there_is_found(
    api, auth, tmp_path, cli
):
    """Traefik's Middleware takes ``basicAuth.secret`` / ``digestAuth.secret``: the name of
    the Secret holding the htpasswd users (doc.traefik.io middlewares/http/basicauth: "the
    field users doesn't exist for Kubernetes IngressRoute, and one should use the secret
    field instead"), a homelab staple; the name rule read ``secret: traefik-auth`` as one."""
    text = TRAEFIK_MIDDLEWARE.format(api=api, auth=auth, value="traefik-auth")
    code, out, _ = cli("check-secrets", write(tmp_path, "mw.yaml", text))
    assert code == 0 and out == "", out
    # not a Kubernetes name: a literal, as the same key elsewhere
    literal = body(RNG, ALNUM_CHARS, 18)
    text = TRAEFIK_MIDDLEWARE.format(api=api, auth=auth, value=literal)
    code, out, _ = cli("check-secrets", write(tmp_path, "mw.yaml", text))
    assert code == 1 and ":7:13: secret/literal-credential" in out and literal not in out, out
    # and a plaintext Secret of htpasswd users beside it is still reported
    users = f"admin:{body(RNG, ALNUM_CHARS, 22)}"
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: traefik-auth\n"
        f"stringData:\n  users: {users}\n"
    )
    code, out, _ = cli("check-secrets", write(tmp_path, "secret.yaml", secret))
    assert code == 1 and "secret/k8s-secret-plaintext" in out and users not in out, out

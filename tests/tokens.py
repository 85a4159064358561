"""Credentials built at run time from their published formats, for tests and benchmarks.

No token is written into this repository: each one is made here from its format (prefix,
length, alphabet, as the vendor documents it or as the peers' rules describe it) with a
random body, so it has the shape of a real credential and is valid nowhere. The same
formats give the look-alikes: the prefix followed by a placeholder.

``FAMILIES`` lists tokens that name themselves (a prefix or structure says which vendor
made them); ``OTHERS`` lists secrets that do not (a random hex key, a password inside a
connection string, a private key); ``LOOKALIKES`` lists values that are not secrets but
look like one to a careless rule.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from typing import Callable, NamedTuple

HEX = "0123456789abcdef"
UPPER_HEX = "0123456789ABCDEF"
DIGITS = "0123456789"
LOWER = "abcdefghijklmnopqrstuvwxyz"
UPPER = LOWER.upper()
LETTERS = LOWER + UPPER
ALNUM = DIGITS + LETTERS
LOWER_ALNUM = DIGITS + LOWER
UPPER_ALNUM = DIGITS + UPPER
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
WORDCHARS = ALNUM + "_"
BASE32 = UPPER + "234567"
#: bech32 (age keys): lower case and digits without 1, b, i, o
BECH32 = "".join(c for c in LOWER_ALNUM if c not in "1bio")


class Family(NamedTuple):
    """A credential format: ``make(rng)`` returns one random token of it."""

    name: str
    make: Callable[[random.Random], str]
    #: a credential detect-secrets 1.5 has a plugin for (else: one gitops-guard adds)
    detect_secrets: bool = False


def body(rng: random.Random, alphabet: str, n: int) -> str:
    """``n`` random characters with at least one digit and one letter where the alphabet
    has both (a real random body of that length almost always does)."""
    while True:
        text = "".join(rng.choice(alphabet) for _ in range(n))
        has_digit = any(c.isdigit() for c in alphabet)
        has_alpha = any(c.isalpha() for c in alphabet)
        if n < 8 or (
            (not has_digit or any(c.isdigit() for c in text))
            and (not has_alpha or any(c.isalpha() for c in text))
        ):
            return text


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": body(rng, DIGITS, 10), "iat": 1700000000 + rng.randrange(10**6)}
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{body(rng, B64URL, 43)}"


def _grafana_api_key(rng: random.Random) -> str:
    key = {"k": body(rng, ALNUM, 32), "n": "deploy", "id": rng.randrange(1, 99)}
    return base64.b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


#: PEM armour, put together here so that no line of this file is a key's first line
PEM_BEGIN = "-----BEGIN RSA " + "PRIVATE KEY-----"
PEM_END = "-----END RSA " + "PRIVATE KEY-----"


def _pem(rng: random.Random) -> str:
    lines = [body(rng, B64, 64) for _ in range(6)]
    return f"{PEM_BEGIN}\n" + "\n".join(lines) + f"\n{PEM_END}"


def _p(prefix: str, alphabet: str, n: int, suffix: str = "") -> Callable[[random.Random], str]:
    return lambda rng: prefix + body(rng, alphabet, n) + suffix


def _a3(rng: random.Random) -> str:
    parts = [body(rng, UPPER_ALNUM, 6), body(rng, UPPER_ALNUM, 6), body(rng, UPPER_ALNUM, 5)]
    tail = "-".join(body(rng, UPPER_ALNUM, 5) for _ in range(3))
    return f"A3-{parts[0]}-{parts[1]}-{parts[2]}-{tail}"


FAMILIES: list[Family] = [
    # -- formats detect-secrets already knows --------------------------------------------
    Family("AWS access key id", _p("AKIA", BASE32, 16), True),
    Family("GitHub token", _p("ghp_", ALNUM, 36), True),
    Family("GitHub OAuth token", _p("gho_", ALNUM, 36), True),
    Family("GitLab token", _p("glpat-", B64URL, 20), True),
    Family(
        "Slack bot token",
        lambda r: f"xoxb-{body(r, DIGITS, 12)}-{body(r, DIGITS, 13)}-{body(r, ALNUM, 24)}",
        True,
    ),
    Family(
        "Slack webhook",
        lambda r: (
            "https://hooks.slack.com/services/T"
            f"{body(r, UPPER_ALNUM, 8)}/B{body(r, UPPER_ALNUM, 8)}/{body(r, ALNUM, 24)}"
        ),
        True,
    ),
    Family("Stripe secret key", _p("sk_live_", ALNUM, 24), True),
    Family("SendGrid key", lambda r: f"SG.{body(r, B64URL, 22)}.{body(r, B64URL, 43)}", True),
    Family("Dropbox token", _p("sl.", B64URL, 138)),
    Family("npm token", _p("npm_", ALNUM, 36), True),
    Family("PyPI token", _p("pypi-AgEIcHlwaS5vcmc", B64URL, 80), True),
    Family("OpenAI key", lambda r: f"sk-{body(r, ALNUM, 20)}T3BlbkFJ{body(r, ALNUM, 20)}", True),
    Family("Twilio key", _p("SK", HEX, 32), True),
    Family("Mailchimp key", lambda r: f"{body(r, HEX, 32)}-us{r.randrange(1, 21)}", True),
    Family("Square OAuth secret", _p("sq0csp-", B64URL, 43), True),
    Family("Artifactory token", _p("AKCp", ALNUM, 69), True),
    Family("JSON Web Token", _jwt, True),
    Family("Private key", _pem, True),
    Family(
        "Discord bot token",
        lambda r: f"M{body(r, B64URL, 23)}.{body(r, B64URL, 6)}.{body(r, B64URL, 27)}",
        True,
    ),
    # -- formats gitops-guard adds (plugins.py) --------------------------------------------
    Family(
        "Azure AD client secret",
        lambda r: f"{body(r, ALNUM, 3)}{r.randrange(10)}Q~{body(r, ALNUM + '_~.-', 34)}",
    ),
    Family("HashiCorp Vault service token", _p("hvs.", B64URL, 91)),
    Family("HashiCorp Vault batch token", _p("hvb.", B64URL, 150)),
    Family("HashiCorp Vault legacy token", _p("s.", ALNUM, 24)),
    Family(
        "Terraform Cloud token",
        lambda r: f"{body(r, LOWER_ALNUM, 14)}.atlasv1.{body(r, LOWER_ALNUM + '-_', 67)}",
    ),
    Family("Doppler personal token", _p("dp.pt.", ALNUM, 43)),
    Family("Doppler service token", _p("dp.st.", ALNUM, 40)),
    Family("Doppler CLI token", _p("dp.ct.", ALNUM, 43)),
    Family("Pulumi token", _p("pul-", HEX, 40)),
    Family("DigitalOcean personal token", _p("dop_v1_", HEX, 64)),
    Family("DigitalOcean OAuth token", _p("doo_v1_", HEX, 64)),
    Family("DigitalOcean refresh token", _p("dor_v1_", HEX, 64)),
    Family("Shopify access token", _p("shpat_", HEX, 32)),
    Family("Shopify shared secret", _p("shpss_", HEX, 32)),
    Family("Shopify custom app token", _p("shpca_", HEX, 32)),
    Family("Shopify private app token", _p("shppa_", HEX, 32)),
    Family("OpenShift token", _p("sha256~", B64URL, 43)),
    Family("Hugging Face token", _p("hf_", LETTERS, 34)),
    Family("Hugging Face org token", _p("api_org_", LETTERS, 34)),
    Family("Sentry user token", _p("sntryu_", HEX, 64)),
    Family(
        "Sentry org token",
        lambda r: (
            "sntrys_"
            + _b64url(
                json.dumps(
                    {
                        "iat": 1700000000,
                        "url": "https://sentry.io",
                        "region_url": "https://us.sentry.io",
                        "org": body(r, LOWER, 8),
                    }
                ).encode()
            )
            + "_"
            + body(r, B64, 43)
        ),
    ),
    Family("Databricks token", _p("dapi", HEX, 32)),
    Family("1Password secret key", _a3),
    Family(
        "1Password service account token",
        lambda r: (
            "ops_"
            + _b64url(
                json.dumps(
                    {
                        "signInAddress": "my.1password.com",
                        "userAuth": {"method": "SRPg-4096"},
                        "email": body(r, LOWER, 10) + "@example.com",
                        "srpX": body(r, HEX, 64),
                        "muk": {"k": body(r, B64URL, 43), "kty": "oct"},
                        "secretKey": _a3(r),
                    }
                ).encode()
            )
        ),
    ),
    Family("age secret key", lambda r: "AGE-SECRET-KEY-1" + body(r, BECH32, 58).upper()),
    Family(
        "Slack app token",
        lambda r: f"xapp-1-A{body(r, UPPER_ALNUM, 10)}-{body(r, DIGITS, 13)}-{body(r, HEX, 64)}",
    ),
    Family("Slack config token", lambda r: f"xoxe.xoxp-1-{body(r, UPPER_ALNUM, 164)}"),
    Family("Slack config refresh token", lambda r: f"xoxe-1-{body(r, UPPER_ALNUM, 146)}"),
    Family(
        "Slack workflow webhook",
        lambda r: (
            "https://hooks.slack.com/workflows/T"
            f"{body(r, UPPER_ALNUM, 10)}/A{body(r, UPPER_ALNUM, 10)}/{body(r, DIGITS, 18)}/"
            f"{body(r, ALNUM, 24)}"
        ),
    ),
    Family("Linear API key", _p("lin_api_", ALNUM, 40)),
    Family("Postman API key", lambda r: f"PMAK-{body(r, HEX, 24)}-{body(r, HEX, 34)}"),
    Family("Grafana Cloud token", _p("glc_", B64, 120)),
    Family(
        "Grafana service account token", lambda r: f"glsa_{body(r, ALNUM, 32)}_{body(r, HEX, 8)}"
    ),
    Family("Grafana API key", _grafana_api_key),
    Family(
        "Dynatrace token", lambda r: f"dt0c01.{body(r, UPPER_ALNUM, 24)}.{body(r, UPPER_ALNUM, 64)}"
    ),
    Family("RubyGems key", _p("rubygems_", HEX, 48)),
    Family("Alibaba access key id", _p("LTAI", ALNUM, 20)),
    Family("Cloudflare origin CA key", lambda r: f"v1.0-{body(r, HEX, 24)}-{body(r, HEX, 146)}"),
    Family("Adobe client secret", _p("p8e-", ALNUM, 32)),
    Family("Facebook page token", _p("EAAC", ALNUM, 120)),
    Family("Flutterwave secret key", _p("FLWSECK_TEST-", HEX, 32, "-X")),
    Family("Flutterwave encryption key", _p("FLWSECK_TEST", HEX, 12)),
    Family(
        "Harness token",
        lambda r: f"pat.{body(r, B64URL, 22)}.{body(r, ALNUM, 24)}.{body(r, ALNUM, 20)}",
    ),
    Family("Octopus Deploy key", _p("API-", UPPER_ALNUM, 26)),
    Family("Sendinblue key", lambda r: f"xkeysib-{body(r, HEX, 64)}-{body(r, ALNUM, 16)}"),
    Family("Shippo token", _p("shippo_live_", HEX, 40)),
    Family(
        "Authress key",
        lambda r: (
            f"sc_{body(r, LOWER_ALNUM, 20)}.{body(r, LOWER_ALNUM, 5)}"
            f".acc_{body(r, LOWER_ALNUM, 24)}.{body(r, B64, 64)}"
        ),
    ),
    Family("Intra42 client secret", _p("s-s4t2ud-", HEX, 64)),
    Family("Anthropic API key", _p("sk-ant-api03-", B64URL, 93, "AA")),
    Family(
        "GitHub fine-grained token",
        lambda r: f"github_pat_{body(r, ALNUM, 22)}_{body(r, ALNUM, 59)}",
    ),
    Family("GitLab runner token", _p("glrt-", B64URL, 20)),
    Family("GitLab deploy token", _p("gldt-", B64URL, 20)),
    Family("Atlassian API token", lambda r: f"ATATT3{body(r, B64URL, 177)}={body(r, HEX, 8)}"),
    Family("PlanetScale password", _p("pscale_pw_", B64URL, 43)),
    Family("Heroku API key", _p("HRKU-AA", B64URL, 58)),
    Family("Notion token", lambda r: f"ntn_{body(r, DIGITS, 11)}{body(r, ALNUM, 35)}"),
    Family("Perplexity key", _p("pplx-", ALNUM, 48)),
    Family("Prefect token", _p("pnu_", ALNUM, 36)),
    Family("Readme key", _p("rdme_", LOWER_ALNUM, 70)),
    Family("Scalingo token", _p("tk-us-", B64URL, 48)),
    Family("Clojars token", _p("CLOJARS_", LOWER_ALNUM, 60)),
    Family("Duffel token", _p("duffel_live_", B64URL, 43)),
    Family("EasyPost key", _p("EZAK", LOWER_ALNUM, 54)),
    Family("Frame.io token", _p("fio-u-", B64URL, 64)),
    Family("Fly.io token", _p("fo1_", B64URL, 43)),
    Family("Infracost key", _p("ico-", ALNUM, 32)),
    Family("MaxMind license key", lambda r: f"{body(r, ALNUM, 6)}_{body(r, ALNUM, 29)}_mmk"),
    Family("Typeform token", _p("tfp_", LOWER_ALNUM, 59)),
    Family("New Relic user key", _p("NRAK-", UPPER_ALNUM, 27)),
    Family("New Relic insert key", _p("NRII-", B64URL, 32)),
    Family("Google API key", _p("AIza", B64URL, 35)),
    Family(
        "Microsoft Teams webhook",
        lambda r: (
            f"https://contoso.webhook.office.com/webhookb2/"
            f"{_uuid(r)}@{_uuid(r)}/IncomingWebhook/{body(r, HEX, 32)}/{_uuid(r)}"
        ),
    ),
    Family("Yandex API key", _p("AQVN", B64URL, 36)),
    Family("Telegram bot token", lambda r: f"{body(r, DIGITS, 10)}:AA{body(r, B64URL, 33)}"),
    Family("Mailgun key", _p("key-", HEX, 32)),
    Family("Airtable token", lambda r: f"pat{body(r, ALNUM, 14)}.{body(r, HEX, 64)}"),
    Family("Artifactory reference token", _p("cmVmdGtuOjAxOjE3", ALNUM, 48)),
    Family("Settlemint token", _p("sm_pat_", ALNUM, 16)),
    Family("ClickHouse key", _p("4b1d", ALNUM, 38)),
    Family("Square access token", _p("EAAA", B64URL, 60)),
    Family(
        "Azure storage key",
        lambda r: (
            "DefaultEndpointsProtocol=https;AccountName=stor;"
            f"AccountKey={body(r, B64, 86)}==;EndpointSuffix=core.windows.net"
        ),
        True,
    ),
]


def _uuid(rng: random.Random) -> str:
    h = body(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


class Other(NamedTuple):
    """A secret whose format does not name it, and how it is written (a value, a line)."""

    name: str
    make: Callable[[random.Random], str]


def _password(rng: random.Random) -> str:
    return body(rng, LETTERS, 6) + body(rng, DIGITS, 3) + rng.choice("!#%*") + body(rng, ALNUM, 4)


OTHERS: list[Other] = [
    Other("random hex key", lambda r: body(r, HEX, 40)),
    Other("random base64 key", lambda r: body(r, B64, 44)),
    Other("random alphanumeric key", lambda r: body(r, ALNUM, 32)),
    Other("URL credentials", lambda r: f"postgres://app:{_password(r)}@db.internal:5432/app"),
    Other("HTTPS URL userinfo", lambda r: f"https://deploy:{_password(r)}@git.example.org/a.git"),
    Other(
        "JDBC password",
        lambda r: f"jdbc:mysql://db:3306/shop?user=app&password={_password(r)}&useSSL=true",
    ),
    Other(
        "ADO.NET password",
        lambda r: f"Server=sql.internal;Database=shop;User Id=app;Password={_password(r)};",
    ),
    Other(
        "Azure Service Bus key",
        lambda r: (
            "Endpoint=sb://bus.servicebus.windows.net/;"
            f"SharedAccessKeyName=send;SharedAccessKey={body(r, B64, 43)}="
        ),
    ),
    Other("curl -u", lambda r: f"curl -sf -u admin:{_password(r)} https://nexus.internal/api"),
    Other(
        "curl Authorization",
        lambda r: f'curl -H "Authorization: Bearer {body(r, ALNUM, 40)}" https://api.internal/v1',
    ),
    Other(
        "curl Basic",
        lambda r: (
            "curl -H 'Authorization: Basic "
            + base64.b64encode(f"ci:{_password(r)}".encode()).decode()
            + "' https://registry.internal/v2/"
        ),
    ),
    Other(
        "helm --set password",
        lambda r: (
            f"helm upgrade --install db bitnami/postgresql --set auth.password={_password(r)}"
        ),
    ),
    Other("wget --password", lambda r: f"wget --user=ci --password={_password(r)} https://x/a"),
]


class Lookalike(NamedTuple):
    name: str
    value: str


LOOKALIKES: list[Lookalike] = [
    # placeholders after a real prefix
    Lookalike("GitHub placeholder", "ghp_" + "x" * 36),
    Lookalike("GitHub placeholder upper", "ghp_" + "X" * 36),
    Lookalike("AWS documentation key", "AKIA" + "IOSFODNN7" + "EXAMPLE"),
    Lookalike("GitLab placeholder", "glpat-" + "X" * 20),
    Lookalike("OpenAI placeholder", "sk-" + "..." + "-abc123"),
    Lookalike("put your token here", "ghp_" + "PUT_YOUR_TOKEN_HERE_" + "0" * 16),
    Lookalike("Sumo placeholder", "{SumoAccessKey}"),
    Lookalike("Stripe placeholder", "sk_live_" + "0" * 24),
    Lookalike("DigitalOcean placeholder", "dop_v1_" + "x" * 64),
    Lookalike("Vault placeholder", "hvs." + "X" * 91),
    Lookalike("Hugging Face placeholder", "hf_" + "x" * 34),
    Lookalike("all-letters AWS look-alike", "AKIA" + "SOMEWORDSINCAPS" + "X"),
    # engine validity checks
    Lookalike("not a JWT", "eyJ" + "AAAA" + "." + "eyJ" + "BBB"),
    Lookalike("empty PEM block", f"{PEM_BEGIN}\n{PEM_END}"),
    # references to a secret store or the environment
    Lookalike("1Password reference", "op://kubernetes/github-bot/GITHUB_BOT_APP_PRIVATE_KEY"),
    Lookalike("Vault path", "vault:secret/data/app#password"),
    Lookalike("vals reference", "ref+awssecrets://prod/db/password"),
    Lookalike("Azure Key Vault reference", "akv://prod-vault/db-password"),
    Lookalike("environment variable", "$DATABASE_PASSWORD"),
    Lookalike("Grafana env reference", "$__env{GF_SECURITY_ADMIN_PASSWORD}"),
    Lookalike("Symfony env reference", "%env(DATABASE_PASSWORD)%"),
    Lookalike("file path", "/secrets/db/password"),
    Lookalike("temp credentials file", "/tmp/credentials.json"),
    Lookalike(
        "device path", "/dev/disk/by-id/" + "nvme-Samsung_SSD_980_PRO_2TB_" + "S6B0NL0W" + "127373V"
    ),
    # hashes and ids
    # hashes and ids (computed here, so no random-looking literal sits in this file)
    Lookalike("image digest", "sha256:" + hashlib.sha256(b"an image").hexdigest()),
    Lookalike("git commit", hashlib.sha1(b"a commit").hexdigest()),
    Lookalike("UUID", str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.org"))),
    Lookalike("Talos schematic id", hashlib.sha256(b"a schematic").hexdigest()),
    Lookalike("trash id", hashlib.md5(b"a custom format").hexdigest()),
    Lookalike(
        "npm integrity", "sha512-" + base64.b64encode(hashlib.sha512(b"a").digest()).decode()
    ),
    # plain configuration
    Lookalike("hostname", "postgres.database.svc.cluster.local"),
    Lookalike("URL without password", "https://grafana.example.org/d/abc/overview?orgId=1"),
    Lookalike("URL with user only", "https://deploy@git.example.org/a.git"),
    Lookalike("Kubernetes name", "onepassword-connect-credentials-secret"),
    Lookalike("region", "us-east-1"),
    Lookalike("Java class", "org.apache.kafka.common.security.plain.PlainLoginModule"),
    Lookalike("base64 of a word", base64.b64encode(b"configuration-value").decode()),
    Lookalike("age recipient", "age1" + body(random.Random(1), BECH32, 58)),
    Lookalike("cron schedule", "0 */6 * * *"),
    Lookalike("jdbc without password", "jdbc:postgresql://db:5432/app?sslmode=require"),
    Lookalike(
        "ADO without password", "Server=sql.internal;Database=shop;Integrated Security=true;"
    ),
    Lookalike("curl without credentials", "curl -sf https://example.org/healthz"),
    Lookalike("curl with env reference", 'curl -u "$USER:$PASSWORD" https://example.org/'),
    Lookalike("helm --set non-secret", "helm upgrade --install web ./chart --set replicas=3"),
    Lookalike("Authorization from env", 'curl -H "Authorization: Bearer $TOKEN" https://x/'),
]

#: Keys that say nothing about their value (the contexts where a token must name itself).
NEUTRAL_KEY = "setting"
NEUTRAL_ENV = "UPSTREAM_SETTING"
#: A key that says what its value is.
CREDENTIAL_KEY = "API_TOKEN"


# -- the labelled files' planted tokens ------------------------------------------------------
#
# The files of tests/data/secrets that hold a vendor token hold a marker instead
# (``@@planted:github@@``): a scanner that blocks pushes of token-shaped strings never sees
# one in this repository. ``secrets_data()`` copies the folder with each marker replaced by
# its token, made here from the format with a fixed seed (the same token every run: tests
# compare masked prefixes and lengths).


def _slack_bot(rng: random.Random) -> str:
    return f"xoxb-{body(rng, DIGITS, 10)}-{body(rng, DIGITS, 13)}-{body(rng, ALNUM, 24)}"


def _planted_pem(rng: random.Random) -> str:
    lines = [body(rng, B64, 64) for _ in range(2)]
    return f"{PEM_BEGIN}\n" + "\n".join(lines) + f"\n{PEM_END}"


_PLANTED_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "github": _p("ghp_", ALNUM, 36),
    "aws": _p("AKIA", UPPER_ALNUM, 16),
    "gitlab": _p("glpat-", ALNUM, 20),
    "stripe": _p("sk_live_", ALNUM, 24),
    "stripe-json": _p("sk_live_", ALNUM, 24),
    "slack": _slack_bot,
    "jwt": _jwt,
    "rsa-key": _planted_pem,
}
#: marker name -> its token (fixed seed per name)
PLANTED_TOKENS: dict[str, str] = {
    name: make(random.Random(f"planted {name}")) for name, make in _PLANTED_FORMATS.items()
}
_MARKER = "@@planted:"


def materialise(text: str) -> str:
    """``text`` with every marker replaced by its token; a multi-line token keeps the
    indentation of the marker's line."""
    if _MARKER not in text:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        while _MARKER in line:
            start = line.index(_MARKER)
            end = line.index("@@", start + len(_MARKER))
            token = PLANTED_TOKENS[line[start + len(_MARKER) : end]]
            indent = line[: len(line) - len(line.lstrip())]
            token = token.replace("\n", "\n" + indent)
            line = line[:start] + token + line[end + 2 :]
        out.append(line)
    return "".join(out)


_DATA: list[object] = []


def secrets_data() -> object:
    """tests/data/secrets with its markers replaced: a temporary copy, made once per process
    (a ``pathlib.Path``)."""
    if _DATA:
        return _DATA[0]
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    source = Path(__file__).resolve().parent / "data" / "secrets"
    target = Path(tempfile.mkdtemp(prefix="gitops-guard-secrets-")) / "secrets"
    shutil.copytree(source, target, symlinks=True)
    atexit.register(shutil.rmtree, target.parent, True)
    for path in target.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if _MARKER.encode() in data:
                path.write_text(materialise(data.decode("utf-8")), encoding="utf-8")
    _DATA.append(target)
    return target

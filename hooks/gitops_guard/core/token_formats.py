"""The provider token formats: which vendor made a token, as data.

Each :class:`TokenFormat` is one family of credentials whose format says what it is: the
family's name (what a finding and a baseline entry call it), the vendor's documented format
as regular expressions (prefix, length, alphabet; where a vendor documents only the prefix,
the length is the one the peers' rules use), the literal keywords every such token contains
(text without one cannot hold the token, so the expressions are not even run) and, where the
expression alone is too loose, a validity check on the match.

Two consumers, one set of recognisers:

- ``checks/secrets/plugins.py`` makes each format a detect-secrets plugin (its
  ``RegexBasedDetector`` API), which check-secrets runs beside detect-secrets' own;
- ``core/masking.py`` masks every match in every line gitops-guard prints.

Each expression has exactly one group: the token itself (what a baseline hashes and what is
masked). Nothing here imports anything beyond ``re``, and nothing is compiled before a line
holds one of the keywords.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (start-up: see tests/test_cli.py)
    from collections.abc import Callable, Iterator

#: not preceded by a character of a longer word (``xhvs.`` is not a Vault token)
_L = r"(?<![A-Za-z0-9_])"
#: not followed by one of the token's own characters (the token would be longer)
_R = r"(?![A-Za-z0-9_-])"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def has_digit(token: str) -> bool:
    """A random body of that length has a digit; an all-letter match is a word."""
    return any(c.isdigit() for c in token)


def vault_legacy_random(token: str) -> bool:
    """Vault's ``hvs.``/``hvb.`` tokens as matched; a legacy ``s.`` token only with a random
    body (digits, lower and upper case): ``s.`` + 24 letters is a word in a dotted name."""
    if not token.startswith("s."):
        return True
    body = token[2:]
    return has_digit(body) and body.lower() != body and body.upper() != body


class TokenFormat:
    """One family of self-identifying tokens."""

    __slots__ = ("doc", "family", "gate", "keywords", "name", "patterns", "require")

    def __init__(
        self,
        name: str,
        family: str,
        keywords: tuple[str, ...],
        patterns: tuple[str, ...],
        require: Callable[[str], bool] | None = None,
        doc: str = "",
        gate: str = "",
    ) -> None:
        #: the detect-secrets plugin class made from it (a baseline's ``plugins_used`` name)
        self.name = name
        #: the family, as a finding and a baseline entry name it (detect-secrets'
        #: ``secret_type``)
        self.family = family
        #: literals every token of the family contains
        self.keywords = keywords
        #: the format's regular expressions, one group each: the token
        self.patterns = patterns
        #: every match must also pass this, if set
        self.require = require
        #: where the format comes from, what it covers
        self.doc = doc
        #: an expression every token of the family matches somewhere (no groups): what a
        #: text must hold before the format's own expressions are compiled and run; by
        #: default any of the keywords, stricter where a keyword alone is common text
        #: (``s.``, ``|``)
        self.gate = gate

    def __repr__(self) -> str:
        return f"TokenFormat({self.name!r})"


FORMATS: tuple[TokenFormat, ...] = (
    TokenFormat(
        "AzureADClientSecretDetector",
        "Azure AD Client Secret",
        ("Q~",),
        (r"(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])",),
        None,
        "Microsoft Entra ID (Azure AD) application client secrets: 3 characters, a digit, ``Q~``,"
        " then 31 to 34 more (the format since 2021).",
        gate=r"\dQ~",
    ),
    TokenFormat(
        "VaultTokenDetector",
        "HashiCorp Vault Token",
        ("hvs.", "hvr.", "hvb.", "s."),
        (
            _L + r"(hv[sr]\.[A-Za-z0-9_-]{90,120})" + _R,
            _L + r"(hvb\.[A-Za-z0-9_-]{138,300})" + _R,
            r"(?<![A-Za-z0-9_.-])(s\.[A-Za-z0-9]{24})(?![A-Za-z0-9_.-])",
        ),
        vault_legacy_random,
        "HashiCorp Vault tokens: service ``hvs.``, batch ``hvb.``, recovery ``hvr.`` (Vault "
        "1.10+), and the legacy ``s.`` + 24 characters.",
        gate=r"hv[srb]\.|s\.[A-Za-z0-9]{24}",
    ),
    TokenFormat(
        "TerraformCloudTokenDetector",
        "Terraform Cloud Token",
        (".atlasv1.",),
        (_L + r"([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})" + _R,),
        None,
        "HCP Terraform / Terraform Enterprise API tokens: ``<14>.atlasv1.<60-70>``.",
    ),
    TokenFormat(
        "DopplerTokenDetector",
        "Doppler Token",
        ("dp.",),
        (_L + r"(dp\.(?:pt|ct|st|sa|scim|audit)\.(?:[a-z0-9_-]{1,35}\.)?[A-Za-z0-9]{40,44})" + _R,),
        None,
        "Doppler tokens: ``dp.pt.`` personal, ``dp.ct.`` CLI, ``dp.st.`` service (optionally with"
        " the config name), ``dp.sa.`` service account, ``dp.scim.``, ``dp.audit.``.",
        gate=r"dp\.(?:pt|ct|st|sa|scim|audit)\.",
    ),
    TokenFormat(
        "PulumiTokenDetector",
        "Pulumi Access Token",
        ("pul-",),
        (_L + r"(pul-[a-f0-9]{40})" + _R,),
    ),
    TokenFormat(
        "DigitalOceanTokenDetector",
        "DigitalOcean Token",
        ("_v1_",),
        (_L + r"(do[opr]_v1_[a-f0-9]{64})" + _R,),
        None,
        "DigitalOcean personal (``dop_v1_``), OAuth (``doo_v1_``) and refresh (``dor_v1_``) "
        "tokens: 64 hex characters after the prefix.",
    ),
    TokenFormat(
        "ShopifyTokenDetector",
        "Shopify Token",
        ("shp",),
        (_L + r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _R,),
        None,
        "Shopify admin (``shpat_``), custom app (``shpca_``), private app (``shppa_``) tokens and"
        " app shared secrets (``shpss_``): 32 hex characters.",
    ),
    TokenFormat(
        "OpenShiftTokenDetector",
        "OpenShift User Token",
        ("sha256~",),
        (_L + r"(sha256~[A-Za-z0-9_-]{43})" + _R,),
        None,
        "OpenShift OAuth access tokens (4.x): ``sha256~`` and 43 base64url characters.",
    ),
    TokenFormat(
        "HuggingFaceTokenDetector",
        "Hugging Face Token",
        ("hf_", "api_org_"),
        (_L + r"((?:hf_|api_org_)[A-Za-z]{34})" + _R,),
        None,
        "Hugging Face user access tokens (``hf_``) and organization tokens (``api_org_``).",
    ),
    TokenFormat(
        "SentryTokenDetector",
        "Sentry Token",
        ("sntry",),
        (
            _L + r"(sntryu_[a-f0-9]{64})" + _R,
            _L + r"(sntrys_eyJ[A-Za-z0-9+/_-]{20,600}={0,2}_[A-Za-z0-9+/]{43})(?![A-Za-z0-9+/])",
        ),
        None,
        "Sentry user auth tokens (``sntryu_`` + 64 hex) and organization tokens (``sntrys_`` + a "
        "base64 JSON claim + ``_`` + 43 characters).",
    ),
    TokenFormat(
        "DatabricksTokenDetector",
        "Databricks Token",
        ("dapi",),
        (_L + r"(dapi[a-f0-9]{32}(?:-\d)?)" + _R,),
    ),
    TokenFormat(
        "OnePasswordDetector",
        "1Password Secret",
        ("A3-", "ops_eyJ"),
        (
            r"(?<![A-Za-z0-9_-])(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})"
            r"-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})(?![A-Z0-9-])",
            _L + r"(ops_eyJ[A-Za-z0-9+/_-]{250,}={0,3})",
        ),
        None,
        "1Password account Secret Keys (``A3-`` + six groups) and service account tokens "
        "(``ops_`` + a base64 JSON document).",
    ),
    TokenFormat(
        "AgeSecretKeyDetector",
        "age Secret Key",
        ("AGE-SECRET-KEY-1",),
        (_L + r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})" + _R,),
        None,
        "age (and SOPS' age) identities: ``AGE-SECRET-KEY-1`` and 58 bech32 characters.",
    ),
    TokenFormat(
        "SlackAppTokenDetector",
        "Slack App Token",
        ("xapp-", "xoxe"),
        (
            _L + r"(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)" + _R,
            _L + r"(xoxe\.xox[bp]-\d-[A-Za-z0-9]{163,166})" + _R,
            _L + r"(xoxe-\d-[A-Za-z0-9]{146})" + _R,
        ),
        None,
        "Slack app-level tokens (``xapp-``) and app configuration tokens (``xoxe.xoxp-``, "
        "``xoxe.xoxb-``, refresh ``xoxe-``), which detect-secrets' Slack plugin misses.",
    ),
    TokenFormat(
        "SlackWorkflowWebhookDetector",
        "Slack Workflow Webhook",
        ("hooks.slack.com/",),
        (
            r"((?:https?://)?hooks\.slack\.com/(?:workflows|triggers)/T[A-Z0-9]{6,12}/[A-Z0-9]{6,12}/\d{6,20}"
            r"/[A-Za-z0-9]{20,40})" + _R,
        ),
        None,
        "Slack Workflow Builder webhooks (``hooks.slack.com/workflows/`` and ``/triggers/``).",
    ),
    TokenFormat(
        "LinearKeyDetector",
        "Linear API Key",
        ("lin_",),
        (_L + r"(lin_(?:api_[A-Za-z0-9]{40}|oauth_[a-f0-9]{64}))" + _R,),
    ),
    TokenFormat(
        "PostmanKeyDetector",
        "Postman API Key",
        ("PMAK-",),
        (_L + r"(PMAK-[a-f0-9]{24}-[a-f0-9]{34})" + _R,),
    ),
    TokenFormat(
        "GrafanaTokenDetector",
        "Grafana Token",
        ("glc_", "glsa_", "eyJrIjoi"),
        (
            _L + r"(glc_[A-Za-z0-9+/]{32,400}={0,3})(?![A-Za-z0-9+/=])",
            _L + r"(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})" + _R,
            _L + r"(eyJrIjoi[A-Za-z0-9]{70,400}={0,3})(?![A-Za-z0-9+/=])",
        ),
        None,
        "Grafana Cloud access policy tokens (``glc_``), service account tokens (``glsa_``) and "
        'the older API keys (base64 JSON starting ``{"k":``: ``eyJrIjoi``).',
    ),
    TokenFormat(
        "DynatraceTokenDetector",
        "Dynatrace Token",
        ("dt0",),
        (_L + r"(dt0[cs]01\.[A-Z0-9]{24}\.[A-Z0-9]{64})" + _R,),
        None,
        "Dynatrace tokens: ``dt0c01.``, a 24-character public part, a 64-character secret.",
    ),
    TokenFormat(
        "RubyGemsKeyDetector",
        "RubyGems API Key",
        ("rubygems_",),
        (_L + r"(rubygems_[a-f0-9]{48})" + _R,),
    ),
    TokenFormat(
        "AlibabaKeyDetector",
        "Alibaba Cloud AccessKey",
        ("LTAI",),
        (_L + r"(LTAI[A-Za-z0-9]{12,20})" + _R,),
        has_digit,
        "Alibaba Cloud AccessKey IDs: ``LTAI`` and 12 to 20 alphanumerics.",
    ),
    TokenFormat(
        "CloudflareOriginCAKeyDetector",
        "Cloudflare Origin CA Key",
        ("v1.0-",),
        (_L + r"(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})" + _R,),
    ),
    TokenFormat(
        "AdobeSecretDetector",
        "Adobe Client Secret",
        ("p8e-",),
        (_L + r"(p8e-[A-Za-z0-9]{32})" + _R,),
    ),
    TokenFormat(
        "FacebookTokenDetector",
        "Facebook Access Token",
        ("EAA", "|"),
        (
            _L + r"(EAA[CGM][A-Za-z0-9]{100,})" + _R,
            r"(?<![0-9])(\d{15,16}\|[0-9A-Za-z_-]{27,40})" + _R,
        ),
        None,
        "Meta (Facebook) user and page access tokens (``EAAC``/``EAAM``/``EAAG`` + 100 or more "
        "alphanumerics) and app access tokens (``<app id>|<app secret>``).",
        gate=r"EAA[CGM]|\d{15}\|",
    ),
    TokenFormat(
        "FlutterwaveKeyDetector",
        "Flutterwave Key",
        ("FLW",),
        (
            _L + r"(FLW(?:SECK|PUBK)(?:_TEST)?-[a-fA-F0-9]{32}-X)" + _R,
            _L + r"(FLWSECK_TEST-?[a-fA-F0-9]{12})" + _R,
        ),
        None,
        "Flutterwave secret and public keys (``FLWSECK-``/``FLWPUBK-``, ``_TEST-`` for test mode,"
        " 32 hex + ``-X``) and encryption keys (``FLWSECK_TEST`` + 12 hex).",
    ),
    TokenFormat(
        "HarnessTokenDetector",
        "Harness Token",
        ("pat.", "sat."),
        (_L + r"((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})" + _R,),
        None,
        "Harness personal access (``pat.``) and service account (``sat.``) tokens.",
        gate=r"[ps]at\.[A-Za-z0-9_-]{22}\.",
    ),
    TokenFormat(
        "OctopusKeyDetector",
        "Octopus Deploy API Key",
        ("API-",),
        (_L + r"(API-[A-Z0-9]{26})" + _R,),
        has_digit,
        gate=r"API-[A-Z0-9]{26}",
    ),
    TokenFormat(
        "SendinblueKeyDetector",
        "Brevo (Sendinblue) Key",
        ("keysib-", "smtpsib-"),
        (_L + r"(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})" + _R,),
        None,
        "Brevo (Sendinblue) API keys (``xkeysib-``) and SMTP keys (``xsmtpsib-``).",
    ),
    TokenFormat(
        "ShippoTokenDetector",
        "Shippo API Token",
        ("shippo_",),
        (_L + r"(shippo_(?:live|test)_[a-fA-F0-9]{40})" + _R,),
    ),
    TokenFormat(
        "AuthressKeyDetector",
        "Authress Service Client Key",
        (".acc",),
        (
            _L + r"((?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-]"
            r"[A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120})(?![A-Za-z0-9+/_=-])",
        ),
    ),
    TokenFormat(
        "Intra42SecretDetector",
        "Intra42 Client Secret",
        ("s-s4t2",),
        (_L + r"(s-s4t2(?:ud|af)-[a-f0-9]{64})" + _R,),
    ),
    TokenFormat(
        "AnthropicKeyDetector",
        "Anthropic API Key",
        ("sk-ant-",),
        (_L + r"(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA)" + _R,),
    ),
    TokenFormat(
        "GitHubFineGrainedTokenDetector",
        "GitHub Fine-Grained Token",
        ("github_pat_",),
        (_L + r"(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + _R,),
        None,
        "GitHub fine-grained personal access tokens (``github_pat_``), which detect-secrets' "
        "GitHub plugin (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``) does not know.",
    ),
    TokenFormat(
        "AtlassianTokenDetector",
        "Atlassian API Token",
        ("TT3",),
        (_L + r"(AT[AC]TT3[A-Za-z0-9_=-]{186})" + _R,),
        None,
        "Atlassian Cloud API tokens (``ATATT3``) and admin API keys (``ATCTT3``).",
    ),
    TokenFormat(
        "PlanetScaleTokenDetector",
        "PlanetScale Token",
        ("pscale_",),
        (_L + r"(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64})" + _R,),
    ),
    TokenFormat(
        "HerokuKeyDetector",
        "Heroku API Key",
        ("HRKU-AA",),
        (_L + r"(HRKU-AA[A-Za-z0-9_-]{58})" + _R,),
    ),
    TokenFormat(
        "NotionTokenDetector",
        "Notion Token",
        ("ntn_",),
        (_L + r"(ntn_\d{11}[A-Za-z0-9]{35})" + _R,),
    ),
    TokenFormat(
        "PerplexityKeyDetector",
        "Perplexity API Key",
        ("pplx-",),
        (_L + r"(pplx-[A-Za-z0-9]{48})" + _R,),
    ),
    TokenFormat(
        "PrefectTokenDetector",
        "Prefect API Key",
        ("pnu_",),
        (_L + r"(pnu_[A-Za-z0-9]{36})" + _R,),
    ),
    TokenFormat(
        "ReadmeKeyDetector",
        "ReadMe API Key",
        ("rdme_",),
        (_L + r"(rdme_[a-z0-9]{70})" + _R,),
    ),
    TokenFormat(
        "ScalingoTokenDetector",
        "Scalingo API Token",
        ("tk-us-",),
        (_L + r"(tk-us-[A-Za-z0-9_-]{48})" + _R,),
    ),
    TokenFormat(
        "ClojarsTokenDetector",
        "Clojars Deploy Token",
        ("CLOJARS_",),
        (_L + r"(CLOJARS_[a-z0-9]{60})" + _R,),
    ),
    TokenFormat(
        "DuffelTokenDetector",
        "Duffel API Token",
        ("duffel_",),
        (_L + r"(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})" + _R,),
    ),
    TokenFormat(
        "EasyPostKeyDetector",
        "EasyPost API Key",
        ("EZAK", "EZTK"),
        (_L + r"(EZ[AT]K[A-Za-z0-9]{54})" + _R,),
    ),
    TokenFormat(
        "FrameioTokenDetector",
        "Frame.io Token",
        ("fio-u-",),
        (_L + r"(fio-u-[A-Za-z0-9_=-]{64})" + _R,),
    ),
    TokenFormat(
        "FlyioTokenDetector",
        "Fly.io Token",
        ("fo1_", "fm1", "fm2"),
        (
            _L + r"(fo1_[A-Za-z0-9_-]{43})" + _R,
            _L + r"(fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})(?![A-Za-z0-9+/=])",
        ),
    ),
    TokenFormat(
        "InfracostKeyDetector",
        "Infracost API Key",
        ("ico-",),
        (_L + r"(ico-[A-Za-z0-9]{32})" + _R,),
    ),
    TokenFormat(
        "MaxMindKeyDetector",
        "MaxMind License Key",
        ("_mmk",),
        (_L + r"([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)" + _R,),
    ),
    TokenFormat(
        "TypeformTokenDetector",
        "Typeform Token",
        ("tfp_",),
        (_L + r"(tfp_[A-Za-z0-9_.=-]{59})" + _R,),
    ),
    TokenFormat(
        "NewRelicKeyDetector",
        "New Relic Key",
        ("NRAK-", "NRII-", "NRJS-"),
        (
            _L + r"(NRAK-[A-Z0-9]{27})" + _R,
            _L + r"(NRII-[A-Za-z0-9_-]{32})" + _R,
            _L + r"(NRJS-[a-f0-9]{19})" + _R,
        ),
        None,
        "New Relic user keys (``NRAK-``), insert keys (``NRII-``), browser keys (``NRJS-``).",
    ),
    TokenFormat(
        "GoogleAPIKeyDetector",
        "Google API Key",
        ("AIza",),
        (_L + r"(AIza[A-Za-z0-9_-]{35})" + _R,),
    ),
    TokenFormat(
        "TeamsWebhookDetector",
        "Microsoft Teams Webhook",
        (".webhook.office.com/",),
        (
            r"((?:https://)?[a-z0-9-]+\.webhook\.office\.com/webhookb2/"
            + _UUID
            + "@"
            + _UUID
            + r"/IncomingWebhook/[a-f0-9]{32}/"
            + _UUID
            + ")"
            + _R,
        ),
    ),
    TokenFormat(
        "YandexKeyDetector",
        "Yandex Cloud API Key",
        ("AQVN",),
        (_L + r"(AQVN[A-Za-z0-9_-]{35,38})" + _R,),
    ),
    TokenFormat(
        "MailgunKeyDetector",
        "Mailgun API Key",
        ("key-",),
        (_L + r"(key-[a-f0-9]{32})" + _R,),
        gate=r"key-[a-f0-9]{32}",
    ),
    TokenFormat(
        "AirtableTokenDetector",
        "Airtable Token",
        ("pat",),
        (_L + r"(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})" + _R,),
        gate=r"pat[A-Za-z0-9]{14}\.",
    ),
    TokenFormat(
        "ArtifactoryReferenceTokenDetector",
        "JFrog Reference Token",
        ("cmVmdGtuOjAx",),
        (_L + r"(cmVmdGtuOjAx[A-Za-z0-9]{52})" + _R,),
        None,
        "JFrog reference tokens: base64 of ``reftkn:01:...`` (``cmVmdGtuOjAx``).",
    ),
    TokenFormat(
        "SettlemintTokenDetector",
        "SettleMint Token",
        ("sm_",),
        (_L + r"(sm_(?:pat|aat|sat)_[A-Za-z0-9]{16})" + _R,),
    ),
    TokenFormat(
        "ClickHouseKeyDetector",
        "ClickHouse Cloud Key",
        ("4b1d",),
        (_L + r"(4b1d[A-Za-z0-9]{38})" + _R,),
    ),
    TokenFormat(
        "SquareAccessTokenDetector",
        "Square Access Token",
        ("EAAA", "sq0atp-"),
        (_L + r"(EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22})" + _R,),
        None,
        "Square access tokens (``EAAA`` + 60, legacy ``sq0atp-`` + 22); detect-secrets knows only"
        " the OAuth secret (``sq0csp-``).",
    ),
    TokenFormat(
        "NpmTokenDetector",
        "npm Access Token",
        ("npm_",),
        (_L + r"(npm_[A-Za-z0-9]{36})" + _R,),
        None,
        "npm access tokens (``npm_`` + 36) anywhere; detect-secrets finds them only in an "
        "``.npmrc`` ``_authToken`` line.",
    ),
    TokenFormat(
        "DropboxTokenDetector",
        "Dropbox Token",
        ("sl.",),
        (_L + r"(sl\.[A-Za-z0-9_=-]{135,140})" + _R,),
        gate=r"sl\.[A-Za-z0-9_=-]{135}",
    ),
)


#: every keyword of every format
KEYWORDS: tuple[str, ...] = tuple(sorted({k for f in FORMATS for k in f.keywords}))


def gate_of(fmt: TokenFormat) -> str:
    """The expression a text must match before ``fmt``'s own expressions can."""
    return fmt.gate or "|".join(re.escape(k) for k in fmt.keywords)


_compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
_gates: dict[str, re.Pattern[str]] = {}


def compiled(fmt: TokenFormat) -> tuple[re.Pattern[str], ...]:
    """The format's expressions, compiled on first use (sixty formats cost ~25 ms to compile;
    a commit of one file needs few of them, often none)."""
    found = _compiled.get(fmt.name)
    if found is None:
        found = tuple(re.compile(p) for p in fmt.patterns)
        _compiled[fmt.name] = found
    return found


def _gate(fmt: TokenFormat | None) -> re.Pattern[str]:
    """One format's gate, or (``None``) every format's gates as one expression."""
    key = "" if fmt is None else fmt.name
    found = _gates.get(key)
    if found is None:
        if fmt is None:
            found = re.compile("|".join(f"(?:{gate_of(f)})" for f in FORMATS))
        else:
            found = re.compile(gate_of(fmt))
        _gates[key] = found
    return found


def may_hold_token(text: str) -> bool:
    """Whether some format's gate matches in ``text``; if not, no format can match in it."""
    return _gate(None).search(text) is not None


def find_tokens(text: str) -> Iterator[tuple[int, int, TokenFormat]]:
    """(start, end, format) of every token of every format in ``text`` that passes the
    format's validity check."""
    if _gate(None).search(text) is None:
        return
    for fmt in FORMATS:
        if _gate(fmt).search(text) is None:
            continue
        for regex in compiled(fmt):
            for match in regex.finditer(text):
                token = match.group(1)
                if fmt.require is not None and not fmt.require(token):
                    continue
                yield match.start(1), match.end(1), fmt

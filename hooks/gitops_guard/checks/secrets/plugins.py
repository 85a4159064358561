"""detect-secrets plugins for the provider token formats detect-secrets 1.5 does not know.

Each class is a ``RegexBasedDetector`` (detect-secrets' own plugin API): a ``secret_type``
that names the token's family, and the token's published format as regular expressions.
The formats are the vendors' documented ones (prefix, length, alphabet); where a vendor
documents only the prefix, the length is the one the peers' rules use. Every match then
passes :func:`is_placeholder_token`: a real prefix followed by ``xxxx``, ``EXAMPLE`` or
``YOUR_TOKEN_HERE`` is documentation, not a credential.

The classes work inside detect-secrets too (a baseline's ``plugins_used`` entry with
``path: file://.../plugins.py``); gitops-guard's engine adds them to detect-secrets'
own plugins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector

from gitops_guard.checks.secrets.embedded import is_placeholder_token

__all__ = ["is_placeholder_token", "plugin_classes"]

#: not preceded by a character of a longer word (``xhvs.`` is not a Vault token)
_L = r"(?<![A-Za-z0-9_])"
#: not followed by one of the token's own characters (the token would be longer)
_R = r"(?![A-Za-z0-9_-])"


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _rx(*patterns: str) -> tuple[str, ...]:
    return patterns


class _Denylist:
    """A plugin's compiled ``denylist``, compiled on the first scan that needs it (sixty
    plugins' expressions cost ~20 ms to compile; a commit of one file needs few of them)."""

    __isabstractmethod__ = False

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        compiled = owner.__dict__.get("_compiled")
        if compiled is None:
            compiled = tuple(re.compile(p) for p in owner.patterns)  # type: ignore[attr-defined]
            owner._compiled = compiled  # type: ignore[attr-defined]
        return compiled


class ProviderTokenDetector(RegexBasedDetector):
    """A provider token format; matches that are placeholders are dropped. (No
    ``secret_type`` here: detect-secrets skips this abstract base.)"""

    #: every match must also pass this (a validity check beyond the regex), if set
    require: Any = None
    #: the format's regular expressions (``denylist`` compiles them when first used)
    patterns: tuple[str, ...] = ()
    #: text without one of these cannot hold the token: the regexes are not even run
    keywords: tuple[str, ...] = ()
    denylist = _Denylist()

    def present(self, string: str) -> bool:
        return any(k in string for k in self.keywords)

    def analyze_string(self, string: str) -> Iterator[str]:
        if not self.present(string):
            return
        for match in super().analyze_string(string):
            if is_placeholder_token(match):
                continue
            if self.require is not None and not self.require(match):
                continue
            yield match


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class AzureADClientSecretDetector(ProviderTokenDetector):
    """Microsoft Entra ID (Azure AD) application client secrets: 3 characters, a digit,
    ``Q~``, then 31 to 34 more (the format since 2021)."""

    secret_type = "Azure AD Client Secret"
    keywords = ("Q~",)
    patterns = _rx(
        r"(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])"
    )


class VaultTokenDetector(ProviderTokenDetector):
    """HashiCorp Vault tokens: service ``hvs.``, batch ``hvb.``, recovery ``hvr.`` (Vault
    1.10+), and the legacy ``s.`` + 24 characters."""

    secret_type = "HashiCorp Vault Token"
    keywords = ("hvs.", "hvr.", "hvb.", "s.")
    patterns = _rx(
        _L + r"(hv[sr]\.[A-Za-z0-9_-]{90,120})" + _R,
        _L + r"(hvb\.[A-Za-z0-9_-]{138,300})" + _R,
        r"(?<![A-Za-z0-9_.-])(s\.[A-Za-z0-9]{24})(?![A-Za-z0-9_.-])",
    )

    @staticmethod
    def require(token: str) -> bool:
        if not token.startswith("s."):
            return True
        body = token[2:]  # legacy: a random body has digits, lower and upper case
        return _has_digit(body) and body.lower() != body and body.upper() != body


class TerraformCloudTokenDetector(ProviderTokenDetector):
    """HCP Terraform / Terraform Enterprise API tokens: ``<14>.atlasv1.<60-70>``."""

    secret_type = "Terraform Cloud Token"
    keywords = (".atlasv1.",)
    patterns = _rx(_L + r"([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})" + _R)


class DopplerTokenDetector(ProviderTokenDetector):
    """Doppler tokens: ``dp.pt.`` personal, ``dp.ct.`` CLI, ``dp.st.`` service (optionally
    with the config name), ``dp.sa.`` service account, ``dp.scim.``, ``dp.audit.``."""

    secret_type = "Doppler Token"
    keywords = ("dp.",)
    patterns = _rx(
        _L + r"(dp\.(?:pt|ct|st|sa|scim|audit)\.(?:[a-z0-9_-]{1,35}\.)?[A-Za-z0-9]{40,44})" + _R
    )


class PulumiTokenDetector(ProviderTokenDetector):
    secret_type = "Pulumi Access Token"
    keywords = ("pul-",)
    patterns = _rx(_L + r"(pul-[a-f0-9]{40})" + _R)


class DigitalOceanTokenDetector(ProviderTokenDetector):
    """DigitalOcean personal (``dop_v1_``), OAuth (``doo_v1_``) and refresh (``dor_v1_``)
    tokens: 64 hex characters after the prefix."""

    secret_type = "DigitalOcean Token"
    keywords = ("_v1_",)
    patterns = _rx(_L + r"(do[opr]_v1_[a-f0-9]{64})" + _R)


class ShopifyTokenDetector(ProviderTokenDetector):
    """Shopify admin (``shpat_``), custom app (``shpca_``), private app (``shppa_``) tokens
    and app shared secrets (``shpss_``): 32 hex characters."""

    secret_type = "Shopify Token"
    keywords = ("shp",)
    patterns = _rx(_L + r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _R)


class OpenShiftTokenDetector(ProviderTokenDetector):
    """OpenShift OAuth access tokens (4.x): ``sha256~`` and 43 base64url characters."""

    secret_type = "OpenShift User Token"
    keywords = ("sha256~",)
    patterns = _rx(_L + r"(sha256~[A-Za-z0-9_-]{43})" + _R)


class HuggingFaceTokenDetector(ProviderTokenDetector):
    """Hugging Face user access tokens (``hf_``) and organization tokens (``api_org_``)."""

    secret_type = "Hugging Face Token"
    keywords = ("hf_", "api_org_")
    patterns = _rx(_L + r"((?:hf_|api_org_)[A-Za-z]{34})" + _R)


class SentryTokenDetector(ProviderTokenDetector):
    """Sentry user auth tokens (``sntryu_`` + 64 hex) and organization tokens (``sntrys_``
    + a base64 JSON claim + ``_`` + 43 characters)."""

    secret_type = "Sentry Token"
    keywords = ("sntry",)
    patterns = _rx(
        _L + r"(sntryu_[a-f0-9]{64})" + _R,
        _L + r"(sntrys_eyJ[A-Za-z0-9+/_-]{20,600}={0,2}_[A-Za-z0-9+/]{43})(?![A-Za-z0-9+/])",
    )


class DatabricksTokenDetector(ProviderTokenDetector):
    secret_type = "Databricks Token"
    keywords = ("dapi",)
    patterns = _rx(_L + r"(dapi[a-f0-9]{32}(?:-\d)?)" + _R)


class OnePasswordDetector(ProviderTokenDetector):
    """1Password account Secret Keys (``A3-`` + six groups) and service account tokens
    (``ops_`` + a base64 JSON document)."""

    secret_type = "1Password Secret"
    keywords = ("A3-", "ops_eyJ")
    patterns = _rx(
        r"(?<![A-Za-z0-9_-])(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})"
        r"-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})(?![A-Z0-9-])",
        _L + r"(ops_eyJ[A-Za-z0-9+/_-]{250,}={0,3})",
    )


class AgeSecretKeyDetector(ProviderTokenDetector):
    """age (and SOPS' age) identities: ``AGE-SECRET-KEY-1`` and 58 bech32 characters."""

    secret_type = "age Secret Key"
    keywords = ("AGE-SECRET-KEY-1",)
    patterns = _rx(_L + r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})" + _R)


class SlackAppTokenDetector(ProviderTokenDetector):
    """Slack app-level tokens (``xapp-``) and app configuration tokens (``xoxe.xoxp-``,
    ``xoxe.xoxb-``, refresh ``xoxe-``), which detect-secrets' Slack plugin misses."""

    secret_type = "Slack App Token"
    keywords = ("xapp-", "xoxe")
    patterns = _rx(
        _L + r"(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)" + _R,
        _L + r"(xoxe\.xox[bp]-\d-[A-Za-z0-9]{163,166})" + _R,
        _L + r"(xoxe-\d-[A-Za-z0-9]{146})" + _R,
    )


class SlackWorkflowWebhookDetector(ProviderTokenDetector):
    """Slack Workflow Builder webhooks (``hooks.slack.com/workflows/`` and ``/triggers/``)."""

    secret_type = "Slack Workflow Webhook"
    keywords = ("hooks.slack.com/",)
    patterns = _rx(
        r"((?:https?://)?hooks\.slack\.com/(?:workflows|triggers)/T[A-Z0-9]{6,12}/[A-Z0-9]{6,12}/\d{6,20}"
        r"/[A-Za-z0-9]{20,40})" + _R
    )


class LinearKeyDetector(ProviderTokenDetector):
    secret_type = "Linear API Key"
    keywords = ("lin_",)
    patterns = _rx(_L + r"(lin_(?:api_[A-Za-z0-9]{40}|oauth_[a-f0-9]{64}))" + _R)


class PostmanKeyDetector(ProviderTokenDetector):
    secret_type = "Postman API Key"
    keywords = ("PMAK-",)
    patterns = _rx(_L + r"(PMAK-[a-f0-9]{24}-[a-f0-9]{34})" + _R)


class GrafanaTokenDetector(ProviderTokenDetector):
    """Grafana Cloud access policy tokens (``glc_``), service account tokens (``glsa_``)
    and the older API keys (base64 JSON starting ``{"k":``: ``eyJrIjoi``)."""

    secret_type = "Grafana Token"
    keywords = ("glc_", "glsa_", "eyJrIjoi")
    patterns = _rx(
        _L + r"(glc_[A-Za-z0-9+/]{32,400}={0,3})(?![A-Za-z0-9+/=])",
        _L + r"(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})" + _R,
        _L + r"(eyJrIjoi[A-Za-z0-9]{70,400}={0,3})(?![A-Za-z0-9+/=])",
    )


class DynatraceTokenDetector(ProviderTokenDetector):
    """Dynatrace tokens: ``dt0c01.``, a 24-character public part, a 64-character secret."""

    secret_type = "Dynatrace Token"
    keywords = ("dt0",)
    patterns = _rx(_L + r"(dt0[cs]01\.[A-Z0-9]{24}\.[A-Z0-9]{64})" + _R)


class RubyGemsKeyDetector(ProviderTokenDetector):
    secret_type = "RubyGems API Key"
    keywords = ("rubygems_",)
    patterns = _rx(_L + r"(rubygems_[a-f0-9]{48})" + _R)


class AlibabaKeyDetector(ProviderTokenDetector):
    """Alibaba Cloud AccessKey IDs: ``LTAI`` and 12 to 20 alphanumerics."""

    secret_type = "Alibaba Cloud AccessKey"
    keywords = ("LTAI",)
    patterns = _rx(_L + r"(LTAI[A-Za-z0-9]{12,20})" + _R)
    require = staticmethod(_has_digit)


class CloudflareOriginCAKeyDetector(ProviderTokenDetector):
    secret_type = "Cloudflare Origin CA Key"
    keywords = ("v1.0-",)
    patterns = _rx(_L + r"(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})" + _R)


class AdobeSecretDetector(ProviderTokenDetector):
    secret_type = "Adobe Client Secret"
    keywords = ("p8e-",)
    patterns = _rx(_L + r"(p8e-[A-Za-z0-9]{32})" + _R)


class FacebookTokenDetector(ProviderTokenDetector):
    """Meta (Facebook) user and page access tokens (``EAAC``/``EAAM``/``EAAG`` + 100 or more
    alphanumerics) and app access tokens (``<app id>|<app secret>``)."""

    secret_type = "Facebook Access Token"
    keywords = ("EAA", "|")
    patterns = _rx(
        _L + r"(EAA[CGM][A-Za-z0-9]{100,})" + _R,
        r"(?<![0-9])(\d{15,16}\|[0-9A-Za-z_-]{27,40})" + _R,
    )


class FlutterwaveKeyDetector(ProviderTokenDetector):
    """Flutterwave secret and public keys (``FLWSECK-``/``FLWPUBK-``, ``_TEST-`` for test
    mode, 32 hex + ``-X``) and encryption keys (``FLWSECK_TEST`` + 12 hex)."""

    secret_type = "Flutterwave Key"
    keywords = ("FLW",)
    patterns = _rx(
        _L + r"(FLW(?:SECK|PUBK)(?:_TEST)?-[a-fA-F0-9]{32}-X)" + _R,
        _L + r"(FLWSECK_TEST-?[a-fA-F0-9]{12})" + _R,
    )


class HarnessTokenDetector(ProviderTokenDetector):
    """Harness personal access (``pat.``) and service account (``sat.``) tokens."""

    secret_type = "Harness Token"
    keywords = ("pat.", "sat.")
    patterns = _rx(_L + r"((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})" + _R)


class OctopusKeyDetector(ProviderTokenDetector):
    secret_type = "Octopus Deploy API Key"
    keywords = ("API-",)
    patterns = _rx(_L + r"(API-[A-Z0-9]{26})" + _R)
    require = staticmethod(_has_digit)


class SendinblueKeyDetector(ProviderTokenDetector):
    """Brevo (Sendinblue) API keys (``xkeysib-``) and SMTP keys (``xsmtpsib-``)."""

    secret_type = "Brevo (Sendinblue) Key"
    keywords = ("keysib-", "smtpsib-")
    patterns = _rx(_L + r"(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})" + _R)


class ShippoTokenDetector(ProviderTokenDetector):
    secret_type = "Shippo API Token"
    keywords = ("shippo_",)
    patterns = _rx(_L + r"(shippo_(?:live|test)_[a-fA-F0-9]{40})" + _R)


class AuthressKeyDetector(ProviderTokenDetector):
    secret_type = "Authress Service Client Key"
    keywords = (".acc",)
    patterns = _rx(
        _L + r"((?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-]"
        r"[A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120})(?![A-Za-z0-9+/_=-])"
    )


class Intra42SecretDetector(ProviderTokenDetector):
    secret_type = "Intra42 Client Secret"
    keywords = ("s-s4t2",)
    patterns = _rx(_L + r"(s-s4t2(?:ud|af)-[a-f0-9]{64})" + _R)


class AnthropicKeyDetector(ProviderTokenDetector):
    secret_type = "Anthropic API Key"
    keywords = ("sk-ant-",)
    patterns = _rx(_L + r"(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA)" + _R)


class GitHubFineGrainedTokenDetector(ProviderTokenDetector):
    """GitHub fine-grained personal access tokens (``github_pat_``), which detect-secrets'
    GitHub plugin (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``) does not know."""

    secret_type = "GitHub Fine-Grained Token"
    keywords = ("github_pat_",)
    patterns = _rx(_L + r"(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + _R)


class AtlassianTokenDetector(ProviderTokenDetector):
    """Atlassian Cloud API tokens (``ATATT3``) and admin API keys (``ATCTT3``)."""

    secret_type = "Atlassian API Token"
    keywords = ("TT3",)
    patterns = _rx(_L + r"(AT[AC]TT3[A-Za-z0-9_=-]{186})" + _R)


class PlanetScaleTokenDetector(ProviderTokenDetector):
    secret_type = "PlanetScale Token"
    keywords = ("pscale_",)
    patterns = _rx(_L + r"(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64})" + _R)


class HerokuKeyDetector(ProviderTokenDetector):
    secret_type = "Heroku API Key"
    keywords = ("HRKU-AA",)
    patterns = _rx(_L + r"(HRKU-AA[A-Za-z0-9_-]{58})" + _R)


class NotionTokenDetector(ProviderTokenDetector):
    secret_type = "Notion Token"
    keywords = ("ntn_",)
    patterns = _rx(_L + r"(ntn_\d{11}[A-Za-z0-9]{35})" + _R)


class PerplexityKeyDetector(ProviderTokenDetector):
    secret_type = "Perplexity API Key"
    keywords = ("pplx-",)
    patterns = _rx(_L + r"(pplx-[A-Za-z0-9]{48})" + _R)


class PrefectTokenDetector(ProviderTokenDetector):
    secret_type = "Prefect API Key"
    keywords = ("pnu_",)
    patterns = _rx(_L + r"(pnu_[A-Za-z0-9]{36})" + _R)


class ReadmeKeyDetector(ProviderTokenDetector):
    secret_type = "ReadMe API Key"
    keywords = ("rdme_",)
    patterns = _rx(_L + r"(rdme_[a-z0-9]{70})" + _R)


class ScalingoTokenDetector(ProviderTokenDetector):
    secret_type = "Scalingo API Token"
    keywords = ("tk-us-",)
    patterns = _rx(_L + r"(tk-us-[A-Za-z0-9_-]{48})" + _R)


class ClojarsTokenDetector(ProviderTokenDetector):
    secret_type = "Clojars Deploy Token"
    keywords = ("CLOJARS_",)
    patterns = _rx(_L + r"(CLOJARS_[a-z0-9]{60})" + _R)


class DuffelTokenDetector(ProviderTokenDetector):
    secret_type = "Duffel API Token"
    keywords = ("duffel_",)
    patterns = _rx(_L + r"(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})" + _R)


class EasyPostKeyDetector(ProviderTokenDetector):
    secret_type = "EasyPost API Key"
    keywords = ("EZAK", "EZTK")
    patterns = _rx(_L + r"(EZ[AT]K[A-Za-z0-9]{54})" + _R)


class FrameioTokenDetector(ProviderTokenDetector):
    secret_type = "Frame.io Token"
    keywords = ("fio-u-",)
    patterns = _rx(_L + r"(fio-u-[A-Za-z0-9_=-]{64})" + _R)


class FlyioTokenDetector(ProviderTokenDetector):
    secret_type = "Fly.io Token"
    keywords = ("fo1_", "fm1", "fm2")
    patterns = _rx(
        _L + r"(fo1_[A-Za-z0-9_-]{43})" + _R,
        _L + r"(fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})(?![A-Za-z0-9+/=])",
    )


class InfracostKeyDetector(ProviderTokenDetector):
    secret_type = "Infracost API Key"
    keywords = ("ico-",)
    patterns = _rx(_L + r"(ico-[A-Za-z0-9]{32})" + _R)


class MaxMindKeyDetector(ProviderTokenDetector):
    secret_type = "MaxMind License Key"
    keywords = ("_mmk",)
    patterns = _rx(_L + r"([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)" + _R)


class TypeformTokenDetector(ProviderTokenDetector):
    secret_type = "Typeform Token"
    keywords = ("tfp_",)
    patterns = _rx(_L + r"(tfp_[A-Za-z0-9_.=-]{59})" + _R)


class NewRelicKeyDetector(ProviderTokenDetector):
    """New Relic user keys (``NRAK-``), insert keys (``NRII-``), browser keys (``NRJS-``)."""

    secret_type = "New Relic Key"
    keywords = ("NRAK-", "NRII-", "NRJS-")
    patterns = _rx(
        _L + r"(NRAK-[A-Z0-9]{27})" + _R,
        _L + r"(NRII-[A-Za-z0-9_-]{32})" + _R,
        _L + r"(NRJS-[a-f0-9]{19})" + _R,
    )


class GoogleAPIKeyDetector(ProviderTokenDetector):
    secret_type = "Google API Key"
    keywords = ("AIza",)
    patterns = _rx(_L + r"(AIza[A-Za-z0-9_-]{35})" + _R)


class TeamsWebhookDetector(ProviderTokenDetector):
    secret_type = "Microsoft Teams Webhook"
    keywords = (".webhook.office.com/",)
    patterns = _rx(
        r"((?:https://)?[a-z0-9-]+\.webhook\.office\.com/webhookb2/" + _UUID + "@" + _UUID
        + r"/IncomingWebhook/[a-f0-9]{32}/" + _UUID + ")" + _R
    )  # fmt: skip


class YandexKeyDetector(ProviderTokenDetector):
    secret_type = "Yandex Cloud API Key"
    keywords = ("AQVN",)
    patterns = _rx(_L + r"(AQVN[A-Za-z0-9_-]{35,38})" + _R)


class MailgunKeyDetector(ProviderTokenDetector):
    secret_type = "Mailgun API Key"
    keywords = ("key-",)
    patterns = _rx(_L + r"(key-[a-f0-9]{32})" + _R)


class AirtableTokenDetector(ProviderTokenDetector):
    secret_type = "Airtable Token"
    keywords = ("pat",)
    patterns = _rx(_L + r"(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})" + _R)


class ArtifactoryReferenceTokenDetector(ProviderTokenDetector):
    """JFrog reference tokens: base64 of ``reftkn:01:...`` (``cmVmdGtuOjAx``)."""

    secret_type = "JFrog Reference Token"
    keywords = ("cmVmdGtuOjAx",)
    patterns = _rx(_L + r"(cmVmdGtuOjAx[A-Za-z0-9]{52})" + _R)


class SettlemintTokenDetector(ProviderTokenDetector):
    secret_type = "SettleMint Token"
    keywords = ("sm_",)
    patterns = _rx(_L + r"(sm_(?:pat|aat|sat)_[A-Za-z0-9]{16})" + _R)


class ClickHouseKeyDetector(ProviderTokenDetector):
    secret_type = "ClickHouse Cloud Key"
    keywords = ("4b1d",)
    patterns = _rx(_L + r"(4b1d[A-Za-z0-9]{38})" + _R)


class SquareAccessTokenDetector(ProviderTokenDetector):
    """Square access tokens (``EAAA`` + 60, legacy ``sq0atp-`` + 22); detect-secrets knows
    only the OAuth secret (``sq0csp-``)."""

    secret_type = "Square Access Token"
    keywords = ("EAAA", "sq0atp-")
    patterns = _rx(_L + r"(EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22})" + _R)


class NpmTokenDetector(ProviderTokenDetector):
    """npm access tokens (``npm_`` + 36) anywhere; detect-secrets finds them only in an
    ``.npmrc`` ``_authToken`` line."""

    secret_type = "npm Access Token"
    keywords = ("npm_",)
    patterns = _rx(_L + r"(npm_[A-Za-z0-9]{36})" + _R)


class DropboxTokenDetector(ProviderTokenDetector):
    secret_type = "Dropbox Token"
    keywords = ("sl.",)
    patterns = _rx(_L + r"(sl\.[A-Za-z0-9_=-]{135,140})" + _R)


def plugin_classes() -> list[type[ProviderTokenDetector]]:
    """Every concrete detector of this module, in definition order."""
    return [
        c for c in globals().values()
        if isinstance(c, type) and issubclass(c, ProviderTokenDetector)
        and c is not ProviderTokenDetector
    ]  # fmt: skip

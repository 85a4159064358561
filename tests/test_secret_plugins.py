"""The provider token plugins (checks/secrets/plugins.py): each family's format is found in
a random token made from that format (tests/tokens.py), and a placeholder of the same shape
(the real prefix, the body replaced by ``x``/``0``) is not."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from gitops_guard.checks.secrets import plugins
from tokens import FAMILIES

#: family in tests/tokens.py -> the plugin that must find it
PLUGIN_OF = {
    "Azure AD client secret": "AzureADClientSecretDetector",
    "HashiCorp Vault service token": "VaultTokenDetector",
    "HashiCorp Vault batch token": "VaultTokenDetector",
    "HashiCorp Vault legacy token": "VaultTokenDetector",
    "Terraform Cloud token": "TerraformCloudTokenDetector",
    "Doppler personal token": "DopplerTokenDetector",
    "Doppler service token": "DopplerTokenDetector",
    "Doppler CLI token": "DopplerTokenDetector",
    "Pulumi token": "PulumiTokenDetector",
    "DigitalOcean personal token": "DigitalOceanTokenDetector",
    "DigitalOcean OAuth token": "DigitalOceanTokenDetector",
    "DigitalOcean refresh token": "DigitalOceanTokenDetector",
    "Shopify access token": "ShopifyTokenDetector",
    "Shopify shared secret": "ShopifyTokenDetector",
    "Shopify custom app token": "ShopifyTokenDetector",
    "Shopify private app token": "ShopifyTokenDetector",
    "OpenShift token": "OpenShiftTokenDetector",
    "Hugging Face token": "HuggingFaceTokenDetector",
    "Hugging Face org token": "HuggingFaceTokenDetector",
    "Sentry user token": "SentryTokenDetector",
    "Sentry org token": "SentryTokenDetector",
    "Databricks token": "DatabricksTokenDetector",
    "1Password secret key": "OnePasswordDetector",
    "1Password service account token": "OnePasswordDetector",
    "age secret key": "AgeSecretKeyDetector",
    "Slack app token": "SlackAppTokenDetector",
    "Slack config token": "SlackAppTokenDetector",
    "Slack config refresh token": "SlackAppTokenDetector",
    "Slack workflow webhook": "SlackWorkflowWebhookDetector",
    "Linear API key": "LinearKeyDetector",
    "Postman API key": "PostmanKeyDetector",
    "Grafana Cloud token": "GrafanaTokenDetector",
    "Grafana service account token": "GrafanaTokenDetector",
    "Grafana API key": "GrafanaTokenDetector",
    "Dynatrace token": "DynatraceTokenDetector",
    "RubyGems key": "RubyGemsKeyDetector",
    "Alibaba access key id": "AlibabaKeyDetector",
    "Cloudflare origin CA key": "CloudflareOriginCAKeyDetector",
    "Adobe client secret": "AdobeSecretDetector",
    "Facebook page token": "FacebookTokenDetector",
    "Flutterwave secret key": "FlutterwaveKeyDetector",
    "Flutterwave encryption key": "FlutterwaveKeyDetector",
    "Harness token": "HarnessTokenDetector",
    "Octopus Deploy key": "OctopusKeyDetector",
    "Sendinblue key": "SendinblueKeyDetector",
    "Shippo token": "ShippoTokenDetector",
    "Authress key": "AuthressKeyDetector",
    "Intra42 client secret": "Intra42SecretDetector",
    "Anthropic API key": "AnthropicKeyDetector",
    "GitHub fine-grained token": "GitHubFineGrainedTokenDetector",
    "Atlassian API token": "AtlassianTokenDetector",
    "PlanetScale password": "PlanetScaleTokenDetector",
    "Heroku API key": "HerokuKeyDetector",
    "Notion token": "NotionTokenDetector",
    "Perplexity key": "PerplexityKeyDetector",
    "Prefect token": "PrefectTokenDetector",
    "Readme key": "ReadmeKeyDetector",
    "Scalingo token": "ScalingoTokenDetector",
    "Clojars token": "ClojarsTokenDetector",
    "Duffel token": "DuffelTokenDetector",
    "EasyPost key": "EasyPostKeyDetector",
    "Frame.io token": "FrameioTokenDetector",
    "Fly.io token": "FlyioTokenDetector",
    "Infracost key": "InfracostKeyDetector",
    "MaxMind license key": "MaxMindKeyDetector",
    "Typeform token": "TypeformTokenDetector",
    "New Relic user key": "NewRelicKeyDetector",
    "New Relic insert key": "NewRelicKeyDetector",
    "Google API key": "GoogleAPIKeyDetector",
    "Microsoft Teams webhook": "TeamsWebhookDetector",
    "Yandex API key": "YandexKeyDetector",
    "Mailgun key": "MailgunKeyDetector",
    "Airtable token": "AirtableTokenDetector",
    "Artifactory reference token": "ArtifactoryReferenceTokenDetector",
    "Settlemint token": "SettlemintTokenDetector",
    "ClickHouse key": "ClickHouseKeyDetector",
    "Square access token": "SquareAccessTokenDetector",
    "npm token": "NpmTokenDetector",
    "Dropbox token": "DropboxTokenDetector",
}
FAMILY = {f.name: f for f in FAMILIES}
CASES = sorted(PLUGIN_OF.items())


def _samples(name: str, n: int = 24) -> list[str]:
    rng = random.Random(name)
    made = [FAMILY[name].make(rng) for _ in range(n)]
    length = Counter(len(t) for t in made).most_common(1)[0][0]
    return [t for t in made if len(t) == length]


def placeholder(name: str, plugin: str) -> str:
    """The family's fixed parts kept (where every sample agrees), the random body replaced
    by one repeated character the format allows: the shape of the format, a dummy's value."""
    samples = _samples(name)
    first = samples[0]
    fixed = [all(s[i] == c for s in samples) or not c.isalnum() for i, c in enumerate(first)]
    denylist = getattr(plugins, plugin)().denylist
    for filler in "x0aXA":
        dummy = "".join(c if keep else filler for c, keep in zip(first, fixed))
        if any(rx.search(dummy) for rx in denylist):
            return dummy
    raise AssertionError(f"no one-character placeholder has the format of {name}")


def _find(plugin_name: str, line: str) -> set[str]:
    plugin = getattr(plugins, plugin_name)()
    return {s.secret_value for s in plugin.analyze_line(filename="f.yaml", line=line)}


@pytest.mark.parametrize(("family", "plugin"), CASES)
def test_a_token_of_the_format_is_found_under_any_key(family, plugin):
    for token in _samples(family, 6):
        for line in (f"  setting: {token}", f'X="{token}"', f"value: '{token}' # note"):
            assert _find(plugin, line) == {token}, (family, line)


@pytest.mark.parametrize(("family", "plugin"), CASES)
def test_a_placeholder_of_the_format_is_not(family, plugin):
    dummy = placeholder(family, plugin)  # the regex alone matches it...
    # ...and the plugin drops it
    assert _find(plugin, f"  setting: {dummy}") == set()


@pytest.mark.parametrize(("family", "plugin"), CASES)
def test_a_longer_word_around_the_token_is_not_the_token(family, plugin):
    token = _samples(family, 1)[0]
    if not token.startswith("https://"):  # a URL is a URL whatever stands before it
        assert token not in _find(plugin, f"x{token}")
    assert token not in _find(plugin, f"{token}Zq9")


def test_every_plugin_s_keywords_are_in_every_token_it_finds():
    """The keyword gate must never hide a token: each keyword list covers the format."""
    for family, plugin in CASES:
        detector = getattr(plugins, plugin)()
        for token in _samples(family, 6):
            assert detector.present(token), family


def test_every_plugin_is_tested_and_names_its_family():
    tested = set(PLUGIN_OF.values())
    classes = plugins.plugin_classes()
    assert {c.__name__ for c in classes} == tested
    types = [c.secret_type for c in classes]
    assert len(set(types)) == len(types)  # one family, one name (a baseline's type)


def test_the_plugins_are_detect_secrets_plugins():
    """detect-secrets' own loader takes the module (a baseline ``path`` entry)."""
    from detect_secrets.core.plugins.util import get_plugins_from_file

    found = {c.__name__ for c in get_plugins_from_file(plugins.__file__)}
    assert found == set(PLUGIN_OF.values())


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_" + "x" * 36,
        "glpat-" + "X" * 20,
        "ghp_PUT_YOUR_TOKEN_HERE_0000000000000000",
        "dop_v1_" + "0" * 64,
    ],
)
def test_placeholders_after_a_real_prefix(value):
    assert plugins.is_placeholder_token(value)


def test_random_bodies_are_not_placeholders():
    """The placeholder rules cost (almost) no real token: 200 random tokens of each
    format, none taken for a placeholder."""
    for family in FAMILIES:
        rng = random.Random(family.name)
        dropped = [
            t for t in (family.make(rng) for _ in range(200)) if plugins.is_placeholder_token(t)
        ]
        assert dropped == [], family.name

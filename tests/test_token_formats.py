"""core/token_formats.py: the provider token formats as data, the one set of recognisers
check-secrets' plugins and the masking step of every output share."""

from __future__ import annotations

import random
import re

import pytest
from gitops_guard.checks.secrets import plugins
from gitops_guard.core import token_formats
from gitops_guard.core.masking import mask_line
from test_secret_plugins import PLUGIN_OF
from tokens import FAMILIES

FAMILY = {f.name: f for f in FAMILIES}
FORMAT = {f.name: f for f in token_formats.FORMATS}


def _tokens(family: str, n: int = 12) -> list[str]:
    rng = random.Random(f"formats {family}")
    return [FAMILY[family].make(rng) for _ in range(n)]


def test_every_plugin_is_made_from_a_format_and_every_format_is_a_plugin():
    classes = plugins.plugin_classes()
    assert [c.__name__ for c in classes] == [f.name for f in token_formats.FORMATS]
    for cls in classes:
        fmt = FORMAT[cls.__name__]
        assert cls.secret_type == fmt.family
        assert [rx.pattern for rx in cls().denylist] == list(fmt.patterns)


def test_each_expression_captures_the_token_alone():
    for fmt in token_formats.FORMATS:
        for regex in token_formats.compiled(fmt):
            assert regex.groups == 1, fmt.name


@pytest.mark.parametrize(("family", "plugin"), sorted(PLUGIN_OF.items()))
def test_the_gate_and_the_keywords_let_every_token_of_the_format_through(family, plugin):
    """What decides that the expressions are not even run must never hide a token."""
    fmt = FORMAT[plugin]
    gate = re.compile(token_formats.gate_of(fmt))
    for token in _tokens(family):
        assert gate.search(token), (family, token[:6])
        assert any(k in token for k in fmt.keywords), family
        assert token_formats.may_hold_token(f"value: {token}")
        found = {(s, e) for s, e, f in token_formats.find_tokens(f"v: {token}") if f is fmt}
        assert found == {(3, 3 + len(token))}, family


def test_a_gate_is_stricter_than_a_common_keyword():
    """``s.`` and ``|`` are in most text; their formats' gates are not."""
    text = "registry.example.com/apps.kubernetes.io/name: a|b pattern key-value API-v1 dp.x"
    assert not token_formats.may_hold_token(text)
    assert list(token_formats.find_tokens(text)) == []


def test_the_validity_check_is_applied():
    vault = FORMAT["VaultTokenDetector"]
    word = "s." + "abcdefghijklmnopqrstuvwx"  # a dotted name, not a legacy Vault token
    assert not any(f is vault for *_, f in token_formats.find_tokens(f"x {word} y"))
    alibaba = FORMAT["AlibabaKeyDetector"]
    assert not any(f is alibaba for *_, f in token_formats.find_tokens("LTAIABCDEFGHIJKLMNOP"))


@pytest.mark.parametrize("family", [f.name for f in FAMILIES])
def test_every_family_is_masked_in_any_output_line(family):
    """The masking step knows every self-identifying family (detect-secrets' and ours)."""
    for token in _tokens(family, 4):
        for line in (
            f"a.yaml:3:5: sync/wave-not-integer sync-wave {token!r} is not an integer",
            f"+    setting: {token}",
            f"  - --upstream={token}",
        ):
            masked = mask_line(line)
            assert token not in masked, (family, line[:40])


#: detect-secrets' plugins for the formats push protection blocks (GitHub secret scanning)
PUSH_PROTECTED = (
    "AWSKeyDetector", "AzureStorageKeyDetector", "DiscordBotTokenDetector",
    "GitHubTokenDetector", "GitLabTokenDetector", "MailchimpDetector", "NpmDetector",
    "OpenAIDetector", "PypiTokenDetector", "SendGridDetector",
    "SlackDetector", "SquareOAuthDetector", "StripeDetector", "TwilioKeyDetector",
)  # fmt: skip


def test_no_committed_file_holds_a_token_shaped_string():
    """A push-protection scanner would block the repository: the tests make their tokens at
    run time (tests/tokens.py), the labelled files hold markers (``@@planted:name@@``)."""
    import subprocess

    from conftest import ROOT
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    classes = {c.__name__: c for c in get_mapping_from_secret_type_to_class().values()}
    regexes = [rx for name in PUSH_PROTECTED for rx in classes[name].denylist]
    # a private key: armour with a body (a BEGIN line alone, in a list of fragments, is not)
    key_block = re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY-----[ \t]*\r?\n[ \t]*[A-Za-z0-9+/=]{40}")
    found = []
    for name in filter(None, listed):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        if key_block.search(text):
            found.append(f"{name}: a private key")
        for number, line in enumerate(text.splitlines(), 1):
            hits = [f.name for *_, f in token_formats.find_tokens(line)]
            hits += [rx.pattern[:20] for rx in regexes if rx.search(line)]
            hits = [h for h in hits if not plugins.is_placeholder_token(line.strip())]
            if hits:
                found.append(f"{name}:{number}: {hits}")
    assert found == []

"""The detect-secrets engine: its global settings do not leak between scans."""

from __future__ import annotations

from gitops_guard.checks.secrets.engine import Engine, hash_secret
from tokens import PLANTED_TOKENS

TOKEN = PLANTED_TOKENS["github"]  # made at run time (tests/tokens.py)
#: base64-looking, entropy about 3.9: over a 3.0 limit, under the default 4.5
MODEST = "abcdabcdefghEFGHijklmnop"


def _settings() -> dict:
    from detect_secrets.settings import get_settings

    return get_settings().json()


def test_an_engine_restores_detect_secrets_settings_when_closed():
    before = _settings()
    with Engine([{"name": "Base64HighEntropyString", "limit": 3.0}]) as engine:
        assert engine.scan_value(MODEST)
        assert _settings() != before
    assert _settings() == before


def test_one_scan_does_not_leak_into_the_next():
    with Engine([{"name": "Base64HighEntropyString", "limit": 3.0}]) as engine:
        assert [h.type for h in engine.scan_value(MODEST)] == ["Base64 High Entropy String"]
        assert engine.scan_value(TOKEN, entropy=False) == ()  # GitHub plugin not configured
    with Engine() as engine:
        assert engine.scan_value(MODEST) == ()
        assert [h.type for h in engine.scan_value(TOKEN)] == ["GitHub Token"]


def test_the_whole_token_is_the_secret_not_a_regex_group():
    with Engine() as engine:
        (hit,) = engine.scan_value(f"token {TOKEN} here", entropy=False)
    # detect-secrets' GitHub regex captures only "ghp": a baseline entry for that would
    # accept every GitHub token in the file
    assert hit.secret == TOKEN and hit.shown == TOKEN


def test_heuristic_filters_apply():
    with Engine() as engine:
        assert engine.scan_value("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345") == ()  # sequential
        assert engine.scan_value("3f2c1a9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c") == ()  # uuid
        assert engine.scan_value("${SOME_TOKEN_FROM_THE_ENVIRONMENT}") == ()


def test_public_ip_detector_is_not_used():
    with Engine() as engine:
        assert "IPPublicDetector" not in {p["name"] for p in engine.plugins_used}
        assert engine.scan_line("x.conf", "upstream = 8.8.8.8:53", 1) == []


def test_lines_are_scanned_with_every_plugin():
    with Engine() as engine:
        hits = engine.scan_line("app.properties", "db.password=Pr0pS3cretValue", 1)
    assert [(h.type, h.secret) for h in hits] == [("Secret Keyword", "Pr0pS3cretValue")]


def test_hash_is_detect_secrets_sha1():
    from detect_secrets.core.potential_secret import PotentialSecret

    assert hash_secret("hunter2") == PotentialSecret.hash_secret("hunter2")


def test_detect_secrets_packages_load_lazily_and_still_offer_what_their_init_binds():
    """engine._lazy_packages skips the two package ``__init__`` files that import the whole
    scanner (multiprocessing, the gibberish model); what they bind still resolves."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from gitops_guard.checks.secrets.engine import Engine\n"
        "with Engine() as engine:\n"
        f"    assert engine.scan_value({TOKEN!r}, entropy=False)\n"
        "print(sorted(m for m in ('multiprocessing', 'detect_secrets.filters.gibberish',\n"
        "    'detect_secrets.core.secrets_collection') if m in sys.modules))\n"
        "import detect_secrets, detect_secrets.filters\n"
        "from detect_secrets import SecretsCollection\n"
        "print(SecretsCollection.__name__, detect_secrets.filters.gibberish.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines() == [
        "[]",
        "SecretsCollection detect_secrets.filters.gibberish",
    ], done.stderr

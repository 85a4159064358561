"""check-secrets: the labelled corpus, structure rules, allowlisting, output hygiene, bad input.

The corpus (tests/data/secrets/) names each planted case after the rule that must catch it:
``bad/<rule>--<case>[.ext]`` (a file or a folder); every ``good/`` case is a look-alike that
must pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, init_repo

SECRETS = DATA / "secrets"
BAD = sorted(SECRETS.glob("bad/*"))
GOOD = sorted(SECRETS.glob("good/*"))

#: Every planted value, as written or decoded: none may appear in any output.
PLANTED = [
    "ghp_JTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsM",
    "AKIADZDOCIS2JHTLGMXG",
    "sk_live_ehGAkWvj7FAc9QeWJKY40uvS",
    "glpat-wMFLZDe1f8rESQedUStP",
    "xoxb-2048193744-4096372815633-Kq7dWn3RfYb2LpXz9TgHcV5m",
    "UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA/TkB/yOaE=",
    "Wn8#kLp2vQz!",
    "Wn8kLp2vQzR4",
    "7d1f0c9e2b4a",
    "pgS3cret2024",
    "r3disPassw0rd",
    "GrafanaAdm1n!",
    "9f8e7d6c5b4a3921",
    "hunter2hunter2",
    "Pr0pS3cretValue",
    "M4ilS3cret",
    "Kust0mizeLit",
    "C0mp0nentLit",
    "EnvF1leSecret",
    "Sealed0ops",
    "ExtLiteral99",
    "addedAfterEncryption",
    "Sop5Leak3d",
    "W0rk3rPass",
    "T3mplat3Pass",
    "c0mposeS3cret",
    "L3gacyPassw0rd",
    "superSecret99",
    "Emb3ddedPr0ps",
    "Tr0ub4dor&3xQ",
    "deploy:Tr0ub4dor&3xQ",
    "MIIEowIBAAKCAQEA7v3k9QpLx2mZ8bN4cR1tY6uW0sD5fG7hJ3kL9pQ2rT8vX1yZ",
    "ugowf6thP2FAQmztEotbckxWZx35YSfEXe8NLHUx",
    "qSSZ3jTD14HTlsN1AJlc",
    "stpxkz04626fI4txdWjz5tRf",
    "XM1xyBDEVUMsaaAIqqPOJd67nWhYpSQs",
    "919ae74050aa9808ec454013b37a302961c0c93f",
    "376faff0617866113d750f190106e53aaa58fcbc",
    "33QY4x5KRKZGFwg1WGdEWp",
]


DETECT_SECRETS_HOOK = [sys.executable, "-m", "detect_secrets.pre_commit_hook"]


def case_id(path: Path) -> str:
    return path.name


def expected_rule(path: Path) -> str:
    return "secret/" + path.name.split("--", 1)[0]


def test_the_corpus_is_big_enough():
    assert len(BAD) >= 30
    assert len(GOOD) >= 20
    rules = {expected_rule(p) for p in BAD}
    assert {
        "secret/k8s-secret-plaintext",
        "secret/literal-credential",
        "secret/kustomize-secret-literal",
        "secret/template-plaintext",
        "secret/sops-not-encrypted",
        "secret/private-key",
        "secret/provider-token",
        "secret/url-credentials",
        "secret/high-entropy-string",
    } <= rules


@pytest.mark.parametrize("case", BAD, ids=case_id)
def test_every_planted_secret_is_caught(case, cli):
    code, out, err = cli("check-secrets", str(case))
    assert code == 1, out + err
    assert f" {expected_rule(case)} " in out, out


@pytest.mark.parametrize("case", GOOD, ids=case_id)
def test_no_look_alike_is_flagged(case, cli):
    code, out, err = cli("check-secrets", str(case))
    assert (code, out, err) == (0, "", "")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_no_output_format_prints_a_planted_secret(fmt, cli):
    code, out, err = cli("check-secrets", "--format", fmt, str(SECRETS / "bad"))
    assert code == 1
    assert out.strip()
    for value in PLANTED:
        assert value not in out and value not in err, f"{value[:4]}... leaked in {fmt}"


def test_a_key_that_is_itself_a_token_is_masked_in_the_message(tmp_path, cli):
    path = write(tmp_path, "k.yaml", f"allow:\n  {PLANTED[0]}: postgres://u:Passw0rdX@h/db\n")
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/url-credentials" in out
    assert PLANTED[0] not in out and "Passw0rdX" not in out


def test_key_and_file_names_are_shown_in_messages_long_ones_cut(tmp_path, cli):
    """Key names are not secrets: ``admin-permissions.broker.properties`` reads as written."""
    name = "admin-permissions.broker.properties"
    long_name = "a-" * 40 + "x.properties"
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: broker}\nstringData:\n"
        f"  {name}: Pr0pS3cretValue\n  {long_name}: other\n",
    )
    code, out, _ = cli("check-secrets", path)
    assert code == 1
    assert f"(keys: {name}, {long_name[:61]}...)" in out
    assert "Pr0pS3cretValue" not in out and long_name not in out


def test_a_duplicate_key_secret_is_reported_at_its_first_value(tmp_path, cli, chdir):
    """kubectl applies the last value, but both are in Git: the finding points at the first,
    and --update-baseline accepts both (a baseline with only the last would not pass)."""
    first, last = "First-Kq8zTr2mWx", "Second-Kq8zTr2mWx"
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
        f"  password: {first}\n  user: app\n  password: {last}\n",
    )
    code, out, _ = cli("check-secrets", path)
    assert code == 1
    assert out.startswith(f"{path}:6:13: secret/k8s-secret-plaintext Secret 'db' keeps 3 ")
    assert "(keys: password, user)" in out and "key password written more than once" in out
    assert first not in out and last not in out
    flow = write(
        tmp_path, "f.yaml", f"kind: Secret\napiVersion: v1\ndata: {{a: {first}, a: eA==}}\n"
    )
    assert cli("check-secrets", flow)[1].startswith(f"{flow}:3:11: secret/k8s-secret-plaintext")
    assert cli("check-secrets", "--update-baseline", path)[0] == 0
    assert cli("check-secrets", path)[:2] == (0, "")


# -- the structural rule --------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_secret_reported_at_its_first_value_naming_what_it_holds(tmp_path, cli):
    path = str(SECRETS / "bad" / "k8s-secret-plaintext--tls-key.yaml")
    code, out, _ = cli("check-secrets", path)
    assert code == 1
    assert out.startswith(f"{path}:7:12: secret/k8s-secret-plaintext Secret 'ingress-tls'")
    assert "a private key in 'tls.key'" in out
    docker = str(SECRETS / "bad" / "k8s-secret-plaintext--dockerconfigjson.yaml")
    _, out, _ = cli("check-secrets", docker)
    assert "auth for registry.example.com that decodes to user:password" in out
    flow = str(SECRETS / "bad" / "k8s-secret-plaintext--flow-style.yaml")
    _, out, _ = cli("check-secrets", flow)
    assert "a GitHub Token in 'token'" in out


def test_secret_with_only_placeholders_or_empty_values_passes(tmp_path, cli):
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        # (unquoted, ENC[...]'s commas would break the flow mapping: broken YAML, an error)
        "stringData: {a: '', b: '${B}', c: '{{ .c }}', d: 'ENC[AES256_GCM,data:x,type:str]'}\n",
    )
    assert cli("check-secrets", path)[:2] == (0, "")


def test_a_secret_of_another_api_group_is_not_core(tmp_path, cli):
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: example.com/v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: b}\n",
    )
    assert cli("check-secrets", path)[0] == 0


def test_invalid_base64_in_data_is_said(tmp_path, cli):
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: not base64!}\n",
    )
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "data not base64 in password" in out


# -- name rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("DB_PASSWORD", "password"),
        ("dbPassword", "password"),
        ("apiKey", "api key"),
        ("AWS_SECRET_ACCESS_KEY", "access key"),
        ("clientSecret", "secret"),
        ("auth.token", "token"),
        ("secretName", None),
        ("existingSecret", None),
        ("passwordSecretRef", None),
        ("imagePullSecret", None),
        ("PASSWORD_FILE", None),
        ("TOKEN_URL", None),
        ("key", None),
        ("checksum/secret", "secret"),  # skipped by its place (annotations), not its name
        ("monkey", None),
    ],
)
def test_sensitive_names(name, kind):
    from gitops_guard.checks.secrets.values import sensitive_kind

    assert sensitive_kind(name) == kind


@pytest.mark.parametrize(
    ("value", "dummy"),
    [("changeme", True), ("CHANGE_ME", True), ("xxxxxxxx", True), ("", True), ("s3cr3t!x", False)],
)
def test_dummies(value, dummy):
    from gitops_guard.checks.secrets.values import is_dummy

    assert is_dummy(value) is dummy


def test_mask_shows_a_few_characters_and_the_length():
    from gitops_guard.checks.secrets.values import mask

    assert mask("ghp_JTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsM") == "'ghp_...' (40 chars)"
    assert mask("short") == "'...' (5 chars)"


# -- allowlisting -----------------------------------------------------------------------------

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"


def test_pragma_allowlist_secret_on_the_line(tmp_path, cli):
    path = write(
        tmp_path,
        "c.yaml",
        CONFIGMAP + "  DB_PASSWORD: hunter2hunter2  # pragma: allowlist secret\n",
    )
    assert cli("check-secrets", path)[0] == 0


def test_pragma_allowlist_nextline_secret(tmp_path, cli):
    path = write(
        tmp_path,
        "c.yaml",
        CONFIGMAP + "  # pragma: allowlist nextline secret\n  DB_PASSWORD: hunter2hunter2\n",
    )
    assert cli("check-secrets", path)[0] == 0


def test_gitops_guard_ignore_comment(tmp_path, cli):
    path = write(
        tmp_path,
        "c.yaml",
        CONFIGMAP + "  # gitops-guard: ignore[secret/literal-credential]\n"
        "  DB_PASSWORD: hunter2hunter2\n",
    )
    assert cli("check-secrets", path)[0] == 0
    path = write(
        tmp_path,
        "d.yaml",
        CONFIGMAP + "  # gitops-guard: ignore[secret/private-key]\n  DB_PASSWORD: hunter2hunter2\n",
    )
    assert cli("check-secrets", path)[0] == 1


def test_policy_can_change_a_secret_rule_severity(tmp_path, cli, chdir):
    (chdir / "policies").mkdir()
    (chdir / "policies" / "gitops-guard.yaml").write_text(
        "version: 1\nrules:\n  secret/literal-credential: warning\n", encoding="utf-8"
    )
    path = write(chdir, "c.yaml", CONFIGMAP + "  DB_PASSWORD: hunter2hunter2\n")
    code, out, _ = cli("check-secrets", path)
    assert code == 0 and out.rstrip().endswith("[warning]")


# -- KEY=value lines outside YAML, git ids ------------------------------------------------------

UNQUOTED = "Zk3j9QpL2mN8vR4tW6yB1cD5"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("q.txt", f"password={UNQUOTED}\n", ":1:10: secret/literal-credential "),
        ("d.env", f"AWS_SECRET_ACCESS_KEY={UNQUOTED}\n", ":1:23: secret/literal-credential "),
        (
            "e.sh",
            f"#!/bin/sh\nexport DB_PASSWORD={UNQUOTED}\n",
            ":2:20: secret/literal-credential ",
        ),
        ("f.sh", f"declare -x API_TOKEN={UNQUOTED} # ci\n", ":1:22: secret/literal-credential "),
        (
            "Dockerfile",
            f"FROM alpine\nENV SESSION_SEED={UNQUOTED}x\n",
            ":2:18: secret/high-entropy",
        ),
    ],
)
def test_unquoted_key_value_lines_are_read_with_their_key(name, text, where, tmp_path, cli):
    """detect-secrets' keyword and entropy rules want quotes outside config files, and its hook
    only re-reads a file as ini when every line parses: ``password=...`` in a .txt, .env or .sh
    file passed. The value now goes through the name rules and the entropy check."""
    path = write(tmp_path, name, text)
    code, out, err = cli("check-secrets", path)
    assert code == 1 and out.startswith(path + where), out + err
    assert UNQUOTED[:6] not in out + err


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.env", "LOG_LEVEL=debug\nIMAGE_TAG=v1.2.3\nDB_PASSWORD=\nADMIN_PASSWORD=changeme\n"),
        ("b.sh", "export PATH=$PATH:/x\nTOKEN=$(cat /run/token)\nPASSWORD=$DB_PASSWORD\n"),
        ("c.sh", 'if [ "$MODE" = "x" ]; then :; fi\nSECRET_NAME=db-credentials\n'),
        ("d.env", "GIT_SHA=3b51110a96db5e4ca426d14e44a372fe1a72ae0b\nKEY_FILE=tls.key\n"),
        ("e.py", "token = get_token()\npassword = os.environ['P']\n"),
        ("f.md", f"Set it with\n\n    export DB_PASSWORD={UNQUOTED}\n"),
    ],
)
def test_key_value_look_alikes_pass(name, text, tmp_path, cli):
    path = write(tmp_path, name, text)
    assert cli("check-secrets", path) == (0, "", "")


def test_assignment_parsing():
    from gitops_guard.checks.secrets.values import assignment

    assert assignment("export A=b") == ("A", "b", 10)
    assert assignment('  X_Y = "v w" ') == ("X_Y", "v w", 10)
    assert assignment("declare -x -r K='v'  # note") == ("K", "v", 18)
    assert assignment("a.b.password=v # c") == ("a.b.password", "v", 14)
    for line in ("A=$B", "A=${B}", "A=`b`", "A=%B%", "A=", "A==b", "A=b c", "- A=b", "A='b"):
        assert assignment(line) is None, line


@pytest.mark.parametrize(
    ("name", "text", "flagged"),
    [
        ("c.yaml", f"{CONFIGMAP}  GITHUB_AUTH: 919ae74050aa9808ec454013b37a302961c0c93f\n", True),
        ("c.json", '{"auth": "376faff0617866113d750f190106e53aaa58fcbc"}\n', True),
        ("g.yaml", f"{CONFIGMAP}  GIT_COMMIT: 919ae74050aa9808ec454013b37a302961c0c93f\n", False),
        ("g.json", '{"commits": ["376faff0617866113d750f190106e53aaa58fcbc"]}\n', False),
        ("r.json", '{"targetRevision": "376faff0617866113d750f190106e53aaa58fcbc"}\n', False),
    ],
)
def test_a_40_hex_value_skips_the_entropy_check_only_under_a_git_id_key(
    name, text, flagged, tmp_path, cli
):
    """A 40-hex value is a commit id under ``rev``/``sha``/``commit``/``revision``/``ref``
    keys; elsewhere it may be a token (classic GitHub tokens were 40 hex)."""
    code, out, _ = cli("check-secrets", write(tmp_path, name, text))
    assert (code == 1 and "secret/high-entropy-string" in out) is flagged, out


@pytest.mark.parametrize(
    ("name", "git"),
    [("rev", True), ("commitSha", True), ("targetRevision", True), ("GIT_COMMIT", True),
     ("sha1", True), ("refs", True), ("auth", False), ("webhookId", False), ("prefix", False)],
)  # fmt: skip
def test_git_id_keys(name, git):
    from gitops_guard.checks.secrets.values import is_git_id_key

    assert is_git_id_key(name) is git


# -- bad input ----------------------------------------------------------------------------------


def test_binary_file_is_reported_as_not_scanned(tmp_path, cli):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(64))
    code, out, _ = cli("check-secrets", str(path))
    assert code == 0
    assert "secret/not-scanned binary file, not scanned [info]" in out


def test_binary_file_in_a_folder_is_skipped_quietly(tmp_path, cli):
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(64))
    assert cli("check-secrets", str(tmp_path)) == (0, "", "")


def test_placeholder_secret_is_reported_with_advice(tmp_path, cli):
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        "stringData: {AWS_ACCESS_KEY_ID: UPDATE_AWS_ACCESS_KEY_ID, password: changeme}\n",
    )
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "the values look like placeholders" in out
    assert "holds" not in out  # a placeholder holds no access key


def test_non_utf8_text_is_still_scanned(tmp_path, cli):
    path = tmp_path / "legacy.env"
    path.write_bytes("USER=Jos\xe9\nGITHUB_TOKEN=".encode("latin-1") + PLANTED[0].encode())
    code, out, _ = cli("check-secrets", str(path))
    assert code == 1 and "secret/provider-token" in out


def test_huge_file_is_scanned_up_to_the_limit(tmp_path, cli, monkeypatch):
    from gitops_guard.checks.secrets import check as secrets

    MAX_FILE_BYTES = 1024 * 1024  # the real limit is 10 MiB; the logic is the same
    monkeypatch.setattr(secrets, "MAX_FILE_BYTES", MAX_FILE_BYTES)
    path = tmp_path / "dump.txt"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"token={PLANTED[0]}\n")
        handle.write("ok\n" * (MAX_FILE_BYTES // 3 + 10))
    code, out, _ = cli("check-secrets", str(path))
    assert code == 1
    assert "secret/provider-token" in out
    assert "secret/not-scanned" in out and "[warning]" in out


def test_a_huge_line_is_scanned_in_windows_up_to_a_bound(tmp_path, cli, monkeypatch):
    from gitops_guard.checks.secrets import lines

    MAX_LINE_CHARS = 300_000
    monkeypatch.setattr(lines, "MAX_LINE_CHARS", MAX_LINE_CHARS)
    path = tmp_path / "bundle.min.js"
    path.write_text("x" * 150_000 + f' t="{PLANTED[0]}"' + "y" * MAX_LINE_CHARS, "utf-8")
    code, out, _ = cli("check-secrets", str(path))
    assert code == 1
    assert f"{path}:1:150005: secret/provider-token" in out
    assert f":1:{MAX_LINE_CHARS + 1}: secret/not-scanned" in out


def test_broken_yaml_falls_back_to_lines(tmp_path, cli):
    path = write(tmp_path, "broken.yaml", f"a: [unclosed\ntoken: {PLANTED[0]}\n")
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and ":2:" in out and "secret/provider-token" in out


TLS_KEY_B64 = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND"


@pytest.mark.parametrize(
    "broken, where",
    [("x: [\n", ":9:1: yaml/syntax "), ("x:\n\t- y\n", ":9:1: yaml/tab ")],
)
def test_a_secret_in_broken_yaml_does_not_pass(broken, where, tmp_path, cli):
    """The line scan misses unquoted base64 (``data: {tls.key: LS0t...}``): broken YAML is an
    error of check-secrets, at the parser's position, and never shows the value."""
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\n"
        f"data: {{tls.key: {TLS_KEY_B64}}}\n# the next line breaks the file\n{broken}",
    )
    for fmt in ("text", "json"):
        code, out, err = cli("check-secrets", "--format", fmt, path)
        assert code == 1, out + err
        assert TLS_KEY_B64[:12] not in out + err
    code, out, _ = cli("check-secrets", path)
    assert out.startswith(f"{path}{where}") and "fix the YAML" in out
    code, out, _ = cli("check-secrets", "--format", "json", path)
    assert [f["severity"] for f in json.loads(out)["findings"]] == ["error"]


def test_json_with_comments_is_scanned_by_line_without_a_syntax_error(tmp_path, cli):
    """JSONC (tsconfig.json, editor settings) does not parse as YAML; every JSON string is
    quoted, so the line scan sees the values: no yaml/syntax finding, a token still found."""
    clean = write(tmp_path, "tsconfig.json", '{\n  // strict\n  "strict": true,\n}\n')
    assert cli("check-secrets", clean)[:2] == (0, "")
    leaky = write(tmp_path, "settings.json", f'{{\n  // x\n  "t": "{PLANTED[0]}"\n}}\n')
    code, out, _ = cli("check-secrets", leaky)
    assert code == 1 and "secret/provider-token" in out and "yaml/syntax" not in out


def test_missing_file_and_no_file_are_usage_errors(tmp_path, cli):
    code, _, err = cli("check-secrets", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err
    code, _, err = cli("check-secrets")
    assert code == 2 and "no FILE" in err


def test_a_folder_is_scanned_whole(cli):
    code, out, _ = cli("check-secrets", str(SECRETS / "good"))
    assert (code, out) == (0, "")


# -- baseline ----------------------------------------------------------------------------------


def test_update_baseline_then_check_with_it(tmp_path, cli, chdir):
    write(chdir, "apps/c.yaml", CONFIGMAP + "  DB_PASSWORD: hunter2hunter2\n")
    write(chdir, "apps/app.env", f"GITHUB_TOKEN={PLANTED[0]}\n")
    code, out, err = cli("check-secrets", "apps")
    assert code == 1
    code, out, err = cli("check-secrets", "--update-baseline", "apps")
    assert code == 0 and out == "" and "wrote .secrets.baseline: 2 secret(s) in 2 file(s)" in err
    baseline = json.loads((chdir / ".secrets.baseline").read_text(encoding="utf-8"))
    assert set(baseline["results"]) == {"apps/c.yaml", "apps/app.env"}
    assert {"version", "plugins_used", "filters_used", "generated_at"} <= set(baseline)
    for secret in PLANTED:
        assert secret not in json.dumps(baseline)
    before = (chdir / ".secrets.baseline").read_bytes()
    # found automatically, and named explicitly
    assert cli("check-secrets", "apps")[:2] == (0, "")
    assert cli("check-secrets", "--baseline", ".secrets.baseline", "apps")[:2] == (0, "")
    assert cli("check-secrets", ".secrets.baseline")[:2] == (0, "")  # its hashes are not news
    # a new secret is still reported; the baseline is never rewritten by a check
    write(
        chdir, "apps/c.yaml", CONFIGMAP + "  DB_PASSWORD: hunter2hunter2\n  API_TOKEN: t0kenV4lue\n"
    )
    code, out, _ = cli("check-secrets", "apps")
    assert code == 1 and "API_TOKEN" in out and "DB_PASSWORD" not in out
    assert (chdir / ".secrets.baseline").read_bytes() == before


def test_baseline_is_readable_by_detect_secrets(tmp_path, cli, chdir):
    write(chdir, "c.yaml", CONFIGMAP + "  DB_PASSWORD: hunter2hunter2\n")
    assert cli("check-secrets", "--update-baseline", "c.yaml")[0] == 0
    init_repo(chdir)  # detect-secrets-hook wants a git repository
    result = subprocess.run(
        [*DETECT_SECRETS_HOOK, "--baseline", ".secrets.baseline", "c.yaml"],
        cwd=chdir,
        capture_output=True,
        text=True,
    )
    # detect-secrets loads our baseline and accepts the secret it lists (same SHA-1)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_baseline_written_by_detect_secrets_is_honoured(tmp_path, cli, chdir):
    write(chdir, "app.properties", "db.password=Pr0pS3cretValue\n")
    write(chdir, "c.yaml", CONFIGMAP + "  DB_PASSWORD: hunter2hunter2\n")
    scan = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "app.properties", "c.yaml"],
        cwd=chdir,
        capture_output=True,
        text=True,
        check=True,
    )
    (chdir / "ds.baseline").write_text(scan.stdout, encoding="utf-8")
    assert cli("check-secrets", "app.properties", "c.yaml")[0] == 1
    code, out, _ = cli("check-secrets", "--baseline", "ds.baseline", "app.properties", "c.yaml")
    assert (code, out) == (0, "")


def test_invalid_baseline_is_a_usage_error(tmp_path, cli, chdir):
    write(chdir, "bad.baseline", "{not json")
    write(chdir, "c.yaml", CONFIGMAP)
    code, out, err = cli("check-secrets", "--baseline", "bad.baseline", "c.yaml")
    assert (
        code == 2 and out == "" and err.count("\n") == 1 and "not a detect-secrets baseline" in err
    )


# (the real-world corpus: tests/test_corpus.py pins every check-secrets finding exactly)


# -- start-up -----------------------------------------------------------------------------------


def test_detect_secrets_is_imported_only_when_a_value_needs_it(tmp_path):
    small = write(tmp_path, "small.yaml", "a: b\nc: [1, 2]\n")
    code = (
        "import sys; from gitops_guard.cli import main; rc = main(['check-secrets', sys.argv[1]]);"
        "print(rc, 'detect_secrets' in sys.modules, 'requests' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, small], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "False", "False"]
    big = str(SECRETS / "bad" / "provider-token--aws-configmap.yaml")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code.replace("'requests' in sys.modules", "type(sys.modules['requests']).__name__"),
            big,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # detect-secrets is loaded, but requests (provider verification only) is still deferred
    assert result.stdout.split()[-3:] == ["1", "True", "_Deferred"]


# -- end to end ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_pre_commit_passes_a_clean_repo_and_blocks_a_planted_secret(
    hooks_repo, make_repo, run_pre_commit
):
    from conftest import git, hooks_config

    clean = (SECRETS / "good" / "secret-references.yaml").read_text(encoding="utf-8")
    repo = make_repo(
        {
            ".pre-commit-config.yaml": hooks_config(hooks_repo, "check-secrets"),
            "apps/api/deployment.yaml": clean,
            "README.md": "# apps\n",
            ".gitignore": ".cache/\n",  # the fixture's HOME is the repository
        }
    )
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    planted = (SECRETS / "bad" / "k8s-secret-plaintext--stringdata.yaml").read_text("utf-8")
    (repo / "apps" / "api" / "db-secret.yaml").write_text(planted, encoding="utf-8")
    git(repo, "add", "-A")
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1
    assert "apps/api/db-secret.yaml:7:13: secret/k8s-secret-plaintext" in result.stdout
    assert "Wn8#kLp2vQz!" not in result.stdout + result.stderr
    # accepted into the baseline on purpose: the hook passes again
    code = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-secrets", "--update-baseline"],
        cwd=repo,
        capture_output=True,
        text=True,
    ).returncode
    assert code == 0
    git(repo, "add", "-A")
    result = run_pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr


# -- fuzz ---------------------------------------------------------------------------------------

FUZZ_TOKENS = [
    "apiVersion: v1\n", "kind: Secret\n", "kind: List\n", "items:\n", "kind: ConfigMap\n",
    "apiVersion: bitnami.com/v1alpha1\n", "kind: SealedSecret\n", "encryptedData:\n",
    "apiVersion: external-secrets.io/v1beta1\n", "kind: ExternalSecret\n", "target:\n",
    "template:\n", "data:\n", "stringData:\n", "sops:\n", "  mac: x\n", "  version: 3\n",
    "  unencrypted_regex: '['\n", "  encrypted_suffix: _enc\n", "secretGenerator:\n",
    "- name: a\n", "  literals: [a=b, c=]\n", "  envs: [../../etc/passwd]\n",
    "  files: [x=/dev/null]\n", "  value: hunter2hunter2\n", "env:\n", "password: ",
    "DB_PASSWORD: ", "ENC[AES256_GCM,data:x,type:str]", "c2VjcmV0", "LS0tLS1CRUdJTiBSU0Eg",
    ".dockerconfigjson: ", "eyJhdXRocyI6e319", "-----BEGIN RSA PRIVATE KEY-----\n",
    "helm:\n", "  values: |\n", "    a: [\n", "---\n", "- ", "  ", "\t", ": ", "{", "}", "[",
    "]", ",", "&a ", "*a ", "|\n", "'", '"', "#", "# pragma: allowlist secret\n", "{{ x }}",
    "${X}", "\n", "\x00", "\ufeff", "é", "0777", "~", "postgres://u:p@h", PLANTED[0],
]  # fmt: skip


def test_arbitrary_input_never_raises(tmp_path):
    from gitops_guard.checks.secrets.check import BROKEN_YAML, scan_file
    from gitops_guard.checks.secrets.engine import Engine
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    names = st.sampled_from(["s.yaml", "kustomization.yaml", "x.env", "t/templates/s.yaml"])
    text = st.lists(st.sampled_from(FUZZ_TOKENS), max_size=50).map("".join).map(str.encode)
    with Engine() as engine:

        @settings(
            max_examples=250,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(names, st.one_of(text, st.binary(max_size=300)))
        def check(name: str, data: bytes) -> None:
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            for candidate in scan_file(str(path), engine).candidates:
                finding = candidate.finding
                assert finding.rule.startswith("secret/") or finding.rule in BROKEN_YAML
                assert finding.line >= 1 and finding.column >= 1
                assert PLANTED[0] not in finding.message

        check()

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
from conftest import init_repo
from tokens import PLANTED_TOKENS, secrets_data

SECRETS = secrets_data()  # tests/data/secrets with its planted tokens made
BAD = sorted(SECRETS.glob("bad/*"))
GOOD = sorted(SECRETS.glob("good/*"))

#: Every planted value, as written or decoded: none may appear in any output.
PLANTED = [
    # the labelled files' vendor tokens, made at run time (tests/tokens.py: no token-shaped
    # string is committed)
    PLANTED_TOKENS["github"],
    PLANTED_TOKENS["aws"],
    PLANTED_TOKENS["stripe"],
    PLANTED_TOKENS["stripe-json"],
    PLANTED_TOKENS["gitlab"],
    PLANTED_TOKENS["slack"],
    PLANTED_TOKENS["jwt"],
    *PLANTED_TOKENS["rsa-key"].splitlines()[1:-1],
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

    assert mask(PLANTED_TOKENS["github"]) == "'ghp_...' (40 chars)"
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


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_device_or_dangling_link_in_a_folder_is_an_info_note_never_opened(tmp_path):
    """Issue 16: check-secrets' folder walk dropped a FIFO, a device and a dangling link in
    silence, where every other hook says `yaml/not-regular-file` (info). Said here too, never
    opened (a child process: a FIFO opened for reading would wait for a writer forever), never
    a stop; a regular file beside them gets no such note."""
    import subprocess
    import sys

    folder = tmp_path / "app"
    folder.mkdir()
    os.mkfifo(folder / "pipe.yaml")
    (folder / "zero.yaml").symlink_to("/dev/zero")
    (folder / "gone.yaml").symlink_to(tmp_path / "removed.yaml")
    (folder / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gitops_guard", "check-secrets", "app"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("check-secrets opened a FIFO in a folder")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    lines = sorted(done.stdout.splitlines())
    assert lines == [
        "app/gone.yaml:1:1: yaml/not-regular-file a dangling symlink, not a regular file; "
        "not checked [info]",
        "app/pipe.yaml:1:1: yaml/not-regular-file a FIFO (named pipe), not a regular file; "
        "not checked [info]",
        "app/zero.yaml:1:1: yaml/not-regular-file a device, not a regular file; not checked [info]",
    ]
    for name in ("pipe.yaml", "zero.yaml", "gone.yaml"):
        os.unlink(folder / name)
    clean = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-secrets", "app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


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


# -- false alarms seen on real repositories, misses the peers do not have (issue 10) -----------
# Every credential below is made at run time from its format (tests/tokens.py).

TOKEN_RNG = __import__("random").Random(20)


def _family(name: str) -> str:
    from tokens import FAMILIES

    return next(f for f in FAMILIES if f.name == name).make(TOKEN_RNG)


@pytest.mark.parametrize(
    ("family", "type_"),
    [
        ("Doppler personal token", "Doppler Token"),
        ("HashiCorp Vault service token", "HashiCorp Vault Token"),
        ("Azure AD client secret", "Azure AD Client Secret"),
        ("age secret key", "age Secret Key"),
        ("Shopify access token", "Shopify Token"),
    ],
)
def test_a_self_identifying_token_under_a_neutral_key_is_named(family, type_, tmp_path, cli):
    token = _family(family)
    path = write(tmp_path, "c.yaml", CONFIGMAP + f"  setting: {token}\n")
    code, out, err = cli("check-secrets", path)
    assert code == 1 and f"secret/provider-token setting: {type_} " in out, out + err
    assert token not in out and token[6:20] not in out


@pytest.mark.parametrize(
    "value",
    [
        "ghp_" + "x" * 36,
        "AKIA" + "IOSFODNN7" + "EXAMPLE",
        "glpat-" + "X" * 20,
        "ghp_PUT_YOUR_TOKEN_HERE_" + "0" * 16,
        "dop_v1_" + "0" * 64,
    ],
)
def test_a_placeholder_after_a_real_prefix_passes(value, tmp_path, cli):
    path = write(tmp_path, "c.yaml", CONFIGMAP + f"  setting: {value}\n  API_TOKEN: {value}\n")
    assert cli("check-secrets", path) == (0, "", "")


def test_an_aws_shaped_word_is_not_an_aws_key(tmp_path, cli):
    word = CONFIGMAP + "  setting: AKIA" + "SOMEWORDSINCAPSX\n"  # all letters: a word
    assert cli("check-secrets", write(tmp_path, "c.yaml", word)) == (0, "", "")
    key = CONFIGMAP + f"  setting: {_family('AWS access key id')}\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "d.yaml", key))
    assert code == 1 and "AWS Access Key" in out


def test_a_jwt_must_decode_to_be_one(tmp_path, cli):
    """detect-secrets' JWT plugin checks the header decodes to JSON; the engine now asks it."""
    fake = "eyJ" + "AAAA." + "eyJ" + "BBB"
    assert cli("check-secrets", write(tmp_path, "c.yaml", CONFIGMAP + f"  s: {fake}\n")) == (
        0,
        "",
        "",
    )
    real = _family("JSON Web Token")
    code, out, _ = cli("check-secrets", write(tmp_path, "d.yaml", CONFIGMAP + f"  s: {real}\n"))
    assert code == 1 and "JSON Web Token" in out


def test_an_empty_private_key_block_is_not_a_key_a_full_one_is(tmp_path, cli):
    from tokens import FAMILIES, PEM_BEGIN, PEM_END

    empty = CONFIGMAP + f"  tls.key: |\n    {PEM_BEGIN}\n    {PEM_END}\n"
    assert cli("check-secrets", write(tmp_path, "e.yaml", empty)) == (0, "", "")
    assert cli("check-secrets", write(tmp_path, "e.txt", f"{PEM_BEGIN}\n{PEM_END}\n"))[0] == 0
    key = next(f for f in FAMILIES if f.name == "Private key").make(TOKEN_RNG)
    full = CONFIGMAP + "  tls.key: |\n" + "".join(f"    {line}\n" for line in key.splitlines())
    code, out, _ = cli("check-secrets", write(tmp_path, "f.yaml", full))
    assert code == 1 and "secret/private-key" in out


OP_SECRET = """apiVersion: v1
kind: Secret
metadata: {name: onepassword-connect}
stringData:
  OP_CONNECT_TOKEN: |-
    op://kubernetes/1password/OP_CONNECT_TOKEN
  1password-credentials.json: |
    op://kubernetes/1password/OP_SESSION_JSON
"""


def test_a_secret_of_secret_store_references_passes_a_literal_one_does_not(tmp_path, cli):
    """home-ops' bootstrap Secrets hold ``op://`` references that ``op inject`` resolves."""
    assert cli("check-secrets", write(tmp_path, "s.yaml", OP_SECRET)) == (0, "", "")
    literal = OP_SECRET + "  EXTRA: Kq9zVb3Lm7Tq2x\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "t.yaml", literal))
    assert code == 1 and "secret/k8s-secret-plaintext" in out and "keys: EXTRA" in out
    assert "holds a token" not in out


@pytest.mark.parametrize(
    "value",
    [
        "op://kubernetes/github-bot/GITHUB_BOT_APP_PRIVATE_KEY",
        "ref+vault://secret/app#/password",
        "akv://prod-vault/db-password",
        "$__env{GF_SECURITY_ADMIN_PASSWORD}",
        "%env(DATABASE_PASSWORD)%",
        "/secrets/db/password",
        "/tmp/credentials.json",
    ],
)
def test_references_to_a_store_the_environment_or_a_file_pass(value, tmp_path, cli):
    text = f"jobs:\n  x:\n    env:\n      DB_PASSWORD: '{value}'\n      API_TOKEN: \"{value}\"\n"
    assert cli("check-secrets", write(tmp_path, "w.yaml", text)) == (0, "", "")


def test_a_custom_tag_names_a_variable_a_literal_is_a_credential(tmp_path, cli):
    """recyclarr's ``!env_var NAME``: the application reads the variable."""
    text = "sonarr:\n  main:\n    api_key: !env_var SONARR_API_KEY\n"
    assert cli("check-secrets", write(tmp_path, "r.yml", text)) == (0, "", "")
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yml", "api_key: Kq9zVb3Lm7Tq2x\n"))
    assert code == 1 and "secret/literal-credential" in out
    standard = write(tmp_path, "t.yml", "api_key: !!str Kq9zVb3Lm7Tq2x\n")
    assert cli("check-secrets", standard)[0] == 1


def test_credential_words_in_names_that_hold_no_credential(tmp_path, cli):
    text = (
        "permissions:\n  id-token: write\n  contents: read\n"
        "redis:\n  auth:\n    existingSecret: redis-auth\n    authKey: auth\n"
        "    password: redis-password\n"
        "keycloak:\n  existingSecretMappings:\n    adminPassword: admin-password\n"
        "db:\n  passwordKey: db-password\n"
    )
    assert cli("check-secrets", write(tmp_path, "v.yaml", text)) == (0, "", "")
    real = "redis:\n  auth:\n    existingSecret: redis-auth\n    password: Kq9zVb3Lm7Tq2x\n"
    code, out, _ = cli("check-secrets", write(tmp_path, "w.yaml", real))
    assert code == 1 and "password: literal password" in out


def test_key_names_in_a_helm_chart_template_are_not_credentials(tmp_path, cli):
    """A chart template is not YAML until rendered: it is line-scanned, and detect-secrets'
    keyword rule sees ``secretKey: admin-password``; the key's name decides."""
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - env:\n"
        "        - name: ADMIN_PASSWORD\n          valueFrom:\n            secretKeyRef:\n"
        "              name: {{ .Values.auth.existingSecret }}\n"
        '              secretKey: "admin-password"\n'
        '              secretName: "{{ include "x.fullname" . }}-auth"\n'
    )
    path = write(tmp_path, "chart/templates/pod.yaml", text)
    assert cli("check-secrets", path) == (0, "", "")
    leak = write(
        tmp_path, "chart/templates/cm.yaml", '{{- if .x }}\n  password: "Kq9zVb3Lm7Tq2x"\n'
    )
    code, out, _ = cli("check-secrets", leak)
    assert code == 1 and "secret/literal-credential" in out


def test_an_externalsecret_names_keys_and_holds_none(tmp_path, cli):
    text = """apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: runner}
spec:
  target:
    template:
      data:
        DATABASE_TYPE: postgres
        AWS_REGION: us-east-1
        DATABASE_URL: "postgres://{{ .user }}:{{ .password }}@db:5432/app"
  data:
    - secretKey: github_app_private_key
      remoteRef:
        key: actions-runner/ACTIONS_RUNNER_PRIVATE_KEY
"""
    assert cli("check-secrets", write(tmp_path, "es.yaml", text)) == (0, "", "")
    leak = text.replace("AWS_REGION: us-east-1", "ADMIN_PASSWORD: Kq9zVb3Lm7Tq2x")
    code, out, _ = cli("check-secrets", write(tmp_path, "et.yaml", leak))
    assert code == 1 and "secret/template-plaintext" in out and "ADMIN_PASSWORD" in out


def test_lists_of_ids_and_content_hashes_are_not_secrets_by_entropy(tmp_path, cli):
    import hashlib

    ids = [hashlib.md5(str(i).encode()).hexdigest() for i in range(3)]
    schematic = hashlib.sha256(b"schematic").hexdigest()
    text = "custom_formats:\n  - trash_ids:\n" + "".join(f"      - {i}\n" for i in ids)
    text += f"talos:\n  schematic: {schematic}\n"
    assert cli("check-secrets", write(tmp_path, "r.yml", text)) == (0, "", "")
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yml", f"auth: {schematic[:40]}\n"))
    assert code == 1 and "secret/high-entropy-string" in out


def test_a_lockfile_s_hashes_pass_a_token_in_it_does_not(tmp_path, cli):
    import base64
    import hashlib

    integrity = "sha512-" + base64.b64encode(hashlib.sha512(b"left-pad").digest()).decode()
    lock = f'{{"packages": {{"x": {{"integrity": "{integrity}", "sha": "{"ab" * 20}"}}}}}}\n'
    (tmp_path / "web").mkdir()
    assert cli("check-secrets", write(tmp_path, "web/package-lock.json", lock)) == (0, "", "")
    token = _family("GitHub token")
    leaked = f'resolved "https://x-access-token:{token}@github.com/o/r"\n'
    code, out, _ = cli("check-secrets", write(tmp_path, "yarn.lock", leaked))
    assert code == 1 and token not in out


def test_an_extensionless_script_is_read_as_its_shebang_says(tmp_path, cli):
    code = '#!/usr/bin/env python3\nname = "db"\nsecret = f"{name}-backup"\n'
    assert cli("check-secrets", write(tmp_path, "backup", code)) == (0, "", "")
    shell = "#!/bin/bash\nexport DB_PASSWORD=Kq9zVb3Lm7Tq2x\n"
    found, out, _ = cli("check-secrets", write(tmp_path, "deploy", shell))
    assert found == 1 and "DB_PASSWORD: literal password" in out


def test_a_credential_word_in_a_json_key_is_not_a_credential(tmp_path, cli):
    """home-ops' .vscode/settings.json maps namespaces to icons (JSONC: line-scanned)."""
    text = '{\n  // icons\n  "external-secrets": "secure",\n  "secret_type": "Opaque"\n}\n'
    assert cli("check-secrets", write(tmp_path, "settings.json", text)) == (0, "", "")
    leak = '{\n  // db\n  "password": "Kq9zVb3Lm7Tq2x"\n}\n'
    code, out, _ = cli("check-secrets", write(tmp_path, "other.json", leak))
    assert code == 1 and "secret/literal-credential" in out


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        (
            "cm.yaml",
            CONFIGMAP + '  url: "jdbc:mysql://db/s?user=a&password=Kq9!zVb3Lm"\n',
            "literal",
        ),
        ("cm.yaml", CONFIGMAP + "  conn: Server=sql;User Id=a;Password=Kq9zVb3Lm;\n", "literal"),
        ("cm.yaml", CONFIGMAP + "  db: postgres://app:Kq9!zVb3Lm@db:5432/app\n", "url"),
        (
            "job.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n"
            "    spec:\n      containers:\n        - name: c\n          image: curl:v1.0.0\n"
            '          args: ["-c", "curl -sf -u admin:Kq9zVb3Lm https://nexus/api"]\n',
            "literal",
        ),
        ("run.sh", "#!/bin/sh\nhelm upgrade db c --set auth.password=Kq9zVb3Lm\n", "literal"),
        ("notes.txt", 'curl -H "Authorization: Bearer Kq9zVb3Lm7Tq2xWp" https://api\n', "literal"),
        ("notes.txt", "staging database\nDB_PASSWORD: Kq9zVb3Lm7Tq2x\n", "literal"),
    ],
)
def test_credentials_inside_values_commands_and_text_lines(name, text, rule, tmp_path, cli):
    code, out, err = cli("check-secrets", write(tmp_path, name, text))
    assert (
        code == 1
        and f"secret/{'url-credentials' if rule == 'url' else 'literal-credential'}" in out
    ), out + err
    assert "Kq9" not in out.replace("'Kq9", "") or "zVb3" not in out


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cm.yaml", CONFIGMAP + '  url: "jdbc:postgresql://db:5432/app?sslmode=require"\n'),
        ("cm.yaml", CONFIGMAP + "  conn: Server=sql;Database=shop;Integrated Security=true;\n"),
        (
            "run.sh",
            '#!/bin/sh\ncurl -u "$USER:$PASSWORD" https://x/\nhelm up w c --set replicas=3\n',
        ),
        ("notes.txt", "Status: ok\nOwner: platform-team\nPassword: see the vault\n"),
    ],
)
def test_no_credential_inside_these_values_and_lines(name, text, tmp_path, cli):
    assert cli("check-secrets", write(tmp_path, name, text)) == (0, "", "")


# -- the baseline: structural findings, no churn, audit order, unique temp files ----------------

PLAIN_SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: Kq9zVb3Lm7Tq2x\n"
)


def test_a_plaintext_secret_is_accepted_only_as_a_kubernetes_secret(cli, chdir):
    """A "Secret Keyword" entry for the same value does not accept the structural finding;
    the entry --update-baseline writes says what it accepts."""
    from gitops_guard.checks.secrets.engine import hash_secret

    write(chdir, "s.yaml", PLAIN_SECRET)
    keyword = {
        "type": "Secret Keyword", "filename": "s.yaml", "is_verified": False, "line_number": 5,
        "hashed_secret": hash_secret("Kq9zVb3Lm7Tq2x"),
    }  # fmt: skip
    (chdir / ".secrets.baseline").write_text(
        json.dumps({"version": "1.5.0", "results": {"s.yaml": [keyword]}}), encoding="utf-8"
    )
    code, out, _ = cli("check-secrets", "s.yaml")
    assert code == 1 and "secret/k8s-secret-plaintext" in out
    assert cli("check-secrets", "--update-baseline", "s.yaml")[0] == 0
    written = json.loads((chdir / ".secrets.baseline").read_text(encoding="utf-8"))
    entries = written["results"]["s.yaml"]
    assert {e["type"] for e in entries} == {"Kubernetes Secret"}
    assert all(e["keys"] == ["password"] for e in entries)
    assert cli("check-secrets", "s.yaml")[:2] == (0, "")


def test_updating_an_unchanged_baseline_changes_no_byte(cli, chdir):
    write(chdir, "s.yaml", PLAIN_SECRET)
    write(chdir, "c.yaml", CONFIGMAP + "  DB_PASSWORD: Kq9zVb3Lm7Tq2y\n  API_TOKEN: Wp4xTq7Lm2\n")
    assert cli("check-secrets", "--update-baseline", "s.yaml", "c.yaml")[0] == 0
    path = chdir / ".secrets.baseline"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["generated_at"] = "2020-01-01T00:00:00Z"
    data["plugins_used"].reverse()  # as another tool may have ordered them
    for entries in data["results"].values():
        entries.reverse()  # as detect-secrets audit may have written them
        entries[0]["is_secret"] = False
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    before = path.read_bytes()
    assert cli("check-secrets", "--update-baseline", "s.yaml", "c.yaml")[0] == 0
    assert path.read_bytes() == before
    # a changed file changes its own entries, and the date
    write(chdir, "c.yaml", CONFIGMAP + "  DB_PASSWORD: Kq9zVb3Lm7Tq2z\n")
    assert cli("check-secrets", "--update-baseline", "s.yaml", "c.yaml")[0] == 0
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["generated_at"] != "2020-01-01T00:00:00Z"
    assert after["results"]["s.yaml"] == data["results"]["s.yaml"]
    assert after["plugins_used"] == data["plugins_used"]


def test_update_baseline_writes_through_a_temp_file_of_its_own(cli, chdir):
    """Two runs at once must not share a temp file: the old fixed name, taken (here by a
    folder), no longer blocks a write, and nothing is left behind."""
    write(chdir, "c.yaml", CONFIGMAP + "  DB_PASSWORD: Kq9zVb3Lm7Tq2y\n")
    (chdir / ".secrets.baseline.tmp").mkdir()
    code, _, err = cli("check-secrets", "--update-baseline", "c.yaml")
    assert code == 0, err
    left = sorted(p.name for p in chdir.iterdir())
    assert left == [".secrets.baseline", ".secrets.baseline.tmp", "c.yaml"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gitops_guard", "check-secrets", "--update-baseline", "c.yaml"],
            cwd=chdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert json.loads((chdir / ".secrets.baseline").read_text(encoding="utf-8"))["results"]
    assert sorted(p.name for p in chdir.iterdir()) == left


SOPS_FILE = """config:
    {key}: plain-value-here
apiKey: ENC[AES256_GCM,data:cGFzcw==,iv:MTIzNDU2Nzg5MDEyMzQ1Ng==,tag:YWJjZA==,type:str]
sops:
    mac: ENC[AES256_GCM,data:bWFj,iv:MTIzNDU2Nzg5MDEyMzQ1Ng==,tag:YWJjZA==,type:str]
    unencrypted_regex: '{regex}'
    version: 3.8.1
"""


def test_a_sops_file_s_own_regex_cannot_hang_the_check(tmp_path, cli):
    """issue 16: ``^v(\\d+\\.?)+$`` backtracks exponentially on a 34-character key in Python's
    re. It runs on RE2 (linear time): the key does not match, so the value is reported as not
    encrypted, at once; a pattern RE2 cannot run (a backreference) exempts nothing."""
    import time

    key = "v" + "1" * 33 + "x"
    text = SOPS_FILE.format(key=key, regex=r"^v(\d+\.?)+$")
    start = time.process_time()  # CPU time: backtracking would burn it, load does not
    code, out, _ = cli("check-secrets", write(tmp_path, "s.yaml", text))
    assert time.process_time() - start < 30
    assert code == 1 and "secret/sops-not-encrypted" in out
    # a regex that is safe to evaluate exempts what it matches, as sops does
    safe = SOPS_FILE.format(key="note", regex="^(config|note)$")
    assert cli("check-secrets", write(tmp_path, "t.yaml", safe)) == (0, "", "")
    backref = SOPS_FILE.format(key="noteznote", regex=r"^(note)z\1$")
    code, out, _ = cli("check-secrets", write(tmp_path, "u.yaml", backref))
    assert code == 1 and "secret/sops-not-encrypted" in out


def _repository_secret(labels: str, values: str) -> str:
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo\n  namespace: argocd\n"
        f"  labels:\n{labels}stringData:\n{values}"
    )


ARGOCD_REPO = "    argocd.argoproj.io/secret-type: repository\n"
KARGO_CREDS = "    kargo.akuity.io/cred-type: git\n"
PUBLIC_REPO = "  type: git\n  url: https://github.com/example/deploy.git\n"


def test_an_argo_cd_or_kargo_repository_secret_of_settings_only_passes(tmp_path, cli):
    """Argo CD docs/operator-manual/declarative-setup.md: a public repository is a Secret of
    `type` and `url`, plain by design; Kargo's credential Secrets take the same shape."""
    for name, labels, values in (
        ("argocd.yaml", ARGOCD_REPO, PUBLIC_REPO),
        ("kargo.yaml", KARGO_CREDS, PUBLIC_REPO + "  username: username\n"),
        # a credential left as a placeholder after its real prefix: still nothing to encrypt
        ("template.yaml", KARGO_CREDS, PUBLIC_REPO + "  password: github_pat_REPLACEME\n"),
    ):
        path = write(tmp_path, name, _repository_secret(labels, values))
        assert cli("check-secrets", path)[:2] == (0, ""), name


def test_a_repository_secret_with_a_credential_or_without_the_label_is_still_found(tmp_path, cli):
    password = "  password: Zq8vN2rTw5LkX9pB\n"
    path = write(tmp_path, "creds.yaml", _repository_secret(ARGOCD_REPO, PUBLIC_REPO + password))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/k8s-secret-plaintext" in out and "'password'" in out
    unlabelled = _repository_secret("    app: deploy\n", PUBLIC_REPO)
    path = write(tmp_path, "plain.yaml", unlabelled)
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "keys: type, url" in out


def test_an_empty_docker_config_is_not_a_credential(tmp_path, cli):
    template = (
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: pull}}\n"
        "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n"
    )
    import base64

    for empty in ("{}", '{"auths": {}}'):
        encoded = base64.b64encode(empty.encode()).decode()
        path = write(tmp_path, "empty.yaml", template.format(encoded))
        assert cli("check-secrets", path)[:2] == (0, ""), empty
    config = json.dumps({"auths": {"registry.example.com": {"auth": "dXNlcjpaOHZOMnJU"}}})
    path = write(tmp_path, "full.yaml", template.format(base64.b64encode(config.encode()).decode()))
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "decodes to user:password" in out


def test_a_dummy_value_is_not_said_to_hold_a_credential(tmp_path, cli):
    path = write(
        tmp_path,
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        "stringData:\n  url: https://db.example.com\n  password: github_pat_REPLACEME\n",
    )
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/k8s-secret-plaintext" in out
    assert "holds a password" not in out


def test_an_external_secret_key_name_in_a_helm_template_is_not_a_credential(tmp_path, cli):
    """In an ExternalSecret's data item, secretKey names the key it writes (external-secrets
    apis/externalsecrets/v1/externalsecret_types.go); a template is read line by line."""
    template = (
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n"
        "  name: {{ .Release.Name }}-db\nspec:\n  secretStoreRef:\n    name: vault\n"
        "    kind: ClusterSecretStore\n  target:\n    name: db\n  data:\n"
        "    - secretKey: {value}\n      remoteRef:\n        key: db-app\n"
    )
    path = write(tmp_path, "chart/templates/es.yaml", template.replace("{value}", "db_uri"))
    assert cli("check-secrets", path)[:2] == (0, "")
    # a secretKey that is not a data item's is still a credential (MinIO-style values)
    minio = "{{- if .Values.enabled }}\nauth:\n  secretKey: Zq8vN2rTw5LkX9pB\n{{- end }}\n"
    path = write(tmp_path, "chart/templates/minio.yaml", minio)
    code, out, _ = cli("check-secrets", path)
    assert code == 1 and "secret/" in out

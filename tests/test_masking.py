"""core/masking.py: the one masking step of every output (detect-secrets' recognisers)."""

from __future__ import annotations

import io

import pytest
from gitops_guard.core.masking import MaskingStream, mask_line, mask_text

# planted values, built at run time so that this file holds none of them whole
GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" + "K1l2M3n4O5p6Q7r8"
AWS = "AKIA" + "ZQ3VXW7KL2MN4PB6"
DB_PASSWORD = "Xk9" + "fQ2vLm7"
JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3"
OPAQUE = "q8Z" + "v3LmW9xT2bN7rKc4HdY6pF"  # high entropy, no provider prefix


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"  value: {GITHUB}", GITHUB),
        (f"+    value: {AWS}", AWS),
        (f"url: postgres://app:{DB_PASSWORD}@db.example.com:5432/app", DB_PASSWORD),
        (f"- --token={OPAQUE[:10]}", OPAQUE[:10]),
        (f"args: [--db-password, x, --api-key {OPAQUE[:9]}]", OPAQUE[:9]),
        (f"env DB_PASSWORD={DB_PASSWORD} ./run", DB_PASSWORD),
        (f"   password: {DB_PASSWORD}", DB_PASSWORD),
        (f"a.yaml:3:5: sync/wave-not-integer sync-wave {JWT!r} is not an integer", JWT),
        (f"data: {OPAQUE}", OPAQUE),
    ],
)
def test_secret_is_masked(line: str, secret: str):
    masked = mask_line(line)
    assert secret not in masked
    assert "chars)" in masked


@pytest.mark.parametrize(
    "line",
    [
        "pod.yaml:3:5: image/tag-not-allowed image 'nginx:latest': tag 'latest' is not allowed",
        "image registry.example.com/team/app@sha256:" + "0123456789abcdef" * 4,
        "commit " + "0123456789abcdef0123456789abcdef01234567" + " ran in staging",
        "  tokenSecretRef: my-secret-name",
        "  secretName: db-creds",
        "  password: ${DB_PASSWORD}",
        "  password: {{ .Values.password }}",
        "a.yaml:3:1: secret/k8s-secret-plaintext stringData.password: literal password "
        "'hunt...' (12 chars)",
        "clusters/production/demo-app/kustomization.yaml:7:13: promotion/not-in-predecessor x",
    ],
)
def test_what_is_not_a_secret_stays_readable(line: str):
    assert mask_line(line) == line


def test_stream_masks_lines_split_over_writes():
    out = io.StringIO()
    stream = MaskingStream(out)
    stream.write(f"token={GITHUB[:10]}")
    stream.write(f"{GITHUB[10:]}\nnext ")
    stream.write("line\n")
    stream.flush()
    assert GITHUB not in out.getvalue() and out.getvalue().endswith("next line\n")


def test_mask_text_keeps_line_ends():
    assert mask_text("a\r\nb\n\nc") == "a\r\nb\n\nc"

"""Credentials inside values, references, file types (checks/secrets/embedded.py).

Every password here is made at run time (tests/tokens.py), so none is committed."""

from __future__ import annotations

import random

import pytest
from gitops_guard.checks.secrets.embedded import (
    embedded_credentials,
    file_type,
    is_lockfile,
    is_reference,
)
from tokens import OTHERS

RNG = random.Random(10)
PASSWORD = "Kq" + "9zVb3" + "!Lm$x"  # sub-delimiters RFC 3986 allows in userinfo
TOKEN = "Kq" + "9zVb3Lmx7Tq2"


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (f"postgres://app:{PASSWORD}@db.internal:5432/app", "password in a URL"),
        (f"jdbc:mysql://db:3306/shop?user=app&password={PASSWORD}&ssl=1", "password= in"),
        (f"Server=sql;Database=shop;User Id=app;Password={PASSWORD};", "Password= in"),
        (f"Endpoint=sb://b.servicebus.windows.net/;SharedAccessKey={PASSWORD}=", "SharedAccessKey"),
        (f"curl -sf -u admin:{PASSWORD} https://nexus/api", "user:password option"),
        (f"curl --user 'admin:{PASSWORD}' https://nexus/api", "user:password option"),
        (f"wget --user=ci --password={PASSWORD} https://x/a", "--password option"),
        (f"vault login --token {PASSWORD}x", "--token option"),
        (f"docker login -u ci -p {PASSWORD} registry.example.org", "login -p password"),
        (f'curl -H "Authorization: Bearer {TOKEN}" https://api', "Authorization: Bearer"),
        (f"curl -H 'PRIVATE-TOKEN: {TOKEN}' https://gitlab", "PRIVATE-TOKEN header"),
        (
            f"helm upgrade db chart --set auth.password={PASSWORD},replicas=2",
            "helm --set auth.password",
        ),
        (f"helm install x c --set-string global.apiToken={PASSWORD}", "helm --set global.apiToken"),
        # a prefixed option still names a credential (only ``--generate-*`` makes one)
        (f"mysqladmin --db-password={PASSWORD} status", "--db-password option"),
        (f"op item edit app --new-password {PASSWORD}", "--new-password option"),
    ],
)
def test_a_credential_inside_a_value_is_found(text, what):
    found = embedded_credentials(text)
    assert len(found) == 1, found
    secret = found[0].secret
    assert found[0].what.startswith(what)
    assert text[found[0].start : found[0].start + len(secret)] == secret
    assert secret.startswith("Kq")


@pytest.mark.parametrize(
    "text",
    [
        "postgres://app@db.internal:5432/app",
        "https://grafana.example.org/d/abc?orgId=1",
        "jdbc:postgresql://db:5432/app?sslmode=require",
        "Server=sql;Database=shop;Integrated Security=true;",
        "postgres://app:${DB_PASSWORD}@db:5432/app",
        "postgres://app:$(DB_PASSWORD)@db:5432/app",
        "postgres://app:{{ .password }}@db:5432/app",
        "https://user:<password>@example.org/",
        'curl -u "$USER:$PASSWORD" https://example.org/',
        "curl -sf https://example.org/healthz",
        'curl -H "Authorization: Bearer $TOKEN" https://x/',
        "docker login -u ci --password-stdin registry.example.org",
        "helm upgrade --install web ./chart --set replicas=3,image.tag=v1.2.3",
        "helm upgrade db chart --set auth.existingSecret=db-credentials",
        "sort -u file.txt",
        "Password=;User=app",
        "https://user:********@example.org/",
        # 1Password CLI: ``--generate-password[=recipe]`` sets a random password from a recipe
        # (1activegeek/home-ops .opencode/command/secrets.md)
        "op item create --title app --generate-password='letters,digits,symbols,30'",
        "op item edit app --generate-password=letters,digits,32",
    ],
)
def test_no_credential_inside_these(text):
    assert embedded_credentials(text) == []


def test_the_labelled_set_s_embedded_secrets_are_all_found():
    for other in OTHERS:
        value = other.make(RNG)
        if other.name.startswith(("random", "Azure Service")):
            continue  # no keyword: found by entropy / format
        assert embedded_credentials(value), other.name


@pytest.mark.parametrize(
    "value",
    [
        "op://kubernetes/github-bot/GITHUB_BOT_APP_PRIVATE_KEY",
        "ref+awssecrets://prod/db/password",
        "akv://prod-vault/db-password",
        "vault:secret/data/app#password",
        "$DATABASE_PASSWORD",
        "${DATABASE_PASSWORD}",
        "$__env{GF_SECURITY_ADMIN_PASSWORD}",
        "%env(DATABASE_PASSWORD)%",
        "${{ secrets.GITHUB_TOKEN }}",
        "/secrets/db/password",
        "/tmp/credentials.json",
        "/run/secrets/db_password",
        "~/.aws/credentials",
        "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_2TB_S6B0NL0W127373V",
    ],
)
def test_references_are_not_secrets(value):
    assert is_reference(value)


@pytest.mark.parametrize(
    "value",
    [
        "Kq9zVb3Lm",
        "/9j/4AAQSkZJRgABAQAAAQABAAD",  # base64 that starts with a slash
        "/aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF/xyz",
        "opaque-value",
        "vault-token-with-dash",
    ],
)
def test_these_are_not_references(value):
    assert not is_reference(value)


def test_a_random_path_part_is_not_a_path():
    token = "".join(RNG.choice("abcdefghijkmnpqrstuvwxyzABCDEFGH0123456789") for _ in range(30))
    assert not is_reference(f"/api/{token}/x")


@pytest.mark.parametrize(
    ("path", "first", "suffix"),
    [
        ("scripts/backup", "#!/usr/bin/env python3", ".py"),
        ("scripts/backup", "#!/usr/bin/python3.11 -u", ".py"),
        ("bin/run", "#!/bin/bash", ".sh"),
        ("bin/run", "#!/usr/bin/env -S bash -eu", ".sh"),
        ("bin/run", "#!/usr/bin/env node", ".js"),
        ("bin/run", "plain text", ""),
        ("notes.txt", "#!/bin/bash", ".txt"),
    ],
)
def test_file_type_by_shebang_when_there_is_no_suffix(path, first, suffix):
    assert file_type(path, first) == suffix


def test_lockfiles():
    assert is_lockfile("web/package-lock.json")
    assert is_lockfile("flake.lock")
    assert is_lockfile("infra/.terraform.lock.hcl")
    assert not is_lockfile("locks.yaml")

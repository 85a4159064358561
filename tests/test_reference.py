"""The image reference grammar (distribution/reference), Docker Hub normalisation, and
property tests: valid references parse and round-trip, invalid ones raise ReferenceError and
nothing else.
"""

from __future__ import annotations

import pytest
from gitops_guard.checks.images import reference
from gitops_guard.checks.images.reference import Reference, ReferenceError, parse, registry_matches
from hypothesis import example, given, settings
from hypothesis import strategies as st

HEX64 = "0123456789abcdef" * 4
DIGEST = f"sha256:{HEX64}"


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("library/nginx:v1", "docker.io", "library/nginx", "v1", None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/nginx:v1", "docker.io", "library/nginx", "v1", None),
        ("registry-1.docker.io/a/b", "docker.io", "a/b", None, None),
        ("quay.io/org/app:v1.2.3", "quay.io", "org/app", "v1.2.3", None),
        ("reg.io/a/b/c/d:v1", "reg.io", "a/b/c/d", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/app:v1", "localhost:5000", "app", "v1", None),
        ("reg.io:5000/team/app", "reg.io:5000", "team/app", None, None),
        ("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", None),
        ("[fe80::1]/app", "[fe80::1]", "app", None, None),
        ("Registry.Example.com/app", "Registry.Example.com", "app", None, None),
        ("UPPER/app", "UPPER", "app", None, None),
        (f"app@{DIGEST}", "docker.io", "library/app", None, DIGEST),
        (f"reg.io/app:v1.0.0@{DIGEST}", "reg.io", "app", "v1.0.0", DIGEST),
        ("reg.io/a_b/c__d/e-f/g---h/i.j:v1", "reg.io", "a_b/c__d/e-f/g---h/i.j", "v1", None),
        ("reg.io:5000", "docker.io", "library/reg.io", "5000", None),
        ("app:_tag", "docker.io", "library/app", "_tag", None),
        ("app:" + "t" * 128, "docker.io", "library/app", "t" * 128, None),
        ("a@sha512:" + "ab" * 64, "docker.io", "library/a", None, "sha512:" + "ab" * 64),
    ],
)
def test_valid_references(text, domain, path, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)


def test_docker_hub_short_names_stay_short_when_printed():
    assert parse("nginx").repository == "nginx"
    assert parse("nginx").name == "docker.io/library/nginx"
    assert parse("bitnami/redis").repository == "bitnami/redis"
    assert parse("docker.io/nginx").repository == "docker.io/library/nginx"
    assert str(parse(f"nginx:v1@{DIGEST}")) == f"nginx:v1@{DIGEST}"
    assert parse("nginx") == parse("docker.io/library/nginx")
    assert parse("nginx:v1") != parse("nginx:v2")
    assert "nginx:v1" in repr(parse("nginx:v1"))


@pytest.mark.parametrize(
    ("text", "part", "message"),
    [
        ("", "name", "empty"),
        (" nginx", "name", "whitespace"),
        ("nginx :v1", "name", "whitespace"),
        ("ngi\tnx", "name", "whitespace"),
        ("Nginx", "name", "lowercase"),
        ("reg.io/Team/App:v1", "name", "lowercase"),
        ("reg.io/app@sha256:abc", "digest", "3 hex characters, expected 64"),
        (f"reg.io/app@sha256:{HEX64.upper()}", "digest", "uppercase hex at position"),
        (f"reg.io/app@sha256:{HEX64}0", "digest", "65 hex characters, expected 64"),
        ("reg.io/app@sha256:" + "g" * 64, "digest", "character 'g' at position 1"),
        ("reg.io/app@sha512:" + "a" * 64, "digest", "64 hex characters, expected 128"),
        ("reg.io/app@sha256", "digest", "algorithm:hex"),
        ("reg.io/app@:abc", "digest", "algorithm:hex"),
        ("reg.io/app@md5:abc", "digest", "not a registered one"),
        ("reg.io/app@sha1:" + "a" * 40, "digest", "sha256 (64 hex), sha512 (128 hex)"),
        ("app:" + "t" * 129, "tag", "128"),
        ("app:-v1", "tag", "invalid tag"),
        ("app:.v1", "tag", "invalid tag"),
        ("app:v1+build", "tag", "invalid tag"),
        ("app:vé", "tag", "invalid tag"),
        ("app:", "tag", "invalid tag"),
        (":v1", "name", "missing repository"),
        ("reg.io/", "name", "invalid repository path"),
        ("reg.io//app", "name", "invalid repository path"),
        ("reg.io/app/", "name", "invalid repository path"),
        ("reg.io/a..b", "name", "invalid repository path"),
        ("reg.io/a_-b", "name", "invalid repository path"),
        ("reg.io/-app", "name", "invalid repository path"),
        ("reg.io/app_", "name", "invalid repository path"),
        ("reg.io:port/app", "name", "registry host"),
        ("-reg.io/app", "name", "registry host"),
        # distribution/reference normalize.go splitDockerDomain: no '.'/':', not localhost:
        # a path component (only its uppercase made it look like a host), and not lowercase
        (
            "ECR_REGISTRY_PLACEHOLDER/auth-api",
            "name",
            "path component 'ECR_REGISTRY_PLACEHOLDER' must be lowercase",
        ),
        ("Bad___Name/app", "name", "invalid repository path component 'Bad___Name'"),
        ("reg.io/" + "a" * 250, "name", "255"),
        ("app:v1:v2", "name", "invalid repository path"),
    ],
)
def test_invalid_references_name_the_broken_part(text, part, message):
    with pytest.raises(ReferenceError) as info:
        parse(text)
    assert message in str(info.value)
    assert info.value.part == part


def test_an_uppercase_first_component_is_not_called_a_registry_host():
    """It has no '.' or ':' and is not localhost: a registry host only by its uppercase (and
    not a valid one); the message says the path component must be lowercase."""
    with pytest.raises(ReferenceError) as info:
        parse("ECR_REGISTRY_PLACEHOLDER/auth-api@sha256:" + "0" * 64)
    assert "invalid registry host" not in str(info.value)
    # a first component with a '.' is a host, and the host is what is wrong
    with pytest.raises(ReferenceError) as info:
        parse("reg_istry.io/app")
    assert "invalid registry host 'reg_istry.io'" in str(info.value)
    # an uppercase host that is a valid host name stays a host (normalize.go does the same)
    assert parse("MyRegistry/app:v1").domain == "MyRegistry"


def test_long_digests_are_masked_in_messages():
    with pytest.raises(ReferenceError) as info:
        parse("app@" + "x" * 80)
    assert "x" * 40 not in str(info.value)


def test_templated_values():
    for text in ("{{ .Values.image }}", "app:${TAG}", "$(params.image)", "app:__TAG__"):
        assert reference.is_templated(text), text
    for text in ("app:v1", "a/b:c", "app:__", "app:_x_"):
        assert not reference.is_templated(text), text


def test_registry_matching():
    assert registry_matches(parse("nginx"), "docker.io")
    assert registry_matches(parse("nginx"), "index.docker.io")
    assert registry_matches(parse("nginx"), "docker.io/library")
    assert not registry_matches(parse("bitnami/x"), "docker.io/library")
    assert registry_matches(parse("reg.io/team/app"), "reg.io/team")
    assert not registry_matches(parse("reg.io/teams/app"), "reg.io/team")
    assert registry_matches(parse("reg.io/team"), "reg.io/team")
    assert not registry_matches(parse("reg.io:5000/app"), "reg.io")


# -- property tests ---------------------------------------------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
component = st.from_regex(r"\A[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+){0,3}\Z")
host_label = st.from_regex(r"\A(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]{0,8}[a-zA-Z0-9])\Z")
domain = st.one_of(
    st.just("localhost"),
    st.builds(lambda a, b: f"{a}.{b}", host_label, host_label),
    st.builds(
        lambda a, p: f"{a}:{p}", st.sampled_from(["localhost", "reg.io"]), st.integers(1, 65535)
    ),
    st.just("[::1]:5000"),
)
tag = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
digest = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")


@st.composite
def valid_references(draw: st.DrawFn) -> tuple[str, str | None, str | None]:
    parts = draw(st.lists(component, min_size=1, max_size=4))
    name = "/".join(parts)
    if draw(st.booleans()) or "." in parts[0]:  # "a.b/c": a.b is a registry host
        name = f"{draw(domain)}/{name}"
    if len(name) > reference.NAME_MAX:
        name = name[: reference.NAME_MAX].rstrip("._-/") or "a"
    the_tag = draw(st.none() | tag)
    the_digest = draw(st.none() | digest)
    text = name + (f":{the_tag}" if the_tag else "") + (f"@{the_digest}" if the_digest else "")
    return text, the_tag, the_digest


@settings(max_examples=400, deadline=None)
@given(valid_references())
@example(("nginx", None, None))
@example((f"localhost:5000/a/b:v1@{DIGEST}", "v1", DIGEST))
def test_valid_references_parse_and_round_trip(case):
    text, the_tag, the_digest = case
    try:
        ref = parse(text)
    except ReferenceError:
        # a name cut to the length limit may end in a separator: then it is invalid, rightly
        assert len(text.split("@")[0].split(":")[0]) >= reference.NAME_MAX - 1
        return
    assert ref.tag == the_tag
    assert ref.digest == the_digest
    again = parse(str(ref))
    assert again == ref
    assert str(again) == str(ref)
    if len(ref.name) <= reference.NAME_MAX:  # "docker.io/" added to a name at the limit
        assert parse(ref.name + (f":{ref.tag}" if ref.tag else "")).name == ref.name


@st.composite
def invalid_references(draw: st.DrawFn) -> str:
    text, _, _ = draw(valid_references())
    name = text.split("@")[0]
    breaker = draw(
        st.sampled_from(
            ["upper", "space", "bad-digest", "long-tag", "bad-tag", "empty-part", "bad-char"]
        )
    )
    if breaker == "upper":
        head, _, last = name.rpartition("/")
        last = last.split(":")[0]
        return (head + "/" if head else "") + last.upper() + "X"
    if breaker == "space":
        cut = draw(st.integers(0, len(text)))
        return text[:cut] + draw(st.sampled_from([" ", "\t", "\n"])) + text[cut:]
    if breaker == "bad-digest":
        hex_part = draw(st.text(alphabet="0123456789abcdef", max_size=63))
        return f"{name}@sha256:{hex_part}"
    if breaker == "long-tag":
        return f"{name.split(':')[0] if '/' not in name else name.rsplit(':', 1)[0]}:" + "t" * 129
    if breaker == "bad-tag":
        base = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        return base + ":" + draw(st.sampled_from(["-x", ".x", "x!", "é", "x+y", ""]))
    if breaker == "empty-part":
        return name.split(":")[0] + "//x" if "/" in name else "/" + name
    char = draw(st.sampled_from(list("!#$%&*()=+,;?[]{}|\\\"'`~^")))
    return name + char


@settings(max_examples=400, deadline=None)
@given(invalid_references())
def test_invalid_references_raise_reference_error(text):
    with pytest.raises(ReferenceError):
        parse(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_raises_reference_error_only(text):
    try:
        ref = parse(text)
    except ReferenceError as exc:
        assert exc.part in ("name", "tag", "digest")
        return
    assert isinstance(ref, Reference)
    assert parse(str(ref)) == ref


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALNUM + "ABCXYZ:/@._-[]", max_size=80))
def test_reference_like_text_parses_or_raises_reference_error_only(text):
    try:
        ref = parse(text)
    except ReferenceError:
        return
    assert parse(str(ref)) == ref


def test_an_invalid_component_cut_out_of_a_pasted_token_is_not_quoted():
    # a token's base64 tail holds '/' and uppercase: the component before it is invalid, and
    # that piece alone no longer looks like the token to the output masking
    import random

    from gitops_guard.checks.images.reference import ReferenceError, parse
    from tokens import FAMILIES

    make = next(f.make for f in FAMILIES if f.name == "Authress key")
    rng = random.Random(7)
    for _ in range(20):
        token = make(rng)
        if "/" in token.rsplit(".", 1)[1]:
            break
    reference = f"registry.example.com/app:{token}"
    with pytest.raises(ReferenceError) as caught:
        parse(reference)
    message = str(caught.value)
    assert token.split("/")[0][-12:] not in message and "not quoted" in message
    # a component with no secret in the reference is quoted, as it always was
    with pytest.raises(ReferenceError, match="invalid repository path component '-bad'"):
        parse("registry.example.com/-bad/app:v1.0.0")

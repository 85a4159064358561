"""promote: golden files for every YAML style, the diff is only the changed values, refusals,
atomic writes, --branch, and a property test that promote then promote back restores bytes."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import DATA, GIT_ENV, git, init_repo
from gitops_guard.change.promote import slot_edits_for
from gitops_guard.core import yamledit
from gitops_guard.repo import overlays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = DATA / "promotion" / "promote"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
BASE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web
"""


def _variant(data: bytes, crlf: bool, bom: bool) -> bytes:
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    if bom:
        data = b"\xef\xbb\xbf" + data
    return data


def build_case(root: Path, case: str, crlf: bool = False, bom: bool = False) -> Path:
    """A repository with the case's staging and production overlays of app ``web``."""
    for env in ("staging", "production"):
        folder = root / "clusters" / env / "web"
        folder.mkdir(parents=True)
        for source in sorted((CASES / case / env).iterdir()):
            (folder / source.name).write_bytes(_variant(source.read_bytes(), crlf, bom))
    return root


VARIANTS = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("crlf,bom", VARIANTS, ids=["lf", "crlf", "bom", "crlf-bom"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_promote_writes_exactly_the_golden_file(case, crlf, bom, chdir, cli):
    build_case(chdir, case, crlf, bom)
    code, out, err = cli("promote", "web", "--from", "staging", "--to", "production", "--write")
    assert code == 0, err
    for expected in sorted((CASES / case / "expected").iterdir()):
        written = (chdir / "clusters" / "production" / "web" / expected.name).read_bytes()
        assert written == _variant(expected.read_bytes(), crlf, bom), expected.name
    # and now there is nothing left to promote
    code, out, _ = cli("promote", "web", "--write")
    assert code == 0
    assert "nothing to promote" in out


@pytest.mark.parametrize("case", CASE_NAMES)
def test_dry_run_diff_is_only_the_changed_lines_and_writes_nothing(case, chdir, cli):
    build_case(chdir, case)
    before = {p: p.read_bytes() for p in (chdir / "clusters").rglob("*.yaml")}
    code, out, err = cli("promote", "web")
    assert code == 0, err
    assert {p: p.read_bytes() for p in before} == before
    removed = [ln[1:] for ln in out.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:] for ln in out.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    production = CASES / case / "production"
    expected = CASES / case / "expected"
    old_lines = [ln for p in sorted(production.iterdir()) for ln in p.read_text().splitlines()]
    new_lines = [ln for p in sorted(expected.iterdir()) for ln in p.read_text().splitlines()]
    assert removed == [ln for ln in old_lines if ln not in new_lines]
    assert added == [ln for ln in new_lines if ln not in old_lines]
    assert "web" in err and "dry run" in err


def test_dry_run_flag_is_the_default_said_explicitly(chdir, cli):
    # set-image accepts --dry-run; promote takes it with the same meaning (diff, nothing written)
    build_case(chdir, "kustomize-comments")
    before = {p: p.read_bytes() for p in (chdir / "clusters").rglob("*.yaml")}
    default = cli("promote", "web")
    code, out, err = cli("promote", "web", "--dry-run")
    assert (code, out, err) == default
    assert code == 0 and out.startswith("---") and "dry run" in err
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("other", ["--write", "--branch"])
def test_dry_run_with_write_or_branch_is_a_usage_error(other, chdir, cli):
    build_case(chdir, "kustomize-comments")
    before = {p: p.read_bytes() for p in (chdir / "clusters").rglob("*.yaml")}
    code, out, err = cli("promote", "web", "--dry-run", other)
    assert code == 2 and out == ""
    assert f"{other} or --dry-run, not both" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in before} == before


def test_promote_refuses_when_the_target_policy_requires_a_digest(chdir, cli):
    build_case(chdir, "kustomize-comments")
    (chdir / "policies").mkdir()
    (chdir / "policies" / "gitops-guard.yaml").write_text(
        "version: 1\nenvironments:\n  production:\n    images:\n      require_digest: true\n"
    )
    target = chdir / "clusters" / "production" / "web" / "kustomization.yaml"
    before = target.read_bytes()
    code, _, err = cli("promote", "web", "--write")
    assert code == 1
    assert "image/digest-required" in err and "refused" in err
    assert target.read_bytes() == before


def test_promote_refuses_a_tag_the_target_policy_forbids(chdir, cli):
    build_case(chdir, "kustomize-indentless")
    staging = chdir / "clusters" / "staging" / "web" / "kustomization.yaml"
    staging.write_text(staging.read_text().replace("v2.0.0", "latest"))
    code, _, err = cli("promote", "web", "--write")
    assert code == 1
    assert "image/tag-latest" in err


def test_unknown_app_or_missing_overlay_is_exit_1(chdir, cli):
    build_case(chdir, "kustomize-comments")
    code, _, err = cli("promote", "nope")
    assert code == 1
    assert "no overlay in staging or production" in err
    shutil.rmtree(chdir / "clusters" / "production" / "web")
    (chdir / "clusters" / "production" / "other").mkdir()
    (chdir / "clusters" / "production" / "other" / "kustomization.yaml").write_text(
        "resources: []\n"
    )
    code, _, err = cli("promote", "web")
    assert code == 1
    assert "no overlay in production" in err


def test_usage_errors_are_exit_2(chdir, cli):
    build_case(chdir, "kustomize-comments")
    assert cli("promote")[0] == 2
    code, _, err = cli("promote", "web", "--to", "qa")
    assert code == 2 and "unknown environment 'qa'" in err
    code, _, err = cli("promote", "web", "--from", "production")
    assert code == 2 and "last environment" in err
    assert cli("promote", "web", "--push")[0] == 2


def test_malformed_target_is_refused_and_untouched(chdir, cli):
    build_case(chdir, "kustomize-comments")
    target = chdir / "clusters" / "production" / "web" / "kustomization.yaml"
    target.write_text("images:\n  - name: web\n    newTag: [v1\n")
    code, _, err = cli("promote", "web", "--write")
    assert code == 1
    assert "kustomization.yaml:" in err and "Traceback" not in err
    assert target.read_text() == "images:\n  - name: web\n    newTag: [v1\n"


def test_target_without_the_image_entry_is_refused(chdir, cli):
    build_case(chdir, "kustomize-comments")
    target = chdir / "clusters" / "production" / "web" / "kustomization.yaml"
    target.write_text("resources: [../../../apps/web]\n")
    code, _, err = cli("promote", "web")
    assert code == 1
    assert "no image entry images[name=web]" in err


def test_write_keeps_permissions_and_leaves_no_temp_file(chdir, cli):
    build_case(chdir, "helm-values")
    target = chdir / "clusters" / "production" / "web" / "values.yaml"
    os.chmod(target, 0o640)
    assert cli("promote", "web", "--write")[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["values.yaml"]


def test_all_promotes_every_app_that_differs(chdir, cli):
    build_case(chdir, "kustomize-comments")
    for env, tag in (("staging", "v1.0.1"), ("production", "v1.0.0")):
        api = chdir / "clusters" / env / "api"
        api.mkdir(parents=True)
        (api / "values.yaml").write_text(f"image:\n  repository: r.example.com/api\n  tag: {tag}\n")
    only = chdir / "clusters" / "staging" / "only-staging"
    only.mkdir()
    (only / "kustomization.yaml").write_text(
        "images:\n- name: x\n  newName: registry.example.com/x\n  newTag: v1.0.0\n"
    )
    (chdir / "clusters" / "staging" / "no-image").mkdir()
    (chdir / "clusters" / "staging" / "no-image" / "kustomization.yaml").write_text(
        "resources: []\n"
    )
    (chdir / "clusters" / "production" / "no-image").mkdir()
    (chdir / "clusters" / "production" / "no-image" / "kustomization.yaml").write_text(
        "resources: []\n"
    )
    code, _, err = cli("promote", "--all", "--write")
    assert code == 0, err
    assert "only in staging" in err
    assert "no-image" not in err  # --all says nothing about an app that sets no image
    assert "tag: v1.0.1" in (chdir / "clusters/production/api/values.yaml").read_text()
    assert "v1.4.2" in (chdir / "clusters/production/web/kustomization.yaml").read_text()


def test_branch_commits_with_a_message_naming_app_envs_and_reference(
    tmp_path_factory, chdir, cli, monkeypatch
):
    build_case(chdir, "kustomize-comments")
    init_repo(chdir)
    remote = tmp_path_factory.mktemp("remote") / "remote.git"
    git(remote.parent, "init", "-q", "--bare", str(remote))
    git(chdir, "remote", "add", "origin", str(remote))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    code, out, err = cli("promote", "web", "--branch", "--push")
    assert code == 0, err
    assert out.strip() == "promote/web-v1.4.2"
    assert git(chdir, "branch", "--show-current").stdout.strip() == "promote/web-v1.4.2"
    start = git(chdir, "rev-parse", "--abbrev-ref", "@{-1}").stdout.strip()
    assert f"the working copy stays on promote/web-v1.4.2 (`git switch {start}`" in err
    message = git(chdir, "log", "-1", "--format=%B").stdout
    assert "web" in message and "staging" in message and "production" in message
    assert "registry.example.com/web:v1.4.2" in message
    assert git(chdir, "status", "--porcelain").stdout == ""
    assert "promote/web-v1.4.2" in git(remote, "branch").stdout
    # a second run: nothing to promote, no new branch
    code, out, _ = cli("promote", "web", "--branch")
    assert code == 0 and "nothing to promote" in out


def test_branch_refuses_dirty_target_files(chdir, cli, monkeypatch):
    build_case(chdir, "kustomize-comments")
    init_repo(chdir)
    target = chdir / "clusters" / "production" / "web" / "kustomization.yaml"
    target.write_text(target.read_text() + "# local edit\n")
    code, _, err = cli("promote", "web", "--branch")
    assert code == 1
    assert "uncommitted changes" in err


# -- the property: promote, then promote back, restores the original bytes -----------------


def _plain_is_a_string(tag: str) -> bool:
    """A tag the test may write unquoted: one YAML reads back as that string (``0b00000`` is
    a binary int and ``0123`` an octal one in YAML 1.1, so a file holding them plain holds a
    number, and promote rightly quotes them when it writes them back)."""
    import yaml

    return isinstance(yaml.safe_load(tag), str)


TAGS = st.from_regex(r"v[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True) | st.from_regex(
    r"[0-9a-f]{7,12}", fullmatch=True
).filter(_plain_is_a_string)
DIGESTS = st.none() | st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True)
QUOTES = st.sampled_from(["", "'", '"'])


def _render_kustomization(draw_tag, quote, digest, indent, indentless, flow, comment) -> str:
    q = quote
    tag = f"{q}{draw_tag}{q}"
    if flow:
        extra = f", digest: {q}{digest}{q}" if digest else ""
        return (
            f"images: [{{name: web, newName: r.example.com/web, newTag: {tag}{extra}}}, "
            "{name: other, newTag: v0.0.1}]\n"
        )
    pad = " " * indent
    dash = "" if indentless else pad
    item = dash + "- "
    inner = " " * len(item)
    lines = ["images:", f"{item}name: web{comment}", f"{inner}newTag: {tag}{comment}"]
    if digest:
        lines.append(f"{inner}digest: {q}{digest}{q}")  # a new field copies the tag's quotes
    lines.append(f"{dash}- name: other")
    lines.append(f"{inner}newTag: v0.0.1")
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    old_tag=TAGS,
    new_tag=TAGS,
    old_digest=DIGESTS,
    new_digest=DIGESTS,
    quote=QUOTES,
    indent=st.sampled_from([2, 4]),
    indentless=st.booleans(),
    flow=st.booleans(),
    comment=st.sampled_from(["", "  # note", " #x"]),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_promote_then_promote_back_restores_the_bytes(
    old_tag, new_tag, old_digest, new_digest, quote, indent, indentless, flow, comment, crlf, bom
):
    text = _render_kustomization(old_tag, quote, old_digest, indent, indentless, flow, comment)
    data = _variant(text.encode(), crlf, bom)
    original = _edit(data, {"newTag": old_tag, "digest": old_digest})
    assert original == data  # setting what is there changes nothing
    promoted = _edit(data, {"newTag": new_tag, "digest": new_digest})
    _, _, slots = overlays.parse_file("k", "kustomization.yaml", promoted)
    web = next(s for s in slots if s.name == "web")
    assert web.value("newTag") == new_tag and web.value("digest") == new_digest
    assert next(s for s in slots if s.name == "other").value("newTag") == "v0.0.1"
    assert _edit(promoted, {"newTag": old_tag, "digest": old_digest}) == data


def _edit(data: bytes, desired: dict[str, str | None]) -> bytes:
    text, _, slots = overlays.parse_file("k", "kustomization.yaml", data, exact=True)
    web = next(s for s in slots if s.name == "web")
    wanted = {k: v for k, v in {**web.values(), **desired}.items() if v is not None}
    bom = "\ufeff" if yamledit.has_bom(data) else ""
    return (bom + yamledit.apply(text, slot_edits_for(text, web, wanted))).encode("utf-8")


@pytest.mark.parametrize(
    "value,style,expected",
    [
        ("v1.2.3", "plain", "v1.2.3"),
        ("1.10", "plain", '"1.10"'),  # plain would turn into a float
        ("yes", "plain", '"yes"'),
        ("it's", "single", "'it''s'"),
        ("v1", "double", '"v1"'),
    ],
)
def test_render_keeps_the_meaning(value, style, expected):
    assert yamledit.render(value, style) == expected


def test_block_scalar_is_refused_not_mangled():
    data = b"images:\n  - name: web\n    newTag: |\n      v1.0.0\n"
    text, _, slots = overlays.parse_file("k", "kustomization.yaml", data, exact=True)
    with pytest.raises(yamledit.EditError, match="block scalar"):
        slot_edits_for(text, slots[0], {"newTag": "v2.0.0"})


@pytest.mark.parametrize("case", CASE_NAMES)
def test_libyaml_offsets_are_the_pure_python_ones(case):
    """promote edits at libyaml's marks only because they equal the pure-Python composer's."""
    import yaml

    for path in sorted((CASES / case / "production").iterdir()):
        text = "\ufeffkey: é\r\n" + path.read_text(encoding="utf-8").replace("\n", "\r\n")
        text = text.lstrip("\ufeff")
        fast = yamledit.compose(text, "x", exact=True)
        slow = yamledit._compose(text, "x", yaml.SafeLoader)
        assert yamledit._offsets_line_up(text, fast)
        assert _spans(fast) == _spans(slow)


def _spans(roots):
    out = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node.id == "scalar":
            out.append((node.value, node.start_mark.index, node.end_mark.index))
        elif node.id == "sequence":
            stack.extend(node.value)
        else:
            stack.extend(v for pair in node.value for v in pair)
    return out


@pytest.mark.parametrize(
    "written,expected",
    [("tag: ~", "tag: v2.3.0"), ("tag: null  # chart default", "tag: v2.3.0  # chart default")],
)
def test_a_null_tag_is_replaced_in_place(written, expected, chdir, cli):
    build_case(chdir, "helm-values")
    target = chdir / "clusters" / "production" / "web" / "values.yaml"
    target.write_text(target.read_text().replace('tag: "v2.2.0"', written))
    code, _, err = cli("promote", "web", "--write")
    assert code == 0, err
    text = target.read_text()
    assert expected in text and text.count("tag:") == 2


def test_an_empty_tag_is_refused(chdir, cli):
    build_case(chdir, "helm-values")
    target = chdir / "clusters" / "production" / "web" / "values.yaml"
    target.write_text(target.read_text().replace('tag: "v2.2.0"', "tag:"))
    code, _, err = cli("promote", "web", "--write")
    assert code == 1 and "tag is empty" in err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    old_tag=TAGS,
    new_tag=TAGS,
    old_digest=DIGESTS,
    new_digest=DIGESTS,
    quote=QUOTES,
    indent=st.sampled_from([2, 4]),
    flow=st.booleans(),
    comment=st.sampled_from(["", "  # pinned by CI"]),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_helm_values_promote_then_back_restores_the_bytes(
    old_tag, new_tag, old_digest, new_digest, quote, indent, flow, comment, crlf, bom
):
    def values(tag: str, digest: str | None) -> str:
        q = quote
        if flow:
            extra = f", digest: {q}{digest}{q}" if digest else ""
            return f"image: {{repository: r.example.com/web, tag: {q}{tag}{q}{extra}}}\n"
        pad = " " * indent
        lines = ["# values", "image:", f"{pad}repository: r.example.com/web", ""]
        lines[3] = f"{pad}tag: {q}{tag}{q}{comment}"
        if digest:
            lines.append(f"{pad}digest: {q}{digest}{q}")
        lines += [f"{pad}pullPolicy: IfNotPresent", "", "service:", f"{pad}port: 80"]
        return "\n".join(lines) + "\n"

    def edit(data: bytes, tag: str, digest: str | None) -> bytes:
        text, _, slots = overlays.parse_file("v", "values.yaml", data, exact=True)
        wanted = {"repository": "r.example.com/web", "tag": tag}
        if digest:
            wanted["digest"] = digest
        bom_text = "\ufeff" if yamledit.has_bom(data) else ""
        return (bom_text + yamledit.apply(text, slot_edits_for(text, slots[0], wanted))).encode()

    data = _variant(values(old_tag, old_digest).encode(), crlf, bom)
    promoted = edit(data, new_tag, new_digest)
    assert promoted == _variant(values(new_tag, new_digest).encode(), crlf, bom)
    assert edit(promoted, old_tag, old_digest) == data


@pytest.mark.parametrize(
    "case,crlf",
    [("kustomize-comments", False), ("kustomize-flow", False), ("helm-values", True)],
)
def test_a_ruamel_round_trip_would_rewrite_more_than_the_value(case, crlf):
    """Why promote splices spans instead of dumping with ruamel.yaml: even with
    preserve_quotes, the round trip re-indents sequences, re-spaces flow collections and
    turns CRLF into LF, so its output is more than the changed value (promote's is not; on
    plain LF files like helm-values it is exact)."""
    import io

    from ruamel.yaml import YAML

    (source,) = sorted((CASES / case / "production").iterdir())
    (expected,) = sorted((CASES / case / "expected").iterdir())
    newline = "\r\n" if crlf else "\n"
    yaml = YAML()
    yaml.preserve_quotes = True
    data = yaml.load(source.read_text().replace("\n", newline))
    if "images" in data:
        data["images"][0]["newTag"] = "v1.4.2" if case == "kustomize-comments" else "v3.1.0"
    else:
        data["image"]["tag"] = "v2.3.0"
        data["worker"]["image"]["tag"] = "v2.3.1"
    out = io.BytesIO()
    yaml.dump(data, out)
    assert out.getvalue() != expected.read_text().replace("\n", newline).encode()


def test_a_field_written_twice_is_refused(chdir, cli):
    build_case(chdir, "kustomize-indentless")
    target = chdir / "clusters" / "production" / "web" / "kustomization.yaml"
    target.write_text(
        target.read_text().replace("  newTag: 'v1.9.0'\n", "  newTag: v1\n  newTag: v2\n")
    )
    code, _, err = cli("promote", "web", "--write")
    assert code == 1 and "newTag is written twice" in err


def test_helm_templates_in_an_overlay_are_skipped(chdir, cli):
    build_case(chdir, "helm-values")
    templates = chdir / "clusters" / "production" / "web" / "templates"
    templates.mkdir()
    (templates / "deployment.yaml").write_text("image: {{ .Values.image.tag }}\n")
    code, _, err = cli("promote", "web", "--write")
    assert code == 0, err


def test_policy_severity_and_suppressions_are_respected(chdir, cli):
    build_case(chdir, "kustomize-indentless")
    staging = chdir / "clusters" / "staging" / "web" / "kustomization.yaml"
    staging.write_text(staging.read_text().replace("v2.0.0", "stable"))
    assert cli("promote", "web")[0] == 1  # tag-not-allowed is an error by default
    (chdir / "policies").mkdir()
    policy = chdir / "policies" / "gitops-guard.yaml"
    policy.write_text("version: 1\nrules:\n  image/tag-not-allowed: warning\n")
    assert cli("promote", "web")[0] == 0
    policy.write_text("version: 1\n")
    target = chdir / "clusters" / "production" / "web" / "kustomization.yaml"
    target.write_text(
        target.read_text().replace(
            "  newTag: 'v1.9.0'",
            "  # gitops-guard: ignore[image/tag-not-allowed]\n  newTag: 'v1.9.0'",
        )
    )
    assert cli("promote", "web")[0] == 0


# -- order and direction (issue 12) ---------------------------------------------------------


def _kust(tag: str, digest: str = "") -> str:
    text = f"images:\n  - name: web\n    newName: registry.example.com/web\n    newTag: {tag}\n"
    return text + (f"    digest: {digest}\n" if digest else "")


def _three_envs(root: Path, dev: str, staging: str, production: str) -> None:
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "gitops-guard.yaml").write_text(
        "version: 1\npromotion:\n  environments: [dev, staging, production]\n"
    )
    for env, tag in (("dev", dev), ("staging", staging), ("production", production)):
        folder = root / "clusters" / env / "web"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kustomization.yaml").write_text(_kust(tag))


def test_promote_refuses_to_skip_or_go_back_in_the_order_unless_forced(chdir, cli):
    _three_envs(chdir, "v1.2.0", "v1.1.0", "v1.0.0")
    code, _, err = cli("promote", "web", "--from", "dev", "--to", "production", "--write")
    assert code == 1
    assert "dev -> production skips staging" in err and "--force" in err
    code, _, err = cli("promote", "web", "--from", "production", "--to", "staging", "--write")
    assert code == 1 and "backwards" in err
    prod = chdir / "clusters/production/web/kustomization.yaml"
    assert "v1.0.0" in prod.read_text()  # nothing written
    code, _, err = cli(
        "promote", "web", "--from", "dev", "--to", "production", "--write", "--force"
    )
    assert code == 0, err
    assert "v1.2.0" in prod.read_text()


def test_promote_refuses_a_lower_version_unless_forced(chdir, cli):
    _three_envs(chdir, "v1.0.0", "v1.1.0", "v1.3.0")
    code, _, err = cli("promote", "web", "--to", "production", "--write")
    assert code == 1
    assert "production would move backwards" in err and "v1.3.0 -> " in err
    assert "lower version" in err
    code, _, err = cli("promote", "web", "--to", "production", "--write", "--force")
    assert code == 0, err
    # a higher version is a promotion
    code, _, err = cli("promote", "web", "--from", "dev", "--to", "staging")
    assert code == 1 and "staging would move backwards" in err


def test_promote_refuses_an_older_digest_unless_forced(chdir, cli):
    old, new = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    _three_envs(chdir, "v1.0.0", "v1.0.0", "v1.0.0")
    stg = chdir / "clusters/staging/web/kustomization.yaml"
    prod = chdir / "clusters/production/web/kustomization.yaml"
    stg.write_text(_kust("v1.0.0", old))
    prod.write_text(_kust("v1.0.0", old))
    init_repo(chdir)
    stg.write_text(_kust("v1.0.0", new))  # a rebuild of the same tag
    git(chdir, "commit", "-qam", "staging: rebuilt")
    prod.write_text(_kust("v1.0.0", new))
    git(chdir, "commit", "-qam", "production: rebuilt")
    stg.write_text(_kust("v1.0.0", old))  # staging rolled back to the old build
    git(chdir, "commit", "-qam", "staging: rolled back")
    code, _, err = cli("promote", "web", "--to", "production")
    assert code == 1 and "older digest" in err
    assert cli("promote", "web", "--to", "production", "--force")[0] == 0


def test_branch_reads_the_source_from_the_commit_or_refuses(chdir, cli):
    build_case(chdir, "kustomize-comments")
    init_repo(chdir)
    source = chdir / "clusters" / "staging" / "web" / "kustomization.yaml"
    source.write_text(source.read_text().replace("v1.4.2", "v1.9.9"))  # not committed
    code, _, err = cli("promote", "web", "--branch")
    assert code == 1
    assert "staging's overlay has uncommitted changes" in err
    assert "clusters/staging/web/kustomization.yaml" in err
    assert git(chdir, "branch", "--show-current").stdout.strip() == "main"
    assert git(chdir, "branch", "--list", "promote/*").stdout == ""


# -- never lose or corrupt a byte (issue 16) ----------------------------------------------


def _two_apps(root: Path) -> list[Path]:
    """Apps api and web, each a step behind in production; the production files."""
    targets = []
    for app in ("api", "web"):
        for env, tag in (("staging", "v1.0.1"), ("production", "v1.0.0")):
            folder = root / "clusters" / env / app
            folder.mkdir(parents=True)
            (folder / "values.yaml").write_text(
                f"image:\n  repository: r.example.com/{app}\n  tag: {tag}\n"
            )
        targets.append(root / "clusters" / "production" / app / "values.yaml")
    return targets


def test_write_goes_through_a_symlink(chdir, cli):
    _two_apps(chdir)
    shared = chdir / "shared" / "web-values.yaml"
    shared.parent.mkdir()
    link = chdir / "clusters" / "production" / "web" / "values.yaml"
    shared.write_bytes(link.read_bytes())
    link.unlink()
    link.symlink_to(os.path.relpath(shared, link.parent))
    code, _, err = cli("promote", "web", "--write")
    assert code == 0, err
    assert link.is_symlink() and "tag: v1.0.1" in shared.read_text()


def test_all_write_is_all_or_nothing_with_an_exact_account(chdir, cli, monkeypatch):
    api, web = _two_apps(chdir)
    before = {p: p.read_bytes() for p in (api, web)}
    real_replace = os.replace

    def full_disk(src, dst):  # the second rename fails, as on a full or read-only disk
        if str(dst) == str(web) and str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    code, _, err = cli("promote", "--all", "--write")
    assert code == 1
    assert {p: p.read_bytes() for p in (api, web)} == before
    assert "No space left on device" in err and "nothing was changed" in err
    assert "restored: clusters/production/api/values.yaml" in err
    assert not [p for p in chdir.rglob(".*") if p.suffix in (".tmp", ".bak")]


def test_a_file_changed_by_another_program_after_it_was_read_is_not_overwritten(
    chdir, cli, monkeypatch
):
    from gitops_guard.core import atomic

    api, web = _two_apps(chdir)
    real_read = atomic.read

    def another_program_writes_first(path, **kwargs):
        if str(path) == str(web):
            web.write_text(web.read_text() + "# edited meanwhile\n")
        return real_read(path, **kwargs)

    monkeypatch.setattr(atomic, "read", another_program_writes_first)
    code, _, err = cli("promote", "--all", "--write")
    assert code == 1 and "changed after it was read" in err
    assert web.read_text().endswith("# edited meanwhile\n") and "v1.0.0" in web.read_text()
    assert "tag: v1.0.0" in api.read_text()  # all or nothing: api untouched too


def test_a_newline_in_a_folder_name_never_splits_a_summary_or_diff_line(chdir, cli):
    """promote's and set-image's summary lines and diff headers escape names from the
    repository as the reports escape paths (core/findings.printable_path)."""
    images = "images:\n  - name: web\n    newName: registry.example.com/web\n    newTag: {}\n"
    for env, tag in (("staging", "v2.0.0"), ("production", "v1.0.0")):
        folder = chdir / "clusters" / env / "we\nb"
        folder.mkdir(parents=True)
        (folder / "kustomization.yaml").write_text(images.format(tag))
    code, out, err = cli("promote", "we\nb")
    assert code == 0, err
    assert "--- a/clusters/production/we\\nb/kustomization.yaml\n" in out
    assert (
        "promote we\\nb staging -> production: images[name=web] registry.example.com/web:v1.0.0 -> "
        "registry.example.com/web:v2.0.0\n" in err
    ), err
    code, out, err = cli(
        "set-image", "we\nb", "--env", "staging", "registry.example.com/web:v3.0.0"
    )
    assert code == 0, err
    assert "--- a/clusters/staging/we\\nb/kustomization.yaml\n" in out
    code, _, err = cli(
        "set-image", "we\nb", "--env", "staging", "registry.example.com/web:v3.0.0", "--write"
    )
    assert (
        code == 0
        and "set-image we\\nb staging: clusters/staging/we\\nb/kustomization.yaml\n" in err
    )


# -- a container image an images entry retags is not promoted: kustomize api/filters/imagetag --

RETAGGED = BASE_DEPLOYMENT.replace("image: web", "image: ghcr.io/acme/web:WRITTEN")


def retag_case(root: Path, entry: str, written: dict[str, str]) -> None:
    for env, tag in (("staging", "v2.0.0"), ("production", "v1.0.0")):
        folder = root / "clusters" / env / "web"
        folder.mkdir(parents=True)
        (folder / "deployment.yaml").write_text(RETAGGED.replace("WRITTEN", written[env]))
        (folder / "kustomization.yaml").write_text(
            f"resources:\n  - deployment.yaml\nimages:\n  - name: {entry}\n    newTag: {tag}\n"
        )
    init_repo(root)


def test_promote_moves_the_entry_not_the_container_line_it_retags(chdir, cli):
    retag_case(chdir, "ghcr.io/acme/web", {"staging": "v0.1.0", "production": "v0.0.9"})
    deployment = chdir / "clusters" / "production" / "web" / "deployment.yaml"
    before = deployment.read_bytes()
    code, out, err = cli("promote", "web", "--write")
    assert code == 0, out + err
    assert "newTag: v2.0.0" in (chdir / "clusters/production/web/kustomization.yaml").read_text()
    assert deployment.read_bytes() == before  # what runs there is the entry's tag
    assert "retags container:Deployment/web/containers/web" in err


def test_promote_moves_a_container_line_no_entry_retags(chdir, cli):
    retag_case(chdir, "ghcr.io/acme/other", {"staging": "v0.1.0", "production": "v0.0.9"})
    code, out, err = cli("promote", "web", "--write")
    assert code == 0, out + err
    deployment = (chdir / "clusters" / "production" / "web" / "deployment.yaml").read_text()
    assert "image: ghcr.io/acme/web:v0.1.0" in deployment
    assert "retags" not in err

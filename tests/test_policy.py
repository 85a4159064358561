"""The policy file: found upward or given, defaults, validation (exit 2 naming the bad key),
per-environment overrides, the validation cache, and the schema ``policy-schema`` prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT
from gitops_guard.core import policy as policy_mod
from gitops_guard.core.policy import (
    DEFAULT_TAG_PATTERN,
    Policy,
    PolicyError,
    find_policy,
    load_policy,
    schema,
)

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    "    - name: c\n      image: quay.io/team/app:1.27\n"
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own validation cache (never the user's)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("GITOPS_GUARD_NO_CACHE", raising=False)
    return cache


def write_policy(root: Path, text: str) -> Path:
    path = root / "policies" / "gitops-guard.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- finding the file ---------------------------------------------------------------------


def test_found_from_the_working_directory_upward(chdir: Path, monkeypatch):
    path = write_policy(chdir, "version: 1\nimages:\n  tag_pattern: '^\\d+\\.\\d+$'\n")
    deep = chdir / "clusters" / "production" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_policy() == path.resolve()
    loaded = load_policy()
    assert loaded.section("images")["tag_pattern"] == "^\\d+\\.\\d+$"
    assert loaded.root == chdir.resolve()


def test_defaults_without_a_policy_file(chdir: Path):
    assert find_policy(chdir) is None
    loaded = load_policy()
    images = loaded.section("images")
    assert images["tag_pattern"] == DEFAULT_TAG_PATTERN == r"^v\d+\.\d+\.\d+$"
    assert images["allowed_registries"] == [] and images["require_digest"] is False
    assert loaded.environments == ["staging", "production"]
    assert loaded.path is None


def test_policy_option_wins_over_the_found_file(chdir: Path, cli):
    write_policy(chdir, "version: 1\nimages:\n  tag_pattern: '^never$'\n")
    other = chdir / "other.yaml"
    other.write_text("version: 1\nimages:\n  tag_pattern: '^\\d+\\.\\d+$'\n", encoding="utf-8")
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    assert cli("check-images", "pod.yaml")[0] == 1
    assert cli("check-images", "--policy", str(other), "pod.yaml")[0] == 0


def test_partial_policy_keeps_the_other_defaults(tmp_path: Path):
    path = write_policy(tmp_path, "version: 1\nimages:\n  require_digest: true\n")
    images = load_policy(path).section("images")
    assert images["require_digest"] is True
    assert images["tag_pattern"] == DEFAULT_TAG_PATTERN


# -- invalid files: exit 2, one line naming the bad key, no traceback ----------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("version: 1\nimagez: {}\n", "imagez"),
        ("version: 2\n", "version"),
        ("images: {}\n", "version"),
        ("version: 1\nimages:\n  require_digest: 'yes'\n", "images.require_digest"),
        ("version: 1\nimages:\n  tag_pattern: '(unclosed'\n", "images.tag_pattern"),
        ("version: 1\nimages:\n  allowed_registries: registry.example.com\n", "allowed_regis"),
        ("version: 1\nimages:\n  colour: blue\n", "colour"),
        ("version: 1\nenvironments:\n  production:\n    images:\n      pin: true\n", "pin"),
        ("version: 1\nenvironments:\n  production:\n    promotion: {}\n", "promotion"),
        ("version: 1\nrules:\n  image/tag-latest: loud\n", "rules.image/tag-latest"),
        ("version: 1\nrules:\n  NotARule: off\n", "NotARule"),
        ("version: 1\nrules:\n  image/tag-not-alowed: warning\n", "unknown rule id"),
        ("version: 1\nimages:\n  tag_pattern: '[[:x'\n", "not a valid regular expression"),
        ("version: 1\npromotion:\n  require: always\n", "promotion.require"),
        ("version: 1\npromotion:\n  environments: []\n", "promotion.environments"),
        ("- version: 1\n", "mapping"),
        ("version: 1\n---\nversion: 1\n", "mapping"),
        ("version: [1\n", "gitops-guard.yaml:2"),
        ("version: 1\nversion: 1\n", "duplicate key"),
        ("", "mapping"),
    ],
)
def test_invalid_policy_is_exit_2_naming_the_bad_key(text, named, chdir: Path, cli):
    path = write_policy(chdir, text)
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    code, out, err = cli("check-images", "pod.yaml")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("gitops-guard: error: ")
    assert named in err
    assert "Traceback" not in err
    assert str(path.name) in err
    with pytest.raises(PolicyError):
        load_policy(path)


def test_a_bad_regex_prints_no_warning_before_the_one_line(chdir: Path, cli):
    import warnings

    write_policy(chdir, "version: 1\nimages:\n  tag_pattern: '[[:x'\n")
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = cli("check-images", "pod.yaml")
    assert code == 2 and "images.tag_pattern" in err
    assert [str(w.message) for w in caught] == []


def test_unreadable_policy_option_is_exit_2(chdir: Path, cli):
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    code, out, err = cli("check-images", "--policy", "missing.yaml", "pod.yaml")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "missing.yaml" in err


def test_invalid_policy_through_a_real_process_has_no_traceback(chdir: Path):
    import subprocess
    import sys

    write_policy(chdir, "version: 1\nimages:\n  require_digest: 'yes'\n")
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-images", "pod.yaml"],
        cwd=chdir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "images.require_digest" in result.stderr


# -- environments -------------------------------------------------------------------------------


def test_an_unknown_environment_name_is_a_usage_error(chdir: Path, cli):
    # a typo (prod: for production) would silently override nothing
    write_policy(
        chdir, "version: 1\nenvironments:\n  prod:\n    images:\n      require_digest: true\n"
    )
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    code, out, err = cli("check-images", "pod.yaml")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "environments.prod: no such environment" in err
    assert "[staging, production]" in err and "clusters/prod/" in err
    (chdir / "clusters" / "prod").mkdir(parents=True)  # an environment by its folder
    assert cli("check-images", "pod.yaml")[0] != 2
    write_policy(
        chdir,
        "version: 1\npromotion:\n  environments: [dev, prod]\n"
        "environments:\n  dev:\n    rules:\n      image/tag-not-allowed: 'off'\n",
    )
    assert cli("check-images", "pod.yaml")[0] != 2  # one of promotion.environments


def test_environment_overrides_merge_into_the_top_level():
    pol = Policy(
        {
            "version": 1,
            "images": {"allowed_registries": ["a.io"], "tag_pattern": "x", "require_digest": False},
            "environments": {"production": {"images": {"require_digest": True}}},
        }
    )
    prod = pol.section("images", "production")
    assert prod == {"allowed_registries": ["a.io"], "tag_pattern": "x", "require_digest": True}
    assert pol.section("images", "staging")["require_digest"] is False
    assert pol.section("images")["require_digest"] is False
    assert pol.section("images", "production") is prod  # computed once
    assert pol.section("nothing", "production") == {}


def test_environment_override_applies_to_files_under_clusters_env(chdir: Path, cli):
    write_policy(
        chdir,
        "version: 1\nenvironments:\n  production:\n    images:\n      require_digest: true\n",
    )
    pod = POD.replace("quay.io/team/app:1.27", "quay.io/team/app:v1.2.7")
    for env in ("staging", "production"):
        (chdir / "clusters" / env).mkdir(parents=True)
        (chdir / "clusters" / env / "pod.yaml").write_text(pod, encoding="utf-8")
    code, out, _ = cli("check-images", "clusters")
    assert code == 1
    assert out.splitlines() == [
        "clusters/production/pod.yaml:7:14: image/digest-required image 'quay.io/team/app' "
        "must be pinned by @sha256: digest in production"
    ]


def test_environment_override_applies_from_a_subfolder(chdir: Path, cli, monkeypatch):
    write_policy(
        chdir,
        "version: 1\nenvironments:\n  production:\n    images:\n      require_digest: true\n",
    )
    (chdir / ".git").mkdir()
    app = chdir / "clusters" / "production" / "demo-app"
    app.mkdir(parents=True)
    (app / "pod.yaml").write_text(POD.replace(":1.27", ":v1.2.7"), encoding="utf-8")
    monkeypatch.chdir(chdir / "clusters" / "production")
    code, out, _ = cli("check-images", "demo-app/pod.yaml")
    assert code == 1 and "image/digest-required" in out


def test_rule_severities_from_the_policy(chdir: Path, cli):
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    write_policy(chdir, "version: 1\nrules:\n  image/tag-not-allowed: warning\n")
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 0 and out.rstrip().endswith("[warning]")
    write_policy(chdir, "version: 1\nrules:\n  image/tag-not-allowed: 'off'\n")
    assert cli("check-images", "pod.yaml")[:2] == (0, "")


def test_an_unquoted_off_turns_a_rule_off(chdir: Path, cli):
    # YAML 1.1 reads an unquoted off as false; the README promises off works
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    write_policy(chdir, "version: 1\nrules:\n  image/tag-not-allowed: off\n")
    assert cli("check-images", "pod.yaml") == (0, "", "")


def test_environment_rules_override_the_top_level(chdir: Path, cli):
    write_policy(
        chdir,
        "version: 1\nenvironments:\n  production:\n    rules:\n"
        "      image/tag-not-allowed: 'off'\n",
    )
    for env in ("staging", "production"):
        (chdir / "clusters" / env).mkdir(parents=True)
        (chdir / "clusters" / env / "pod.yaml").write_text(POD, encoding="utf-8")
    code, out, _ = cli("check-images", "clusters")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()] == ["clusters/staging/pod.yaml"]


# -- the validation cache -------------------------------------------------------------------


def count_validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = policy_mod.validate

    def counting(data, where):
        calls.append(where)
        return real(data, where)

    monkeypatch.setattr(policy_mod, "validate", counting)
    return calls


def test_an_unchanged_valid_policy_is_validated_once(tmp_path, monkeypatch, private_cache):
    calls = count_validations(monkeypatch)
    path = write_policy(tmp_path, "version: 1\n")
    load_policy(path)
    load_policy(path)
    assert len(calls) == 1
    assert any(private_cache.rglob("*")), "nothing remembered under XDG_CACHE_HOME"
    path.write_text("version: 1\nimages: {require_digest: true}\n", encoding="utf-8")
    load_policy(path)
    assert len(calls) == 2


def test_an_invalid_policy_is_never_remembered(tmp_path, monkeypatch):
    calls = count_validations(monkeypatch)
    path = write_policy(tmp_path, "version: 1\nimages: {require_digest: 'yes'}\n")
    for _ in range(2):
        with pytest.raises(PolicyError):
            load_policy(path)
    assert len(calls) == 2


def test_no_cache_environment_variable_always_validates(tmp_path, monkeypatch, private_cache):
    monkeypatch.setenv("GITOPS_GUARD_NO_CACHE", "1")
    calls = count_validations(monkeypatch)
    path = write_policy(tmp_path, "version: 1\n")
    load_policy(path)
    load_policy(path)
    assert len(calls) == 2
    assert not private_cache.exists() or not any(private_cache.rglob("*"))


def test_an_unwritable_cache_costs_only_a_validation(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = write_policy(tmp_path, "version: 1\n")
    assert load_policy(path).section("images")["tag_pattern"] == DEFAULT_TAG_PATTERN


# -- the schema -------------------------------------------------------------------------------


def readme_policy_example() -> dict:
    """The example of the policy reference (docs/policy.md), its first YAML block."""
    section = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return yaml.safe_load(block.group(1))


def test_policy_schema_prints_a_valid_json_schema_that_accepts_the_readme_example(cli):
    code, out, err = cli("policy-schema")
    assert code == 0 and err == ""
    printed = json.loads(out)
    assert printed == json.loads(json.dumps(schema()))
    jsonschema.Draft202012Validator.check_schema(printed)
    example = readme_policy_example()
    assert example["version"] == 1 and "environments" in example
    jsonschema.Draft202012Validator(printed).validate(example)


def test_the_readme_example_is_a_working_policy_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(readme_policy_example()), encoding="utf-8")
    loaded = load_policy(path)
    assert loaded.section("images", "production")["require_digest"] is True


def test_schema_rejects_what_load_policy_rejects():
    validator = jsonschema.Draft202012Validator(schema())
    assert not validator.is_valid({"version": 1, "images": {"colour": "blue"}})
    assert validator.is_valid({"version": 1})


def test_the_readme_policy_reference_documents_every_key_of_the_schema():
    text = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.<>-]+)` \|", text, re.MULTILINE))
    expected = set()
    for section, spec in schema()["properties"].items():
        keys = list(spec.get("properties", {}))
        expected |= {f"{section}.{key}" for key in keys} if keys else {section}
    expected = {"rules.<rule-id>" if k == "rules" else k for k in expected}
    expected = {"environments.<env>.<section>" if k == "environments" else k for k in expected}
    assert expected <= documented, expected - documented


def test_root_dir_is_known_only_from_the_contracts_place(tmp_path: Path):
    # a policy at <repo>/policies/gitops-guard.yaml names its repository; one given with
    # --policy from elsewhere does not (environment_of then finds the file's own repository)
    (tmp_path / "repo" / "policies").mkdir(parents=True)
    placed = tmp_path / "repo" / "policies" / "gitops-guard.yaml"
    placed.write_text("version: 1\n", encoding="utf-8")
    elsewhere = tmp_path / "strict.yaml"
    elsewhere.write_text("version: 1\n", encoding="utf-8")
    assert load_policy(placed).root_dir == str(tmp_path / "repo")
    assert load_policy(elsewhere).root_dir is None


# -- a policy that is not a readable file, and hostile values (issue 16) ------------------

FORBIDDEN = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    "    - name: c\n      image: docker.io/evil/app:v1.0.0\n"
)


@pytest.mark.parametrize("shape", ["folder", "dangling symlink", "fifo"])
def test_a_policy_that_is_not_a_readable_file_is_exit_2_not_the_defaults(
    shape: str, tmp_path: Path
):
    """A policy shared through a submodule CI did not check out is a folder or a dangling
    link; with the defaults the allow-list would silently not apply. A FIFO would block."""
    import os
    import subprocess
    import sys

    root = tmp_path / "repo"
    target = root / "policies" / "gitops-guard.yaml"
    target.parent.mkdir(parents=True)
    if shape == "folder":
        target.mkdir()
    elif shape == "dangling symlink":
        target.symlink_to(root / "shared" / "missing.yaml")
    else:
        os.mkfifo(target)
    (root / "pod.yaml").write_text(FORBIDDEN, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-images", "pod.yaml"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "cannot read policy file" in done.stderr
    assert "gitops-guard.yaml" in done.stderr and done.stdout == ""


def test_catastrophic_tag_pattern_finishes(chdir: Path):
    """``^v(\\d+\\.?)+$`` backtracks forever on Python's re against a 34-character tag."""
    import subprocess
    import sys

    write_policy(chdir, "version: 1\nimages:\n  tag_pattern: '^v(\\d+\\.?)+$'\n")
    tag = "v" + "1" * 34 + "x"
    (chdir / "pod.yaml").write_text(POD.replace("1.27", tag), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "check-images", "pod.yaml"],
        cwd=chdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "image/tag-not-allowed" in done.stdout, done.stderr


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("^(?=v)v\\d+$", "lookahead"),
        ("(" * 1000 + "v" + ")" * 1000 + "{2000}", "not a valid regular expression"),
        ("^v(" + "\\d|" * 3000 + "x)$", "longer than"),
    ],
)
def test_patterns_the_linear_engine_cannot_run_are_exit_2_in_one_bounded_line(
    pattern: str, says: str, chdir: Path, cli
):
    write_policy(chdir, f"version: 1\nimages:\n  tag_pattern: '{pattern}'\n")
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    code, out, err = cli("check-images", "pod.yaml")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err and "internal error" not in err
    assert len(err) < 800


def test_a_thousand_nested_groups_are_no_internal_error(chdir: Path, cli):
    write_policy(
        chdir, "version: 1\nimages:\n  tag_pattern: '" + "(" * 1000 + "v" + ")" * 1000 + "'\n"
    )
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    code, _out, err = cli("check-images", "pod.yaml")
    assert "internal error" not in err and code in (1, 2)


def test_a_finding_naming_100000_allowed_registries_is_bounded(chdir: Path, cli):
    registries = "".join(f"  - r{i}.example.com\n" for i in range(100_000))
    write_policy(chdir, f"version: 1\nimages:\n  allowed_registries:\n{registries}")
    (chdir / "pod.yaml").write_text(POD, encoding="utf-8")
    code, out, _err = cli("check-images", "pod.yaml")
    assert code == 1 and "image/registry-not-allowed" in out
    assert max(len(line) for line in out.splitlines()) < 2_200


def test_an_alias_folder_beside_its_environment_s_own_name_is_not_that_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """clusters/prod/ stands for production under the default order, unless a sibling has
    production's own name: then prod is an environment of its own (repo/environments.py
    _alias_of), and production's overrides do not apply to it."""
    getattr(policy_mod, "_OWN_NAMES", {}).clear()
    (tmp_path / "policies").mkdir()
    policy_file = tmp_path / "policies" / "gitops-guard.yaml"
    policy_file.write_text(
        "version: 1\nenvironments:\n  production:\n    images:\n      require_digest: true\n"
    )
    for folder in ("clusters/prod/web", "apps/stage/web"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    policy = load_policy(str(policy_file))
    prod = str(tmp_path / "clusters" / "prod" / "web" / "deploy.yaml")
    assert policy.environment_of(prod) == "production"  # alone: production by its alias
    assert policy.environment_of(str(tmp_path / "apps/stage/web/x.yaml")) == "staging"
    (tmp_path / "clusters" / "production").mkdir()
    getattr(policy_mod, "_OWN_NAMES", {}).clear()
    again = load_policy(str(policy_file))
    assert again.environment_of(prod) == "prod"
    assert again.environment_of(str(tmp_path / "apps/stage/web/x.yaml")) == "staging"

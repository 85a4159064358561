"""core/patterns.py: patterns from files run on RE2 (linear time), or are refused clearly."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from gitops_guard.core import patterns
from gitops_guard.core.patterns import PatternError, compile_pattern


def test_catastrophic_pattern_returns():
    """``^v(\\d+\\.?)+$`` on a 34-character tag never finishes on a backtracking engine; on
    RE2 it answers at once. Run in a child with a generous limit: a hang fails, not a clock."""
    code = (
        "from gitops_guard.core.patterns import compile_pattern\n"
        "p = compile_pattern(r'^v(\\d+\\.?)+$')\n"
        "print(p.search('v' + '1' * 34 + 'x'), p.search('v1.2.3'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout == "False True\n", done.stderr


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "backreferences"),
        (r"^(?=v)v\d+$", "lookahead"),
        (r"(?<!x)v", "lookahead"),
        ("a{1001}", "at most 1000"),
        ("[", "missing ]"),
    ],
)
def test_what_re2_cannot_run_is_a_clear_error(pattern: str, why: str):
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern)
    assert why in str(info.value)
    assert repr(pattern) in str(info.value)


def test_huge_pattern_is_refused_and_quoted_briefly():
    huge = "(v|" * 2_000_000 + "x"
    with pytest.raises(PatternError) as info:
        compile_pattern(huge)
    message = str(info.value)
    assert "longer than" in message and len(message) < 300
    assert f"{len(huge):,} chars" in message


def test_thousand_nested_groups_compile_or_refuse_without_crash():
    nested = "(" * 1000 + "v" + ")" * 1000
    try:
        assert compile_pattern(nested).search("v")
    except PatternError as exc:
        assert len(str(exc)) < 300


def test_python_end_of_text_anchor_is_accepted():
    pattern = compile_pattern(r"^v\d+\Z")
    assert pattern.search("v12") and not pattern.search("v12\n")
    assert compile_pattern(r"\\Z").search("\\Z")  # an escaped backslash, then Z


@pytest.mark.parametrize(
    "pattern",
    [
        r"^v\d+\.\d+\.\d+$",
        r"^[0-9a-f]{7,40}$",
        r"^(main|release)-\d+$",
        r"^\d{4}\.\d{2}\.\d{2}(-rc\d+)?$",
        r"sha-[a-z0-9]+",
        r"(?i)^V\d+",
    ],
)
@pytest.mark.parametrize(
    "text", ["v1.2.3", "v1.2", "main-12", "release-x", "2024.01.02-rc1", "abc1234", "sha-9f", "V7"]
)
def test_common_tag_patterns_match_as_python_re_does(pattern: str, text: str):
    assert compile_pattern(pattern).search(text) == bool(re.search(pattern, text))


def test_without_re2_only_the_proven_default_runs(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "re2", None)  # import re2 -> ImportError
    monkeypatch.setattr(patterns, "_cache", {})
    assert compile_pattern(r"^v\d+\.\d+\.\d+$").search("v1.2.3")
    with pytest.raises(PatternError, match="google-re2"):
        compile_pattern(r"^v(\d+\.?)+$")


@pytest.mark.parametrize(
    ("parts", "gap", "text", "expected"),
    [
        (["a", "b"], 0, "ab", True),
        (["a", "b"], 0, "axxb", True),
        (["a", "b"], 1, "ab", False),  # ${X} stands for at least one character
        (["a", "b"], 1, "axb", True),
        (["a", "a"], 0, "a", False),  # the two parts cannot overlap
        (["", "-infra"], 1, "-infra", False),
        (["", "-infra"], 1, "cert-manager-infra", True),
        (["x", "x", "y"], 0, "xxy", True),
        (["x", "x", "y"], 0, "xy", False),
        (["exact"], 0, "exact", True),
        (["exact"], 0, "exactly", False),
        (["", "x", "x", ""], 0, "x" * 60 + "y", True),
        (["", "x", "x", ""], 1, "xx", False),
    ],
)
def test_wildcards_match_as_the_regular_expression_would(parts, gap, text, expected):
    """``Wildcards(parts, gap)`` agrees with ``(.{gap,}?)``-joined parts, in linear time."""
    import re

    from gitops_guard.core.patterns import Wildcards

    joiner = ".*" if gap == 0 else ".+"
    regex = re.compile(joiner.join(re.escape(p) for p in parts), re.S)
    assert Wildcards(parts, gap).fullmatch(text) is expected
    assert bool(regex.fullmatch(text)) is expected

"""Findings: ordering, immutability, suppression comments (line and line above, with ids,
bare), and the exit code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitops_guard.core.findings import Finding, exit_code, filter_suppressed, is_suppressed


def f(line: int, rule: str = "image/tag-latest", severity: str | None = None) -> Finding:
    return Finding("a.yaml", line, 5, rule, "message", severity)


@pytest.mark.parametrize(
    ("lines", "line", "rule", "suppressed"),
    [
        (["image: x:latest  # gitops-guard: ignore"], 1, "image/tag-latest", True),
        (["# gitops-guard: ignore", "image: x:latest"], 2, "image/tag-latest", True),
        (["# gitops-guard: ignore", "", "image: x:latest"], 3, "image/tag-latest", False),
        (["image: x:latest", "# gitops-guard: ignore"], 1, "image/tag-latest", False),
        (["a: 1  # gitops-guard: ignore", "image: x:latest"], 2, "image/tag-latest", False),
        (["  # gitops-guard: ignore[image/tag-latest]", "x"], 2, "image/tag-latest", True),
        (["x  # gitops-guard: ignore[image/tag-latest]"], 1, "image/tag-latest", True),
        (["x  # gitops-guard: ignore[image/tag-latest]"], 1, "image/tag-missing", False),
        (["x  # gitops-guard: ignore[image/x, image/tag-latest]"], 1, "image/tag-latest", True),
        (["x  # gitops-guard: ignore[image/x,image/tag-latest]"], 1, "image/tag-latest", True),
        (["x  #gitops-guard:ignore[image/tag-latest]"], 1, "image/tag-latest", True),
        (["x  # GITOPS-GUARD: IGNORE"], 1, "image/tag-latest", True),
        (["x  # gitops-guard: ignore[]"], 1, "image/tag-latest", True),
        (["x  # gitops-guard: ignore[image]"], 1, "image/tag-latest", False),
        (["x  # gitops-guard ignore"], 1, "image/tag-latest", False),
        (["x  # nothing here"], 1, "image/tag-latest", False),
        (["x"], 7, "image/tag-latest", False),
    ],
)  # fmt: skip
def test_suppression_comments(lines, line, rule, suppressed):
    assert is_suppressed(f(line, rule), lines) is suppressed
    assert (filter_suppressed([f(line, rule)], lines) == []) is suppressed


def test_empty_brackets_suppress_everything_like_a_bare_comment():
    # `ignore[]` names no rule: treated like the bare form rather than silently doing nothing
    assert is_suppressed(f(1, "image/anything"), ["x # gitops-guard: ignore[]"])


def test_filter_keeps_unsuppressed_findings_in_order():
    lines = ["a", "# gitops-guard: ignore[image/tag-latest]", "b", "c"]
    findings = [f(1), f(3), f(3, "image/tag-missing"), f(4)]
    assert filter_suppressed(findings, lines) == [f(1), f(3, "image/tag-missing"), f(4)]


def test_suppression_through_the_cli(cli, chdir: Path):
    (chdir / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    # gitops-guard: ignore[image/tag-latest]\n"
        "    - {name: a, image: 'reg.io/a:latest'}\n"
        "    - {name: b, image: 'reg.io/b:latest'}  # gitops-guard: ignore\n"
        "    - {name: c, image: 'reg.io/c:latest'}  # gitops-guard: ignore[image/tag-missing]\n",
        encoding="utf-8",
    )
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 1
    assert [line.split(": ")[1].split(" ")[0] for line in out.splitlines()] == [
        "image/tag-latest",
        "policy/unused-ignore",  # ignore[image/tag-missing] silences nothing there
    ]
    assert out.startswith("pod.yaml:9:")
    assert out.splitlines()[1].startswith("pod.yaml:9:44: policy/unused-ignore")


def test_only_real_comments_suppress_in_yaml():
    lines = [
        "args:",
        "  - |",
        "    echo start",
        "    # gitops-guard: ignore",  # a line of a script, not a comment
        "image: nginx:latest",
        'cmd: "x  # gitops-guard: ignore"',  # inside a string
        'say: "# gitops-guard: ignore[x/y]"  # gitops-guard: ignore[image/tag-latest]',
        "key: |  # gitops-guard: ignore",  # a block scalar's header takes a comment
        "  text",
    ]
    assert filter_suppressed([f(5), f(6), f(7), f(8)], lines) == [f(5), f(6)]
    # outside YAML (the secrets hook scans any text file) every # comment counts
    env = [Finding("app.env", 2, 1, "secret/x", "m")]
    assert filter_suppressed(env, ["X=a", 'Y="a"  # gitops-guard: ignore']) == []
    assert filter_suppressed(env, ["X=a", "Y=a"]) == env
    assert filter_suppressed(env, ["# gitops-guard: ignore", "X=a"]) == []
    # a YAML syntax error: past it, every comment counts again
    broken = ["a: [", "# gitops-guard: ignore", "image: x"]
    assert filter_suppressed([f(3)], broken) == []


def test_a_block_scalar_line_does_not_suppress_through_the_cli(cli, chdir: Path):
    (chdir / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: a\n      args:\n        - |\n          echo start\n"
        "          # gitops-guard: ignore\n      image: 'reg.io/a:latest'\n",
        encoding="utf-8",
    )
    code, out, _ = cli("check-images", "pod.yaml")
    assert code == 1 and out.startswith("pod.yaml:11:") and "image/tag-latest" in out


def test_findings_sort_by_place_and_are_immutable():
    a = Finding("b.yaml", 1, 1, "x/y", "m")
    b = Finding("a.yaml", 9, 1, "x/y", "m")
    c = Finding("a.yaml", 2, 3, "x/z", "m")
    assert sorted([a, b, c]) == [c, b, a]
    with pytest.raises(AttributeError):
        a.line = 3  # type: ignore[misc]
    assert a == Finding("b.yaml", 1, 1, "x/y", "m")
    assert a != Finding("b.yaml", 1, 1, "x/y", "other message")
    assert len({a, Finding("b.yaml", 1, 1, "x/y", "m")}) == 1
    assert a.with_severity("warning").severity == "warning" and a.severity is None
    assert "b.yaml" in repr(a)


def test_exit_code_counts_only_errors():
    assert exit_code([]) == 0
    assert exit_code([f(1, severity="warning"), f(2, severity="info")]) == 0
    assert exit_code([f(1, severity="warning"), f(2, severity="error")]) == 1

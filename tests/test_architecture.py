"""The package layout: stages import only earlier stages, no import circles, and
docs/architecture.md lists every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hooks" / "gitops_guard"
STAGES = ["core", "repo", "render", "checks", "change", "scaffold"]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent)
        if "template" in rel.parts:  # the bundled cookiecutter template (a symlink)
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _stage(module: str) -> int:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else len(STAGES)


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every gitops_guard module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("gitops_guard"):
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    out.add(name if name in modules else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("gitops_guard"))
    return {m for m in out if m in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(p, modules) - {m, "gitops_guard"} for m, p in modules.items()}


def test_no_module_imports_a_later_stage():
    upward = [f"{m} -> {o}" for m, out in _graph().items() for o in out if _stage(o) > _stage(m)]
    assert upward == []


def test_there_is_no_import_circle():
    graph = _graph()
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_walker_sees_a_planted_circle_and_an_upward_import(tmp_path):
    """The two checks above can fail: a core module importing a check is caught."""
    fake = tmp_path / "gitops_guard" / "core" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from gitops_guard.checks.promotion import main\n", encoding="utf-8")
    modules = {"gitops_guard.core.x": fake, "gitops_guard.checks.promotion": fake}
    found = _imports(fake, modules)
    assert found == {"gitops_guard.checks.promotion"}
    assert _stage("gitops_guard.checks.promotion") > _stage("gitops_guard.core.x")


def test_architecture_page_lists_every_module_and_no_other():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    tree = text.split("```")[1]
    listed = set()
    folder = ""
    for line in tree.splitlines():
        match = re.match(r"^(\s*)(\S+)", line)
        if not match or line.strip() == "hooks/gitops_guard/":
            continue
        name = match[2]
        if name.endswith("/"):
            folder = name
            continue
        if not name.endswith(".py"):
            continue
        indent = len(match[1])
        listed.add(name if indent <= 2 else folder + name)
    actual = {
        str(p.relative_to(PACKAGE)).replace("\\", "/")
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and "template" not in p.relative_to(PACKAGE).parts
    }
    assert sorted(actual - listed) == [], "modules missing from docs/architecture.md"
    assert sorted(listed - actual) == [], "docs/architecture.md lists modules that do not exist"

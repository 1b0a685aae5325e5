"""What each part of deepviz may import (docs/architecture.md), checked on every file: the
engine is numpy alone, so that a notebook can use it; the lessons are the engine and numpy
(and the standard library); only the app knows the web."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "deepviz"
ALLOWED = {  # beyond the standard library
    "engine": {"numpy", "deepviz.engine"},
    "lessons": {"numpy", "deepviz.engine", "deepviz.lessons"},
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_what_it_may(part):
    files = sorted((PACKAGE / part).rglob("*.py"))
    assert files
    for path in files:
        for name in imports(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            assert any(name == a or name.startswith(a + ".") for a in ALLOWED[part]), f"{path.name} imports {name}"

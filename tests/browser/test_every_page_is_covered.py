"""Every registered page (deepviz.app.routers.pages.PAGES) is in each of the browser suites that
must hold for all pages, or is exempt there for a reason written below: a page added later
cannot be forgotten. A suite is its file and its companions (test_server_trouble_live.py is
test_server_trouble.py's). Read from the suites' source, not by running them: a page counts as covered
when a test opens it (`.goto("/path…")`) or a list of pages a test is parametrized over names it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deepviz.app.routers.pages import PAGES

HERE = Path(__file__).parent
SUITES = ["test_server_trouble.py", "test_storms.py", "test_phone.py"]  # each with its test_<suite>_*.py

# (suite, page) -> why that suite has no test of that page
EXEMPT = {
    ("test_server_trouble.py", "/"): "the contents page asks the API nothing: there is no server trouble to show",
    ("test_storms.py", "/"): "the contents page asks the API nothing: no action of it sends a request",
}


def _page_of(text: str) -> str | None:
    """The registered page a literal opens ("/backprop?preset=notes" -> "/backprop"), if any."""
    path = text.split("?")[0].split("#")[0]
    return path if path in PAGES else None


def pages_opened(source: str) -> set[str]:
    """The registered pages the suite's tests open: literal `.goto()` arguments (plain or f-string),
    and the literals of the module-level lists a `pytest.mark.parametrize` reads."""
    tree = ast.parse(source)
    literals: list[str] = []
    parametrized: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "goto" and node.args:
                first = node.args[0]
                if isinstance(first, ast.JoinedStr) and first.values:
                    first = first.values[0]  # f"/join?code={code}": its start is the page
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    literals.append(first.value)
            if node.func.attr == "parametrize":
                parametrized |= {n.id for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in parametrized for t in node.targets):
            strings = (n for n in ast.walk(node.value) if isinstance(n, ast.Constant))
            literals += [n.value for n in strings if isinstance(n.value, str)]
    return {page for text in literals if (page := _page_of(text))}


@pytest.mark.parametrize("suite", SUITES)
def test_every_page_is_in_the_suite_or_exempt_for_a_reason(suite):
    files = [HERE / suite, *sorted(HERE.glob(suite.replace(".py", "_*.py")))]  # test_server_trouble_live.py too
    opened = set().union(*(pages_opened(f.read_text(encoding="utf-8")) for f in files))
    exempt = {page for (name, page) in EXEMPT if name == suite}
    forgotten = sorted(set(PAGES) - opened - exempt)
    assert not forgotten, f"{suite} has no test of {forgotten}: add one, or say in EXEMPT why it needs none"
    stale = sorted(exempt & opened)
    assert not stale, f"{suite} tests {stale} now: remove the exemption"


def test_every_exemption_names_a_suite_a_page_and_a_reason():
    for (suite, page), reason in EXEMPT.items():
        assert suite in SUITES and page in PAGES and len(reason) > 20, (suite, page, reason)


def test_the_reading_finds_what_a_suite_opens_and_nothing_else():
    source = '''
"""Opens /pooling in its docstring only."""
import pytest
SLOW = [("/backprop?preset=notes", "#graph"), ("/nowhere", "#x")]
LINKS = ["/lenet"]  # not parametrized over: not a page the suite opens
@pytest.mark.parametrize(("path", "figure"), SLOW)
def test_slow(page, path, figure):
    page.goto(path)
def test_join(page, code):
    page.goto(f"/join?code={code}")
    page.goto("/convolution#stack-title")
    expect(page).to_have_url("/training")
'''
    assert pages_opened(source) == {"/backprop", "/join", "/convolution"}

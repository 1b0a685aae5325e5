"""ESLint on deepviz/app/static/js (scripts/test runs it too, before pytest): the code is clean, and the
rules catch the kind of pasted block that once added a submit listener on every click."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ESLINT = ROOT / "node_modules" / ".bin" / "eslint"

# the block pasted into a click handler of receptive_field.js (fixed in 7a656e8)
PASTED = """\
const $ = (id) => document.getElementById(id);
const refresh = () => {};
$("maps").addEventListener("click", (event) => {
  $("unit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  refresh();
});
"""


def eslint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    if not ESLINT.exists():
        pytest.skip("ESLint is not installed: run `npm ci` (scripts/test does)")
    return subprocess.run([str(ESLINT), "--max-warnings", "0", *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=120)  # fmt: skip


def test_the_front_end_has_no_lint_warnings():
    result = eslint("deepviz/app/static/js")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pasted_block_is_caught():
    result = eslint("--stdin", "--stdin-filename", "deepviz/app/static/js/pasted.js", stdin=PASTED)
    assert result.returncode == 1
    assert "'event' is already declared in the upper scope" in result.stdout


def test_a_request_outside_api_js_is_caught():
    result = eslint("--stdin", "--stdin-filename", "deepviz/app/static/js/page.js", stdin='fetch("/api/v1/kernels");\n')
    assert result.returncode == 1
    assert "requests go through api.js" in result.stdout

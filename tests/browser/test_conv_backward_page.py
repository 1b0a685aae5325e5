"""/convolution-backward as a student uses it: step through ∂L/∂X and read one value off the
page, checked against torch on the numbers the page shows; the other two gradients; a link and a
followed class restore the same cell."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def table(page, selector) -> np.ndarray:
    rows = page.locator(f"{selector} tr").evaluate_all("(rs) => rs.map((r) => [...r.cells].map((c) => c.textContent))")
    return np.array([[float(v.replace("−", "-")) for v in row] for row in rows])


def value_of(text: str) -> float:
    return float(text.split(" = ")[-1].split(" ")[0].replace("−", "-"))


def test_stepping_the_input_gradient_reads_a_value_torch_agrees_with(page):
    page.goto("/convolution-backward?grad=dX&n=4&k=2&s=2&p=1&up=random&seed=3")
    expect(page.locator("#back-where")).to_have_text("position 1 of 36")
    for _ in range(8):  # to the padded input's row 1, column 2: the input's (0, 1)
        page.click("#back-step")
    expect(page.locator("#back-where")).to_have_text("position 9 of 36")
    expect(page.locator("#back-sum")).to_contain_text("∂L/∂X[0, 1] = ")
    x, w, g = table(page, "#back-input"), table(page, "#back-kernel"), table(page, "#back-upstream")
    X = torch.tensor(x[None, None], requires_grad=True)
    y = torch.nn.functional.conv2d(X, torch.tensor(w[None, None]), stride=2, padding=1)
    assert y.shape[2:] == g.shape == (3, 3)
    y.backward(torch.tensor(g[None, None]))
    expected = float(X.grad[0, 0, 0, 1])
    assert value_of(page.locator("#back-sum").text_content()) == pytest.approx(expected)
    cell = page.locator('#back-result td[data-row="1"][data-col="2"]')
    assert float(cell.text_content().replace("−", "-")) == pytest.approx(expected)
    expect(page.locator("#back-window td.window")).to_have_count(4)  # the flipped 2×2 kernel's window
    expect(page.locator("#back-window td.inserted").first).to_be_visible()  # the stride's zeros
    expect(page.locator("#back-agrees")).to_contain_text("✓")
    assert "pos=8" in page.url
    screenshot(page, "conv-backward-dX")
    page.reload()  # the link keeps the cell
    expect(page.locator("#back-sum")).to_contain_text("∂L/∂X[0, 1] = ")
    page.locator("#back-pos").evaluate("(e) => { e.value = '35'; e.dispatchEvent(new Event('input')); }")
    expect(page.locator("#back-final td")).to_have_count(16)  # the border cropped: the 4×4 input's gradient
    np.testing.assert_allclose(table(page, "#back-final"), X.grad[0, 0].numpy(), rtol=1e-3)


def test_the_kernel_and_bias_gradients(page):
    page.goto("/convolution-backward?grad=dW&n=4&k=2&up=count")
    expect(page.locator("#back-where")).to_have_text("position 1 of 4")
    x, g = table(page, "#back-input"), table(page, "#back-upstream")
    expected = (x[:3, :3] * g).sum()  # ∂L/∂W[0, 0]: the input under the top-left weight, times G
    assert value_of(page.locator("#back-sum").text_content()) == pytest.approx(expected)
    expect(page.locator("#back-window td.window")).to_have_count(9)
    page.select_option("#gradient", "db")
    expect(page.locator("#back-where")).to_have_text("position 1 of 1")
    assert value_of(page.locator("#back-sum").text_content()) == pytest.approx(g.sum()) == 45


def test_play_runs_to_the_last_cell(page):
    page.goto("/convolution-backward?grad=dW&k=2&n=3")
    expect(page.locator("#back-where")).to_have_text("position 1 of 4")
    page.click("#back-play")
    expect(page.locator("#back-where")).to_have_text("position 4 of 4")
    expect(page.locator("#back-play")).to_have_text("▶ Play")
    expect(page.locator("#back-result td.empty")).to_have_count(0)


def test_a_followed_class_moves_the_page_in_place(page):
    page.goto("/convolution-backward?grad=dX")
    expect(page.locator("#back-where")).to_have_text("position 1 of 16")
    page.evaluate("""() => window.dispatchEvent(new CustomEvent("deepviz:follow",
        { cancelable: true, detail: { state: { grad: "dW", k: "3", pos: "4" } } }))""")
    expect(page.locator("#back-where")).to_have_text("position 5 of 9")
    expect(page.locator("#back-sum")).to_contain_text("∂L/∂W[1, 1] = ")
    expect(page.locator("#gradient")).to_have_value("dW")
    assert re.search(r"grad=dW", page.url)


def test_a_kernel_that_does_not_fit_says_so(page):
    page.goto("/convolution-backward?n=3&k=3&d=2")
    expect(page.locator("#back-error")).to_contain_text("does not fit")

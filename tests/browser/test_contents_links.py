"""A student on the contents page (/) follows every link, one after the other: each opens the
figure it names, in the state it names (the forward pass done, with its values; the backward
pass done, with its gradients; the section of the page in view), not just a page that loads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def in_view(page, selector: str) -> None:
    """The element is on the screen: its top within the viewport (a link's #anchor scrolled to it)."""
    expect(page.locator(selector)).to_be_in_viewport()


def contents(page):
    expect(page.locator("h1")).to_have_text("Deep learning, live")


def skip_link(page):
    expect(page.locator("main#main")).to_be_visible()


def chapter_1(page):
    in_view(page, "#chapter-1")
    expect(page.locator("#chapter-1")).to_contain_text("multi-layer perceptron")


def backprop_page(page):  # chapter 2: the notes' example, ready to step
    expect(page.locator("#step-counter")).to_have_text("step 0 of 10 · ready")
    expect(page.locator("#graph g.node")).to_have_count(5)


def figure_2_1(page):  # gradient descent, step by step
    expect(page.locator("#descent-table tr")).to_have_count(12)
    expect(page.locator("#descent-plot .main-svg").first).to_be_visible()
    in_view(page, "#descent-title")


def figure_2_2(page):  # the graph of L(softmax(Wx + b), y)
    expect(page.locator("#preset")).to_have_value("softmax")
    expect(page.locator("#graph g.node[data-label=L]")).to_be_visible()
    expect(page.locator("#graph g.node[data-label=W]")).to_be_visible()


def figure_2_3(page):  # the graph of f = (x + y)·z
    expect(page.locator("#preset")).to_have_value("notes")
    labels = page.locator("#graph g.node")
    expect(labels).to_have_count(5)
    assert sorted(labels.evaluate_all("(gs) => gs.map((g) => g.dataset.label)")) == ["f", "q", "x", "y", "z"]


def node(page, label: str):
    return page.locator(f"#graph g.node[data-label={label}]")


def figure_2_4(page):  # the forward pass: done, every value shown, no gradient yet
    expect(page.locator("#step-counter")).to_have_text("step 5 of 10 · forward pass")  # was step 0, no values
    for label, value in [("x", "-2"), ("y", "5"), ("z", "-4"), ("q", "3"), ("f", "-12")]:
        expect(node(page, label).locator("text.value")).to_have_text(value)
    expect(page.locator("#graph text.grad")).to_have_count(0)
    expect(page.locator("#narration")).to_contain_text("f = q * z = -12. The forward pass is done")


def figure_2_5(page):  # upstream × local = downstream: the backward pass done, every gradient shown
    expect(page.locator("#step-counter")).to_have_text("step 10 of 10 · backward pass")  # was the forward pass's end
    for label, grad in [("f", "∂ 1"), ("q", "∂ -4"), ("z", "∂ 3"), ("x", "∂ -4"), ("y", "∂ -4")]:
        expect(node(page, label).locator("text.grad")).to_have_text(grad)
    expect(page.locator("#graph text.flow")).to_have_count(4)  # every edge carries its downstream gradient


def convolution_page(page):
    expect(page.locator("#formula")).to_contain_text("⌊(8 − 3 + 2·1) / 1⌋ + 1 = ⌊7 / 1⌋ + 1 = 8")


def figure_5_1(page):  # flatten vs a fully connected layer
    in_view(page, "#flatten-title")
    expect(page.locator("#flat-caption")).to_contain_text("pixel (0, 0) is entry 0")


def figure_5_3(page):  # a kernel slides over the image
    in_view(page, "#slide-title")
    expect(page.locator("#slide-where")).to_have_text("position 1 of 64: output row 0, column 0")
    expect(page.locator("#slide-input td.window")).to_have_count(9)


def figure_5_5(page):  # Sobel and Gaussian on a photograph
    in_view(page, "#photo-title")
    expect(page.locator("#photo-caption")).to_contain_text("85 × 128")


def figure_5_6(page):  # a bank of kernels
    in_view(page, "#bank-title")
    expect(page.locator("#bank-maps canvas")).to_have_count(6)


def figure_5_7(page):  # stacking layers, ReLU between
    in_view(page, "#stack-title")
    expect(page.locator("#stack-body tr")).to_have_count(5)
    expect(page.locator("#stack-body tr").last).to_contain_text("12 × 20 × 20")


def figure_5_a(page):  # the convolution's backward pass
    expect(page.locator("#back-where")).to_have_text("position 1 of 16")
    expect(page.locator("#back-sum")).to_contain_text("∂L/∂X[0, 0] = ")
    expect(page.locator("#back-agrees")).to_contain_text("✓")


def figure_5_9(page):  # padding
    in_view(page, "#slide-title")
    expect(page.locator("#padding-value")).to_have_text("2")
    expect(page.locator("#formula")).to_contain_text("⌊(8 − 3 + 2·2) / 1⌋ + 1 = ⌊9 / 1⌋ + 1 = 10")
    expect(page.locator("#slide-input td.pad").first).to_be_visible()


def figure_5_11(page):  # stride
    in_view(page, "#slide-title")
    expect(page.locator("#stride-value")).to_have_text("2")
    expect(page.locator("#formula")).to_contain_text("⌊(7 − 3 + 2·0) / 2⌋ + 1 = ⌊4 / 2⌋ + 1 = 3")
    expect(page.locator("#output-size")).to_have_text("3 × 3")


def figure_5_10(page):  # receptive fields
    expect(page.locator("#maps canvas")).to_have_count(4)
    expect(page.locator("#rf-formula")).to_contain_text("1 + 3·(3 − 1) = 7")


def figure_5_12(page):  # max and average pooling
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3")
    expect(page.locator("#pool-gradient td")).to_have_count(36)
    expect(page.locator("#photo-max-caption")).to_contain_text("16×16")


def figure_5_13(page):  # LeNet-5: draw a digit
    expect(page.locator("#pad")).to_be_visible()
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#kernels1 canvas")).to_have_count(6)


def figure_5_13_live(page):  # LeNet-5 learning, live: a fresh network, its kernels and test digit drawn
    expect(page.locator("#link-state")).to_have_text("live")
    expect(page.locator("#kernels1 canvas")).to_have_count(6)
    expect(page.locator("#kernels2 canvas")).to_have_count(96)
    expect(page.locator("#step-count")).to_have_text("0")


def optimizers_page(page):  # chapter 4, and chapter 2's page list: the race on the quadratic bowl
    expect(page.locator("#surface")).to_have_value("quadratic")
    expect(page.locator("#results tr[data-name=newton] td.reached")).to_have_text("at step 1")


def figure_2_2_methods(page):  # batch, stochastic and minibatch gradient descent, and Newton
    expect(page.locator("#surface")).to_have_value("logistic")
    expect(page.locator("#results tr[data-name]")).to_have_count(4)
    expect(page.locator("#results tr[data-name=sgd]")).to_be_visible()


def figure_4_a(page):  # loss surfaces
    expect(page.locator("#surface")).to_have_value("rosenbrock")
    expect(page.locator("#formula")).to_contain_text("100")
    expect(page.locator("#contour .main-svg").first).to_be_visible()


def figure_4_b(page):  # the condition number
    expect(page.locator("#condition-value")).to_have_text("κ = 100")
    expect(page.locator("#results tr[data-name=newton] td.reached")).to_have_text("at step 1")
    expect(page.locator("#results tr[data-name=gd] td.reached")).not_to_have_text("at step 1")


def figure_4_c(page):  # Newton heads for a saddle
    expect(page.locator("#results tr[data-name=newton] td.notes")).to_contain_text("ended at the saddle")
    expect(page.locator("#results tr[data-name=newton_safeguarded] td.reached")).to_contain_text("at step")


def training_started(page) -> None:
    expect(page.locator("#link-state")).to_have_text("live", timeout=20_000)
    expect(page.locator("#network svg")).to_be_visible(timeout=20_000)


def figure_1_2(page):  # the pipeline: training set, held-out test set, objective, test metric
    in_view(page, "#pipeline-title")
    training_started(page)
    expect(page.locator("#n-train")).to_have_text("140")
    expect(page.locator("#n-test")).to_have_text("60")


def figure_1_3(page):  # a multi-layer perceptron learning, live: XOR, 2-8-8-1, ready to play
    training_started(page)
    expect(page.locator("#dataset")).to_have_value("xor")
    expect(page.locator("#parameters")).to_have_text("105")


def figure_1_3_2(page):  # the run as a PyTorch program
    in_view(page, "#torch-title")
    training_started(page)
    expect(page.locator("#program")).to_contain_text("nn.Sequential")


def figure_2_1_2(page):  # gradient descent trains a network
    training_started(page)
    expect(page.locator("#optimizer")).to_have_value("gd")
    expect(page.locator("#lr")).to_have_value("0.5")


def figure_2_2_race(page):  # Newton against first-order methods
    in_view(page, "#race-title")
    expect(page.locator("#race")).to_be_visible()


def figure_8_a(page):  # an attack on a gallery digit, the standard model
    expect(page.locator('#digits button[aria-pressed="true"]')).to_have_count(1)
    expect(page.locator("#verdict")).to_contain_text("the standard LeNet-5")
    expect(page.locator("#after li.best")).to_have_count(1)


def figure_8_b(page):  # the same attack on the adversarially trained model
    expect(page.locator("#model")).to_have_value("robust")
    expect(page.locator("#verdict")).to_contain_text("the adversarially trained LeNet-5")


def figure_8_c(page):  # both models' accuracy against ε
    in_view(page, "#curves-title")
    expect(page.locator("#curves .main-svg").first).to_be_visible()
    expect(page.locator("#curves-table tbody tr")).to_have_count(4)


def chapter_6(page):  # backpropagation through time: the recurrent network, ready to step
    expect(page.locator("#preset")).to_have_value("rnn")
    expect(page.locator("#through-time-table tr")).to_have_count(8)  # the head, t = 0..6
    expect(page.locator("#through-time-table td.norm").first).to_have_text("—")


def figure_6_a(page):  # the backward pass done: every step's gradient, vanishing
    expect(page.locator("#through-time-table td.norm").last).to_have_text("1")
    expect(page.locator("#through-time-table td.norm").first).not_to_have_text("—")
    expect(page.locator("#through-time-plot .main-svg").first).to_be_visible()


def api_docs(page):
    expect(page.locator("#swagger-ui .information-container")).to_contain_text("deepviz")


# Every link of the contents page, and what it must show. A link added to the page without a
# line here fails test_every_link_is_checked.
LINKS = {
    "#main": skip_link,
    "/": contents,
    "/#chapter-1": chapter_1,
    "/backprop": backprop_page,
    "/backprop#descent": figure_2_1,
    "/backprop?preset=softmax": figure_2_2,
    "/backprop?preset=notes": figure_2_3,
    "/backprop?preset=notes&phase=forward": figure_2_4,
    "/backprop?preset=notes&phase=backward": figure_2_5,
    "/training#pipeline-title": figure_1_2,
    "/training": figure_1_3,
    "/training#torch-title": figure_1_3_2,
    "/training?opt=gd&lr=0.5": figure_2_1_2,
    "/training#race-title": figure_2_2_race,
    "/convolution": convolution_page,
    "/convolution#flatten-title": figure_5_1,
    "/convolution#slide-title": figure_5_3,
    "/convolution#photo-title": figure_5_5,
    "/convolution#bank-title": figure_5_6,
    "/convolution#stack-title": figure_5_7,
    "/convolution?p=2#slide-title": figure_5_9,
    "/convolution-backward": figure_5_a,
    "/receptive-field": figure_5_10,
    "/convolution?s=2&p=0&n=7#slide-title": figure_5_11,
    "/pooling": figure_5_12,
    "/lenet": figure_5_13,
    "/lenet-live": figure_5_13_live,
    "/optimizers": optimizers_page,
    "/optimizers?surface=logistic&racers=gd,sgd,minibatch,newton": figure_2_2_methods,
    "/optimizers?surface=rosenbrock": figure_4_a,
    "/optimizers?surface=quadratic&k=100&racers=gd,momentum,newton": figure_4_b,
    "/optimizers?surface=saddle&racers=gd,newton,newton_safeguarded": figure_4_c,
    "/backprop?preset=rnn": chapter_6,
    "/backprop?preset=rnn&phase=backward": figure_6_a,
    "/adversarial": figure_8_a,
    "/adversarial?model=robust": figure_8_b,
    "/adversarial#curves-title": figure_8_c,
    "/docs": api_docs,
}


def hrefs(page) -> list[str]:
    return page.locator("a[href]").evaluate_all("(as) => [...new Set(as.map((a) => a.getAttribute('href')))]")


def test_every_link_is_checked(page):
    page.goto("/")
    assert sorted(hrefs(page)) == sorted(LINKS)


def test_every_link_of_the_contents_page_opens_the_figure_it_names(page):
    page.goto("/")
    for href, check in LINKS.items():
        page.goto("/")
        link = page.locator(f'a[href="{href}"]').first
        link.focus()  # followed from the keyboard: the skip link shows only when focused
        page.keyboard.press("Enter")
        try:
            check(page)
        except AssertionError as error:
            raise AssertionError(f"the link {href} does not show what it names: {error}") from None

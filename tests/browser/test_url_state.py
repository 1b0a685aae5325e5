"""A page's URL: one table of parameters per page reads it and fills the controls. A value it
does not know is refused, with a message at the top of the page, never turned silently into a
default; one mini-language of layers serves both stacks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_an_unknown_layer_of_the_receptive_field_stack_is_refused(page):
    page.goto("/receptive-field?stack=c5,zz,m2&n=16")  # "zz" was read as c3, silently
    notice = page.locator("#state-problems")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("stack=c5,zz,m2: “zz” is not a layer")
    expect(notice).to_contain_text("showing stack=c3,c3,c3 instead")
    expect(page.locator("#layers tr")).to_have_count(3)
    expect(page.locator("#rf-formula")).to_contain_text("1 + 3·(3 − 1) = 7")
    assert query(page)["stack"] == "c3,c3,c3"


def test_an_unknown_layer_of_the_convolution_stack_is_refused(page):
    page.goto("/convolution?stack=c3-6k5,q,m2")  # "q" was read as a ReLU, silently
    expect(page.locator("#state-problems")).to_contain_text("stack=c3-6k5,q,m2: “q” is not a layer")
    expect(page.locator("#stack-body tr")).to_have_count(5)  # the default stack, said so
    expect(page.locator("#stack-body tr").last).to_contain_text("12 × 20 × 20")


def test_one_layer_language_for_both_stacks(page):
    page.goto("/receptive-field?stack=c3s2p1,m3s2,a2,c3d2&n=64")
    expect(page.locator("#state-problems")).to_be_hidden()
    rows = page.locator("#layers tr")
    expect(rows).to_have_count(4)
    assert [rows.nth(0).locator("input").nth(i).input_value() for i in range(4)] == ["3", "2", "1", "1"]
    assert [rows.nth(1).locator("input").nth(i).input_value() for i in range(3)] == ["3", "2", "0"]
    assert [rows.nth(2).locator("input").nth(i).input_value() for i in range(3)] == ["2", "2", "0"]
    assert [rows.nth(3).locator("input").nth(i).input_value() for i in range(4)] == ["3", "1", "0", "2"]
    expect(rows.nth(2)).to_contain_text("avgpool")
    assert query(page)["stack"] == "c3s2p1,m3s2,a2,c3d2"  # read back as written
    # the convolution page reads the same tokens, and says what it needs besides
    page.goto("/convolution?stack=c3-6k5s2p1,r,a2,m3s1,c5")
    expect(page.locator("#state-problems")).to_contain_text("“c5”: name its channels, as in c3-6k5")
    page.goto("/convolution?stack=c3-6k5s2p1,r,a2,m3s1")
    expect(page.locator("#state-problems")).to_be_hidden()
    rows = page.locator("#stack-body tr")
    expect(rows).to_have_count(4)
    expect(rows.last).to_contain_text("6 × 5 × 5")  # 32 → conv K5 S2 P1: 15 → avg 2: 7 → max 3, S1: 5
    assert query(page)["stack"] == "c3-6k5s2p1,r,a2,m3s1"


def test_values_out_of_range_or_unknown_are_refused_on_every_page(page):
    page.goto("/pooling?kind=median&k=9&seed=1&colour=red")
    notice = page.locator("#state-problems")
    expect(notice).to_contain_text("kind=median: expected one of max, avg; showing kind=max instead")
    expect(notice).to_contain_text("k=9: expected a whole number from 1 to 4; showing k=2 instead")
    expect(notice).to_contain_text("colour=red: this page has no such setting")
    expect(page.locator("#kind")).to_have_value("max")
    expect(page.locator("#kernel")).to_have_value("2")
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3")
    page.goto("/backprop?h=1e-5&preset=notes")  # 1e-5 is not one of the menu's steps (0.00001 is)
    expect(page.locator("#state-problems")).to_contain_text("h=1e-5: expected one of 0.1, 0.001, 0.00001")
    expect(page.locator("#h")).to_have_value("0.00001")
    expect(page.locator("#step-counter")).to_contain_text("step 0 of 10")
    page.goto("/lenet?target=12")
    expect(page.locator("#state-problems")).to_contain_text("target=12: expected one of (empty), 0, 1, 2")
    expect(page.locator("#target")).to_have_value("")


def test_a_kernel_the_server_does_not_know_is_refused_once_the_kernels_load(page):
    page.goto("/convolution?k=sobel_z&pk=nope&bank=sobel_x,blur9")
    notice = page.locator("#state-problems")
    expect(notice).to_contain_text("k=sobel_z: not one of identity")
    expect(notice).to_contain_text("pk=nope: not one of")
    expect(notice).to_contain_text("bank=sobel_x,blur9: no 3×3 kernel called blur9; showing bank=sobel_x instead")
    expect(page.locator("#kernel-preset")).to_have_value("sobel_x")
    expect(page.locator("#slide-kernel td").first).to_have_text("1")  # Sobel x, as the page says
    expect(page.locator("#bank-maps canvas")).to_have_count(1)
    # choosing a value of one's own takes the refusal away
    page.select_option("#kernel-preset", "sobel_y")
    expect(notice).not_to_contain_text("k=sobel_z")


def test_a_kernel_of_ones_own_needs_its_weights(page):
    page.goto("/convolution?k=custom&w=1,2;3,x")
    expect(page.locator("#state-problems")).to_contain_text("w=1,2;3,x: expected numbers")
    expect(page.locator("#state-problems")).to_contain_text("k=custom: a kernel of your own needs its weights")
    page.goto("/convolution?k=custom&w=0,0,0;0,2,0;0,0,0&n=4&p=0")
    expect(page.locator("#state-problems")).to_be_hidden()
    expect(page.locator("#output-size")).to_have_text("2 × 2")
    expect(page.locator("#kernel-grid input")).to_have_count(9)
    expect(page.locator("#kernel-preset")).to_have_value("custom")


def test_a_mistake_the_page_does_not_show_is_refused(page):
    page.goto("/lenet?mistake=999999")
    expect(page.locator("#mistakes button.mistake").first).to_be_visible()
    expect(page.locator("#state-problems")).to_contain_text("mistake=999999: not one of the mistakes shown below")
    expect(page.locator("#prediction")).to_have_text("–")

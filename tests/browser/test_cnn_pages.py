"""A student on the CNN pages: moves padding and stride and reads the formula and the output
size; clicks a unit and sees its receptive field; follows pooling's gradients."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import _open, screenshot

pytestmark = pytest.mark.browser


def set_range(page, selector, value):
    page.locator(selector).fill(str(value))  # a range input takes fill() and fires "input"


def test_padding_and_stride_change_the_formula_and_the_output(page):
    page.goto("/convolution?img=square&n=8&k=sobel_x&p=1&s=1")
    formula = page.locator("#formula")
    expect(formula).to_contain_text("W′ = ⌊(W − K + 2P) / S⌋ + 1 = ⌊(8 − 3 + 2·1) / 1⌋ + 1 = ⌊7 / 1⌋ + 1 = 8")
    expect(page.locator("#output-size")).to_have_text("8 × 8")
    set_range(page, "#stride", 2)
    expect(page.locator("#stride-value")).to_have_text("2")
    expect(formula).to_contain_text("⌊7 / 2⌋ + 1 = 4")
    expect(page.locator("#output-size")).to_have_text("4 × 4")
    expect(page.locator("#dropped-note")).to_contain_text("does not divide 7")
    set_range(page, "#padding", 0)
    expect(formula).to_contain_text("= ⌊5 / 2⌋ + 1 = 3")
    expect(page.locator("#output-size")).to_have_text("3 × 3")
    expect(page.locator("#dropped-note")).to_contain_text("no window ever reads image column 7 and row 7")
    expect(page.locator("#slide-input td.dropped").first).to_be_visible()
    assert "s=2" in page.url and "p=0" in page.url
    # step the kernel: the second output pixel, with its sum
    page.click("#slide-step")
    expect(page.locator("#slide-where")).to_contain_text("position 2 of 9: output row 0, column 1")
    expect(page.locator("#slide-sum")).to_contain_text("out[0, 1] =")
    expect(page.locator("#slide-input td.window")).to_have_count(9)
    screenshot(page, "convolution")


def test_convolution_mode_flips_the_kernel_on_the_page(page):
    page.goto("/convolution?k=sobel_x")
    first = page.locator("#slide-kernel td").first
    expect(first).to_have_text("1")
    page.select_option("#mode", "convolution")
    expect(first).to_have_text("-1")


def test_a_stack_that_does_not_fit_says_which_layer(page):
    page.goto("/convolution")
    expect(page.locator("#stack-body tr")).to_have_count(5)
    page.locator("[aria-label='layer 3 in channels']").fill("3")
    page.locator("[aria-label='layer 3 in channels']").dispatch_event("change")
    # the layer named once, as the server says it (was "… gets 6 (layers → 2)")
    expect(page.locator("#stack-error")).to_have_text("layer 3 (conv) expects 3 channels but gets 6")
    expect(page.locator("#stack-body tr.bad")).to_have_count(1)


def test_clicking_a_unit_lights_up_its_field(page):
    page.goto("/receptive-field?stack=c3,c3,c3&n=16")
    canvas = page.locator("canvas[data-layer='3']")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    cell = box["width"] / 10  # conv 3 is 10×10
    canvas.click(position={"x": cell * 4.5, "y": cell * 2.5})  # row 2, column 4
    regions = page.locator("#regions li")
    expect(regions.first).to_have_text("input: rows 2–8, columns 4–10 (7×7)")
    expect(regions.last).to_contain_text("conv 3: rows 2–2, columns 4–4")
    expect(page.locator("#rf-formula")).to_contain_text("1 + 3·(3 − 1) = 7")
    assert "unit=3.2.4" in page.url
    screenshot(page, "receptive-field")


def test_pooling_routes_gradients_to_the_argmax(page):
    page.goto("/pooling?kind=max&k=2&s=2&seed=1")
    expect(page.locator("#pool-output-caption")).to_have_text("Output, 3×3")
    grads = page.locator("#pool-gradient td")
    expect(grads).to_have_count(36)
    nonzero = [t for t in grads.all_text_contents() if t != "0"]
    assert sorted(map(int, nonzero)) == list(range(1, 10))  # each upstream value lands once
    page.select_option("#kind", "avg")
    expect(page.locator("#pool-gradient td").first).to_have_text("0.25")
    page.hover("#pool-output td[data-row='0'][data-col='1']")
    expect(page.locator("#pool-input td.window")).to_have_count(4)


def test_a_drawing_becomes_the_input_of_the_kernel(page):
    page.goto("/convolution?pk=sobel_x")
    caption = page.locator("#photo-caption")
    expect(caption).to_contain_text("85 × 128")  # the cat, first
    page.locator("#photo-pad").scroll_into_view_if_needed()
    box = page.locator("#photo-pad").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 180, box["y"] + 180, steps=10)
    page.mouse.up()
    expect(caption).to_contain_text("84 × 84")  # the drawing, as sent


def test_a_bank_of_kernels_gives_one_map_each_and_at_most_eight(page):
    page.goto("/convolution?bank=sobel_x,sobel_y,gaussian")
    expect(page.locator("#bank-maps canvas")).to_have_count(3)
    for name in ["identity", "box", "scharr_x", "scharr_y", "laplacian", "sharpen"]:
        page.check(f"#bank-{name}")
    expect(page.locator("#bank-maps")).to_contain_text("at most 8 kernels")
    page.uncheck("#bank-identity")
    expect(page.locator("#bank-maps canvas")).to_have_count(8)
    expect(page.locator("#bank-maps")).to_contain_text("Output: 8 × 85 × 128")


def test_a_unit_can_be_picked_from_the_keyboard(page):
    page.goto("/receptive-field?stack=c5,m2,c5,m2&n=28")
    expect(page.locator("#unit-layer option")).to_have_count(4)
    page.select_option("#unit-layer", "4")  # pool2: 4×4
    page.fill("#unit-row", "1")
    page.fill("#unit-col", "2")
    page.locator("#unit-col").press("Enter")
    expect(page.locator("#regions li").first).to_contain_text("input: rows 4–")
    expect(page.locator("#regions li").last).to_contain_text("rows 1–1, columns 2–2")


def test_every_map_of_the_keyboard_picker_takes_its_own_rows_and_columns(page):
    page.goto("/receptive-field?stack=c5,m2,c5,m2&n=32")
    expect(page.locator("#unit-layer option")).to_have_count(4)
    for layer, size in [("1", 28), ("2", 14), ("3", 10), ("4", 5)]:
        page.select_option("#unit-layer", layer)
        expect(page.locator("#unit-row")).to_have_attribute("max", str(size - 1))
    page.select_option("#unit-layer", "2")  # pool1, 14×14: row 2, column 12 was refused ("≤ 9")
    page.fill("#unit-row", "2")
    page.fill("#unit-col", "12")
    page.locator("#unit-col").press("Enter")
    expect(page.locator("#regions li").last).to_contain_text("rows 2–2, columns 12–12")


def test_one_action_sends_one_request(page):
    page.goto("/receptive-field?stack=c3,c3,c3&n=16")
    canvas = page.locator("canvas[data-layer='3']")
    expect(canvas).to_be_visible()
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/v1/receptive-field" in r.url else None)
    cell = canvas.bounding_box()["width"] / 10
    for k in range(4):  # each click once added a submit listener: 4 clicks, then 5 requests a submit
        page.locator("canvas[data-layer='3']").click(position={"x": cell * (k + 0.5), "y": cell * 0.5})
        expect(page.locator("#regions li").last).to_contain_text(f"columns {k}–{k}")
    page.locator("#unit-col").press("Enter")
    page.wait_for_timeout(500)
    assert len(sent) == 5, sent


# -- what a walk of the pages found: stale figures under errors, the wording ------------------


def png(width: int, height: int) -> bytes:
    """A small grey ramp as a PNG file, as a student's upload."""
    image = Image.linear_gradient("L").resize((width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def upload(page, name: str, data: bytes, mime: str = "image/png") -> None:
    page.locator("#upload").set_input_files({"name": name, "mimeType": mime, "buffer": data})


def test_an_upload_is_named_in_the_photograph_menu(page):
    page.goto("/convolution?pk=sobel_x")
    expect(page.locator("#photo-caption")).to_contain_text("85 × 128")
    upload(page, "mine.png", png(64, 96))
    menu = page.locator("#photo")
    expect(menu.locator("option:checked")).to_have_text("your upload: mine.png")  # it still said "Chelsea the cat"
    expect(page.locator("#photo-input-caption")).to_have_text("input: your upload: mine.png")
    expect(page.locator("#photo-caption")).to_contain_text("96 × 64")
    page.select_option("#photo", "camera")
    expect(page.locator("#photo-input-caption")).to_contain_text("camera")
    expect(page.locator("#photo-caption")).to_contain_text("128 × 128")
    assert "photo=camera" in page.url
    page.select_option("#photo", "own")  # the upload is still a choice
    expect(page.locator("#photo-caption")).to_contain_text("96 × 64")
    assert "photo=camera" in page.url  # the URL cannot hold the upload: it keeps the photograph


def test_a_failed_upload_leaves_no_stale_result(page):
    page.goto("/convolution?pk=sobel_x")
    expect(page.locator("#photo-caption")).to_contain_text("85 × 128")
    expect(page.locator("#bank-maps canvas")).to_have_count(6)
    upload(page, "notes.png", b"these are my notes, not an image")
    expect(page.locator("#photo-error")).to_have_text("the data is not a readable PNG or JPEG image")  # no "(image)"
    expect(page.locator("#photo-caption")).to_have_text("no activation map")  # the cat's map once stayed
    expect(page.locator("#photo-input-caption")).to_contain_text("notes.png, which could not be used")
    assert page.locator("#photo-output").evaluate("(canvas) => canvas.width * canvas.height") == 0
    expect(page.locator("#photo option:checked")).to_have_text("your upload: notes.png (could not be read)")
    expect(page.locator("#bank-maps canvas")).to_have_count(0)
    expect(page.locator("#bank-maps")).to_contain_text("the data is not a readable PNG or JPEG image")
    upload(page, "mine.png", png(64, 96))  # a good one brings everything back
    expect(page.locator("#photo-error")).to_be_hidden()
    expect(page.locator("#photo-caption")).to_contain_text("96 × 64")
    expect(page.locator("#bank-maps canvas")).to_have_count(6)


def test_a_slide_that_cannot_be_computed_leaves_no_stale_figure(page):
    page.goto("/convolution?k=custom&w=1,1,1,1,1;1,1,1,1,1;1,1,1,1,1;1,1,1,1,1;1,1,1,1,1&n=8&p=0")
    expect(page.locator("#output-size")).to_have_text("4 × 4")
    page.fill("#slide-size", "4")  # a 5×5 kernel on a 4×4 image without padding: no output
    expect(page.locator("#slide-sum")).to_have_text("a 5×5 kernel does not fit in a 4×4 image padded by 0")
    expect(page.locator("#slide-sum")).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#slide-output td")).to_have_count(0)  # the 4 × 4 output once stayed
    expect(page.locator("#output-size")).to_have_text("")
    expect(page.locator("#formula")).to_have_text("")
    set_range(page, "#padding", 1)
    expect(page.locator("#output-size")).to_have_text("2 × 2")
    expect(page.locator("#slide-sum")).not_to_have_class(re.compile(r"\berror\b"))


def test_a_stack_with_a_mistake_leaves_no_stale_maps(page):
    page.goto("/receptive-field?stack=c3,c3,c3&n=16")
    expect(page.locator("#maps canvas")).to_have_count(4)
    kernel = page.locator("[aria-label='layer 2 kernel']")
    kernel.fill("30")
    kernel.dispatch_event("change")
    expect(page.locator("#rf-error")).to_have_text("layer 2: the kernel must be at most 11, not 30")  # said once
    expect(page.locator("#maps canvas")).to_have_count(0)  # the last stack's maps once stayed
    expect(page.locator("#maps")).to_contain_text("No maps")
    expect(page.locator("#rf-formula")).to_have_text("")
    expect(page.locator("#layers tr").nth(1).locator("td.r")).to_have_text("–")
    expect(kernel).to_have_value("30")  # what was typed stays, to be corrected
    kernel.fill("5")
    kernel.dispatch_event("change")
    expect(page.locator("#maps canvas")).to_have_count(4)
    expect(page.locator("#rf-error")).to_be_hidden()


def test_counts_agree_with_their_nouns(page):
    page.goto("/receptive-field?stack=c3&n=16")
    expect(page.locator("#rf-formula")).to_have_text(
        "1 stride-1 layer of kernel 3: r = 1 + L(K − 1) = 1 + 1·(3 − 1) = 3"  # was "1 stride-1 layers"
    )
    page.goto("/receptive-field?stack=m2&n=16")
    expect(page.locator("#rf-formula")).to_contain_text("r = 2 input pixels across after 1 layer (jump 2)")
    page.goto("/convolution?img=square&n=8&k=sobel_x&p=1&s=2")
    expect(page.locator("#dropped-note")).to_contain_text(
        "S = 2 does not divide 7, so the floor drops the last column of the padded input; "
        "S = 2 does not divide 7: the last row is dropped"
    )


def test_the_width_and_height_formulas_each_have_their_line(page):
    page.goto("/convolution?img=square&n=8&k=sobel_x&p=1&s=2")
    formula = page.locator("#formula")
    expect(formula).to_contain_text("H′ = ")
    # on one line, "… = 4 · H′ = …" read as 4 times H′
    assert formula.inner_text().splitlines() == [
        "W′ = ⌊(W − K + 2P) / S⌋ + 1 = ⌊(8 − 3 + 2·1) / 2⌋ + 1 = ⌊7 / 2⌋ + 1 = 4",
        "H′ = ⌊(H − K + 2P) / S⌋ + 1 = ⌊(8 − 3 + 2·1) / 2⌋ + 1 = ⌊7 / 2⌋ + 1 = 4",
    ]


def test_a_negative_weight_is_bracketed_in_the_written_out_sum(page):
    page.goto("/convolution?img=square&n=8&k=sobel_x&p=1&s=1")
    # the notes' products, not "0·-1"
    expect(page.locator("#slide-sum")).to_have_text(
        "out[0, 0] = 0·1 + 0·0 + 0·(-1) + 0·2 + 0·0 + 0·(-2) + 0·1 + 0·0 + 0·(-1) = 0, plus bias 0 = 0"
    )


def test_the_flattened_vector_names_only_the_neighbours_a_pixel_has(page):
    page.goto("/convolution?img=square&n=8")
    caption = page.locator("#flat-caption")
    # pixel (0, 0) has no neighbour above: the caption once said "entries – and 8"
    expect(caption).to_have_text(
        "the flattened vector: pixel (0, 0) is entry 0; its neighbour below (blue) is entry 8, 8 places away"
    )
    canvas = page.locator("#flat-image")
    cell = canvas.bounding_box()["width"] / 8
    canvas.click(position={"x": cell * 2.5, "y": cell * 3.5})  # row 3, column 2
    expect(caption).to_contain_text(
        "pixel (3, 2) is entry 26; its neighbours above and below (blue) are entries 18 and 34, 8 places away"
    )
    canvas.click(position={"x": cell * 2.5, "y": cell * 7.5})  # the last row
    expect(caption).to_contain_text("pixel (7, 2) is entry 58; its neighbour above (blue) is entry 50, 8 places away")


def test_the_convolution_page_fits_a_laptop_screen(browser, server_url):
    context, page, errors = _open(browser, server_url, context_options={"viewport": {"width": 1280, "height": 800}})
    page.goto("/convolution")
    expect(page.locator("#photo-output")).to_be_visible()
    # the file picker once stuck out of its panel and the page scrolled sideways
    upload, panel = page.locator("#upload").bounding_box(), page.locator("#photo-form").bounding_box()
    assert upload["x"] + upload["width"] <= panel["x"] + panel["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    context.close()
    assert not errors, errors


def test_the_unit_pickers_labels_stand_apart_from_their_fields(page):
    page.goto("/receptive-field?stack=c3,c3,c3&n=16")
    expect(page.locator("#unit-layer option")).to_have_count(3)
    for before, label in (("#unit-layer", "unit-row"), ("#unit-row", "unit-col")):
        field, words = page.locator(before).bounding_box(), page.locator(f"label[for={label}]").bounding_box()
        if abs(field["y"] - words["y"]) < field["height"]:  # on the same line
            assert words["x"] >= field["x"] + field["width"] + 4, f"the label of #{label} touches {before}"
        words, own = page.locator(f"label[for={label}]").bounding_box(), page.locator(f"#{label}").bounding_box()
        if abs(own["y"] - words["y"]) < own["height"]:
            assert own["x"] >= words["x"] + words["width"] + 4, f"#{label} touches its label"

"""The API documentation works on a closed network and under the strict CSP."""

import pytest
from playwright.sync_api import expect

from deepviz.app.routers.pages import PAGES

pytestmark = pytest.mark.browser


def test_swagger_ui_lists_every_route(page):
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 13
    expect(page.locator('.opblock-summary-path[data-path="/api/v1/graph"]')).to_be_visible()


def test_every_page_loads_without_errors(page):
    for path in PAGES:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("nav.toc a[href='/backprop']").first).to_be_visible()  # chapter 2, and its first page

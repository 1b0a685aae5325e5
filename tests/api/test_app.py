"""The application shell: pages, assets served locally, headers, health and docs."""

import re

from deepviz.app.routers.pages import PAGES

EVERY_PAGE = [*PAGES, "/docs"]  # every page the app registers, so that a new one is checked too


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_pages_render_with_mathml_and_navigation(client):
    html = client.get("/backprop").text
    assert "<math" in html and 'href="/backprop"' in html and "coming" in html
    home = client.get("/").text
    assert "Figure 2.3" in home and 'href="/backprop?preset=notes"' in home


def test_nothing_is_loaded_from_another_host(client):
    assert len(EVERY_PAGE) >= 7
    for path in EVERY_PAGE:
        html = client.get(path).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path


def test_plotly_and_swagger_are_served_from_installed_packages(client):
    r = client.get("/vendor/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000
    assert client.get("/vendor/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/api/v1/graph"]["post"]


def test_security_headers(client):
    headers = client.get("/backprop").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-eval" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_no_inline_scripts_in_pages(client):
    for path in EVERY_PAGE:
        html = client.get(path).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"""\son[a-z]+\s*=""", html), path  # no inline event handlers either

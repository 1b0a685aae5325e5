"""The HTML pages: one per lesson, all extending templates/base.html."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from deepviz.app.contents import CHAPTERS

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGES = {  # path -> template (the page's name is the template's)
    "/": "index.html",
    "/backprop": "backprop.html",
    "/convolution": "convolution.html",
    "/convolution-backward": "convolution_backward.html",
    "/receptive-field": "receptive_field.html",
    "/pooling": "pooling.html",
    "/lenet": "lenet.html",
    "/lenet-live": "lenet_live.html",
    "/optimizers": "optimizers.html",
    "/training": "training.html",
    "/adversarial": "adversarial.html",
    "/class": "class.html",  # classroom mode: the instructor's dashboard
    "/join": "join.html",  # classroom mode: a student joins
}


def _page(template: str):
    def page(request: Request) -> HTMLResponse:
        context = {"chapters": CHAPTERS, "page": template.removesuffix(".html")}
        return request.app.state.templates.TemplateResponse(request, template, context)

    return page


for path, template in PAGES.items():
    router.add_api_route(path, _page(template), methods=["GET"], response_class=HTMLResponse)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request):
    """Swagger UI from files served here (no CDN), started by a script file (strict CSP)."""
    return request.app.state.templates.TemplateResponse(request, "docs.html", {})

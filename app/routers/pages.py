"""The HTML pages: one per lesson, all extending templates/base.html."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.contents import CHAPTERS

router = APIRouter(tags=["pages"], include_in_schema=False)


def render(request: Request, template: str, **context) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {"chapters": CHAPTERS, **context})


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    return render(request, "index.html", page="home")


@router.get("/backprop", response_class=HTMLResponse)
def backprop(request: Request):
    return render(request, "backprop.html", page="backprop")


@router.get("/convolution", response_class=HTMLResponse)
def convolution(request: Request):
    return render(request, "convolution.html", page="convolution")


@router.get("/receptive-field", response_class=HTMLResponse)
def receptive_field(request: Request):
    return render(request, "receptive_field.html", page="receptive-field")


@router.get("/pooling", response_class=HTMLResponse)
def pooling(request: Request):
    return render(request, "pooling.html", page="pooling")


@router.get("/lenet", response_class=HTMLResponse)
def lenet(request: Request):
    return render(request, "lenet.html", page="lenet")


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request):
    """Swagger UI from files served here (no CDN), started by a script file (strict CSP)."""
    return request.app.state.templates.TemplateResponse(request, "docs.html", {})

"""create_app(): the FastAPI application, its routers, pages, static files and headers."""

from __future__ import annotations

import gc
import importlib.util
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from deepviz import __version__
from deepviz.app import decode, server
from deepviz.app.batcher import Batcher
from deepviz.app.classroom import make_classroom, mode
from deepviz.app.classroom.broker import Unavailable
from deepviz.app.errors import (
    InputError,
    expr_error_handler,
    http_error_handler,
    input_error_handler,
    unavailable_handler,
    validation_error_handler,
)
from deepviz.app.mathml import tex
from deepviz.app.metrics import CONTENT_TYPE, METRICS
from deepviz.app.middleware import AccessLog, HeadAsGet, RequestLimits, SecurityHeaders, Work
from deepviz.app.routers import backprop, classroom, cnn, lenet, lenet_live, optimize, pages, robustness, training
from deepviz.app.settings import Settings, get_settings
from deepviz.lessons.expr import ExprError

HERE = Path(__file__).resolve().parent  # the templates and static files ship inside the package


def _vendor_file(package: str, *parts: str) -> Path:
    """A file shipped inside an installed package (plotly.js, Swagger UI): served, never
    fetched, and found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {package} is not installed: pip install {package}")
    return Path(spec.submodule_search_locations[0]).joinpath(*parts)


VENDOR = {
    "plotly.min.js": ("plotly", "package_data", "plotly.min.js"),
    "swagger-ui-bundle.js": ("fastapi_offline", "static", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("fastapi_offline", "static", "swagger-ui.css"),
}


@asynccontextmanager
async def lifespan(app: FastAPI):
    # The objects made at startup (modules, the app, the model) live as long as the process:
    # set aside, the cyclic garbage collector stops scanning them at every full collection
    # (a 1,000-node trace allocates enough to trigger one; scanning 100,000 objects cost more
    # than the trace itself: docs/perf/README.md). Once a process: a test that makes many
    # apps leaves the later ones to the collector.
    if not gc.get_freeze_count():
        gc.freeze()
    yield
    app.state.train_pool.shutdown(wait=False, cancel_futures=True)
    if app.state.classroom is not None:
        await app.state.classroom.broker.close()  # the Redis connections, if any


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=lifespan,
        title="deepviz",
        version=__version__,
        summary="Backprop, convolutions and LeNet-5, live: the API behind deepviz's pages.",
        docs_url=None,  # our own /docs serves Swagger UI from local files
        redoc_url=None,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    app.state.settings = settings

    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["tex"] = tex  # {% filter tex %}\frac{a}{b}{% endfilter %}
    templates.env.filters["texblock"] = lambda latex: tex(latex, display=True)
    app.state.templates = templates

    app.add_exception_handler(ExprError, expr_error_handler)
    app.add_exception_handler(InputError, input_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(Unavailable, unavailable_handler)
    # the last added runs first: SecurityHeaders sees every response, including the limits'
    app.add_middleware(
        Work,
        limit=settings.max_concurrent_work,
        per_address=settings.max_work_per_address,
        seconds=settings.max_request_seconds,
        exempt=settings.trusted_addresses,
    )
    app.add_middleware(
        RequestLimits,
        max_header_bytes=settings.max_header_bytes,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders)
    server.install(settings)  # limits on request heads and connections, in uvicorn itself
    decode.tune_malloc(settings.malloc_arenas)  # memory of large decodes given back to the system
    app.state.batcher = Batcher(settings)  # LeNet frames from every WebSocket, micro-batched
    app.state.ws_open = 0  # WebSocket sessions in this worker, in all and by client address
    app.state.ws_by_address = Counter()
    app.state.lenet_live = Counter()  # live LeNet sessions of this worker: "" all of them, else by address
    app.state.classroom = make_classroom(settings)  # None when classroom mode is off: its routes say why
    app.state.classroom_off = mode(settings, settings.workers)[1]
    # every training session of this worker computes on these threads, in turn (app/training_stream.py)
    app.state.train_pool = ThreadPoolExecutor(settings.train_threads, thread_name_prefix="train")

    app.include_router(backprop.router)
    app.include_router(cnn.router)
    app.include_router(lenet_live.router)  # before lenet's: its own /api/v1/lenet/train/... paths
    app.include_router(lenet.router)
    app.include_router(robustness.router)
    app.include_router(optimize.router)
    app.include_router(classroom.router)
    app.include_router(training.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    for name, parts in VENDOR.items():
        path = _vendor_file(*parts)

        def serve(path: Path = path) -> FileResponse:
            return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

        app.add_api_route(f"/vendor/{name}", serve, methods=["GET"], include_in_schema=False)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. In the event loop, never behind work in threads."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus metrics of the whole server (all its worker processes): requests, latency,
        WebSocket sessions, frames."""
        return PlainTextResponse(METRICS.render(), media_type=CONTENT_TYPE)

    return app


def __getattr__(name: str) -> FastAPI:
    """``deepviz.app.main:app`` for ``uvicorn deepviz.app.main:app``: made on first use, from the environment."""
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)

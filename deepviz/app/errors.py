"""Bad input gets a 4xx whose JSON says what is wrong and where, in the same shape as
FastAPI's validation errors: {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from deepviz.app.messages import friendly
from deepviz.lessons.expr import ExprError


class InputError(Exception):
    """Input that passed the schema but not a limit or a check of the engine."""

    def __init__(
        self,
        loc: list,
        msg: str,
        kind: str = "value_error",
        position: int | None = None,
        status: int = 422,
        headers: dict[str, str] | None = None,
    ):
        self.loc, self.msg, self.kind, self.position, self.status = loc, msg, kind, position, status
        self.headers = headers or {}


def error_response(status: int, loc: list, msg: str, kind: str, position: int | None = None) -> JSONResponse:
    item = {"loc": loc, "msg": msg, "type": kind}
    if position is not None:
        item["position"] = position
    return JSONResponse({"detail": [item]}, status_code=status)


async def input_error_handler(request: Request, error: InputError) -> JSONResponse:
    response = error_response(error.status, error.loc, error.msg, error.kind, error.position)
    response.headers.update(error.headers)  # e.g. Retry-After on a 429, WWW-Authenticate on a 401
    return response


async def expr_error_handler(request: Request, error: ExprError) -> JSONResponse:
    message = str(error)
    return error_response(422, ["body", *error.field], message, "expression_error", error.position)


async def validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    """Pydantic's errors in a student's words, without the echoed input (it may hold NaN,
    which is not JSON, or be large)."""
    detail = [{"loc": list(e["loc"]), "msg": friendly(e), "type": e["type"]} for e in error.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def http_error_handler(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own errors (a body that is not JSON, an unknown path) in the same shape.
    A body that cannot be parsed (not UTF-8, say) gets the 422 that invalid JSON gets."""
    if error.status_code == 400:
        return error_response(422, ["body"], "the body is not valid JSON", "json_invalid")
    response = error_response(error.status_code, ["path"], str(error.detail).lower(), f"http_{error.status_code}")
    response.headers.update(error.headers or {})  # e.g. Allow, on a 405
    return response


async def unavailable_handler(request: Request, error: Exception) -> JSONResponse:
    """The class store (Redis) cannot be reached: a 503 to retry, never a 500."""
    response = error_response(503, ["server"], "the classes are unreachable for a moment: try again", "unavailable")
    response.headers["Retry-After"] = "2"
    return response

"""What every route's models share: finite numbers, names, strict objects, the error shape."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Finite = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z_0-9]*$", max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # no "0" for 0, no 0 for false


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="where: e.g. ['body', 'expression']")
    msg: str = Field(description="what is wrong")
    type: str
    position: int | None = Field(None, description="0-based character position in the expression")


class ErrorOut(BaseModel):
    detail: list[ErrorItem]


BAD_INPUT = {  # documented on every route that takes a body
    413: {"model": ErrorOut, "description": "the body is larger than the limit"},
    422: {"model": ErrorOut, "description": "what is wrong, and where (a body that is not JSON, too)"},
    503: {"model": ErrorOut, "description": "the server is busy: try again after Retry-After seconds"},
}

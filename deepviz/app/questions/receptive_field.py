"""/receptive-field's questions, for one unit (the state's, else the middle unit of the last
map): how wide its receptive field is in the input, the first input row it sees, and how far
apart its map's neighbouring fields are. The reveal selects the unit on the page (its
``unit``), which lists its region in every map."""

from __future__ import annotations

import re
from collections.abc import Callable

from deepviz.app.errors import InputError
from deepviz.app.questions.common import bad, integer, question, validated
from deepviz.app.routers import cnn as cnn_router
from deepviz.app.schemas import ReceptiveFieldRequest
from deepviz.app.settings import Settings

# static/js/layers.js's language as the receptive-field page reads it (FIELDS: no channels, no ReLU)
TOKEN = re.compile(r"([cma])(\d+)(?:s(\d+))?(?:p(\d+))?(?:d(\d+))?")
TYPES = {"c": "conv", "m": "maxpool", "a": "avgpool"}
EXAMPLE = "c3,c5s2p1,c3d2,m2,a2"
DEFAULT_STACK, DEFAULT_SIZE, LEAST_SIZE, MOST_SIZE = "c3,c3,c3", 16, 4, 64  # receptive_field.js's TABLE
KEYS = {"layers": "stack", "input_size": "n", "unit": "unit"}  # the request's fields → the URL's


def layers_of(text: str) -> list[dict]:
    """layers.js's ``parseStack(text, FIELDS)``: "c5,m2,c3s2p1d2" → the request's layers."""
    layers = []
    for token in [t.strip() for t in text.split(",") if t.strip()]:
        m = TOKEN.fullmatch(token)
        if not m:
            raise bad("stack", f"“{token[:20]}” is not a layer (write for example {EXAMPLE})")
        letter, kernel, stride, padding, dilation = m.groups()
        default_stride = 1 if letter == "c" else int(kernel)  # pooling: stride = window
        layers.append({"type": TYPES[letter], "kernel": int(kernel), "stride": int(stride or default_stride),
                       "padding": int(padding or 0), "dilation": int(dilation or 1)})  # fmt: skip
    return layers


def _field(body: dict) -> dict:
    """The page's own API (POST /api/v1/receptive-field) for ``body``, its errors on the URL's parameters."""
    request = validated(ReceptiveFieldRequest, body, KEYS)
    try:
        return cnn_router.receptive_field(request)
    except InputError as error:
        raise bad(KEYS.get(str(error.loc[1]), "stack"), error.msg) from None


def ask(state: dict, settings: Settings, between: Callable[[], None]) -> list[dict]:
    body = {"layers": layers_of(state.get("stack", DEFAULT_STACK)),
            "input_size": integer(state, "n", DEFAULT_SIZE, LEAST_SIZE, MOST_SIZE), "effective": False}  # fmt: skip
    maps = _field(body)["maps"]
    chosen = re.fullmatch(r"(\d{1,4})\.(\d{1,4})\.(\d{1,4})", state.get("unit", ""))
    if chosen and int(chosen[1]) > 0:  # the unit the page shows (on the input, a unit is one pixel)
        layer, row, col = map(int, chosen.groups())
    else:
        layer = len(maps) - 1
        row = col = maps[layer]["size"] // 2
    regions = _field({**body, "unit": {"layer": layer, "row": row, "col": col}})["regions"]
    top, left, bottom, right = regions[0]  # in the input
    sees = all(r[0] <= r[2] and r[1] <= r[3] for r in regions)  # else its window lies in the padding only
    m = maps[layer]
    show = {**state, "unit": f"{layer}.{row}.{col}"}
    unit = (f"Stack {','.join(t.strip() for t in state.get('stack', DEFAULT_STACK).split(',') if t.strip())} "
            f"on a {body['input_size']}×{body['input_size']} input, the unit at row {row}, column {col} of "
            f"map {layer} ({m['name']})")  # fmt: skip
    found = [question(f"{unit}: how many input pixels wide is its receptive field?", "number",
                      float(right - left + 1 if sees else 0), "/receptive-field", show)]  # fmt: skip
    if sees:
        found.append(question(f"{unit}: which is the first input row it sees (counting from 0)?", "number",
                              float(top), "/receptive-field", show))  # fmt: skip
    found.append(question(f"{unit}: how many input pixels apart are the receptive fields of two neighbouring "
                          f"units of its map?", "number", float(m["jump"]), "/receptive-field", show))  # fmt: skip
    return found

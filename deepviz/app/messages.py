"""Validation errors in words a student reads: what is wrong, with the place named the way
the page names it ("the image's size must be at least 4, not 2"; "layer 3: the kernel must be
at most 11"), not pydantic's ("Input should be greater than or equal to 4 (image → ref → size)").
The error keeps its machine-readable ``loc`` and ``type``; only ``msg`` is rewritten."""

from __future__ import annotations

TAGS = {"grid", "ref"}  # the union tags pydantic puts in a location: not a place a student knows
# list fields whose items are numbered
LISTS = {"layers": "layer", "kernels": "kernel", "bias": "bias", "optimizers": "optimizer"}
FIELDS = {
    "data_url": "the uploaded image",
    "input_shape": "the input's shape",
    "in_features": "the input features",
    "out_features": "the output features",
    "in_channels": "the input channels",
    "out_channels": "the output channels",
    "learning_rate": "the learning rate",
    "input_size": "the input size",
    "h": "the step h",
    "batch_size": "the batch size",
    "start": "the start point",
    "lr": "the learning rate",
    "l2": "the L2 strength λ",
    "hidden": "the hidden layers",
    "custom": "the custom points",
    "target_loss": "the target loss",
    "max_steps": "the number of steps",
    "epsilon": "ε",
}
TYPE_NAMES = {"float", "int", "str", "bool", "list", "dict"}  # union members pydantic puts in a location


def _is_type(part) -> bool:
    return isinstance(part, str) and (part in TYPE_NAMES or "[" in part)


def place(loc: list) -> str:
    """["body", "layers", 2, "kernel"] -> "layer 3: the kernel"; ["body", "image", "ref", "size"]
    -> "the image's size"."""
    parts = [p for p in loc if p != "body" and p not in TAGS and not _is_type(p)]
    if len(parts) >= 3 and isinstance(parts[-1], int) and isinstance(parts[-2], int):  # a cell of a grid
        *parts, row, col = parts
        return f"{place(parts)} at row {row + 1}, column {col + 1}"
    if len(parts) >= 2 and parts[0] == "values":  # a variable's value, by the variable's name
        return f"the value of {parts[1]}"
    words, owner = [], None
    for i, part in enumerate(parts):
        if isinstance(part, int):
            prev = parts[i - 1] if i else None
            if prev in LISTS:
                owner = f"{LISTS[prev]} {part + 1}"  # numbered from 1, as the page numbers them
            elif words:
                words[-1] = f"{words[-1]} (item {part + 1})"
            continue
        if i + 1 < len(parts) and isinstance(parts[i + 1], int) and part in LISTS:
            continue
        words.append(FIELDS.get(part, f"the {part.replace('_', ' ')}"))
    where = words[-1] if words else "the request"
    if len(words) > 1:  # the image's size
        where = f"{words[-2]}'s {words[-1].removeprefix('the ')}"
    return f"{owner}: {where}" if owner else where


def friendly(error: dict) -> str:
    """One pydantic error as a sentence."""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    where = place(list(error["loc"]))
    shown = f", not {given:g}" if isinstance(given, int | float) and not isinstance(given, bool) else ""
    if kind == "missing":
        return f"{where} is missing"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        many = f", not {len(given)}" if isinstance(given, list | str | dict) else ""
        bound = "at least" if kind == "too_short" else "at most"
        return f"{where}: {bound} {n}{many}"
    if kind in ("string_too_long", "string_too_short"):
        bound = "at most" if kind == "string_too_long" else "at least"
        n = ctx.get("max_length", ctx.get("min_length"))
        return f"{where} must be {bound} {n} characters long"
    comparisons = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
                   "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}  # fmt: skip
    if kind in comparisons:
        words, key = comparisons[kind]
        return f"{where} must be {words} {ctx.get(key):g}{shown}"
    if kind == "literal_error":
        return f"{where} must be {ctx.get('expected', 'one of the listed values')}"
    if kind == "extra_forbidden":
        return f"{where} is not something this accepts"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where} must be a whole number"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"{where} must be a finite number"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type", "string_type", "bool_type"):
        wanted = {"list_type": "a list", "dict_type": "an object", "string_type": "text", "bool_type": "true or "
                  "false"}.get(kind, "an object")  # fmt: skip
        return f"{where} must be {wanted}"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{where} must be a grid of numbers or an image reference"
    if kind == "value_error":
        return (
            f"{where}: {error['msg'].removeprefix('Value error, ')}"
            if where != "the request"
            else error["msg"].removeprefix("Value error, ")
        )
    if kind == "json_invalid":
        return "the body is not valid JSON"
    return f"{where}: {error['msg'][0].lower()}{error['msg'][1:]}"

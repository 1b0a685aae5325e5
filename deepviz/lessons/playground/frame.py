"""What a page draws of a run at one moment (docs/training.md, "frame"): the losses and
accuracies, the decision boundary and every hidden unit's output over a grid of the plane,
and the weights. Images are uint8 arrays here; the app encodes them (base64) for the wire.

The grid has ``GRID`` × ``GRID`` points over ``EXTENT`` (a margin around the data's square),
row by row from the top (y = EXTENT[3]) and left to right; a regression (1-D input) has
``GRID`` points along x instead, and draws curves. Hidden units are drawn as thumbnails, on a
coarser grid of ``UNIT_GRID`` points a side over the same extent."""

from __future__ import annotations

import functools
import math

import numpy as np

from deepviz.lessons.playground.model import evaluate, predict
from deepviz.lessons.playground.run import Run

GRID = 40
UNIT_GRID = 20  # a hidden unit's picture is a thumbnail: a quarter of the pixels, a quarter of the bytes
EXTENT = (-1.5, 1.5, -1.5, 1.5)  # x from, x to, y from, y to


@functools.cache
def grid_inputs(task: str, size: int = GRID) -> np.ndarray:
    """The grid's points: (size², 2) for the plane, (size, 1) along x for a regression (made
    once, read-only: every frame reads them)."""
    xs = np.linspace(EXTENT[0], EXTENT[1], size)
    if task == "regression":
        points = xs[:, None]
    else:
        ys = np.linspace(EXTENT[3], EXTENT[2], size)  # top row first
        gx, gy = np.meshgrid(xs, ys)  # (size, size) each
        points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    points.flags.writeable = False
    return points


FLAT = 1e-300  # a range narrower than this is drawn flat (255 / range would overflow)


def quantize(values: np.ndarray) -> dict:
    """{"min", "max", "values": uint8}: value ≈ min + byte / 255 · (max - min)."""
    values = np.where(np.isfinite(values), values, 0.0)  # a diverged run's overflow: drawn as 0
    lo, hi = float(values.min()), float(values.max())
    scale = 255.0 / (hi - lo) if hi - lo > FLAT else 0.0
    return {"min": lo, "max": hi, "values": np.round((values - lo) * scale).astype(np.uint8)}


def quantize_units(h: np.ndarray) -> list[dict]:
    """Each column of ``h`` (points, units), a unit's output over the grid, quantized on its
    own range as ``quantize`` does (a diverged run's overflow drawn as 0), all at once: one
    unit a row, and the non-finite values replaced only when there are some."""
    units = np.ascontiguousarray(h.T)  # (units, points)
    if not np.isfinite(units).all():
        units = np.where(np.isfinite(units), units, 0.0)
    lo, hi = units.min(axis=1), units.max(axis=1)  # (units,)
    wide = hi - lo > FLAT
    scale = np.where(wide, 255.0 / np.where(wide, hi - lo, 1.0), 0.0)
    values = np.round((units - lo[:, None]) * scale[:, None]).astype(np.uint8)
    return [{"min": float(a), "max": float(b), "values": v} for a, b, v in zip(lo, hi, values)]


def significant(a: np.ndarray, digits: int = 4) -> list:
    """``a`` rounded to ``digits`` significant digits, as nested lists (non-finite: None)."""
    a = np.asarray(a, dtype=np.float64)
    finite = np.isfinite(a) & (a != 0)
    scale = np.ones_like(a)
    scale[finite] = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(a[finite]))))
    out = np.where(np.isfinite(a), np.round(a * scale) / scale, np.nan)
    return np.where(np.isnan(out), None, out).tolist() if not np.all(np.isfinite(a)) else out.tolist()


def _number(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None


def frame(run: Run) -> dict:
    """The frame of ``run`` now, with uint8 arrays where the page gets base64."""
    task = run.task
    with np.errstate(all="ignore"):
        _, y_hat = predict(run.model, grid_inputs(task), task)
        hidden, _ = predict(run.model, grid_inputs(task, UNIT_GRID), task)
    y_hat = np.nan_to_num(y_hat, nan=0.0, posinf=0.0, neginf=0.0)  # a diverged run: drawn blank
    if task == "regression":
        boundary = {"curve": significant(y_hat)}
    else:
        boundary = {
            "label": y_hat.argmax(axis=1).astype(np.uint8),
            "confidence": np.round(255 * y_hat.max(axis=1)).astype(np.uint8),
        }
    with np.errstate(all="ignore"):
        train_loss, train_accuracy = evaluate(run.model, run.x, run.train_set.y, task)
        test_loss, test_accuracy = evaluate(run.model, run.test_set.x, run.test_set.y, task)
    return {
        "type": "frame",
        "step": run.steps,
        "epoch": round(run.epoch, 4),
        "lr": run.lr,
        "train_loss": _number(train_loss),
        "test_loss": _number(test_loss),
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "boundary": boundary,
        "units": [quantize_units(h) for h in hidden],
        "weights": [
            {"w": significant(layer.weight.data), "b": significant(layer.bias.data)} for layer in run.model.layers
        ],
        "newton": run.newton and {**run.newton, "smallest_eigenvalue": _number(run.newton["smallest_eigenvalue"])},
        "stopped": "diverged" if run.diverged else None,
    }


def points(run: Run) -> dict:
    """The training and test sets as [x, y, label] rows ([x, target] for a regression)."""

    def rows(data) -> list:
        return np.column_stack([data.x.astype(np.float64), data.y]).round(4).tolist()

    return {"train": rows(run.train_set), "test": rows(run.test_set)}


def model_message(run: Run) -> dict:
    """The ``model`` message's numbers (the app adds the formula's MathML and the program)."""
    return {
        "type": "model",
        "parameters": run.model.parameter_count(),
        "layers": run.sizes,
        "grid": {"size": GRID, "units": UNIT_GRID, "extent": list(EXTENT)},
        "points": points(run),
        "classes": run.train_set.classes,
    }

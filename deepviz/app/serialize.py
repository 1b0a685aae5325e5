"""Turn engine records into JSON-ready values. JSON has no NaN or infinity: they travel as
the strings "NaN", "Infinity" and "-Infinity", and the page shows them as such."""

from __future__ import annotations

import re
from math import isfinite

import numpy as np
from numpy import ndarray

from deepviz.engine.trace import BackwardStep, Trace


def number(x: float) -> float | str:
    x = float(x)
    if isfinite(x):  # math's test on a Python float: a tenth of np.isfinite's cost
        return x
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def values(a) -> float | str | list | None:
    """A scalar or array as a number or nested lists, with non-finite values as strings."""
    if type(a) is ndarray:
        if not a.shape:  # one number (most of a traced expression's values): no array made
            x = float(a)
            return x if isfinite(x) else number(x)
    elif a is None:
        return None
    elif type(a) is float or isinstance(a, np.generic | int):
        return number(a)
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return number(a.item())
    if np.all(np.isfinite(a)):
        return a.tolist()
    return [values(row) for row in a]


_TEMPLATES: dict[str, str] = {}  # a rule -> its template, made once per rule (an op's few fixed strings)


def _rule_template(rule: str) -> str:
    """A rule with its placeholders a and b as {0} and {1}, for str.format."""
    escaped = rule.replace("{", "{{").replace("}", "}}")
    return re.sub(r"\b[ab]\b", lambda m: "{0}" if m.group(0) == "a" else "{1}", escaped)


def rule_text(rule: str, names: list[str]) -> str:
    """A local-gradient rule with its placeholders a and b replaced by the inputs' labels."""
    template = _TEMPLATES.get(rule)
    if template is None:
        template = _TEMPLATES[rule] = _rule_template(rule)
    if len(names) >= 2:
        return template.format(*names)
    return template.format(*names, *("a", "b")[len(names) :])


def trace_json(trace: Trace) -> dict:
    nodes = trace.nodes
    labels = [n.label for n in nodes]
    return {
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind,
                "op": n.op,
                "label": n.label,
                "formula": n.formula,
                "shape": list(n.shape),
                "value": values(n.value),
                "grad": values(n.grad),
                "inputs": n.inputs,
            }
            for n in nodes
        ],
        "edges": [{"source": s, "target": n.id, "slot": slot} for n in nodes for slot, s in enumerate(n.inputs)],
        "backward": [step_json(s, trace, labels) for s in trace.backward],
    }


def step_json(step: BackwardStep, trace: Trace, labels: list[str]) -> dict:
    input_names = [labels[i] for i in trace.nodes[step.node].inputs]
    return {
        "node": step.node,
        "upstream": values(step.upstream),
        "inputs": [
            {
                "node": s.node,
                "rule": rule_text(s.rule, input_names),
                "local": values(s.local),
                "downstream": values(s.downstream),
            }
            for s in step.inputs
        ],
    }


def check_json(check) -> dict:
    return {
        "h": check.h,
        "function_size": check.function_size,
        "notes": check.notes,
        "variables": [
            {
                "name": v.name,
                "autodiff": values(v.autodiff),
                "numeric": values(v.numeric),
                "relative_error": None if v.relative_error is None else number(v.relative_error),
                "symbolic": None
                if v.symbolic is None
                else {
                    "text": v.symbolic.text,
                    "size": v.symbolic.size,
                    "value": number(v.symbolic.value),
                },
            }
            for v in check.variables
        ],
    }


def grid(a: np.ndarray, digits: int = 6) -> list:
    """A 2-D array as lists of numbers rounded to ``digits`` significant digits (what a
    page can show), non-finite values as strings."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        scale = np.where(a == 0, 1, 10 ** (digits - 1 - np.floor(np.log10(np.abs(np.where(a == 0, 1, a))))))
        rounded = np.where(np.isfinite(a), np.round(a * scale) / scale, a)
    return values(rounded)

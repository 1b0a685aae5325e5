"""Random expressions of the backprop lab's language (hypothesis), with values: every
elementwise op, constants, named steps used more than once (fan-out), and values that may
overflow or leave a function's domain (NaN and infinities must survive the trace too)."""

from hypothesis import strategies as st

UNARY = ["exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs"]
BINARY = ["+", "-", "*", "/", "^"]


def _leaves(names: list[str]):
    return st.one_of(st.sampled_from(names), st.floats(0, 4, allow_nan=False).map(lambda v: f"{v:g}"))


def _grow(inner):
    return st.one_of(
        st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        inner.map(lambda e: f"-{e}"),
    )


def _bodies(names: list[str]):
    return st.recursive(_leaves(names), _grow, max_leaves=12)


# q is a named step, so that every use of it in the output is one shared node
expressions = st.tuples(_bodies(["x", "y"]), _bodies(["x", "y", "q"])).map(lambda t: f"q = {t[0]}; f = {t[1]}")
points = st.fixed_dictionaries(
    {"x": st.floats(-3, 3, allow_nan=False), "y": st.floats(-3, 3, allow_nan=False)}
)  # fmt: skip

"""Ready-made questions of /pooling, /receptive-field and /training: each answer against torch
(pooling and its backward, the receptive field as the support of ∂unit/∂input, a network's
parameters and its initial loss, a DataLoader's length) and the page's own API (the training
stream's first frame); the page's grid of numbers and layer language read as its scripts read
them (run by node); bad states refused with the URL parameter in loc."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deepviz.app.questions import pooling, receptive_field, training
from deepviz.app.settings import Settings
from deepviz.lessons.playground.run import Run
from tests.classroom.conftest import ask, asked

JS = Path(pooling.__file__).parents[1] / "static" / "js"
NODE = shutil.which("node")


# -- /pooling ---------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["max", "avg"]), k=st.integers(1, 4), s=st.integers(1, 4), seed=st.integers(0, 999999999))
def test_pooling_output_and_the_input_its_gradient_goes_to_are_torchs(lesson, kind, k, s, seed):
    got = asked(lesson, "/pooling", kind=kind, k=str(k), s=str(s), seed=str(seed))
    x = torch.tensor(pooling.numbers(seed), dtype=torch.float64)[None, None].requires_grad_()
    out = (TF.max_pool2d if kind == "max" else TF.avg_pool2d)(x, k, s)  # (1, 1, h, w)
    value = got[0]
    i, j = map(int, re.search(r"output row (\d+), column (\d+)", value["question"]).groups())
    assert (i, j) == (out.shape[2] // 2, out.shape[3] // 2)
    assert value["kind"] == "number" and value["answer"] == float(out[0, 0, i, j].detach())
    for q in got:
        assert q["show"] == {"page": "/pooling", "state": {"kind": kind, "k": str(k), "s": str(s),
                                                           "seed": str(seed), "cell": f"{i}.{j}"}}  # fmt: skip
    if kind == "avg" or k == 1 or k * k > Settings().max_poll_options:  # 4×4: more inputs than a poll has options
        assert len(got) == 1
        return
    (_, gradient) = got
    out[0, 0, i, j].backward()
    (position,) = torch.nonzero(x.grad[0, 0]).tolist()  # torch: ties go to the first maximum too
    assert gradient["kind"] == "choice" and len(gradient["options"]) == k * k
    assert gradient["options"][int(gradient["answer"])] == f"row {position[0]}, column {position[1]}"


@pytest.mark.skipif(NODE is None, reason="node runs the page's script")
def test_the_pooling_grid_is_the_pages(tmp_path):
    """pooling.js's numbers(seed), run by node, for seeds whose first product JavaScript rounds."""
    source = (JS / "pooling.js").read_text()
    function = re.search(r"const SIZE = \d+;\n.*?^function numbers\(seed\) \{.*?^\}\n", source, re.S | re.M)
    seeds = [0, 1, 2, 7, 123456, 3_000_000, 999_999_999, 987_654_321]
    script = function.group(0).replace("function numbers", "const SIZE_ = SIZE;\nfunction numbers")
    script += f"console.log(JSON.stringify({seeds}.map(numbers)));\n"
    (tmp_path / "numbers.mjs").write_text(script)
    grids = json.loads(subprocess.run([NODE, str(tmp_path / "numbers.mjs")], capture_output=True, text=True,
                                      check=True, timeout=30).stdout)  # fmt: skip
    assert re.search(r"const SIZE = (\d+);", source).group(1) == str(pooling.SIZE)
    for seed, grid in zip(seeds, grids, strict=True):
        assert pooling.numbers(seed).tolist() == grid, seed


# -- /receptive-field -------------------------------------------------------------------------
def torch_field(layers: list[dict], n: int, layer: int, row: int, col: int) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the input pixels the unit depends on, or None if none: the
    support of ∂unit/∂input through the stack with positive kernels as wide as each layer's
    span (a dilated kernel's holes filled: a field is the span, as the page teaches r) and
    average pooling for max pooling (the same windows, every input of a window gets gradient)."""
    x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    h = x
    for spec in layers[:layer]:
        span, s, p = (spec["kernel"] - 1) * spec["dilation"] + 1, spec["stride"], spec["padding"]
        if spec["type"] == "conv":
            h = TF.conv2d(h, torch.ones(1, 1, span, span, dtype=torch.float64), None, s, p)
        else:
            h = TF.avg_pool2d(h, span, s, p)
    h[0, 0, row, col].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    if not len(rows):
        return None  # its window lies in the padding only
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


token = st.one_of(
    st.builds(lambda k, s, p, d: f"c{k}" + (f"s{s}" if s > 1 else "") + (f"p{p}" if p else "")
              + (f"d{d}" if d > 1 else ""), st.integers(1, 5), st.integers(1, 2), st.integers(0, 2), st.integers(1, 2)),
    st.builds(lambda t, k, s: f"{t}{k}" + (f"s{s}" if s != k else ""), st.sampled_from("ma"), st.integers(2, 3),
              st.integers(1, 3)),
)  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(stack=st.lists(token, min_size=1, max_size=4).map(",".join), n=st.integers(8, 32), corner=st.booleans())
def test_receptive_field_width_first_row_and_jump_are_torchs(lesson, client, stack, n, corner):
    layers = receptive_field.layers_of(stack)
    # A layer whose stride is larger than its span leaves gaps between its windows: there the
    # page's field (the span r, clipped to the image) may start on a pixel no window reads, at
    # the border, where the support's first row is the next one (c1p1,c1s2,m3 on 8×8: rows 0–3
    # against 1–3). The page crosses such pixels out separately; this test keeps to stacks
    # without gaps.
    assume(all(spec["stride"] <= (spec["kernel"] - 1) * spec["dilation"] + 1 for spec in layers))
    maps = client.post("/api/v1/receptive-field", json={"layers": layers, "input_size": n, "effective": False})
    assume(maps.status_code == 200)  # a stack that leaves no output: refused, tested below
    last = len(layers)
    unit = f"{last}.0.0" if corner else ""  # the corner, clipped by padding; else the middle unit
    got = asked(lesson, "/receptive-field", stack=stack, n=str(n), unit=unit)
    layer, row, col = map(int, got[0]["show"]["state"]["unit"].split("."))
    size = maps.json()["maps"][last]["size"]
    assert (layer, row, col) == ((last, 0, 0) if corner else (last, size // 2, size // 2))
    field = torch_field(layers, n, layer, row, col)
    if field is None:  # no input pixel: asked how wide (0) and how far apart, not which row
        width, jump = got
        assert width["answer"] == 0
    else:
        width, first, jump = got
        top, left, bottom, right = field
        assert width["answer"] == right - left + 1 and first["answer"] == top
    assert jump["answer"] == math.prod(spec["stride"] for spec in layers)  # j = S₁·S₂·…
    assert {q["show"]["page"] for q in got} == {"/receptive-field"}


@pytest.mark.skipif(NODE is None, reason="node runs the page's script")
def test_the_stack_language_is_read_as_the_receptive_field_page_reads_it(tmp_path):
    stacks = ["c3,c3,c3", "c5s2p1,m2,c3d2,a2", " c7s3p2d2 , a3s1 ", "m2s1,a4,c11s5p5"]
    (tmp_path / "layers.mjs").write_text((JS / "layers.js").read_text())
    script = (f"import {{ FIELDS, parseStack }} from './layers.mjs';\n"
              f"console.log(JSON.stringify({json.dumps(stacks)}.map((s) => parseStack(s, FIELDS))));\n")  # fmt: skip
    (tmp_path / "run.mjs").write_text(script)
    read = json.loads(subprocess.run([NODE, str(tmp_path / "run.mjs")], capture_output=True, text=True, check=True,
                                     timeout=30).stdout)  # fmt: skip
    assert [receptive_field.layers_of(s) for s in stacks] == read


# -- /training --------------------------------------------------------------------------------
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
RUNS = [
    {},
    {"data": "spiral", "hidden": "", "act": "", "opt": "gd"},
    {"data": "sine", "hidden": "5", "act": "relu", "batch": "32", "points": "97", "test": "0.25"},
    {"data": "moons", "hidden": "16,3,4", "act": "sigmoid,relu,tanh", "opt": "sgd", "batch": "1", "seed": "41"},
    {"data": "custom", "pts": "0.1,0.2,0;0.5,-0.5,2;0.3,0.3,1;-1,1,0"},
]


@pytest.mark.parametrize("state", RUNS, ids=lambda s: s.get("data", "default"))
def test_training_parameters_initial_loss_and_steps_per_epoch_are_torchs_and_the_pages(lesson, client, state):
    got = asked(lesson, "/training", **state)
    config = training.config_of(state, Settings())
    run = Run(config.to_run())  # the run the page starts: its data and initial weights
    layers = [torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64) for w in
              (layer.weight.data for layer in run.model.layers)]  # fmt: skip
    with torch.no_grad():
        for linear, layer in zip(layers, run.model.layers, strict=True):
            linear.weight.copy_(torch.from_numpy(layer.weight.data))
            linear.bias.copy_(torch.from_numpy(layer.bias.data))
    net = torch.nn.Sequential(*layers)
    assert got[0]["answer"] == sum(p.numel() for p in net.parameters())
    h = torch.from_numpy(run.x)
    for linear, name in zip(layers, run.model.activation):
        h = ACTIVATIONS[name](linear(h))
    z, y = layers[-1](h), torch.from_numpy(run.train_set.y)
    if run.task == "binary":
        expected = TF.binary_cross_entropy_with_logits(z[:, 0], y.double())
    elif run.task == "multiclass":
        expected = TF.cross_entropy(z, y.long())
    else:
        expected = TF.mse_loss(z[:, 0], y.double())
    assert got[1]["answer"] == pytest.approx(float(expected.detach()), abs=5e-4)
    with client.websocket_connect("/api/v1/train/stream") as ws:  # the page's own stream: what it shows
        ws.send_text(json.dumps({"type": "configure", "config": config.model_dump()}))
        model, frame = ws.receive_json(), ws.receive_json()
    assert model["parameters"] == got[0]["answer"] and frame["step"] == 0
    assert round(frame["train_loss"], 3) == got[1]["answer"]
    if config.train.optimizer in ("gd", "newton"):
        assert len(got) == 2  # every step is an epoch
    else:
        batches = torch.utils.data.DataLoader(range(len(run.x)), batch_size=min(config.train.batch_size, len(run.x)))
        assert got[2]["answer"] == len(batches)
        steps = 0
        while run.epoch < 1:
            run.step()
            steps += 1
        assert steps == got[2]["answer"] and run.epoch == 1
    assert all(q["show"] == {"page": "/training", "state": state} for q in got)


def test_the_questions_read_these_pages_with_their_own_defaults():
    """The defaults written in the pages' TABLEs and here must not drift apart."""

    def defaults(name: str) -> dict[str, str]:
        table = re.search(r"const TABLE = \{.*?\n\};", (JS / name).read_text(), re.S).group(0)
        found = {}
        for key, kind, args in re.findall(r"^  (\w+): .*?param\.(\w+)\((.*?)(?=^  \w+: |^\};)", table, re.S | re.M):
            strings = re.findall(r'"([^"]*)"', re.sub(r"\[[^\]]*\]", "", args))  # not a list of values
            found[key] = strings[-1] if kind == "custom" else strings[0]  # custom(read, default)
        return found

    assert defaults("training.js") == training.DEFAULTS
    assert defaults("pooling.js") == {"kind": "max", "k": "2", "s": "2", "seed": "1", "cell": ""}
    rf = defaults("receptive_field.js")
    assert rf == {"stack": receptive_field.DEFAULT_STACK, "n": str(receptive_field.DEFAULT_SIZE), "unit": ""}


@pytest.mark.parametrize(
    ("page", "state", "key"),
    [
        ("/pooling", {"kind": "min"}, "kind"),
        ("/pooling", {"k": "5"}, "k"),
        ("/pooling", {"s": "0"}, "s"),
        ("/pooling", {"seed": "1e3"}, "seed"),
        ("/receptive-field", {"stack": "c3,r"}, "stack"),
        ("/receptive-field", {"stack": "c3-6k5"}, "stack"),
        ("/receptive-field", {"stack": "c3p1s2"}, "stack"),  # s, p, d in this order
        ("/receptive-field", {"stack": "c9,c9", "n": "8"}, "stack"),
        ("/receptive-field", {"stack": "m4p3"}, "stack"),
        ("/receptive-field", {"stack": "c3," * 11}, "stack"),
        ("/receptive-field", {"n": "65"}, "n"),
        ("/receptive-field", {"unit": "3.14.0"}, "unit"),
        ("/receptive-field", {"unit": "9.0.0"}, "unit"),
        ("/training", {"points": "5"}, "points"),
        ("/training", {"points": "100000"}, "points"),
        ("/training", {"hidden": "8,x"}, "hidden"),
        ("/training", {"hidden": "99", "act": "tanh"}, "hidden"),
        ("/training", {"hidden": "8,8,8,8,8", "act": "tanh,tanh,tanh,tanh,tanh"}, "hidden"),
        ("/training", {"act": "tanh,cosh"}, "act"),
        ("/training", {"opt": "newton", "hidden": "16,16"}, "opt"),
        ("/training", {"opt": "lbfgs"}, "opt"),
        ("/training", {"lr": "0"}, "lr"),
        ("/training", {"lr": "nan"}, "lr"),
        ("/training", {"data": "moon"}, "data"),
        ("/training", {"data": "custom"}, "pts"),
        ("/training", {"data": "custom", "pts": "0.1,0.2,3"}, "pts"),
        ("/training", {"data": "custom", "pts": "2,0,1"}, "pts"),
        ("/training", {"dropout": "0.25"}, "dropout"),
        ("/training", {"schedule": "linear"}, "schedule"),
    ],
)
def test_bad_states_are_refused_with_the_parameter_in_loc(lesson, page, state, key):
    response = ask(lesson, page, **state)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "state", key] and error["msg"], error


def test_a_poll_can_ask_every_question_these_pages_offer(lesson):
    for page, state in [("/pooling", {"k": "3", "s": "1"}), ("/receptive-field", {"stack": "c3," * 10, "n": "64"}),
                        ("/training", {"data": "custom", "pts": "0.5,0.5,2"})]:  # fmt: skip
        got = asked(lesson, page, **state)
        assert got and all(len(q["question"]) <= Settings().max_question_length for q in got), page
    assert len(asked(lesson, "/pooling", k="4")) == 1  # 16 inputs in the window: more options than a poll has

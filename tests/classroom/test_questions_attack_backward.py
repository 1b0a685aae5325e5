"""Ready-made questions of /convolution-backward and /adversarial: each answer against torch
(the convolution's gradients and the windows that cover an input pixel; the attacked digit
read by torch's LeNet-5 with the same weights, the smallest ε fooling it and the one below
not) and the pages' own API; the page's numbers read as its script makes them (run by node);
bad states refused with the URL parameter in loc."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deepviz.app.questions import adversarial as adversarial_questions
from deepviz.app.questions import conv_backward
from deepviz.app.settings import Settings
from deepviz.engine.arithmetic import conv_output_size
from deepviz.lessons import adversarial
from tests.engine.oracle import torch_lenet

JS = Path(conv_backward.__file__).parents[1] / "static" / "js"
NODE = shutil.which("node")


def ask(lesson, page: str, **state: str):
    return lesson.client.post(f"{lesson.url}/questions", json={"page": page, "state": state}, headers=lesson.instructor)


def asked(lesson, page: str, **state: str) -> list[dict]:
    response = ask(lesson, page, **state)
    assert response.status_code == 200, response.text
    return response.json()


# -- /convolution-backward ----------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(grad=st.sampled_from(["dX", "dW", "db"]), n=st.integers(3, 7), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 2), d=st.integers(1, 2), up=st.sampled_from(["ones", "count", "random"]),
       seed=st.integers(0, 999_999_999))  # fmt: skip
def test_conv_backward_cell_and_paths_are_torchs(lesson, grad, n, k, s, p, d, up, seed):
    assume(conv_output_size(n, k, p, s, d) >= 1)
    state = {"grad": grad, "n": str(n), "k": str(k), "s": str(s), "p": str(p), "d": str(d), "up": up, "seed": str(seed)}
    got = asked(lesson, "/convolution-backward", **state)
    image, kernel = conv_backward.numbers(seed, n, k)
    x = torch.tensor(image, dtype=torch.float64)[None, None].requires_grad_()
    w = torch.tensor(kernel, dtype=torch.float64)[None, None].requires_grad_()
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    out = TF.conv2d(x, w, b, stride=s, padding=p, dilation=d)  # (1, 1, H_out, W_out)
    h_out = out.shape[2]
    upstream = {"ones": np.ones((h_out, h_out)), "count": np.arange(1.0, h_out * h_out + 1).reshape(h_out, h_out),
                "random": np.random.default_rng(seed).integers(-3, 4, (h_out, h_out))}[up]  # fmt: skip
    out.backward(torch.tensor(upstream, dtype=torch.float64)[None, None])
    value = got[0]
    if grad == "db":
        assert value["answer"] == pytest.approx(float(b.grad[0])) and value["show"]["state"]["pos"] == "0"
    else:
        row, col = map(int, re.search(r"at row (\d+), column (\d+)\?", value["question"]).groups())
        side = n if grad == "dX" else k
        assert row == col == side // 2
        theirs = (x if grad == "dX" else w).grad[0, 0, row, col]
        assert value["answer"] == pytest.approx(float(theirs), abs=1e-9)
        width = n + 2 * p if grad == "dX" else k  # the page walks the padded input for ∂L/∂X
        offset = p if grad == "dX" else 0
        pos = (row + offset) * width + col + offset
        assert value["show"] == {"page": "/convolution-backward", "state": {**state, "pos": str(pos)}}
    if grad != "dX":
        assert len(got) == 1
        return
    (_, paths) = got
    ones = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    covered = TF.conv2d(ones, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, padding=p, dilation=d)
    covered.sum().backward()  # each output window adds 1 to every input pixel it covers
    assert paths["answer"] == float(ones.grad[0, 0, n // 2, n // 2])


@pytest.mark.skipif(NODE is None, reason="node runs the page's script")
def test_the_conv_backward_numbers_are_the_pages(tmp_path):
    """conv_backward.js's numbers(seed, n, k), run by node, for seeds whose first product JavaScript rounds."""
    source = (JS / "conv_backward.js").read_text()
    function = re.search(r"^function numbers\(seed, n, k\) \{.*?^\}\n", source, re.S | re.M)
    cases = [(0, 3, 1), (1, 4, 2), (7, 7, 3), (123456, 5, 3), (3_000_000, 6, 2), (999_999_999, 7, 3)]
    script = function.group(0) + f"console.log(JSON.stringify({json.dumps(cases)}.map((c) => numbers(...c))));\n"
    (tmp_path / "numbers.mjs").write_text(script)
    made = json.loads(subprocess.run([NODE, str(tmp_path / "numbers.mjs")], capture_output=True, text=True,
                                     check=True, timeout=30).stdout)  # fmt: skip
    for (seed, n, k), page in zip(cases, made, strict=True):
        image, kernel = conv_backward.numbers(seed, n, k)
        assert [image, kernel] == [page["input"], page["kernel"]], (seed, n, k)


# -- /adversarial ------------------------------------------------------------------------------
def torch_reads(model, pixels) -> int:
    forward, _ = torch_lenet(model)
    with torch.no_grad():
        return int(forward(torch.tensor(np.asarray(pixels, dtype=np.float32))[None, None]).argmax())


def attacked(client, pixels, **request) -> dict:
    response = client.post("/api/v1/lenet/adversarial", json={"pixels": pixels, **request})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"target": "3"},
        {"target": "3", "steps": "1", "eps": "0.2"},
        {"model": "robust", "eps": "0.3"},
        {"digit": "4", "target": "7", "eps": "0.05"},
    ],  # fmt: skip
    ids=["default", "target 3", "FGSM", "robust", "another digit"],
)
def test_adversarial_reading_smallest_epsilon_and_the_defence_are_torchs(lesson, client, state):
    got = asked(lesson, "/adversarial", **state)
    index = int(state.get("digit") or adversarial.digits()["index"][0])
    pixels, label = adversarial_questions.gallery_digit(index)
    page_digit = next(d for d in client.get("/api/v1/lenet/adversarial/digits").json() if d["index"] == index)
    assert page_digit["label"] == label
    target = int(state["target"]) if state.get("target") else None
    attack = {"target": target, "steps": int(state.get("steps", "10")), "model": state.get("model", "standard")}
    eps = float(state.get("eps", "0.1"))
    model = adversarial.load(attack["model"])
    reading, *rest = got
    assert f"Test digit {index}, a handwritten {label}" in reading["question"]
    after = attacked(client, pixels, epsilon=eps, **attack)
    assert reading["answer"] == after["prediction"] == torch_reads(model, after["pixels"])
    assert reading["show"]["state"] == state
    smallest = [q for q in rest if "smallest ε" in q["question"]]
    if smallest:
        (q,) = smallest
        epsilon, below = q["answer"], q["answer"] - Settings().adversarial_search_resolution
        read = attacked(client, pixels, epsilon=epsilon, **attack)
        assert read["flipped"] and q["show"]["state"]["eps"] == f"{epsilon:g}"
        before = torch_reads(model, pixels)
        fooled = torch_reads(model, read["pixels"])
        assert fooled == target if target is not None else fooled != before
        if below > 1e-9:
            assert not attacked(client, pixels, epsilon=below, **attack)["flipped"]
    defence = [q for q in rest if "adversarially trained LeNet-5 fooled" in q["question"]]
    assert len(defence) == (attack["model"] == "standard")
    if defence:
        robust = attacked(client, pixels, epsilon=eps, **{**attack, "model": "robust"})
        robust_read = torch_reads(adversarial.load("robust"), robust["pixels"])
        assert defence[0]["answer"] == (0.0 if robust["flipped"] else 1.0)
        assert robust_read == robust["prediction"] and defence[0]["show"]["state"]["model"] == "robust"


@pytest.mark.parametrize(
    ("page", "state", "key"),
    [
        ("/adversarial", {"eps": "2"}, "eps"),
        ("/adversarial", {"eps": "nan"}, "eps"),
        ("/adversarial", {"digit": "99999"}, "digit"),
        ("/adversarial", {"target": "x"}, "target"),
        ("/adversarial", {"steps": "0"}, "steps"),
        ("/adversarial", {"steps": "51"}, "steps"),
        ("/adversarial", {"model": "huge"}, "model"),
        ("/convolution-backward", {"grad": "dZ"}, "grad"),
        ("/convolution-backward", {"n": "9"}, "n"),
        ("/convolution-backward", {"up": "zeros"}, "up"),
        ("/convolution-backward", {"seed": "-1"}, "seed"),
    ],
)
def test_bad_states_are_refused_with_the_parameter_in_loc(lesson, page, state, key):
    response = ask(lesson, page, **state)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "state", key] and error["msg"]


def test_a_kernel_that_does_not_fit_asks_nothing(lesson):
    assert asked(lesson, "/convolution-backward", n="3", k="3", d="2") == []

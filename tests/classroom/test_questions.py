"""Ready-made questions (POST /classes/{code}/questions): each page's answer checked against an
independent computation (torch for gradients, the formula for output sizes, the page's own
API for LeNet-5 and the race), bad states refused with the URL parameter in loc, only the
instructor asks, and a reveal with `show` moves the followers to the answer's page state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.app import questions
from deepviz.app.main import create_app
from deepviz.app.settings import Settings
from tests.classroom.conftest import Class, ask, asked, bearer

ASKED = re.compile(r"Backward pass at (\w+) = .*∂\w+/∂(\w+) flows")


finite = st.floats(-10, 10, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=15, deadline=None)
@given(x=finite, y=finite, z=finite)
def test_backprop_downstream_gradients_are_torchs(lesson, x, y, z):
    expr = "q = x * y; r = sigmoid(q); f = r * z"
    got = asked(lesson, "/backprop", expr=expr, values=f"x = {x}, y = {y}, z = {z}")
    tx, ty, tz = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y, z))
    q = tx * ty
    r = torch.sigmoid(q)
    for t in (q, r):
        t.retain_grad()
    (r * tz).backward()
    expected = {"q": q.grad, "r": r.grad, "x": tx.grad, "y": ty.grad, "z": tz.grad}
    found = {}
    for question in got:
        assert question["kind"] == "number" and question["show"]["page"] == "/backprop"
        node, source = ASKED.search(question["question"]).groups()
        found[source] = question["answer"]
        assert question["answer"] == pytest.approx(float(expected[source]), rel=1e-6, abs=1e-12)
    assert set(found) == set(expected)  # every edge of this tree is asked once


def test_backprop_reveal_step_is_the_backward_step_that_shows_the_answer(lesson, client):
    expr, values = "x * y + x", "x = 3, y = -4"  # fan-out: x gets two downstream gradients
    got = asked(lesson, "/backprop", expr=expr, values=values, preset="custom", step="2")
    graph = client.post("/api/v1/graph", json={"expression": expr, "values": {"x": 3, "y": -4}}).json()
    to_x = 0.0
    for question in got:
        node, source = ASKED.search(question["question"]).groups()
        state = question["show"]["state"]
        assert state["expr"] == expr and state["preset"] == "custom"
        step = graph["backward"][int(state["step"]) - 1 - len(graph["nodes"])]  # start, forward nodes, backward
        assert graph["nodes"][step["node"]]["label"] == node
        shown = {graph["nodes"][i["node"]]["label"]: i["downstream"] for i in step["inputs"]}
        assert shown[source] == question["answer"]
        to_x += question["answer"] if source == "x" else 0.0
    tx, ty = torch.tensor(3.0, requires_grad=True), torch.tensor(-4.0, requires_grad=True)
    (tx * ty + tx).backward()
    assert to_x == float(tx.grad) == -3.0  # the two downstream gradients sum to ∂f/∂x


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 16), p=st.integers(0, 4), s=st.integers(1, 4), k=st.sampled_from(["sobel_x", "box", "custom"]))
def test_convolution_output_size_is_the_formula(lesson, n, p, s, k):
    w = "1,2,3,4,5;" * 5 if k == "custom" else ""
    size = 5 if k == "custom" else 3
    got = asked(lesson, "/convolution", n=str(n), p=str(p), s=str(s), k=k, w=w)
    if size > n + 2 * p:
        assert got == []
        return
    (question,) = got
    assert question["kind"] == "number" and question["answer"] == (n + 2 * p - size) // s + 1
    assert question["show"] == {"page": "/convolution", "state": {"n": str(n), "p": str(p), "s": str(s), "k": k,
                                                                   "w": w, "pos": "0"}}  # fmt: skip


def test_lenet_asks_for_a_gallery_digit_only(lesson, client):
    assert asked(lesson, "/lenet") == []  # no digit the state identifies: no question
    for m in client.get("/api/v1/lenet/mistakes").json()[:3]:
        (question,) = asked(lesson, "/lenet", mistake=str(m["index"]))
        assert question["kind"] == "choice" and question["options"] == [str(d) for d in range(10)]
        assert question["answer"] == m["prediction"] != m["label"]
        assert question["show"] == {"page": "/lenet", "state": {"mistake": str(m["index"])}}


@pytest.mark.parametrize("surface", ["quadratic", "rosenbrock", "himmelblau"])
def test_optimizers_first_to_the_minimum_is_the_races(lesson, client, surface):
    (question,) = asked(lesson, "/optimizers", surface=surface, racers="gd,momentum,adam", steps="200")
    body = {"surface": surface, "steps": 200, "optimizers": [{"name": n} for n in ("gd", "momentum", "adam")]}
    runs = client.post("/api/v1/optimize", json=body).json()["trajectories"]
    assert question["options"][:-1] == [t["title"] for t in runs]
    reached = [(t["reached"], i) for i, t in enumerate(runs) if t["reached"] is not None]
    assert question["answer"] == (min(reached)[1] if reached else len(runs))
    assert question["show"]["state"]["t"] == ""  # the race's end


def test_pages_without_questions_offer_none(lesson):
    assert asked(lesson, "/") == [] and asked(lesson, "/join") == []


@pytest.mark.parametrize(
    ("page", "state", "key"),
    [
        ("/backprop", {"expr": "x +", "values": "x = 1"}, "expr"),
        ("/backprop", {"expr": "x", "values": "x = ["}, "values"),
        ("/backprop", {"expr": "x", "values": "x = " + ", ".join(["1"] * 5000)}, "values"),
        ("/backprop", {"expr": "x" + " + x" * 2000, "values": "x = 1"}, "expr"),
        ("/convolution", {"s": "0"}, "s"),
        ("/convolution", {"n": "99"}, "n"),
        ("/convolution", {"k": "nope"}, "k"),
        ("/convolution", {"k": "custom", "w": "1,2;3"}, "w"),
        ("/lenet", {"mistake": "999999"}, "mistake"),
        ("/lenet", {"mistake": "x"}, "mistake"),
        ("/optimizers", {"surface": "moon"}, "surface"),
        ("/optimizers", {"steps": "1000000"}, "steps"),
        ("/optimizers", {"racers": "gd,gd"}, "racers"),
        ("/optimizers", {"k": "zero"}, "k"),
    ],
)
def test_bad_states_are_refused_with_the_parameter_in_loc(lesson, page, state, key):
    response = ask(lesson, page, **state)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "state", key] and error["msg"]


def test_only_the_instructor_asks(lesson, client):
    student = lesson.join()
    body = {"page": "/backprop", "state": {}}
    assert client.post(f"{lesson.url}/questions", json=body).status_code == 401
    assert client.post(f"{lesson.url}/questions", json=body, headers=bearer(student)).status_code == 404
    other = Class(client)
    assert client.post(f"{other.url}/questions", json=body, headers=lesson.instructor).status_code == 404


def test_a_reveal_with_show_moves_the_followers_to_the_answer(make_client):
    with make_client() as client:
        lesson = Class(client)
        student = lesson.join()
        lesson.state("/backprop", step="0")
        question = asked(lesson, "/backprop")[0]
        with lesson.follow(student) as ws:
            assert ws.receive_json()["state"] == {"step": "0"}
            poll = {k: question[k] for k in ("question", "kind", "options")}
            poll_id = client.post(f"{lesson.url}/polls", json=poll, headers=lesson.instructor).json()["poll_id"]
            assert ws.receive_json()["type"] == "poll"
            answer = client.post(f"{lesson.url}/polls/{poll_id}/answers", json={"value": -4}, headers=bearer(student))
            assert answer.status_code == 200
            body = {"answer": question["answer"], "show": question["show"]}
            reveal = client.post(f"{lesson.url}/polls/{poll_id}/reveal", json=body, headers=lesson.instructor)
            assert reveal.status_code == 200
            got = ws.receive_json(), ws.receive_json()
        assert got[0] == {"type": "reveal", "seq": 3, "poll_id": poll_id, "answer": question["answer"]}
        assert got[1] == {"type": "state", "seq": 4, **question["show"]} and reveal.json() == {"seq": 4}
        assert client.get(lesson.url, headers=lesson.instructor).json()["state"] == question["show"]["state"]


def test_a_state_is_bounded_and_only_questions_a_poll_can_ask_are_offered(client, lesson):
    huge = ask(lesson, "/backprop", expr="x", values="x = 1", pad="0" * 4000, more="0" * 4000, most="0" * 4000,
               last="0" * 4000, over="0" * 1000)  # fmt: skip
    assert huge.status_code == 422 and huge.json()["detail"][0]["loc"] == ["body", "state"]
    mistake = str(client.get("/api/v1/lenet/mistakes").json()[0]["index"])
    with TestClient(create_app(Settings(max_question_length=40, max_poll_options=5))) as small:
        narrow = Class(small)
        assert len(asked(lesson, "/backprop")) == 4 and asked(narrow, "/backprop") == []  # the questions are longer
        assert asked(narrow, "/lenet", mistake=mistake) == []  # ten digits: more options than a poll may have


def test_backprop_presets_are_read_as_the_page_reads_them(lesson):
    """static/js/backprop.js: a preset without expr sets both fields; its expression's questions."""
    assert ASKED.search(asked(lesson, "/backprop", preset="fanout", values="x = 9")[0]["question"])
    softmax = asked(lesson, "/backprop", preset="softmax")
    assert softmax and all("∂L/" in q["question"] for q in softmax)
    fanout = asked(lesson, "/backprop", preset="fanout", values="x = 9")
    assert {q["answer"] for q in fanout} == {1.0, -4.0, 3.0}  # x = 3, y = -4, not x = 9


def test_the_questions_read_a_page_state_with_the_pages_own_defaults():
    # the pages' presets and default racers are written in their scripts too: the two must not drift
    static = Path(questions.__file__).parents[1] / "static" / "js"
    backprop = (static / "backprop.js").read_text()
    presets = re.findall(r'(\w+): \{\s*expr: "([^"]*)",\s*values: "([^"]*)",?\s*\}', backprop)
    assert {name: (expr, values) for name, expr, values in presets} == questions.BACKPROP_PRESETS
    racers = re.search(r'const DEFAULT_RACERS = "([^"]*)"', (static / "optimizers.js").read_text())
    assert racers and racers.group(1) == questions.DEFAULT_RACERS

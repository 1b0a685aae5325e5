"""GET /api/v1/graph/rnn (the unrolled recurrent network's preset, chapter 6) and the
gradient size per time step that POST /api/v1/graph reports for it."""

import pytest

from tests.api.conftest import small_client


def preset(client, **query):
    return client.get("/api/v1/graph/rnn", params=query)


def values_of(text: str) -> dict[str, float]:
    return {name.strip(): float(value) for name, value in (part.split("=") for part in text.split(","))}


def graph_of(client, answer: dict) -> dict:
    r = client.post("/api/v1/graph", json={"expression": answer["expression"], "values": values_of(answer["values"])})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_preset_vanishes_by_default(client):
    r = preset(client, T=4)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["T"] == 4 and answer["regime"] == "vanishing"
    assert answer["expression"].startswith("a1 = w * h0 + u * x1; h1 = tanh(a1); ") and answer["expression"].endswith(
        "L = h4"
    )
    assert values_of(answer["values"])["w"] == 0.5
    body = graph_of(client, answer)
    steps = body["through_time"]
    assert [s["t"] for s in steps] == [0, 1, 2, 3, 4] and [s["label"] for s in steps] == ["h0", "h1", "h2", "h3", "h4"]
    nodes = {n["id"]: n for n in body["nodes"]}
    assert all(nodes[s["node"]]["label"] == s["label"] for s in steps)  # the page finds each step's node
    norms = [s["norm"] for s in steps]
    assert norms[-1] == 1 and all(a < b for a, b in zip(norms, norms[1:]))  # shrinks going back
    assert norms[0] == pytest.approx(abs(body["gradients"]["h0"]), rel=1e-12)


def test_the_exploding_case_triples_each_step_back(client):
    body = graph_of(client, preset(client, T=5, regime="exploding").json())
    assert [s["norm"] for s in body["through_time"]] == [243, 81, 27, 9, 3, 1]


def test_other_graphs_have_no_time_steps(client):
    r = client.post("/api/v1/graph", json={"expression": "(x + y) * z", "values": {"x": 1, "y": 2, "z": 3}})
    assert r.json()["through_time"] == []


@pytest.mark.parametrize(
    ("query", "loc", "words"),
    [
        ({"T": 0}, ["query", "T"], "at least 1"),
        ({"T": "three"}, ["query", "T"], "T"),
        ({"T": 13}, ["query", "T"], "at most 12 time steps"),
        ({"T": 3, "regime": "chaotic"}, ["query", "regime"], "vanishing"),
    ],
)
def test_bad_queries_say_where(client, query, loc, words):
    r = preset(client, **query)
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == loc and words in item["msg"]


def test_the_longest_T_is_a_setting():
    client = small_client(max_rnn_steps=3)
    assert preset(client, T=3).status_code == 200
    r = preset(client, T=4)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "at most 3 time steps"

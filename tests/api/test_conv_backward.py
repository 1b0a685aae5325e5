"""POST /api/v1/conv/backward: the three gradients equal torch's, one cell's terms, bad inputs."""

import numpy as np
import pytest
import torch

X = [[float(3 * i + j) for j in range(5)] for i in range(5)]
K = [[1.0, -1.0], [2.0, 0.0]]


def backward(client, **body):
    body.setdefault("input", X)
    body.setdefault("kernel", K)
    return client.post("/api/v1/conv/backward", json=body)


def test_gradients_match_torch_with_stride_padding_and_dilation(client):
    r = backward(
        client, stride=2, padding=1, dilation=2, upstream="random", seed=4, cell={"gradient": "dX", "row": 0, "col": 2}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    x = torch.tensor(X, dtype=torch.float64)[None, None].requires_grad_()
    w = torch.tensor(K, dtype=torch.float64)[None, None].requires_grad_()
    y = torch.nn.functional.conv2d(x, w, stride=2, padding=1, dilation=2)
    g = torch.tensor(body["upstream"], dtype=torch.float64)
    assert g.shape == y.shape[2:] == (3, 3)
    y.backward(g[None, None])
    np.testing.assert_allclose(body["output"], y.detach()[0, 0].numpy())
    np.testing.assert_allclose(body["dW"], w.grad[0, 0].numpy())
    np.testing.assert_allclose(body["dX"], x.grad[0, 0].numpy())
    assert body["db"] == pytest.approx(float(g.sum()))
    assert body["agrees"] is True
    cell = body["cell"]  # a cell of the padding's border: computed, then cropped
    assert cell["cropped"] is True and cell["step"] == [2, 2]
    assert cell["total"] == pytest.approx(np.sum(cell["products"])) == pytest.approx(body["dX_padded"][0][2])
    assert np.array(body["spread_kind"]).shape == np.array(body["spread"]).shape == (7 + 2, 7 + 2)


def test_one_cell_of_dW_lists_its_products(client):
    body = backward(client, upstream="count", cell={"gradient": "dW", "row": 1, "col": 0}).json()
    # dW[1, 0] = Σ x[1 + r, c] · g[r, c] over the 4×4 output
    expected = sum(X[1 + r][c] * (4 * r + c + 1) for r in range(4) for c in range(4))
    assert body["cell"]["total"] == body["dW"][1][0] == expected
    assert body["cell"]["window"] == [row[0:4] for row in X[1:5]]
    db = backward(client, cell={"gradient": "db"}).json()
    assert db["db"] == db["cell"]["total"] == 16


@pytest.mark.parametrize(
    "body, loc, words",
    [
        ({"kernel": [[1.0] * 6] * 6}, ["body", "kernel"], "does not fit"),
        ({"kernel": [[1.0, 2.0], [3.0]]}, ["body", "kernel"], "different lengths"),
        ({"upstream": [[1.0]]}, ["body", "upstream"], "must be 4×4"),
        ({"input": [[1.0] * 300]}, ["body", "input"], "at most 256×256"),
        ({"stride": 0}, ["body", "stride"], "at least 1"),
        ({"upstream": "twos"}, ["body", "upstream"], "ones"),
        ({"cell": {"gradient": "dW", "row": 2, "col": 0}}, ["body", "cell"], "2×2"),
        ({"cell": {"gradient": "db", "row": 1}}, ["body", "cell"], "one cell"),
    ],
)
def test_bad_inputs_get_a_422_that_says_where(client, body, loc, words):
    r = backward(client, **body)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert any(e["loc"][: len(loc)] == loc and words in e["msg"] for e in errors), errors


def test_huge_numbers_do_not_break_the_answer(client):
    r = backward(client, input=[[1e308] * 3] * 3, kernel=[[1e308, 1e308]], cell={"gradient": "dW", "row": 0, "col": 0})
    assert r.status_code in (200, 422), r.text

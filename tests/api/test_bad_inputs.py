"""The catalogue: for each endpoint, bad inputs and the 4xx each must get, with the words
that tell the student what is wrong. None may get a 5xx; the server keeps serving after."""

import pytest

OK_IMAGE = [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]
CATALOGUE = [
    # (method, path, body or raw bytes, status, words in the message)
    ("POST", "/api/v1/graph", {"expression": "x +", "values": {"x": 1}}, 422, "expected a number"),
    ("POST", "/api/v1/graph", {"expression": "x", "values": {"x": [1, [2]]}}, 422, "the value of x must be"),
    ("POST", "/api/v1/graph", {"expression": "sqrt(x, y)", "values": {"x": 1, "y": 2}}, 422, "takes 1 argument"),
    ("POST", "/api/v1/graph", {"expression": "x[2]", "values": {"x": [1, 2]}}, 422, "must lie in 0..1"),
    ("POST", "/api/v1/graph", {"expression": "x @ y", "values": {"x": [1, 2], "y": [1, 2, 3]}}, 422, "cannot apply @"),
    ("POST", "/api/v1/graph", {"expression": "(" * 300 + "x" + ")" * 300, "values": {"x": 1}}, 422, "deeper than"),
    ("POST", "/api/v1/graph", {"expression": "x", "values": {"x": 1}, "h": -1}, 422, "the step h must be more than 0, not -1"),
    ("POST", "/api/v1/graph", {"expression": "x", "values": {"x": True}}, 422, "the value of x must be"),
    ("POST", "/api/v1/descent", {"expression": "(w - 1)^2", "steps": 1000}, 422, "at most 100 steps"),
    ("POST", "/api/v1/descent", {"expression": "v^2", "parameter": "w"}, 422, "one parameter w"),
    ("POST", "/api/v1/conv", {"image": OK_IMAGE, "kernels": []}, 422, "the kernels: at least 1, not 0"),
    ("POST", "/api/v1/conv", {"image": OK_IMAGE, "kernels": ["nope"]}, 422, "unknown kernel"),
    ("POST", "/api/v1/conv", {"image": OK_IMAGE, "kernels": ["box"], "padding": 11}, 422, "the padding must be at most 10, not 11"),
    ("POST", "/api/v1/conv", {"image": OK_IMAGE, "kernels": ["gaussian5"]}, 422, "does not fit"),
    ("POST", "/api/v1/conv", {"image": {"preset": "camera", "size": 9999}, "kernels": ["box"]}, 422, "at most 256 pixels"),
    ("POST", "/api/v1/conv", {"image": {"data_url": "data:image/png;base64,!!"}, "kernels": ["box"]}, 422, "base64"),
    ("POST", "/api/v1/conv", {"image": OK_IMAGE, "kernels": ["box"], "mode": "fft"}, 422, "cross-correlation"),
    ("POST", "/api/v1/receptive-field", {"layers": []}, 422, "the layers: at least 1, not 0"),
    ("POST", "/api/v1/receptive-field", {"layers": [{"type": "lstm", "kernel": 3}]}, 422, "layer 1: the type must be 'conv'"),
    ("POST", "/api/v1/receptive-field", {"layers": [{"type": "maxpool", "kernel": 2, "padding": 2}]}, 422, "at most half"),
    ("POST", "/api/v1/pool", {"grid": OK_IMAGE, "kernel": 5}, 422, "does not fit"),
    ("POST", "/api/v1/pool", {"grid": OK_IMAGE, "kernel": 2, "stride": 1, "upstream": [[1.0]]}, 422, "must be 2×2"),
    ("POST", "/api/v1/pool", {"grid": OK_IMAGE, "upstream": [[1.0, 2.0], [3.0]]}, 422, "different lengths"),  # was a 500 (schemathesis)
    ("POST", "/api/v1/shapes", {"input_shape": [3, 32], "layers": []}, 422, "the input's shape: at least 3, not 2"),
    ("POST", "/api/v1/shapes", {"input_shape": [1, 8, 8], "layers": [{"type": "linear", "in_features": 64,
                                                                       "out_features": 2}]}, 422, "flatten"),  # fmt: skip
    ("POST", "/api/v1/lenet/predict", {}, 422, "exactly one of pixels and image"),
    ("POST", "/api/v1/lenet/predict", {"pixels": [[0.5] * 28] * 29}, 422, "the pixels: at most 28, not 29"),
    ("POST", "/api/v1/lenet/predict", {"image": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}, 422, "PNG or JPEG"),
    ("POST", "/api/v1/graph", b'{"expression": "x", ', 422, "not valid JSON"),
    ("POST", "/api/v1/graph", b"\xff\xfe", 422, "not valid JSON"),
    ("POST", "/api/v1/conv", b'{"image": "' + b"A" * 4_000_000 + b'"}', 413, "larger than"),
    ("GET", "/api/v1/graph", None, 405, "method not allowed"),
    ("GET", "/api/v1/nothing-here", None, 404, "not found"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), CATALOGUE)
def test_each_bad_input_gets_its_4xx(client, method, path, body, status, words):
    if isinstance(body, bytes):
        r = client.request(method, path, content=body, headers={"content-type": "application/json"})
    else:
        r = client.request(method, path, json=body)
    assert r.status_code == status, r.text[:300]
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] and words in detail[0]["msg"], detail
    assert client.get("/healthz").status_code == 200  # and the server keeps serving

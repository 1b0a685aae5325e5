"""The CNN routes: /conv, /kernels, /images, /receptive-field, /pool, /shapes."""

import base64

import numpy as np
import pytest
import torch
from PIL import Image

from tests.api.conftest import data_url


def conv(client, **body):
    body.setdefault("image", [[float(i + j) for j in range(6)] for i in range(6)])
    body.setdefault("kernels", ["sobel_x"])
    return client.post("/api/v1/conv", json=body)


def test_conv_matches_torch_and_reports_the_arithmetic(client):
    image = np.random.default_rng(0).random((9, 8))
    r = conv(client, image=image.tolist(), kernels=["sobel_x", "gaussian"], bias=[0.5, 0], padding=1, stride=2)
    assert r.status_code == 200, r.text
    body = r.json()
    weights = torch.tensor(np.stack([body["kernels"][0], body["kernels"][1]])[:, None])
    bias = torch.tensor([0.5, 0.0], dtype=torch.float64)
    expected = torch.nn.functional.conv2d(torch.tensor(image)[None, None], weights, bias, stride=2, padding=1)[0]
    np.testing.assert_allclose(np.array(body["outputs"]), expected.numpy(), rtol=1e-5)
    assert body["output_shape"] == [2, 5, 4]
    assert body["height"] == {"input": 9, "kernel": 3, "padding": 1, "stride": 2, "dilation": 1, "numerator": 8,
                              "divides": True, "output": 5, "dropped": []}  # fmt: skip
    # 8 - 3 + 2 = 7 is odd: the floor drops the last padded column, no pixel of the image
    assert body["width"]["divides"] is False and body["width"]["dropped"] == []
    r = conv(client, image=image[:, :7].tolist(), stride=3)  # 7 - 3 = 4, S = 3: column 6 is never read
    assert r.json()["width"]["dropped"] == [6]


def test_convolution_mode_flips_the_kernel(client):
    a = conv(client, mode="cross-correlation").json()
    b = conv(client, mode="convolution").json()
    assert b["kernels"][0] == [row[::-1] for row in a["kernels"][0][::-1]]
    np.testing.assert_allclose(np.array(b["outputs"]), -np.array(a["outputs"]))  # Sobel flips its sign


def test_one_pixel_explained(client):
    r = conv(client, padding=1, detail={"row": 0, "col": 0}, bias=[0.25])
    d = r.json()["detail"]
    assert (d["top"], d["left"]) == (-1, -1) and d["patch"][0] == [0, 0, 0]  # in the padding
    assert d["total"] == pytest.approx(np.sum(d["products"])) and d["value"] == pytest.approx(d["total"] + 0.25)
    assert d["value"] == pytest.approx(r.json()["outputs"][0][0][0], rel=1e-5)


def test_sample_and_uploaded_images(client):
    r = conv(client, image={"preset": "camera", "size": 32})
    assert r.status_code == 200 and len(r.json()["input"]) == 32
    names = [i["name"] for i in client.get("/api/v1/images").json()]
    assert {"camera", "chelsea", "square"} <= set(names)
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    r = conv(client, image={"data_url": data_url(img, "JPEG"), "size": 16})
    assert r.status_code == 200 and np.array(r.json()["input"]).shape == (8, 16)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ({"data_url": "data:image/png;base64,@@@"}, "not valid base64"),
        ({"data_url": "data:text/plain;base64,aGk="}, "data URL"),
        ({"data_url": "data:image/png;base64," + base64.b64encode(b"not an image").decode()}, "readable"),
        ({"preset": "nope"}, "unknown image"),
        ({"preset": "camera", "data_url": "data:image/png;base64,"}, "exactly one"),
        ([[1, 2], [3]], "different lengths"),
    ],
)
def test_bad_images_are_4xx(client, image, message):
    r = conv(client, image=image)
    assert 400 <= r.status_code < 500 and message in r.text


def test_gif_and_huge_uploads_are_refused(client):
    gif = data_url(Image.new("L", (8, 8)), "GIF")
    assert "only PNG and JPEG" in conv(client, image={"data_url": gif}).text
    huge = data_url(Image.new("L", (5000, 10)))
    assert "at most 4096" in conv(client, image={"data_url": huge}).text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"kernels": ["nope"]}, ["body", "kernels", 0]),
        ({"kernels": [[[1, 2], [3]]]}, ["body", "kernels", 0]),
        ({"kernels": ["sobel_x", [[1.0]]]}, ["body", "kernels", 1]),
        ({"kernels": ["sobel_x"] * 9}, ["body", "kernels"]),
        ({"kernels": [[[1.0] * 12] * 12]}, ["body", "kernels", 0]),
        ({"image": [[1.0]], "kernels": ["sobel_x"]}, ["body", "kernels", 0]),
        ({"bias": [1, 2]}, ["body", "bias"]),
        ({"stride": 0}, ["body", "stride"]),
        ({"detail": {"row": 50, "col": 0}}, ["body", "detail"]),
        ({"image": [[1.0] * 300] * 2}, ["body", "image"]),
    ],
)
def test_bad_conv_requests_say_where(client, body, where):
    r = conv(client, **body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(where)] == where


def test_kernels_list_has_the_correct_gaussian(client):
    kernels = {k["name"]: k for k in client.get("/api/v1/kernels").json()}
    assert np.allclose(np.array(kernels["gaussian"]["values"]) * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_receptive_field_of_a_unit(client):
    layers = [
        {"type": "conv", "kernel": 3},
        {"type": "maxpool", "kernel": 2, "stride": 2},
        {"type": "conv", "kernel": 3},
    ]
    r = client.post("/api/v1/receptive-field", json={"layers": layers, "input_size": 16,
                                                     "unit": {"layer": 3, "row": 2, "col": 2}})  # fmt: skip
    body = r.json()
    assert [m["r"] for m in body["maps"]] == [1, 3, 4, 8] and [m["size"] for m in body["maps"]] == [16, 14, 7, 5]
    assert body["regions"][0] == [4, 4, 11, 11] and body["regions"][-1] == [2, 2, 2, 2]
    effective = np.array(body["effective"])
    rows, cols = np.nonzero(effective)
    assert rows.min() >= 4 and rows.max() <= 11 and cols.min() >= 4 and cols.max() <= 11  # inside the field


def test_receptive_field_errors(client):
    r = client.post("/api/v1/receptive-field", json={"layers": [{"type": "conv", "kernel": 9}], "input_size": 4})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "layers", 0]
    r = client.post("/api/v1/receptive-field", json={"layers": [{"type": "conv", "kernel": 3}], "input_size": 8,
                                                     "unit": {"layer": 1, "row": 6, "col": 0}})  # fmt: skip
    assert r.status_code == 422 and "6×6" in r.json()["detail"][0]["msg"]


def test_pooling_forward_and_backward(client):
    grid = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 1, 2, 3], [4, 5, 6, 7]]
    r = client.post("/api/v1/pool", json={"grid": grid, "kind": "max", "upstream": [[1, 2], [3, 4]]}).json()
    assert r["output"] == [[6, 8], [9, 7]]
    assert r["gradient"] == [[0, 0, 0, 0], [0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 0, 4]]
    r = client.post("/api/v1/pool", json={"grid": grid, "kind": "avg"}).json()
    assert r["output"][0][0] == 3.5 and r["gradient"][0] == [0.25] * 4


def test_shapes_of_a_stack(client):
    ok = client.post("/api/v1/shapes", json={"input_shape": [1, 32, 32], "layers": [
        {"type": "conv", "in_channels": 1, "out_channels": 6, "kernel": 5}, {"type": "relu"},
        {"type": "maxpool", "kernel": 2}, {"type": "flatten"},
        {"type": "linear", "in_features": 1176, "out_features": 10}]})  # fmt: skip
    assert ok.json()["shapes"] == [[1, 32, 32], [6, 28, 28], [6, 28, 28], [6, 14, 14], [1176], [10]]
    bad = client.post("/api/v1/shapes", json={"input_shape": [3, 32, 32], "layers": [
        {"type": "conv", "in_channels": 3, "out_channels": 6, "kernel": 5},
        {"type": "conv", "in_channels": 3, "out_channels": 6, "kernel": 5}]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["msg"] == "layer 2 (conv) expects 3 channels but gets 6"
    missing = client.post("/api/v1/shapes", json={"input_shape": [3, 8, 8], "layers": [{"type": "conv"}]})
    assert missing.status_code == 422 and "needs in_channels" in missing.text


def test_a_gaussian_of_any_sigma(client):
    r = conv(client, image={"preset": "square", "size": 16}, kernels=["gaussian:1.5"], padding=3)
    kernel = np.array(r.json()["kernels"][0])
    assert kernel.shape == (7, 7) and kernel.sum() == pytest.approx(1, abs=1e-4)
    assert conv(client, kernels=["gaussian:9"]).status_code == 422

"""LeNet-5 over HTTP and WebSocket: drawings of any size and polarity are read as MNIST,
bad frames get clear errors, and the stream keeps going."""

import base64
import json
import struct

import numpy as np
import pytest
from PIL import Image

from deepviz.app import frames
from deepviz.app.batcher import compute
from deepviz.app.preprocess import mnist_style, to_ink
from deepviz.app.settings import Settings
from deepviz.lessons.mnist import load
from tests.api.conftest import data_url


@pytest.fixture(scope="module")
def digits():
    test = load().test
    return test.images[:20, 0], test.labels[:20]


def drawing(digit: np.ndarray, size: int, dark_on_light: bool, transparent: bool = False) -> Image.Image:
    """An MNIST digit redrawn as a person's canvas would hold it: big, off-centre, either polarity."""
    big = Image.fromarray((digit * 255).astype(np.uint8)).resize((size // 2, size // 2), Image.BILINEAR)
    canvas = np.zeros((size, size), dtype=np.uint8)
    canvas[size // 8 : size // 8 + size // 2, size // 3 : size // 3 + size // 2] = np.asarray(big)
    if transparent:
        rgba = np.zeros((size, size, 4), dtype=np.uint8)
        rgba[..., 3] = canvas  # black strokes, alpha = ink
        return Image.fromarray(rgba, "RGBA")
    return Image.fromarray(255 - canvas if dark_on_light else canvas, "L")


def decode(m: dict) -> np.ndarray:
    q = np.frombuffer(base64.b64decode(m["data"]), dtype=np.uint8).reshape(m["shape"])
    return m["min"] + q / 255.0 * (m["max"] - m["min"])


def test_pixels_are_used_as_they_are(client, digits):
    images, labels = digits
    r = client.post("/api/v1/lenet/predict", json={"pixels": images[0].tolist()})
    body = r.json()
    assert r.status_code == 200 and body["prediction"] == labels[0]
    assert sum(body["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert [m["shape"] for m in body["layers"]] == [
        [6, 28, 28],
        [6, 14, 14],
        [16, 10, 10],
        [16, 5, 5],
        [120],
        [84],
        [10],
    ]
    np.testing.assert_allclose(decode(body["input"]), images[0], atol=1 / 255)
    assert decode(body["saliency"]).shape == (28, 28) and body["target"] == labels[0]


def test_a_chosen_class_gets_its_own_saliency(client, digits):
    images, _ = digits
    a = client.post("/api/v1/lenet/predict", json={"pixels": images[0].tolist(), "target": 3}).json()
    b = client.post("/api/v1/lenet/predict", json={"pixels": images[0].tolist(), "target": 8}).json()
    assert a["target"] == 3 and b["target"] == 8 and a["saliency"]["data"] != b["saliency"]["data"]


@pytest.mark.parametrize(("size", "dark", "transparent"), [(280, True, False), (120, False, False), (500, False, True)])
def test_drawings_of_any_size_and_polarity_are_read(client, digits, size, dark, transparent):
    images, labels = digits
    right = 0
    for image, label in zip(images, labels):
        url = data_url(drawing(image, size, dark, transparent))
        right += client.post("/api/v1/lenet/predict", json={"image": url}).json()["prediction"] == label
    assert right >= 18  # of 20: preprocessing keeps the digits readable


def test_preprocessing_centres_the_mass():
    ink = np.zeros((100, 60))
    ink[10:70, 5:25] = 1.0  # a tall bar, off-centre
    x = mnist_style(ink)
    rows, cols = np.nonzero(x > 0.5)
    assert x.shape == (28, 28) and rows.max() - rows.min() + 1 <= 21
    ys, xs = np.mgrid[0:28, 0:28]
    assert abs((x * ys).sum() / x.sum() - 13.5) < 0.5 and abs((x * xs).sum() / x.sum() - 13.5) < 0.5
    assert mnist_style(np.zeros((10, 10))) is None
    assert to_ink(Image.new("L", (8, 8), 255)).max() == 0  # white paper: no ink


def test_an_empty_drawing_has_no_prediction(client):
    r = client.post("/api/v1/lenet/predict", json={"image": data_url(Image.new("L", (50, 50), 255))})
    assert r.status_code == 200 and r.json()["prediction"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pixels": [[0.0] * 28] * 27}, "at least 28"),
        ({"pixels": [[2.0] * 28] * 28}, "the pixels at row 1, column 1 must be at most 1, not 2"),
        ({"pixels": [[0.0] * 28] * 28, "image": "data:image/png;base64,"}, "exactly one"),
        ({"image": "data:image/png;base64,AAAA"}, "readable"),
        ({"image": "hello"}, "data URL"),
        ({"pixels": [[0.0] * 28] * 28, "target": 10}, "the target must be at most 9, not 10"),
    ],
)
def test_bad_input_is_4xx(client, body, message):
    r = client.post("/api/v1/lenet/predict", json=body)
    assert 400 <= r.status_code < 500 and message in r.text


def test_nan_pixels_are_rejected(client):
    row = "[" + ",".join(["NaN"] * 28) + "]"
    r = client.post("/api/v1/lenet/predict", content=('{"pixels": [' + ",".join([row] * 28) + "]}").encode(),
                    headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422


def test_model_and_mistakes(client):
    m = client.get("/api/v1/lenet/model").json()
    assert np.array(m["kernels"]["conv1"]).shape == (6, 1, 5, 5) and m["manifest"]["test_accuracy"] >= 0.99
    frame = client.post("/api/v1/lenet/predict", json={"pixels": [[0.0] * 28] * 28}).json()
    assert [x["name"] for x in m["layers"]] == [x["name"] for x in frame["layers"]]  # one list of layers
    spatial = [(x["type"], x["kernel"], x["stride"], x["padding"]) for x in m["layers"] if x["kernel"]]
    assert spatial == [("conv", 5, 1, 2), ("maxpool", 2, 2, 0), ("conv", 5, 1, 0), ("maxpool", 2, 2, 0)]
    gallery = client.get("/api/v1/lenet/mistakes").json()
    assert gallery and all(g["label"] != g["prediction"] for g in gallery)


def test_the_stream_answers_frames_and_survives_bad_ones(client, digits):
    images, labels = digits
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        ws.send_text(json.dumps({"id": 1, "pixels": images[1].tolist()}))
        first = ws.receive_json()
        assert first["id"] == 1 and first["prediction"] == labels[1]
        ws.send_text("not json")
        assert "not a valid frame" in ws.receive_json()["error"]["msg"]
        ws.send_text(json.dumps({"id": 3, "pixels": [[5.0] * 28] * 28}))
        bad = ws.receive_json()
        assert bad["id"] == 3 and "must be at most 1" in bad["error"]["msg"]
        ws.send_text("x" * 800_000)
        assert "at most" in ws.receive_json()["error"]["msg"]
        ws.send_text(json.dumps({"id": 5, "image": data_url(drawing(images[2], 200, True))}))
        last = ws.receive_json()
        assert last["id"] == 5 and last["prediction"] == labels[2]


def test_a_dot_is_not_read_as_a_digit_without_a_word(client):
    canvas = Image.new("RGBA", (84, 84), (0, 0, 0, 0))
    canvas.paste((0, 0, 0, 255), (40, 40, 44, 44))  # one dot
    answer = client.post("/api/v1/lenet/predict", json={"image": data_url(canvas)}).json()
    assert "very small" in answer["note"]
    canvas.paste((0, 0, 0, 255), (30, 10, 44, 74))  # a stroke the height of the canvas: a 1
    assert client.post("/api/v1/lenet/predict", json={"image": data_url(canvas)}).json().get("note", "") == ""


def read_binary_frame(data: bytes) -> dict:
    """A binary answer (deepviz.lenet.bin1), read by the layout in docs/lenet-stream.md."""
    version, prediction, target, count, frame_id, _ = struct.unpack_from("<BBBBHH", data)
    probabilities = struct.unpack_from("<10f", data, 8)
    at, maps = 48, []
    for _ in range(count):
        name = data[at + 1 : at + 1 + data[at]].decode()
        at += 1 + data[at]
        shape = struct.unpack_from(f"<{data[at]}H", data, at + 1)
        at += 1 + 2 * len(shape)
        lo, hi = struct.unpack_from("<ff", data, at)
        n = int(np.prod(shape))
        maps.append((name, shape, lo, hi, data[at + 8 : at + 8 + n]))
        at += 8 + n
    assert at == len(data), "nothing after the last map"
    return {"version": version, "prediction": prediction, "target": target, "id": frame_id,
            "probabilities": probabilities, "maps": maps}  # fmt: skip


def binary_input(pixels: np.ndarray, frame_id: int, target: int = 255) -> bytes:
    return struct.pack("<BBH", 1, target, frame_id) + np.round(pixels * 255).astype(np.uint8).tobytes()


def test_binary_frames_carry_what_json_frames_do(client, digits):
    """The page's own 28×28 input as 788 bytes in, the same frame as JSON's out: the same
    prediction, probabilities (as float32), and every map's name, shape and bytes, in 9.9 KB
    instead of 15."""
    images, labels = digits
    image = np.round(images[7] * 255) / 255  # what 8-bit input can say exactly
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        ws.send_text(json.dumps({"pixels": image.tolist(), "target": 3}))
        as_json = ws.receive_text()
    with client.websocket_connect("/api/v1/lenet/stream", subprotocols=["deepviz.lenet.bin1"]) as ws:
        assert ws.accepted_subprotocol == "deepviz.lenet.bin1"
        ws.send_bytes(binary_input(image, 4242, target=3))
        raw = ws.receive_bytes()
        ws.send_bytes(binary_input(np.zeros((28, 28)), 7))  # no ink: no prediction, no maps
        empty = read_binary_frame(ws.receive_bytes())
        ws.send_bytes(b"\x01\x00\x00")  # too short
        short = ws.receive_json()
        ws.send_bytes(binary_input(image, 1, target=10))  # no such class
        wrong = ws.receive_json()
        ws.send_text(json.dumps({"id": 9, "pixels": image.tolist()}))  # JSON still taken, answered in binary
        from_json = read_binary_frame(ws.receive_bytes())
    frame, mine = json.loads(as_json), read_binary_frame(raw)
    assert (mine["version"], mine["prediction"], mine["target"], mine["id"]) == (1, frame["prediction"], 3, 4242)
    assert mine["prediction"] == labels[7]
    assert np.allclose(mine["probabilities"], frame["probabilities"], atol=1e-6)
    json_maps = [frame["input"], *frame["layers"], frame["saliency"]]
    assert len(mine["maps"]) == len(json_maps) == 9
    for (name, shape, lo, hi, data), m in zip(mine["maps"], json_maps):
        assert (name, list(shape)) == (m["name"], m["shape"])
        assert data == base64.b64decode(m["data"]) and np.isclose(lo, m["min"]) and np.isclose(hi, m["max"])
    assert len(raw) < 10_000 < len(as_json), (len(raw), len(as_json))
    assert (empty["prediction"], empty["maps"], empty["id"]) == (255, [], 7)
    assert "788 bytes" in short["error"]["msg"]
    assert "target" in wrong["error"]["msg"]
    assert from_json["id"] == 9 and from_json["prediction"] == labels[7]


def test_binary_frames_need_the_subprotocol(client, digits):
    images, _ = digits
    with client.websocket_connect("/api/v1/lenet/stream") as ws:
        assert ws.accepted_subprotocol is None
        ws.send_bytes(binary_input(images[0], 1))
        assert "subprotocol deepviz.lenet.bin1" in ws.receive_json()["error"]["msg"]


def test_a_batch_of_binary_frames_quantizes_each_map_on_its_own(digits):
    """The batcher writes a batch's binary frames together (each layer quantized for all its
    images at once): each frame is still its own image's, map by map the bytes, min and max
    that JSON's quantizer gives that map alone, with its own id, target and prediction, and
    the bytes a batch of one gets (its maps quantized one by one)."""
    images, _ = digits
    inputs = [*images[:9], np.full((28, 28), 0.5, np.float32)]  # the last one flat (min = max): bytes 0
    targets = [k % 3 if k % 2 else None for k in range(10)]
    result, stack = frames.infer(inputs, targets)
    for k, answer in enumerate(frames.binaries(result, stack, [100 + k for k in range(10)])):
        assert answer == frames.binary(result, k, stack[k], 100 + k)  # as a batch of one is written
        mine, alone = read_binary_frame(answer), frames.frame(result, k, stack[k])
        assert (mine["id"], mine["target"], mine["prediction"]) == (100 + k, alone["target"], alone["prediction"])
        assert np.array_equal(np.float32(mine["probabilities"]), np.float32(alone["probabilities"]))
        for (name, shape, lo, hi, data), m in zip(mine["maps"], [alone["input"], *alone["layers"], alone["saliency"]]):
            assert (name, list(shape), data) == (m["name"], m["shape"], base64.b64decode(m["data"]))
            assert (np.float32(lo), np.float32(hi)) == (np.float32(m["min"]), np.float32(m["max"]))
    assert set(mine["maps"][0][4]) == {0}


def test_each_frame_of_a_batch_gets_its_own_answer(digits):
    """Whatever else a micro-batch holds (drawings with no ink, bad frames, JSON frames), each
    frame is answered for itself, in its own encoding, with its own id."""
    images, labels = digits
    inputs = [np.round(x * 255) / 255 for x in images[:6]]
    messages = [binary_input(x, 100 + k, target=255) for k, x in enumerate(inputs)]
    as_json = json.dumps({"id": 5, "pixels": inputs[0].tolist()})
    messages[2:2] = [binary_input(np.zeros((28, 28)), 7), b"\x01\x00", as_json]  # no ink, too short, JSON
    answers = compute(messages, Settings(), [True] * len(messages))
    assert read_binary_frame(answers[2])["maps"] == [] and read_binary_frame(answers[2])["id"] == 7
    assert "788 bytes" in json.loads(answers[3])["error"]["msg"]
    assert (read_binary_frame(answers[4])["id"], read_binary_frame(answers[4])["prediction"]) == (5, labels[0])
    for k, answer in enumerate(answers[:2] + answers[5:]):
        frame = read_binary_frame(answer)
        assert (frame["id"], frame["prediction"], len(frame["maps"])) == (100 + k, labels[k], 9)

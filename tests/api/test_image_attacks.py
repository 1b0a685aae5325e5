"""Hostile and unusual images, each made here by Pillow or by hand: refused with a clear 4xx
before they cost memory or CPU, or read as the image they are (16-bit, EXIF-rotated, MPO)."""

import base64
import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from deepviz.app import decode, images
from deepviz.app.errors import InputError
from deepviz.app.preprocess import mnist_style, network_input, to_ink
from deepviz.app.schemas import PredictRequest
from deepviz.app.settings import Settings
from deepviz.lessons.mnist import load
from tests.api.conftest import small_client


def data_url(raw: bytes, fmt: str = "png") -> str:
    return f"data:image/{fmt};base64," + base64.b64encode(raw).decode()


def encoded(img: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width×height greyscale pixels but holds one row: decoding it would
    fail as truncated, so a refusal that names the pixels shows that nothing was decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))


def conv(client, raw: bytes, fmt: str = "png", size: int = 64):
    body = {"image": {"data_url": data_url(raw, fmt), "size": size}, "kernels": ["box"]}
    return client.post("/api/v1/conv", json=body)


def predict(client, raw: bytes, fmt: str = "png"):
    return client.post("/api/v1/lenet/predict", json={"image": data_url(raw, fmt)})


def message(r) -> str:
    return r.json()["detail"][0]["msg"]


def scans(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of each scan of a JPEG: its SOS segment and entropy-coded data."""
    found, i = [], raw.find(b"\xff\xda")
    while i >= 0:
        end = i + 2 + int.from_bytes(raw[i + 2 : i + 4], "big")
        while raw[end] != 0xFF or raw[end + 1] == 0 or 0xD0 <= raw[end + 1] <= 0xD7:
            end += 1
        found.append((i, end))
        i = raw.find(b"\xff\xda", end)
    return found


def scan_bomb(side: int, repeats: int) -> bytes:
    """A progressive JPEG whose last scan (an AC refinement: ~11 ms a pass at 4096×4096, 33
    bytes) is repeated: libjpeg decodes every copy, warning about the progression."""
    raw = encoded(Image.new("RGB", (side, side), (120, 60, 200)), "JPEG", progressive=True)
    start, end = scans(raw)[-1]
    return raw[:end] + raw[start:end] * repeats + raw[end:]


def test_a_large_single_colour_png_is_refused_before_decoding(client):
    flat = encoded(Image.new("RGBA", (4096, 4096), (10, 200, 30, 255)))  # 75 KB for 64 MB of pixels
    r = conv(client, flat)
    assert r.status_code == 422 and "16,777,216 pixels" in message(r)
    r = conv(client, png_header_only(4096, 2048))
    assert r.status_code == 422 and "pixels" in message(r)  # not "truncated": no pixel was decoded
    r = conv(client, encoded(Image.new("RGBA", (2048, 2048), (10, 200, 30, 255))))  # within the budget
    grey = (0.299 * 10 + 0.587 * 200 + 0.114 * 30) / 255
    assert r.status_code == 200 and np.allclose(r.json()["input"], grey, atol=0.01)


def test_a_large_jpeg_is_decoded_scaled_down(client):
    """12 MP is over the 4 MP decoding budget: accepted only because libjpeg decodes it at 1/8."""
    photo = encoded(Image.new("RGB", (4032, 3024), (200, 200, 200)), "JPEG")
    r = conv(client, photo, "jpeg", size=64)
    assert r.status_code == 200 and np.array(r.json()["input"]).shape == (48, 64)
    r = conv(client, png_header_only(4032, 3024))
    assert r.status_code == 422 and "at most 4,194,304 pixels" in message(r)  # the same size as a PNG: refused


def test_a_jpeg_with_thousands_of_scans_is_refused(client):
    bomb = scan_bomb(256, 3000)
    for r in (conv(client, bomb, "jpeg"), predict(client, bomb, "jpeg")):
        assert r.status_code == 422 and "3010 scans" in message(r)
    normal = encoded(Image.new("RGB", (256, 256), (120, 60, 200)), "JPEG", progressive=True)
    assert conv(client, normal, "jpeg").status_code == 200


def test_a_huge_metadata_chunk_is_a_4xx_not_a_500(client):
    text = chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * (50 << 20), 9))  # 50 MB inflated, 50 KB sent
    png = encoded(Image.new("L", (8, 8), 128))
    bomb = png[:33] + text + png[33:]  # after IHDR
    for r in (conv(client, bomb), predict(client, bomb)):
        assert r.status_code == 422 and "metadata" in message(r) and "too large" in message(r)


@pytest.mark.parametrize(
    ("flood", "words"),
    [
        (lambda png, jpeg: png[:33] + chunk(b"abCd", b"") * 5000 + png[33:], "chunks"),
        (lambda png, jpeg: png[:-12] + chunk(b"IDAT", b"") * 5000 + png[-12:], "chunks"),
        (lambda png, jpeg: jpeg[:2] + b"\xff\xe5\x00\x02" * 5000 + jpeg[2:], "markers"),
        (lambda png, jpeg: jpeg[:2] + b"\xff" * 5000 + jpeg[2:], "markers"),  # fill bytes
    ],
)
def test_floods_of_chunks_or_markers_are_refused(client, flood, words):
    """Pillow reads each chunk or marker in Python (2 MB of them took ~1 s): counted first."""
    small = Image.new("L", (16, 16), 99)
    raw = flood(encoded(small), encoded(small, "JPEG"))
    r = conv(client, raw, "jpeg" if raw[:2] == b"\xff\xd8" else "png")
    assert r.status_code == 422 and words in message(r)


def test_16_bit_greyscale_keeps_its_levels(client):
    levels = np.linspace(0, 4000, 32 * 32).reshape(32, 32).astype(np.uint16)  # dark: at most 6% of 65535
    raw = encoded(Image.fromarray(levels))
    r = conv(client, raw, size=32)
    assert r.status_code == 200
    np.testing.assert_allclose(r.json()["input"], levels / 65535, atol=1e-5)  # was clipped: 1.0 from level 255 on
    ink = to_ink(Image.open(io.BytesIO(raw)))
    np.testing.assert_allclose(ink, levels / 65535, atol=1e-6)


def test_exif_orientation_is_honoured(client):
    stored = np.zeros((20, 40), np.uint8)
    stored[:10] = 255  # the top half white, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": the stored top row is on the right
    raw = encoded(Image.fromarray(stored), "JPEG", exif=exif.tobytes(), quality=95)
    r = conv(client, raw, "jpeg", size=40)
    seen = np.array(r.json()["input"])
    assert r.status_code == 200 and seen.shape == (40, 20)
    assert seen[:, 12:].mean() > 0.9 and seen[:, :8].mean() < 0.1


def test_an_mpo_is_read_as_its_first_frame(client):
    first, second = Image.new("RGB", (64, 48), (200, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 200))
    raw = encoded(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(raw)).format == "MPO"
    r = conv(client, raw, "jpeg", size=64)
    assert r.status_code == 200 and np.allclose(r.json()["input"], 0.299 * 200 / 255, atol=0.02)


def test_pillow_failures_are_4xx_saying_what_is_wrong(client):
    png = encoded(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)))
    jpeg = encoded(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")
    cases = [
        (png[: len(png) // 2], "png", "truncated"),
        (png[:40] + b"\x00" * 8 + png[48:], "png", "readable"),  # a chunk's CRC broken
        (jpeg[: len(jpeg) // 2], "jpeg", "truncated"),
        (encoded(Image.new("RGB", (8, 8)), "WEBP"), "webp", "not WebP"),
    ]
    for raw, fmt, words in cases:
        r = conv(client, raw, fmt)
        assert r.status_code == 422 and words in message(r), (words, r.text)


def test_decompression_bombs_past_pillows_own_bound_are_4xx():
    """With the side limit raised, Pillow's bound is met first: its error, or its warning made an
    error (python -W error), is a 4xx too."""
    client = small_client(max_upload_side=20_000)
    r = conv(client, png_header_only(10_000, 10_000))
    assert r.status_code == 422 and "too many pixels" in message(r)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        r = conv(client, png_header_only(5000, 4000))
    assert r.status_code == 422 and "too many pixels" in message(r)


def test_drawings_have_a_small_budget(client):
    assert predict(client, encoded(Image.new("L", (600, 600), 255))).json()["detail"][0]["msg"].endswith("512×512")
    assert predict(client, encoded(Image.new("L", (512, 512), 255))).status_code == 200


def test_the_pages_drawings_are_preprocessed_as_before():
    """The page's 84×84 drawings (dark strokes on a transparent canvas) give the 28×28 that
    plain Pillow decoding gave, on MNIST digits redrawn that way."""
    settings = Settings()
    for digit in load().test.images[:40, 0]:
        alpha = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((84, 84), Image.BILINEAR))
        rgba = np.zeros((84, 84, 4), np.uint8)
        rgba[..., 3] = alpha
        for img in (Image.fromarray(rgba, "RGBA"), Image.fromarray(255 - alpha, "L")):
            raw = encoded(img)
            before = mnist_style(to_ink(Image.open(io.BytesIO(raw))))
            after, note = network_input(PredictRequest(image=data_url(raw)), settings)
            assert note == ""  # a digit the size of the canvas is no dot
            np.testing.assert_array_equal(after, before)


def test_large_decodes_take_turns():
    settings = Settings(max_concurrent_decodes=1, decode_wait_seconds=0.05)
    large = data_url(encoded(Image.new("L", (1100, 1000), 7)))
    small = data_url(encoded(Image.new("L", (1000, 1000), 7)))  # up to 1 MP: never waits
    turns = decode.gate(settings)
    assert turns.slots.acquire(timeout=1)  # another upload is decoding
    try:
        with pytest.raises(InputError) as refused:
            images.upload(large, 64, 3_000_000, 4096, ["body", "image"], settings)
        assert refused.value.status == 503 and "busy" in refused.value.msg
        assert images.upload(small, 64, 3_000_000, 4096, ["body", "image"], settings).shape == (64, 64)
    finally:
        turns.slots.release()
    assert images.upload(large, 64, 3_000_000, 4096, ["body", "image"], settings).shape == (58, 64)


def test_memory_is_given_back_after_a_large_decode(monkeypatch):
    trims = []
    monkeypatch.setattr(decode, "release_memory_soon", lambda: trims.append(1))
    settings = Settings()
    images.upload(data_url(encoded(Image.new("L", (1000, 1000), 7))), 64, 3_000_000, 4096, ["x"], settings)
    assert trims == []  # a small decode leaves nothing worth trimming
    images.upload(data_url(encoded(Image.new("L", (1100, 1000), 7))), 64, 3_000_000, 4096, ["x"], settings)
    assert trims == [1]

"""Decoding an untrusted PNG or JPEG at a bounded cost. Everything that could make decoding
expensive is checked before Pillow decodes a pixel: the steps Pillow's Python code takes
through the file's chunks or markers, a JPEG's number of scans (each is a pass over every
block of the image), and the pixels the decoder will allocate. JPEGs are decoded by libjpeg
already scaled down (1/2 to 1/8) and in grey when that is all the caller needs. Every way
Pillow can fail becomes an InputError (a 4xx saying what is wrong), never a 500."""

from __future__ import annotations

import ctypes
import math
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.JpegImagePlugin import MARKER

from deepviz.app.errors import InputError

if TYPE_CHECKING:
    from deepviz.app.settings import Settings

# Pillow refuses images past twice this many pixels before decoding them (decompression
# bombs): a backstop, since every caller has its own, smaller pixel budget below.
Image.MAX_IMAGE_PIXELS = 4096 * 4096

SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # 16-bit greyscale PNGs open in these modes
MAX_EXIF_BYTES = 65_535  # the most a JPEG's APP1 can hold: a larger EXIF (a PNG's eXIf) is not parsed
GATED_PIXELS = 1 << 20  # decodes of images larger than this take a turn (see Gate)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OTHER_FORMATS = {  # magic numbers of formats refused by name, not tried by Pillow
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"RIFF": "WebP",
    b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
    b"\xff\x4f\xff\x51": "JPEG 2000",
    b"8BPS": "PSD",
    b"%PDF": "PDF",
}


@dataclass(frozen=True)
class DecodeBudget:
    """What decoding one image may cost; each limit is a setting (app/settings.py)."""

    side: int  # longer side, pixels, as the file says
    pixels: int  # pixels decoded into memory: a PNG whole, a JPEG after libjpeg's scaling
    jpeg_pixels: int  # a JPEG's own pixels, before that scaling
    scans: int  # a JPEG's start-of-scan markers
    segments: int  # PNG chunks, or JPEG bytes and markers before the first scan
    metadata_chunks: int  # PNG chunks other than image data (IDAT)

    @classmethod
    def upload(cls, s: Settings) -> DecodeBudget:
        return cls(s.max_upload_side, s.max_upload_pixels, s.max_upload_jpeg_pixels, s.max_jpeg_scans,
                   s.max_image_segments, s.max_png_metadata_chunks)  # fmt: skip

    @classmethod
    def drawing(cls, s: Settings) -> DecodeBudget:
        side = s.max_drawing_side
        return cls(side, side * side, side * side, s.max_jpeg_scans, s.max_image_segments, s.max_png_metadata_chunks)


class Gate:
    """At most ``n`` large decodes at once in this process: they bound the memory that many
    concurrent uploads take (each holds up to tens of MB while it decodes), and on two cores
    more would not finish sooner. A decode waits ``wait`` seconds for its turn, then gets a 503."""

    def __init__(self, n: int, wait: float):
        self.slots, self.wait = threading.BoundedSemaphore(n), wait

    @contextmanager
    def turn(self, pixels: int, loc: list) -> Iterator[None]:
        if pixels <= GATED_PIXELS:
            yield
            return
        if not self.slots.acquire(timeout=self.wait):
            raise InputError(loc, "the server is busy decoding other large images; try again shortly", status=503)
        try:
            yield
        finally:
            self.slots.release()


_GATES: dict[tuple[int, float], Gate] = {}
_GATES_LOCK = threading.Lock()


def gate(settings: Settings) -> Gate:
    """The process's gate for these settings (one per distinct limit, so tests can tighten it)."""
    key = (settings.max_concurrent_decodes, settings.decode_wait_seconds)
    with _GATES_LOCK:
        return _GATES.setdefault(key, Gate(*key))


def _png_chunks(raw: bytes, budget: DecodeBudget, loc: list) -> None:
    """Hop over the chunks by their lengths, as Pillow will read them one at a time in Python."""
    pos, chunks, metadata = len(PNG_SIGNATURE), 0, 0
    while pos + 8 <= len(raw):
        length, kind = struct.unpack_from(">I4s", raw, pos)
        chunks += 1
        metadata += kind != b"IDAT"
        if chunks > budget.segments:
            raise InputError(loc, f"the PNG has more than {budget.segments} chunks")
        if metadata > budget.metadata_chunks:
            raise InputError(loc, f"the PNG has more than {budget.metadata_chunks} chunks besides its image data")
        if kind == b"IEND":
            return
        pos += 12 + length


def _jpeg_header(raw: bytes, budget: DecodeBudget, loc: list) -> int:
    """Walk the markers before the first scan step by step as Pillow's Python loop will (it
    skips stray bytes one at a time); return where the first scan starts."""
    pos, steps = 2, 0
    while pos + 1 < len(raw):
        steps += 1
        if steps > budget.segments:
            raise InputError(loc, f"the JPEG has more than {budget.segments} markers or stray bytes before its pixels")
        if raw[pos] != 0xFF:
            pos += 1
            continue
        code = 0xFF00 | raw[pos + 1]
        if code == 0xFFDA:
            return pos
        if code == 0xFFFF:  # a fill byte
            pos += 1
        elif code not in MARKER or MARKER[code][2] is None:  # stuffed 0xFF00 or a marker without a length
            pos += 2
        else:
            length = int.from_bytes(raw[pos + 2 : pos + 4], "big")
            pos += 2 + max(length, 2)
    return len(raw)


def _check_structure(raw: bytes, budget: DecodeBudget, loc: list) -> None:
    """Refuse what would be costly for Pillow's Python code or libjpeg, before opening the file."""
    if raw.startswith(PNG_SIGNATURE):
        _png_chunks(raw, budget, loc)
    elif raw.startswith(b"\xff\xd8\xff"):
        first_scan = _jpeg_header(raw, budget, loc)
        # Inside entropy-coded data every 0xFF is followed by 0x00 or a restart code, so this
        # counts each scan of the image (and a few more: a second MPO frame's), never fewer.
        scans = raw.count(b"\xff\xda", first_scan)
        if scans > budget.scans:
            raise InputError(loc, f"the JPEG has {scans} scans; at most {budget.scans} "
                             "(a progressive JPEG usually has about 10)")  # fmt: skip
    else:
        for magic, name in OTHER_FORMATS.items():
            if raw.startswith(magic) and (name != "WebP" or raw[8:12] == b"WEBP"):
                raise InputError(loc, f"only PNG and JPEG images are accepted, not {name}: save it as PNG or JPEG")
        if raw[4:8] == b"ftyp":
            raise InputError(loc, "only PNG and JPEG images are accepted, not HEIC or AVIF: save it as PNG or JPEG")
        raise InputError(loc, "the data is not a readable PNG or JPEG image")


def _failure(error: Exception, loc: list) -> InputError:
    """What went wrong in Pillow, said plainly."""
    text = str(error)
    if isinstance(error, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return InputError(loc, "the image has too many pixels")
    if isinstance(error, ValueError) and ("MAX_TEXT" in text or "Decompressed data too large" in text):
        return InputError(loc, "the image's metadata (a text or ICC-profile chunk) is too large")
    if isinstance(error, zlib.error):
        return InputError(loc, "the PNG's compressed data is corrupt")
    if "truncated" in text.lower():
        return InputError(loc, "the image data is truncated")
    reason = f" ({text[:80]})" if text and not isinstance(error, UnidentifiedImageError) else ""
    return InputError(loc, f"the data is not a readable PNG or JPEG image{reason}")


# Everything Pillow raises on a malformed file (it has no common base class of its own).
PILLOW_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError, struct.error,
                 zlib.error, Image.DecompressionBombError, Image.DecompressionBombWarning)  # fmt: skip


def _orientation(img: Image.Image) -> None:
    """Turn the image upright as its EXIF orientation says (phone photos are stored sideways)."""
    exif = img.info.get("exif") or b""
    raw_profile = img.info.get("Raw profile type exif") or ""
    if len(exif) > MAX_EXIF_BYTES or len(raw_profile) > 2 * MAX_EXIF_BYTES:
        return  # parsing it costs ~0.15 s a MB in Python; no camera writes one so large
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except PILLOW_ERRORS:
        pass  # a malformed EXIF: the image as stored is still the image


@contextmanager
def decoded(
    raw: bytes, budget: DecodeBudget, loc: list, size: int | None = None, grey: bool = False, turns: Gate | None = None
) -> Iterator[Image.Image]:
    """The image decoded, upright, inside a ``with`` block (closed after it). ``size``: the
    longer side the caller will resize to, so that a JPEG is decoded no larger than needed;
    ``grey``: only its grey levels are used (a JPEG is then decoded in grey); ``turns``: a
    Gate the decode of a large image waits for, and holds until the block ends."""
    _check_structure(raw, budget, loc)
    try:
        img = Image.open(BytesIO(raw), formats=["PNG", "JPEG"])
    except PILLOW_ERRORS as error:
        raise _failure(error, loc) from error
    with img:
        if img.format not in ("PNG", "JPEG", "MPO"):  # MPO: some cameras' JPEGs; its first frame is read
            raise InputError(loc, f"only PNG and JPEG images are accepted, not {img.format}")
        width, height = img.size
        if max(width, height) > budget.side:
            raise InputError(loc, f"the image is {width}×{height}; at most {budget.side}×{budget.side}")
        pixels = width * height
        limit = budget.pixels if img.format == "PNG" else budget.jpeg_pixels
        if pixels > limit:
            kind = "PNG" if img.format == "PNG" else "JPEG"
            raise InputError(loc, f"the {kind} image is {width}×{height} ({pixels:,} pixels); at most {limit:,} pixels")
        if img.format != "PNG":
            scale = size / max(width, height) if size else 1.0
            want = (math.ceil(width * scale), math.ceil(height * scale)) if scale < 1 else None
            img.draft("L" if grey else None, want)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, ≥ want
            if img.width * img.height > budget.pixels:  # a JPEG that libjpeg cannot scale, or a large size asked
                raise InputError(loc, f"the JPEG image is {width}×{height}; at most {budget.pixels:,} pixels")
        with turns.turn(pixels, loc) if turns else nullcontext():
            try:
                img.load()
            except PILLOW_ERRORS as error:
                raise _failure(error, loc) from error
            _orientation(img)
            try:
                yield img
            finally:
                img.close()  # its pixels freed now, not when the last reference goes
                if turns and pixels > GATED_PIXELS:
                    release_memory_soon()


def grey_float(img: Image.Image) -> Image.Image:
    """A 16-bit greyscale image as mode "F" in [0, 1], scaled by its bit depth (not clipped
    at 255 as convert("L") would)."""
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) / 65535.0, 0.0, 1.0), "F")


def tune_malloc(arenas: int) -> bool:
    """Process-wide, once at startup (create_app, with settings.malloc_arenas): at most
    ``arenas`` glibc heaps for all threads. glibc's default, 8 a core, lets each of the
    threads that decode uploads grow a heap of its own, and a heap never gives back the free
    memory at its top: 40 concurrent uploads of 2048×2048 PNGs left ~290 MB resident, of
    12 MP JPEGs ~570 MB; with 2 heaps (and release_memory after large decodes), 97 and 98 MB,
    as idle. (Lowering the mmap threshold instead doubled the time of LeNet's batches.) False
    if not done: 0 arenas, or a C library without glibc's mallopt."""
    mallopt = getattr(_LIBC, "mallopt", None)
    if arenas <= 0 or mallopt is None:
        return False
    m_arena_max = -8  # from glibc's malloc.h
    return bool(mallopt(m_arena_max, arenas))


def release_memory() -> bool:
    """Give the free pages in glibc's heaps back to the OS (malloc_trim(0)): what a large
    decode freed, and its request's body and answer. False where there is no malloc_trim."""
    trim = getattr(_LIBC, "malloc_trim", None)
    return bool(trim and trim(0))


_TRIM_LOCK = threading.Lock()
_trim_due = False


def release_memory_soon(delay: float = 1.0) -> None:
    """release_memory() ``delay`` seconds from now, once for all the large decodes until then:
    by then their requests' bodies and answers are freed too."""
    global _trim_due
    with _TRIM_LOCK:
        if _trim_due:
            return
        _trim_due = True

    def trim() -> None:
        global _trim_due
        with _TRIM_LOCK:
            _trim_due = False
        release_memory()

    timer = threading.Timer(delay, trim)
    timer.daemon = True
    timer.start()


def _c_library() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None)  # the C library the interpreter is linked with
    except OSError:
        return None


_LIBC = _c_library()

"""Every limit and setting in one place. Each can be overridden by an environment variable
named DEEPVIZ_<FIELD> (for example DEEPVIZ_MAX_EXPRESSION_NODES=500)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEEPVIZ_")

    host: str = "127.0.0.1"
    port: int = 8000

    max_body_bytes: int = 3_000_000  # any request body (uploads are data URLs)
    # expressions (/api/v1/graph)
    max_expression_length: int = 2000  # characters
    max_expression_depth: int = 100  # nesting levels (parentheses, unary minus, powers, calls)
    max_expression_nodes: int = 2000  # parse-tree nodes
    max_variables: int = 32
    max_tensor_elements: int = 256  # per variable
    max_graph_values: int = 20_000  # numbers held by all the graph's nodes together
    max_numeric_work: int = 200_000  # elements × nodes for the central-difference check
    max_symbolic_print: int = 400  # derivative trees larger than this are sized, not printed
    max_descent_steps: int = 100
    # images and CNN layers (/api/v1/conv, /pool, /receptive-field)
    max_image_side: int = 256  # pixels, after resizing: a grid sent as numbers is bounded alike
    max_upload_bytes: int = 2_000_000  # an uploaded PNG or JPEG
    max_upload_side: int = 4096  # pixels of the upload before resizing
    max_pool_side: int = 64  # the pooling page's grid
    # LeNet-5 (/api/v1/lenet/...)
    max_drawing_bytes: int = 500_000  # a drawing sent as a data URL
    max_drawing_side: int = 512  # its pixels (the page sends 84×84)
    max_ws_message_bytes: int = 700_000  # one WebSocket message (larger: closed with 1009)
    max_ws_rate: float = 60.0  # frames per second per connection, on average (bursts of as many)
    max_ws_connections: int = 1000  # open WebSocket sessions per worker process
    max_batch: int = 64  # frames computed together in one micro-batch
    # decoding uploads and drawings (app/decode.py): each bound is checked before a pixel is decoded
    max_upload_pixels: int = 4_194_304  # pixels decoded into memory, 4 bytes each: a PNG whole, a JPEG once scaled
    max_upload_jpeg_pixels: int = 12_582_912  # a JPEG's own pixels (4096×3072: 12 MP phone photos), which libjpeg
    # decodes at 1/2 to 1/8 scale in grey; a progressive one still holds 2–6 bytes of coefficients a pixel
    max_jpeg_scans: int = 40  # each scan is a pass over every block: ~8 ms at 12 MP; a progressive JPEG has ~10
    max_image_segments: int = 4096  # PNG chunks, or JPEG markers and stray bytes before the first scan: Pillow
    # reads each in Python (2 MB of empty ones took ~1 s)
    max_png_metadata_chunks: int = 64  # PNG chunks other than IDAT: each zTXt, iTXt or iCCP may inflate to 1 MB
    max_concurrent_decodes: int = 2  # uploads over 1 MP decoded at once per process: bounds their memory and CPU
    decode_wait_seconds: float = 30.0  # how long an upload waits for a decoding turn before a 503
    malloc_arenas: int = 2  # glibc heaps for all threads (decode.tune_malloc, at startup): each keeps the memory
    # freed at its top, so 16 of them kept ~500 MB of decoded images; 0 leaves glibc's default (8 a core)


@lru_cache
def get_settings() -> Settings:
    return Settings()

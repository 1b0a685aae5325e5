"""Every limit and setting in one place. Each can be overridden by an environment variable
named DEEPVIZ_<FIELD> (for example DEEPVIZ_MAX_EXPRESSION_NODES=500). Values are checked
when the server starts: an out-of-range value, or a DEEPVIZ_ variable that names no setting
(a misspelling would otherwise be ignored in silence), stops it with one line naming it.

The cost model, for a server that a whole lecture hall shares:
- A request's *size* is bounded by the schema limits below, before any work starts.
- A request's *work* is estimated before it starts (`max_descent_work`, `max_numeric_work`,
  counted in node evaluations: one op applied to its inputs, ≈ 10-40 µs each) and refused
  with a 422 that names the limit when the estimate is over it.
- What estimates miss is cut by a deadline (`max_request_seconds`): engine loops check it
  between steps, and stop as soon as the client has gone away.
- A worker computes at most `max_concurrent_work` requests at once, and at most
  `max_work_per_address` for one client address; past that it answers 503 with Retry-After
  at once, so that it never queues work it cannot finish in time, one client cannot take
  every slot, and /healthz is never stuck behind it.
- Connections: request heads are bounded in bytes and time (`max_header_bytes`,
  `header_timeout`), bodies in bytes and time, connections per client address, and WebSocket
  streams per worker and per address, each with an idle timeout and a frame rate.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEEPVIZ_", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)  # processes for `deepviz serve` (the Docker image runs 2)

    # connections (uvicorn's HTTP protocol, guarded by app/server.py)
    max_header_bytes: int = Field(16_384, ge=1024)  # request line + headers; larger: 431
    header_timeout: float = Field(10.0, gt=0, le=300)  # seconds to send a complete request head
    body_timeout: float = Field(15.0, gt=0, le=300)  # seconds to send a whole body; then 408
    keep_alive_timeout: float = Field(5.0, gt=0, le=300)  # idle seconds between requests
    max_connections_per_address: int = Field(64, ge=1)  # open HTTP connections of one client address
    forwarded_allow_ips: str = "127.0.0.1,::1"  # proxies trusted for X-Forwarded-For (nginx in front)
    # work per worker process
    max_concurrent_work: int = Field(8, ge=1, le=256)  # computing requests at once; more: 503
    max_work_per_address: int = Field(2, ge=1, le=256)  # of them from one client address (raise it behind NAT);
    # the pages keep at most two requests in flight
    max_request_seconds: float = Field(2.0, gt=0, le=600)  # a computation's deadline

    max_body_bytes: int = Field(3_000_000, ge=1024)  # any request body (uploads are data URLs)
    # expressions (/api/v1/graph)
    max_expression_length: int = Field(2000, ge=1)  # characters
    max_expression_depth: int = Field(100, ge=1, le=400)  # nesting levels (parentheses, unary minus, powers, calls)
    max_expression_nodes: int = Field(2000, ge=1)  # parse-tree nodes
    max_variables: int = Field(32, ge=1)
    max_tensor_elements: int = Field(256, ge=1)  # per variable
    max_graph_values: int = Field(20_000, ge=1)  # numbers held by all the graph's nodes together
    max_numeric_work: int = Field(200_000, ge=0)  # elements × nodes for the central-difference check
    max_symbolic_print: int = Field(400, ge=1)  # derivative trees larger than this are sized, not printed
    max_descent_steps: int = Field(100, ge=1)
    max_rnn_steps: int = Field(12, ge=1, le=30)  # time steps T of the unrolled recurrent network (/backprop?preset=rnn)
    max_descent_work: int = Field(20_000, ge=1)  # node evaluations: expression nodes × (steps + 1)
    # images and CNN layers (/api/v1/conv, /pool, /receptive-field)
    max_image_side: int = Field(256, ge=4)  # pixels, after resizing: a grid sent as numbers is bounded alike
    max_upload_bytes: int = Field(2_000_000, ge=1024)  # an uploaded PNG or JPEG
    max_upload_side: int = Field(4096, ge=16)  # pixels of the upload before resizing
    max_pool_side: int = Field(64, ge=2)  # the pooling page's grid
    # optimizers racing on a loss surface (/api/v1/optimize)
    max_optimize_steps: int = Field(500, ge=1, le=100_000)  # steps of each optimizer
    max_racers: int = Field(9, ge=1, le=64)  # optimizers in one race (there are 9)
    max_optimize_work: int = Field(1500, ge=1)  # steps × optimizers, a Newton step counting 5 (its Hessian):
    # ≈ 0.1-0.5 ms a gradient step on the engine (Beale, the longest formula: 0.5), so at most ~0.4 s, leaving room
    # under load (the default race, 5 racers × 100 steps, costs 1300)
    max_optimize_points: int = Field(500, ge=2)  # the logistic regression surface's dataset
    # LeNet-5 (/api/v1/lenet/...)
    max_drawing_bytes: int = Field(500_000, ge=1024)  # a drawing sent as a data URL
    max_drawing_side: int = Field(512, ge=28)  # its pixels (the page sends 84×84)
    max_ws_message_bytes: int = Field(700_000, ge=1024)  # one WebSocket message (larger: closed with 1009)
    max_ws_rate: float = Field(60.0, gt=0, allow_inf_nan=False)  # frames a second per connection (bursts of as many)
    max_ws_connections: int = Field(1000, ge=1)  # open WebSocket sessions per worker process
    max_ws_per_address: int = Field(50, ge=1)  # open WebSocket sessions of one client address, per worker
    ws_idle_timeout: float = Field(300.0, gt=0)  # seconds without a frame before a stream is closed
    max_batch: int = Field(64, ge=1, le=4096)  # frames computed together in one micro-batch
    # adversarial examples (/api/v1/lenet/adversarial...): an attack step is one forward and one backward pass
    # of LeNet-5 on one digit (~2 ms)
    max_adversarial_steps: int = Field(50, ge=1, le=1000)  # steps of the iterated attack
    adversarial_search_max_epsilon: float = Field(0.5, gt=0, le=1)  # the smallest-ε search looks up to this ε,
    adversarial_search_resolution: float = Field(0.005, ge=0.001, le=0.5)  # in steps of this: with 100 grid points a
    # bisection makes 8 attacks, so a search costs at most 8 × max_adversarial_steps passes
    # the training lab (/api/v1/train/...): every session trains on the server, so each is bounded, and the
    # sessions of a worker take turns on its training threads, each for at most train_frame_cpu a frame
    max_train_points: int = Field(1000, ge=10)  # a dataset's points, generated or the student's own
    max_train_hidden_layers: int = Field(4, ge=0, le=8)
    max_train_units: int = Field(16, ge=1, le=64)  # units of one hidden layer
    max_newton_parameters: int = Field(120, ge=1, le=2000)  # Newton's Hessian is n × n, one backward pass a row:
    # ~55 ms a step at 105 parameters (2-8-8-1 on 140 points)
    train_frame_rate: float = Field(20.0, gt=0, le=60)  # frames a second while playing
    max_train_steps_per_frame: int = Field(25, ge=1, le=10_000)  # optimizer steps between two frames (500 a second)
    train_frame_cpu: float = Field(0.02, gt=0, le=1)  # seconds of CPU one session spends a frame, steps and frame
    # together: past it the steps stop there (a big model trains slower, the others do not wait for it)
    train_threads: int = Field(2, ge=1, le=64)  # threads that compute the training sessions of a worker, in turn
    max_train_message_bytes: int = Field(100_000, ge=1024)  # one message of the training stream (a point: ~30 bytes)
    max_ws_bad_messages: int = Field(20, ge=1)  # bad messages a stream may send (one forgiven a second); then 1008
    max_race_racers: int = Field(8, ge=1, le=64)
    max_race_steps: int = Field(500, ge=1)  # each racer's; all of them share max_request_seconds
    # LeNet-5 learning live (/api/v1/lenet/train/stream): each session trains a fresh LeNet-5 on the server, on
    # the training threads in turn, its turns bounded like the training lab's (a step of 32 digits: ~5 ms)
    max_lenet_live_digits: int = Field(10_000, ge=100, le=50_000)  # training digits of a session (MNIST's first)
    lenet_live_validation: int = Field(1000, ge=100, le=10_000)  # validation digits its accuracy is measured on
    max_lenet_live_batch: int = Field(128, ge=1, le=1024)  # digits of a minibatch
    lenet_live_frame_cpu: float = Field(0.05, gt=0, le=1)  # seconds of CPU a session spends a frame
    lenet_live_eval_chunk: int = Field(250, ge=10, le=10_000)  # validation digits measured in one turn (~15 ms)
    max_lenet_live_sessions: int = Field(40, ge=1)  # live LeNet sessions of a worker (else close 1013)
    max_lenet_live_per_address: int = Field(30, ge=1)  # of one client address (a class behind one NAT: 30)
    # decoding uploads and drawings (app/decode.py): each bound is checked before a pixel is decoded
    max_upload_pixels: int = Field(4_194_304, ge=1024)  # pixels decoded into memory, 4 bytes each: a PNG whole,
    # a JPEG once scaled
    max_upload_jpeg_pixels: int = Field(12_582_912, ge=1024)  # a JPEG's own pixels (4096×3072: 12 MP phone photos),
    # which libjpeg decodes at 1/2 to 1/8 scale in grey; a progressive one still holds 2–6 bytes of coefficients a pixel
    max_jpeg_scans: int = Field(40, ge=1)  # each scan is a pass over every block: ~8 ms at 12 MP; progressive has ~10
    max_image_segments: int = Field(4096, ge=16)  # PNG chunks, or JPEG markers and stray bytes before the first
    # scan: Pillow reads each in Python (2 MB of empty ones took ~1 s)
    max_png_metadata_chunks: int = Field(64, ge=0)  # PNG chunks other than IDAT: each zTXt, iTXt or iCCP may
    # inflate to 1 MB
    max_concurrent_decodes: int = Field(2, ge=1)  # uploads over 1 MP decoded at once per process: bounds their
    # memory and CPU
    decode_wait_seconds: float = Field(30.0, gt=0)  # how long an upload waits for a decoding turn before a 503
    malloc_arenas: int = Field(2, ge=0)  # glibc heaps for all threads (decode.tune_malloc, at startup): each keeps
    # the memory freed at its top, so 16 of them kept ~500 MB of decoded images; 0 leaves glibc's default

    # classroom mode (app/classroom/, docs/classroom.md): the instructor drives, students follow
    classroom: Literal["auto", "on", "off"] = "auto"  # auto: on with one worker or with Redis; off with several
    # workers and no Redis (a class split over processes that do not share it); on: refuse to start in that case
    redis_url: str = Field("", max_length=2000)  # e.g. redis://redis:6379/0: classes shared by every worker and
    # instance; empty: the in-process broker (one worker)
    classroom_secret: str = Field("", max_length=200)  # signs class tokens; with Redis, the same on every instance
    # (at least 32 characters); empty: a random one per process
    class_ttl: float = Field(4 * 3600.0, gt=0, le=7 * 86400)  # seconds after a class's last activity: then it is gone
    max_classes: int = Field(200, ge=1)  # classes open at once (over all the instances sharing one Redis)
    max_classes_per_address: int = Field(20, ge=1)  # classes one client address may create in an hour
    max_students_per_class: int = Field(1000, ge=1)  # joins
    max_join_failures: int = Field(10, ge=1)  # joins with a wrong code per client address a minute (then 429):
    # with 32⁶ codes and max_classes open, a guess finds a class with odds max_classes / 10⁹
    max_name_length: int = Field(40, ge=1, le=200)  # a student's display name (optional)
    max_class_state_bytes: int = Field(16_384, ge=256)  # the instructor's page and state, as JSON
    max_lesson_steps: int = Field(20, ge=1, le=200)  # states in a lesson link's guided sequence (its bytes are
    # bounded by max_class_state_bytes, as it travels with the class's state)
    max_polls_per_class: int = Field(100, ge=1)
    max_drawings_per_class: int = Field(1000, ge=1)  # drawings kept (one per student per drawing poll; ~1 KB each)
    max_poll_options: int = Field(10, ge=2, le=100)
    max_question_length: int = Field(300, ge=1)  # characters, question and each option alike
    class_send_timeout: float = Field(10.0, gt=0)  # seconds a follower may take to take a message; then closed
    max_follower_backlog: int = Field(64, ge=1)  # events waiting for a slow follower; past it, only the latest
    # state and mode are kept (with every poll, reveal and end)

    @field_validator("classroom_secret")
    @classmethod
    def _secret_with_redis(cls, secret: str, info: ValidationInfo) -> str:
        if info.data.get("redis_url") and info.data.get("classroom") != "off" and len(secret) < 32:
            raise ValueError(
                "must be set with redis (at least 32 characters, the same on every instance): "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"
            )
        return secret

    @property
    def trusted_addresses(self) -> frozenset[str]:
        """The proxies whose X-Forwarded-For is believed; per-address limits do not count them."""
        return frozenset(a.strip() for a in self.forwarded_allow_ips.split(",") if a.strip())


class SettingsError(SystemExit):
    """Raised at startup for a bad DEEPVIZ_ variable; its text is the one line to print."""


def load_settings() -> Settings:
    """Settings from the environment, checked: unknown DEEPVIZ_ names and bad values stop here."""
    environ = os.environ
    known = {f"DEEPVIZ_{name.upper()}" for name in Settings.model_fields}
    unknown = sorted(k for k in environ if k.upper().startswith("DEEPVIZ_") and k.upper() not in known)
    if unknown:
        raise SettingsError(f"deepviz: unknown setting {unknown[0]} (the settings are listed in app/settings.py)")
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = f"DEEPVIZ_{str(first['loc'][0]).upper()}"
        raise SettingsError(f"deepviz: {name}={environ.get(name, '')!r}: {first['msg'].lower()}") from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()

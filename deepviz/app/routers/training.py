"""The training lab's API (docs/training.md): the stream of a run being trained, the race
of optimizers, and a run's PyTorch program."""

from __future__ import annotations

import time

from fastapi import APIRouter, WebSocket
from fastapi.responses import Response
from pydantic import ValidationError

from deepviz.app.dependencies import BudgetDep, SettingsDep
from deepviz.app.errors import InputError
from deepviz.app.messages import friendly
from deepviz.app.schemas import BAD_INPUT
from deepviz.app.schemas.training import ProgramRequest, RaceOut, RaceRequest, TrainIn, check_config, check_newton
from deepviz.app.streams import admitted
from deepviz.app.training_stream import Session, serve_session
from deepviz.lessons.playground.program import program as pytorch_program
from deepviz.lessons.playground.race import race as run_race

router = APIRouter(prefix="/api/v1/train", tags=["training"])


# Plain `def`: FastAPI runs it in a worker thread, so a slow request never blocks others.
@router.post("/race", response_model=RaceOut, responses=BAD_INPUT)
def race(request: RaceRequest, settings: SettingsDep, budget: BudgetDep) -> dict:
    """The same model from the same initial weights, trained once per racer (each racer's
    fields override config.train): the training loss after each step, and the steps and
    seconds to the target loss. The racers share the request's time."""
    check_config(request.config, settings, ["body", "config"])
    if len(request.racers) > settings.max_race_racers:
        raise InputError(["body", "racers"], f"at most {settings.max_race_racers} racers")
    if request.max_steps > settings.max_race_steps:
        raise InputError(["body", "max_steps"], f"at most {settings.max_race_steps} steps")
    racers = []
    for i, racer in enumerate(request.racers):
        loc = ["body", "racers", i]
        try:
            train = TrainIn.model_validate({**request.config.train.model_dump(), **racer.changes()})
        except ValidationError as error:
            first = error.errors()[0]
            full = [*loc, *first["loc"]]
            raise InputError(full, friendly({**first, "loc": full}), kind=first["type"]) from None
        check_newton(request.config.model_copy(update={"train": train}), settings, loc)
        racers.append(racer.changes())
    time_left = max(0.0, 0.9 * budget.seconds - (time.monotonic() - budget.deadline + budget.seconds))
    # 0.9: a tenth of the request's time is kept for the answer (no deadline: inf - … stays inf)
    results = run_race(request.config.to_run(), racers, request.target_loss, request.max_steps,
                       between=budget.check, seconds=time_left)  # fmt: skip
    return {"results": results}


PYTHON = {200: {"content": {"text/x-python": {}}, "description": "the program, as a .py file to download"}}


@router.post("/program", response_class=Response, responses={**PYTHON, **BAD_INPUT})
def program(request: ProgramRequest, settings: SettingsDep) -> Response:
    """The run as a PyTorch program: the same data, initial weights, batches, loss, optimizer
    and schedule, and the loop of figure 2.1 (its loss curve is the engine's, tested to 1e-4)."""
    check_config(request.config, settings, ["body", "config"])
    text = pytorch_program(request.config.to_run(), request.steps)
    filename = f"deepviz_{request.config.data.name}_{request.config.train.optimizer}.py"
    return Response(
        text,
        media_type="text/x-python; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.websocket("/stream")
async def stream(socket: WebSocket) -> None:
    """A run trained on the server, its frames streamed (docs/training.md). Limits: sessions
    per worker and per client address (else close 1013), message size and rate, too many bad
    messages (close 1008), idleness (close 1000)."""
    app, settings = socket.app, socket.app.state.settings
    async with admitted(socket) as admit:
        if not admit:
            return
        await serve_session(Session(socket, settings, app.state.train_pool))

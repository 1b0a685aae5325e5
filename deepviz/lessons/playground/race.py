"""Newton against first-order methods (notes 2.2): the same model, from the same initial
weights, trained once per racer; who reaches the target loss first, in steps and in seconds."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from deepviz.lessons.playground.config import RunConfig
from deepviz.lessons.playground.model import evaluate
from deepviz.lessons.playground.run import Diverged, Run


def race(
    config: RunConfig,
    racers: list[dict],
    target_loss: float,
    max_steps: int,
    between: Callable[[], None] = lambda: None,
    seconds: float = math.inf,
) -> list[dict]:
    """One result per racer (its fields override ``config.train``): the training set's mean
    loss after each step, the steps and the seconds of training (the steps alone, not the
    measuring) until it first reaches ``target_loss`` (None if it never does), the seconds
    of all its steps, and ``stopped``: "diverged" if its loss stopped being finite, "time"
    if it used up its share of ``seconds`` (the racers still to go share what is left, so that
    a slow Newton cannot leave the others no time). A racer stops at the target too.
    ``between()`` runs before every step (the app's check that the client is still there)."""
    results, deadline = [], time.perf_counter() + seconds
    for i, racer in enumerate(racers):
        run = Run(config.with_train(**racer))
        own_deadline = time.perf_counter() + (deadline - time.perf_counter()) / (len(racers) - i)
        losses, spent, stopped = [], 0.0, None
        steps_to_target = seconds_to_target = None
        for step in range(1, max_steps + 1):
            between()
            if time.perf_counter() > own_deadline:
                stopped = "time"
                break
            start = time.perf_counter()
            try:
                run.step()
            except Diverged:
                stopped = "diverged"
                break
            finally:
                spent += time.perf_counter() - start
            value, _ = evaluate(run.model, run.x, run.train_set.y, run.task)
            if not math.isfinite(value):
                stopped = "diverged"
                break
            losses.append(value)
            if steps_to_target is None and value <= target_loss:
                steps_to_target, seconds_to_target = step, spent
                break
        results.append(
            {
                "optimizer": run.config.train.optimizer,
                "losses": losses,
                "steps_to_target": steps_to_target,
                "seconds_to_target": seconds_to_target,
                "seconds": spent,
                "stopped": stopped,
            }
        )
    return results

"""Classroom mode: the instructor drives, the students' pages follow and answer polls
(docs/classroom.md). `broker.py` is the contract, `memory.py` and `redis_broker.py` keep to
it, `tokens.py` makes codes and tokens, `classes.py` holds the rules, `follow.py` the
followers' WebSockets; the routes are in app/routers/classroom.py.

Where classes live, decided once per process from the settings (`mode`):
- DEEPVIZ_REDIS_URL set: Redis, shared by every worker and instance.
- else one worker: the in-process broker.
- else (several workers, no Redis): a class would be split between processes that do not
  share it, so classroom mode is off (its routes answer 503 saying why) when
  DEEPVIZ_CLASSROOM=auto, the default; with DEEPVIZ_CLASSROOM=on, `deepviz serve` refuses to
  start. `deepviz serve --workers N` passes N to its workers; run by uvicorn directly with
  several workers, set DEEPVIZ_WORKERS=N (or DEEPVIZ_CLASSROOM=off) so that they know.
"""

from __future__ import annotations

from deepviz.app.settings import Settings

OFF_WITHOUT_REDIS = (
    "classroom mode is off: this server runs {workers} worker processes and no Redis, so a class would be "
    "split between them; set DEEPVIZ_REDIS_URL (docs/classroom.md) or run one worker"
)


def mode(settings: Settings, workers: int) -> tuple[str, str]:
    """("redis" | "memory" | "off", why): where this server keeps its classes."""
    if settings.classroom == "off":
        return "off", "classroom mode is off on this server (DEEPVIZ_CLASSROOM=off)"
    if settings.redis_url:
        return "redis", "classes in Redis"
    if workers == 1:
        return "memory", "classes in this process"
    return "off", OFF_WITHOUT_REDIS.format(workers=workers)


def make_classroom(settings: Settings):
    """The worker's Classroom, or None when classroom mode is off."""
    from deepviz.app.classroom.classes import Classroom

    where, _ = mode(settings, settings.workers)
    if where == "off":
        return None
    if where == "redis":
        from deepviz.app.classroom.redis_broker import RedisBroker

        return Classroom(settings, RedisBroker(settings.redis_url, settings.class_ttl))
    from deepviz.app.classroom.memory import InProcessBroker

    return Classroom(settings, InProcessBroker(settings.class_ttl))

"""The `deepviz` command: `deepviz serve` starts the app (127.0.0.1:8000 by default)."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from deepviz.app.settings import get_settings
from deepviz.lessons.train import TrainConfig

LOGGING = {  # uvicorn's own messages as usual; deepviz's access log as one JSON object a line
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s: %(message)s"}, "json": {"format": "%(message)s"}},
    "handlers": {
        "plain": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["plain"], "level": "INFO"},
        "uvicorn.error": {"level": "INFO"},
        "deepviz.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="deepviz", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", default=settings.host, help="address to bind (default %(default)s)")
    serve.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    serve.add_argument("--workers", type=int, default=settings.workers, help="worker processes (default %(default)s)")
    serve.add_argument("--reload", action="store_true", help="restart when the code changes (development)")
    train = commands.add_parser("train", help="train a model with deepviz's own engine")
    train.add_argument("model", choices=["lenet"], help="what to train")
    recipe = TrainConfig()  # the defaults live there, once
    train.add_argument("--epochs", type=positive, default=recipe.epochs)
    train.add_argument("--batch-size", type=positive, default=recipe.batch_size)
    train.add_argument("--lr", type=float, default=recipe.lr, help="Adam's step size")
    train.add_argument("--seed", type=int, default=recipe.seed)
    train.add_argument("--shift", type=int, default=recipe.shift, help="random translations of up to ±shift pixels")
    train.add_argument("--adversarial-epsilon", type=float, default=recipe.adversarial_epsilon,
                       help="mix FGSM examples within this ε (pixels in [0, 1]) into each batch (0: none)")  # fmt: skip
    train.add_argument("--out", default=None, help="where to write the weights (default: the packaged ones)")
    args = parser.parse_args(argv)

    if args.command == "train":
        return train_lenet(args)

    if args.command == "serve":
        import uvicorn  # (one BLAS thread per worker is set by importing app: see app/__init__.py)

        classroom_notice(settings, args.workers)
        ours = shared_metrics_dir(several=args.workers > 1 or args.reload)
        try:
            uvicorn.run(
                "deepviz.app.main:create_app",
                factory=True,
                host=args.host,
                port=args.port,
                workers=args.workers,
                reload=args.reload,
                ws_max_size=settings.max_ws_message_bytes,  # larger messages: closed with 1009
                ws_per_message_deflate=False,  # compression cost 2.5× the throughput and saved little
                timeout_keep_alive=settings.keep_alive_timeout,  # idle kept-alive connections close
                forwarded_allow_ips=settings.forwarded_allow_ips,  # X-Forwarded-For from nginx only
                h11_max_incomplete_event_size=settings.max_header_bytes,  # if run with --http h11
                access_log=False,  # deepviz logs each request as JSON instead (app/middleware.py)
                log_config=LOGGING,
            )
        finally:
            if ours:
                shutil.rmtree(ours, ignore_errors=True)


def classroom_notice(settings, workers: int) -> None:
    """Where classes will live, said before starting; with several workers and no Redis,
    classroom mode is off (DEEPVIZ_CLASSROOM=auto) or the server refuses to start (=on): a
    class must never be split between processes that do not share it (app/classroom)."""
    import sys

    from deepviz.app.classroom import mode
    from deepviz.app.settings import SettingsError

    os.environ["DEEPVIZ_WORKERS"] = str(workers)  # the workers decide with the same count
    where, why = mode(settings, workers)
    if where == "off" and settings.classroom == "on":
        raise SettingsError(f"deepviz: DEEPVIZ_CLASSROOM=on, but {why.removeprefix('classroom mode is off: ')}")
    if where == "off" and settings.classroom == "auto":
        sys.stderr.write(f"deepviz: {why}\n")


def shared_metrics_dir(several: bool) -> str | None:
    """Where the server's processes write their metrics, so that /metrics sums them all
    (app/metrics.py), exported as $PROMETHEUS_MULTIPROC_DIR to the workers uvicorn starts.
    The operator's directory if set, emptied of a previous run's files; else, with several
    processes, a fresh one of ours, returned to be removed at exit; else none (one process
    keeps its metrics in memory)."""
    from deepviz.app import multiproc

    given = os.environ.get(multiproc.ENV)
    if given:
        os.makedirs(given, mode=0o700, exist_ok=True)
        multiproc.wipe(given)
        return None
    if not several:
        return None
    try:
        path = multiproc.server_dir(os.getpid()) or tempfile.mkdtemp(prefix=multiproc.PREFIX)
    except OSError:  # nowhere to write: each worker keeps its own metrics, as app/metrics.py says
        return None
    os.environ[multiproc.ENV] = path
    return path


def train_lenet(args) -> None:
    """Train LeNet-5 on MNIST, printing a progress bar with the loss and, after each epoch,
    the validation accuracy; then write the weights and their manifest."""
    import sys
    from pathlib import Path

    from deepviz.lessons import lenet
    from deepviz.lessons.mnist import load
    from deepviz.lessons.train import predictions, train

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, shift=args.shift,
                         adversarial_epsilon=args.adversarial_epsilon)  # fmt: skip
    batches = (50_000 + config.batch_size - 1) // config.batch_size

    def on_batch(epoch: int, batch: int, loss: float) -> None:
        if batch % 10 and batch != batches:
            return
        done = int(30 * batch / batches)
        bar = "█" * done + "·" * (30 - done)
        sys.stderr.write(f"\repoch {epoch}/{config.epochs} {bar} {batch}/{batches} loss {loss:.4f}")
        sys.stderr.flush()

    def on_epoch(report) -> None:
        sys.stderr.write(f"  validation accuracy {report.validation_accuracy:.2%} ({report.seconds:.0f} s)\n")

    model, manifest = train(config, on_batch, on_epoch)
    out = Path(args.out) if args.out else lenet.WEIGHTS
    lenet.save(model, manifest, out)
    if not args.out:  # the gallery of mistakes goes with the packaged weights
        test = load().test
        lenet.save_mistakes(test.images, test.labels, predictions(model, test.images))
    print(f"test accuracy {manifest['test_accuracy']:.2%} in {manifest['seconds']:.0f} s; weights in {out}")


if __name__ == "__main__":
    main()

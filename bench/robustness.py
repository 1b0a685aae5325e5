"""Test accuracy against ε, for both shipped LeNet-5s (the standard one and the adversarially
trained one), under FGSM and under the iterated attack, both untargeted and knowing the true
labels (lessons/adversarial.robust_accuracy):

    .venv/bin/python bench/robustness.py [--iterated-images 1000] [--steps 10]

Prints a Markdown table and writes deepviz/lessons/weights/robustness.json, the curves the
/adversarial page draws (served by GET /api/v1/lenet/robustness, never recomputed there),
and the page's gallery of test digits both models read right (adversarial_digits.npz).
FGSM is measured on the whole MNIST test set; the iterated attack, ``steps`` times the cost,
on its first ``--iterated-images`` digits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deepviz.lessons import adversarial  # noqa: E402
from deepviz.lessons.mnist import load  # noqa: E402

EPSILONS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterated-images", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10, help="steps of the iterated attack")
    parser.add_argument("--out", default=str(adversarial.CURVES))
    args = parser.parse_args()

    test = load().test
    start = time.perf_counter()
    models = {}
    for name in adversarial.WEIGHTS:
        model = adversarial.load(name)
        x, y, n = test.images, test.labels, args.iterated_images
        fgsm = [adversarial.robust_accuracy(model, x, y, e, 1) for e in EPSILONS]
        iterated = [adversarial.robust_accuracy(model, x[:n], y[:n], e, args.steps) for e in EPSILONS]
        models[name] = {"fgsm": fgsm, "iterated": iterated}
        print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    curves = {
        "epsilons": EPSILONS,
        "steps": args.steps,
        "step_size": f"{adversarial.STEP_SCALE:g} ε / steps",
        "images": {"fgsm": len(test), "iterated": args.iterated_images},
        "models": models,
        "command": f"bench/robustness.py --iterated-images {args.iterated_images} --steps {args.steps}",
        "seconds": round(time.perf_counter() - start, 1),
    }
    Path(args.out).write_text(json.dumps(curves, indent=1) + "\n")
    adversarial.save_digits(test.images, test.labels)  # the page's gallery, beside the curves
    print(table(curves))


def table(curves: dict) -> str:
    """Accuracy (%) by ε, one row per model and attack."""
    head = "| model | attack | " + " | ".join(f"ε = {e:g}" for e in curves["epsilons"]) + " |"
    rows = [head, "|---|---|" + "---:|" * len(curves["epsilons"])]
    for name, found in curves["models"].items():
        for attack, label in (("fgsm", "FGSM"), ("iterated", f"iterated, {curves['steps']} steps")):
            cells = " | ".join(f"{100 * a:.1f}" for a in found[attack])
            rows.append(f"| {name} | {label} ({curves['images'][attack]:,} digits) | {cells} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()

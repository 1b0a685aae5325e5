"""The PyTorch program of a run (notes 1.3.2): the same data, the same initial weights, the
same minibatches, the same loss, optimizer and schedule as the engine's run, and the loop of
figure 2.1, as a student would write it with torch. Without dropout its loss curve is the
engine's (tests/engine/test_playground_program.py runs it for every optimizer: equal to 1e-4
over 200 steps). Dropout draws its masks from torch's generator, not the engine's: with
dropout the two runs are the same model trained alike, not the same numbers.

The data is written out as float32 (what the datasets are) and both runs compute in float64;
the initial weights are written out in full (``repr`` of a float64 is exact)."""

from __future__ import annotations

import numpy as np

from deepviz.lessons.playground.config import FULL_BATCH, RunConfig
from deepviz.lessons.playground.run import COSINE_STEPS, STEP_EVERY, STEP_FACTOR, Run

MODULE = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}
LOSS = {
    "binary": ("nn.BCEWithLogitsLoss()", "the logistic loss of the logit, -[y log σ(z) + (1 - y) log(1 - σ(z))]"),
    "multiclass": ("nn.CrossEntropyLoss()", "the cross-entropy of softmax(z): -log softmax(z)[y]"),
    "regression": ("nn.MSELoss()", "the squared error (ŷ - y)²"),
}


def _floats32(a: np.ndarray) -> str:
    """Rows of float32 numbers in their shortest exact form."""
    return "[" + ",\n    ".join("[" + ", ".join(str(np.float32(v)) for v in row) + "]" for row in a) + "]"


def _floats64(a: np.ndarray) -> str:
    """A float64 vector, or a matrix a row a line, exactly (repr round-trips)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        return repr(a.tolist())
    return "[" + ",\n      ".join(repr(row) for row in a.tolist()) + "]"


def _data(run: Run) -> str:
    labels = "float64" if run.task != "multiclass" else "int64"
    out = []
    for name, data in (("train", run.train_set), ("test", run.test_set)):
        x = _floats32(data.x) if len(data) else "[]"
        if run.task == "regression":
            y = "[" + ", ".join(str(np.float32(v)) for v in data.y) + "]"
        else:
            y = repr(data.y.tolist())
        shape = f".reshape(-1, {data.x.shape[1]})"
        out.append(f"x_{name} = torch.tensor({x}, dtype=torch.float32).double(){shape}")
        out.append(f"y_{name} = torch.tensor({y}, dtype=torch.float32).to(torch.{labels})")
    return "\n".join(out)


def _model(run: Run) -> str:
    lines = []
    for i, layer in enumerate(run.model.layers):
        lines.append(f"    nn.Linear({layer.weight.shape[1]}, {layer.weight.shape[0]}),")
        if i < len(run.model.activation):
            lines.append(f"    {MODULE[run.model.activation[i]]},")
            if run.model.dropout:
                lines.append(f"    nn.Dropout({run.model.dropout!r}),")
    weights = ",\n    ".join(
        f"({_floats64(layer.weight.data)},\n     {_floats64(layer.bias.data)})" for layer in run.model.layers
    )
    return (
        "model = nn.Sequential(\n"
        + "\n".join(lines)
        + "\n)\n"
        + (
            f"# The engine's initial weights (seed {run.config.seed}): both runs start from the same point.\n"
            f"initial = [\n    {weights},\n]\n"
            "with torch.no_grad():\n"
            "    for layer, (w, b) in zip([m for m in model if isinstance(m, nn.Linear)], initial):\n"
            "        layer.weight.copy_(torch.tensor(w))\n"
            "        layer.bias.copy_(torch.tensor(b))"
        )
    )


def _optimizer(config: RunConfig) -> str:
    t = config.train
    if t.optimizer == "newton":
        return (
            f"LR, DAMPING, L2 = {t.lr!r}, {t.damping!r}, {t.l2!r}  # Newton: step size, λ of H + λI, λ of (λ/2)‖θ‖²\n"
            "names = [name for name, _ in model.named_parameters()]\n"
            "shapes = [p.shape for p in model.parameters()]\n\n"
        )
    args = {
        "gd": "torch.optim.SGD(model.parameters(), lr={lr}, weight_decay={l2})",
        "sgd": "torch.optim.SGD(model.parameters(), lr={lr}, weight_decay={l2})",
        "momentum": "torch.optim.SGD(model.parameters(), lr={lr}, momentum={m}, weight_decay={l2})",
        "nesterov": "torch.optim.SGD(model.parameters(), lr={lr}, momentum={m}, nesterov=True, weight_decay={l2})",
        "adam": "torch.optim.Adam(model.parameters(), lr={lr}, weight_decay={l2})",
        "rmsprop": "torch.optim.RMSprop(model.parameters(), lr={lr}, weight_decay={l2})",
    }[t.optimizer].format(lr=repr(t.lr), m=repr(t.momentum), l2=repr(t.l2))
    schedule = {
        "constant": "None  # a constant learning rate",
        "step": f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={STEP_EVERY}, gamma={STEP_FACTOR})",
        "cosine": f"torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={COSINE_STEPS})",
    }[t.schedule]
    return f"optimizer = {args}  # weight_decay: the gradient of (λ/2)‖θ‖², every parameter\nscheduler = {schedule}"


def _batches(run: Run) -> str:
    t = run.config.train
    if t.optimizer in FULL_BATCH:
        return "def batches():  # full batch: every step sees the whole training set\n" \
               "    while True:\n        yield torch.arange(len(x_train))"  # fmt: skip
    batch = min(t.batch_size, len(run.x))
    return (
        f"BATCH = {batch}  # 1: stochastic gradient descent; len(x_train): batch gradient descent\n"
        f"rng = np.random.default_rng({run.config.seed})  # the engine's seeded shuffle (deepviz.engine.data)\n\n\n"
        "def batches():  # each epoch the examples in a new order, in batches of BATCH\n"
        "    while True:\n"
        "        order = rng.permutation(len(x_train))\n"
        "        for start in range(0, len(order), BATCH):\n"
        "            yield torch.from_numpy(order[start : start + BATCH])"
    )


def _newton_step(run: Run) -> str:
    t = run.config.train
    lr = {
        "constant": "LR",
        "step": f"LR * {STEP_FACTOR} ** (step // {STEP_EVERY})",
        "cosine": f"LR * (1 + math.cos(math.pi * step / {COSINE_STEPS})) / 2",
    }[t.schedule]
    return (
        "    # Newton: θ ← θ - γ (H + λI)⁻¹ ∇J, with the exact Hessian of J (all parameters as one vector θ)\n"
        "    def objective(theta):\n"
        "        pieces = torch.split(theta, [s.numel() for s in shapes])\n"
        "        weights = {n: p.reshape(s) for n, p, s in zip(names, pieces, shapes)}\n"
        "        z = torch.func.functional_call(model, weights, (x_train[index],))\n"
        "        return loss_fn(output(z), y_train[index]) + L2 / 2 * theta.pow(2).sum()\n\n"
        "    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()\n"
        "    with torch.no_grad():\n"
        "        loss = loss_fn(output(model(x_train[index])), y_train[index])\n"
        "    (gradient,) = torch.autograd.grad(objective(theta.requires_grad_()), theta)\n"
        "    hessian = torch.autograd.functional.hessian(objective, theta.detach()) + DAMPING * torch.eye(len(theta))\n"
        "    smallest_eigenvalue = torch.linalg.eigvalsh(hessian)[0]\n"
        "    if smallest_eigenvalue > 0:\n"
        "        direction = torch.linalg.solve(hessian, gradient)\n"
        "    else:  # not positive definite: no minimum to jump to, take a gradient step (the engine does the same)\n"
        "        direction = gradient\n"
        f"    theta = theta - {lr} * direction\n"
        "    torch.nn.utils.vector_to_parameters(theta, model.parameters())"
    )


LOOP = """\
    optimizer.zero_grad()
    loss = loss_fn(output(model(x_train[index])), y_train[index])  # J on the batch
    loss.backward()  # ∇θ J, by backpropagation
    optimizer.step()  # θ ← θ - γ ∇θ J (or momentum's, Adam's, RMSprop's rule)
    if scheduler is not None:
        scheduler.step()"""


def program(config: RunConfig, steps: int = 1000, run: Run | None = None) -> str:
    """The run as a PyTorch program of ``steps`` steps, printing its losses as it goes
    (``run``: the engine's run of ``config`` at step 0, if there is one already)."""
    run = run if run is not None and run.steps == 0 else Run(config)
    loss_module, loss_words = LOSS[run.task]
    output = "z" if run.task == "multiclass" else "z.squeeze(1)"
    step = _newton_step(run) if config.train.optimizer == "newton" else LOOP
    accuracy = {
        "binary": "((z.squeeze(1) > 0).double() == y_test).double().mean().item()",
        "multiclass": "(z.argmax(1) == y_test).double().mean().item()",
        "regression": None,
    }[run.task]
    report = "" if accuracy is None else f'        print("test accuracy", {accuracy})\n'
    return f'''\
"""deepviz's training lab, in PyTorch: {config.data.name}, layers {run.sizes}, {config.train.optimizer}.

The same data, initial weights and minibatches as the run on the page: without dropout the
losses printed are the page's (deepviz's tests check it to 1e-4 over 200 steps). Dropout
draws its masks from torch's generator, so with dropout the numbers differ by chance.
Run it with: python this_file.py (needs torch and numpy)."""

import math

import numpy as np
import torch
from torch import nn

torch.set_default_dtype(torch.float64)  # the engine's run computes in float64 too
STEPS = {steps}

# The data (notes 1.2): a training set, and a held-out test set for the test metric.
{_data(run)}

# The model (notes 1.3): a multi-layer perceptron.
{_model(run)}


def output(z):  # what the loss compares with the labels
    return {output}


# The loss: {loss_words}, averaged over the batch.
loss_fn = {loss_module}
{_optimizer(config)}
{_batches(run)}


# The loop of figure 2.1: a batch, the loss, its gradient, a step.
losses = []
for step, index in zip(range(STEPS), batches()):
    model.train()
{step}
    losses.append(loss.item())
    if step % 100 == 0 or step == STEPS - 1:
        print(f"step {{step}}: loss {{loss.item():.6f}}")

model.eval()
with torch.no_grad():
    z = model(x_test)
    if len(x_test):
        print("test loss", loss_fn(output(z), y_test).item())
{report}'''

"""Optimizers: each ``step()`` moves the parameters against their gradients, as torch.optim
does (the same update, step for step). Each update rule is in its class's docstring, with
g = ∇θ L the gradient in ``.grad``, γ the learning rate ``lr`` and t the step count.

``weight_decay`` λ is L2 regularisation as torch's SGD, Adam and RMSprop do it: g ← g + λ θ,
the gradient of (λ/2) ‖θ‖² added to the loss (``functional.l2_penalty``).

``Newton`` needs the loss itself, to differentiate it twice: its ``step`` takes a closure
that computes the loss, as torch's LBFGS does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import numpy as np

from deepviz.engine import autograd
from deepviz.engine.tensor import Tensor


class Optimizer:
    """What every optimizer shares: its parameters, a learning rate, and ``zero_grad``."""

    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params, self.lr = list(params), lr

    def zero_grad(self) -> None:
        """Forget the gradients (they accumulate across backward passes)."""
        for p in self.params:
            p.grad = None

    def _gradients(self, weight_decay: float):
        """(index, parameter, gradient + weight_decay · parameter) for each parameter that has a gradient."""
        for i, p in enumerate(self.params):
            if p.grad is not None:
                yield i, p, p.grad + weight_decay * p.data if weight_decay else p.grad


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum μ, dampening τ and Nesterov momentum:

        v ← g                       on the first step
        v ← μ v + (1 - τ) g         after
        θ ← θ - γ v                 (Nesterov: θ ← θ - γ (g + μ v))

    With μ = 0 it is plain gradient descent, θ ← θ - γ g."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):  # fmt: skip
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0 (as in torch)")
        super().__init__(params, lr)
        self.momentum, self.dampening, self.weight_decay, self.nesterov = momentum, dampening, weight_decay, nesterov
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient, by the rule above."""
        for i, p, g in self._gradients(self.weight_decay):
            if self.momentum:
                v = self.velocity[i]
                v = g.copy() if v is None else self.momentum * v + (1 - self.dampening) * g
                self.velocity[i] = v
                g = g + self.momentum * v if self.nesterov else v
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): steps scaled by running averages of the gradient (m) and
    of its square (v), both corrected for starting at zero:

        m ← β₁ m + (1 - β₁) g        v ← β₂ v + (1 - β₂) g²
        θ ← θ - γ m̂ / (√v̂ + ε)       with m̂ = m / (1 - β₁ᵗ), v̂ = v / (1 - β₂ᵗ)

    (torch's ``amsgrad=False``; ``weight_decay`` is added to g, as torch's Adam does, not
    decoupled as AdamW.)"""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        # m and v of all the parameters, one after the other, as Newton takes θ; m[i] and v[i]
        # are parameter i's part of them (views), shaped like it
        sizes = [p.data.size for p in self.params]
        ends = np.cumsum(sizes, dtype=int)
        self._parts = [slice(end - size, end) for size, end in zip(sizes, ends)]
        dtype = np.result_type(*[p.data for p in self.params]) if self.params else float
        self._m, self._v = np.zeros(sum(sizes), dtype), np.zeros(sum(sizes), dtype)
        self.m = [self._m[part].reshape(p.shape) for part, p in zip(self._parts, self.params)]
        self.v = [self._v[part].reshape(p.shape) for part, p in zip(self._parts, self.params)]
        self.steps = [0] * len(self.params)  # t, per parameter (one without a gradient does not step)

    def step(self) -> None:
        """One update of every parameter that has a gradient, by the rule above."""
        together = self.params and all(p.grad is not None and p.data.dtype == self._m.dtype for p in self.params)
        if together and len(set(self.steps)) == 1:
            # The usual case: every parameter steps, all at the same t. Then they are one vector,
            # and each line of the rule is one array operation for the whole model instead of one
            # per parameter: on a small network, the number of operations is the cost (a
            # 2-16-16-1 MLP's step took 0.5 of its 1.6 million instructions in Adam, per parameter).
            g = np.concatenate([p.grad.ravel() for p in self.params])
            if self.weight_decay:
                g += self.weight_decay * np.concatenate([p.data.ravel() for p in self.params])
            self.steps = [t + 1 for t in self.steps]
            delta = self._delta(self._m, self._v, g, self.steps[0])
            for p, part in zip(self.params, self._parts):
                p.data -= delta[part].reshape(p.shape)
            return
        for i, p, g in self._gradients(self.weight_decay):
            self.steps[i] += 1
            p.data -= self._delta(self.m[i], self.v[i], g, self.steps[i])

    def _delta(self, m, v, g, t: int):
        """Moves m and v one step (in place) and returns γ m̂ / (√v̂ + ε), for one parameter or
        for all of them as one vector: the same numbers, value by value."""
        b1, b2 = self.betas
        m += (1 - b1) * (g - m)  # m ← β₁ m + (1 - β₁) g, as torch's lerp computes it
        v *= b2
        v += (1 - b2) * g * g
        # the corrections folded into numbers, as torch does: m̂ / (√v̂ + ε) = m / (1 - β₁ᵗ) / (√v / √(1 - β₂ᵗ) + ε)
        denominator = np.sqrt(v) / (1 - b2**t) ** 0.5 + self.eps
        return self.lr / (1 - b1**t) * m / denominator


class RMSprop(Optimizer):
    """RMSprop (Hinton): each step divided by a running root mean square of the gradient:

    s ← α s + (1 - α) g²
    d ← √s + ε                   (centered: a ← α a + (1 - α) g, d ← √(s - a²) + ε)
    θ ← θ - γ g / d              (momentum μ: b ← μ b + g / d, θ ← θ - γ b)"""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False):  # fmt: skip
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay, self.momentum, self.centered = (
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
        )
        self.square_avg = [np.zeros_like(p.data) for p in self.params]
        self.grad_avg = [np.zeros_like(p.data) for p in self.params]
        self.buffer = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        """One update of every parameter that has a gradient, by the rule above."""
        a = self.alpha
        for i, p, g in self._gradients(self.weight_decay):
            s = self.square_avg[i]
            s *= a
            s += (1 - a) * g * g
            if self.centered:
                mean = self.grad_avg[i]
                mean *= a
                mean += (1 - a) * g
                d = np.sqrt(s - mean * mean) + self.eps
            else:
                d = np.sqrt(s) + self.eps
            if self.momentum:
                b = self.buffer[i]
                b *= self.momentum
                b += g / d
                p.data -= self.lr * b
            else:
                p.data -= self.lr * g / d


class Newton(Optimizer):
    """Newton's method, damped: the minimum of the loss's quadratic model around θ,

        θ ← θ - γ (H + λI)⁻¹ g           g = ∇θ L, H = ∇²θ L (exact, from ``autograd``)

    with step size γ (``lr``, 1 for the full step) and damping λ. All parameters are taken
    together as one vector θ of n numbers, so H is n × n: for small models.

    H + λI must be positive definite for the quadratic model to have a minimum. When it is
    not (at a saddle point, on a concave stretch), the step above goes to the model's
    stationary point, which is a saddle or a maximum. ``indefinite`` says what to do then:

    - ``"gradient"`` (the default): do not step blindly towards a maximum or a saddle: warn
      with the smallest eigenvalue and take a plain gradient step θ ← θ - γ g instead
      (``fell_back = True``);
    - ``"newton"``: take the Newton step all the same, as the textbook method does (and so
      head for the saddle); only a singular H + λI, which has no inverse, falls back.

    Either way ``smallest_eigenvalue`` records the smallest eigenvalue of H + λI.

    ``step(closure)``: ``closure()`` computes and returns the loss (no ``backward()``: Newton
    differentiates it itself). ``step`` returns that loss."""

    def __init__(self, params, lr: float = 1.0, damping: float = 0.0, indefinite: str = "gradient"):
        if indefinite not in ("gradient", "newton"):
            raise ValueError(f'indefinite is "gradient" or "newton", not {indefinite!r}')
        super().__init__(params, lr)
        self.damping, self.indefinite = damping, indefinite
        self.smallest_eigenvalue: float | None = None  # of H + λI, at the last step
        self.fell_back = False  # whether the last step was a gradient step

    def step(self, closure: Callable[[], Tensor]) -> Tensor:
        loss = closure()
        g, h = autograd.gradient_and_hessian(loss, self.params)  # (n,), (n, n)
        a = h + self.damping * np.eye(g.size)
        eigenvalues = np.linalg.eigvalsh(a)  # ascending
        self.smallest_eigenvalue = float(eigenvalues[0])
        invertible = not np.any(eigenvalues == 0)
        self.fell_back = not (self.smallest_eigenvalue > 0 or (self.indefinite == "newton" and invertible))
        if self.fell_back:
            warnings.warn(
                f"Newton: H + λI is not positive definite (smallest eigenvalue {self.smallest_eigenvalue:.3g}); "
                "took a gradient step instead",
                RuntimeWarning,
                stacklevel=2,
            )
            direction = g
        else:
            direction = np.linalg.solve(a, g)  # (H + λI)⁻¹ g
        start = 0
        for p in self.params:  # θ is the parameters one after the other
            p.data -= (self.lr * direction[start : start + p.data.size].reshape(p.shape)).astype(p.data.dtype)
            start += p.data.size
        return loss

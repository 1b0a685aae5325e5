"""The notes' table of contents, and where each of their figures lives now. The base
layout's navigation and the home page are both drawn from this one list."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    number: str  # the notes' own ("2.3"), or "4 (a)": a figure for a section whose notes have none
    title: str
    href: str | None  # None: not live yet


@dataclass(frozen=True)
class Chapter:
    number: int
    title: str
    href: str | None  # None: coming
    sections: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = field(default_factory=tuple)
    pages: tuple[tuple[str, str | None], ...] = ()  # (title, href or None when coming)


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "Introduction and general overview", "/#chapter-1",
            ("What is deep learning?", "The machine-learning pipeline", "Multi-layer perceptron"),
            (Figure("1 (a)", "The pipeline: training set, held-out test set, objective, test metric",
                    "/training#pipeline-title"),
             Figure("1 (b)", "A multi-layer perceptron learning, live", "/training"),
             Figure("1 (c)", "The same run as a PyTorch program", "/training#torch-title"))),
    Chapter(2, "Automatic differentiation", "/backprop",
            ("Loss functions and gradient descent", "Optimization methods", "Computing gradients",
             "Automatic differentiation"),
            (Figure("2.1", "Gradient descent, step by step", "/backprop#descent"),
             Figure("2.2", "The graph of L(softmax(Wx + b), y)", "/backprop?preset=softmax"),
             Figure("2.3", "The graph of f = (x + y)·z", "/backprop?preset=notes"),
             Figure("2.4", "Forward pass", "/backprop?preset=notes&phase=forward"),
             Figure("2.5", "Upstream × local = downstream", "/backprop?preset=notes&phase=backward"),
             Figure("2 (a)", "Gradient descent trains a network", "/training?opt=gd&lr=0.5"),
             Figure("2 (b)", "Optimization methods racing: batch, stochastic and minibatch gradient descent, "
                    "momentum, Adam, Newton", "/optimizers?surface=logistic&racers=gd,sgd,minibatch,newton"),
             Figure("2 (c)", "Newton against first-order methods, training a network", "/training#race-title")),
            (("Backpropagation", "/backprop"), ("Training a network", "/training"), ("Optimizers", "/optimizers"))),
    Chapter(3, "Introduction to reinforcement learning", None),
    Chapter(4, "Optimization and loss functions", "/optimizers",
            ("Loss surfaces", "First-order methods", "Newton's method"),
            (Figure("4 (a)", "Loss surfaces: a quadratic bowl, Rosenbrock, Beale, Himmelblau, a saddle",
                    "/optimizers?surface=rosenbrock"),
             Figure("4 (b)", "The condition number slows gradient descent; Newton lands in one step",
                    "/optimizers?surface=quadratic&k=100&racers=gd,momentum,newton"),
             Figure("4 (c)", "Newton heads for a saddle; safeguarded, it escapes",
                    "/optimizers?surface=saddle&racers=gd,newton,newton_safeguarded")),
            (("Optimizers", "/optimizers"),)),
    Chapter(5, "Convolutional neural networks", "/convolution",
            ("Convolution layers", "Padding, stride and receptive fields", "Pooling layers", "LeNet-5"),
            (Figure("5.1–5.2", "Flatten vs a fully connected layer", "/convolution#flatten-title"),
             Figure("5.3–5.4", "A kernel slides over the image", "/convolution#slide-title"),
             Figure("5.5", "Sobel and Gaussian on a photograph", "/convolution#photo-title"),
             Figure("5.6", "A bank of kernels", "/convolution#bank-title"),
             Figure("5.7–5.8", "Stacking layers, ReLU between", "/convolution#stack-title"),
             Figure("5 (a)", "The backward pass: ∂L/∂W, ∂L/∂X and ∂L/∂b, cell by cell", "/convolution-backward"),
             Figure("5.9", "Padding", "/convolution?p=2#slide-title"),
             Figure("5.10", "Receptive fields", "/receptive-field"),
             Figure("5.11", "Stride", "/convolution?s=2&p=0&n=7#slide-title"),
             Figure("5.12", "Max and average pooling", "/pooling"),
             Figure("5.13", "LeNet-5: draw a digit", "/lenet"),
             Figure("5.13 (b)", "LeNet-5 learning, live", "/lenet-live")),
            (("Convolution", "/convolution"), ("Convolution backward", "/convolution-backward"),
             ("Receptive fields", "/receptive-field"), ("Pooling", "/pooling"),
             ("LeNet-5", "/lenet"), ("LeNet-5 learning live", "/lenet-live"))),
    Chapter(6, "Recursive neural networks", "/backprop?preset=rnn",
            ("Backpropagation through time", "Vanishing and exploding gradients"),
            (Figure("6 (a)", "A recurrent network unrolled over T steps: ‖∂L/∂hₜ‖ vanishes (w = 0.5) or explodes "
                    "(w = 3)", "/backprop?preset=rnn&phase=backward"),),
            (("Backpropagation through time", "/backprop?preset=rnn"),)),
    Chapter(7, "Attention and transformers", None),
    Chapter(8, "Robustness and regularity", "/adversarial",
            ("Adversarial examples", "The fast gradient sign method", "Adversarial training"),
            (Figure("8 (a)", "FGSM and the iterated attack on a digit, untargeted or towards a class",
                    "/adversarial"),
             Figure("8 (b)", "The same attack on the adversarially trained LeNet-5", "/adversarial?model=robust"),
             Figure("8 (c)", "Both models' test accuracy against ε", "/adversarial#curves-title")),
            (("Adversarial digits", "/adversarial"),)),
    Chapter(9, "Q-deep learning for Breakout", None),
    Chapter(10, "Autoencoders", None),
    Chapter(11, "Generative adversarial networks", None),
    Chapter(12, "Normalizing flows", None),
)  # fmt: skip

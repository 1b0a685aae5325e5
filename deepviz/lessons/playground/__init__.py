"""The training lab (/training): a multi-layer perceptron trained live on a small 2-D (or
1-D) dataset with the engine. ``datasets``: the seeded datasets and the train/test split."""

from deepviz.lessons.playground import datasets
from deepviz.lessons.playground.datasets import Dataset, make, split

__all__ = ["Dataset", "datasets", "make", "split"]

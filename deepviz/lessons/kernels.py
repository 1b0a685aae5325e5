"""The classic hand-made kernels of image processing (section 5.2.2), as float arrays."""

from __future__ import annotations

import numpy as np

SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)


def gaussian(size: int = 3, sigma: float | None = None) -> np.ndarray:
    """A normalised Gaussian blur. The 3×3 default is the binomial
    [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16; the notes print its middle row as
    [2, 4, 1], which does not sum to 16 and is not symmetric: a typo."""
    if sigma is None:
        row = np.array([1.0])
        for _ in range(size - 1):  # binomial coefficients: Pascal's triangle
            row = np.convolve(row, [1.0, 1.0])
        kernel = np.outer(row, row)
    else:
        r = np.arange(size) - (size - 1) / 2
        g = np.exp(-(r**2) / (2 * sigma**2))
        kernel = np.outer(g, g)
    return kernel / kernel.sum()


def gaussian_size(sigma: float) -> int:
    """An odd size that holds ±2σ (95% of the weight), at most 11."""
    return min(11, 2 * int(np.ceil(2 * sigma)) + 1)


KERNELS: dict[str, tuple[str, np.ndarray]] = {
    "identity": ("Identity: copies the image", np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float)),
    "box": ("Box blur: the mean of the 3×3 neighbourhood", np.full((3, 3), 1 / 9)),
    "gaussian": ("Gaussian blur (3×3 binomial, /16)", gaussian(3)),
    "gaussian5": ("Gaussian blur (5×5, σ = 1)", gaussian(5, 1.0)),
    "sobel_x": ("Sobel x: horizontal change, finds vertical edges", SOBEL_X),
    "sobel_y": ("Sobel y = Sobel xᵀ: vertical change, finds horizontal edges", SOBEL_X.T.copy()),
    "scharr_x": ("Scharr x: a better-balanced Sobel", np.array([[3, 0, -3], [10, 0, -10], [3, 0, -3]], dtype=float)),
    "scharr_y": ("Scharr y", np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], dtype=float)),
    "laplacian": ("Laplacian: the sum of second derivatives, finds edges in all directions",
                  np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)),
    "sharpen": ("Sharpen: the image plus its negated Laplacian",
                np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)),
}  # fmt: skip


def kernel(name: str) -> np.ndarray:
    return KERNELS[name][1].copy()

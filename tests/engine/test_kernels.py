import numpy as np
import pytest

from deepviz.lessons.kernels import KERNELS, gaussian


def test_the_gaussian_is_the_binomial_one_not_the_notes_typo():
    binomial = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]])  # the outer product of (1, 2, 1)
    np.testing.assert_array_equal(gaussian(3) * 16, binomial)
    np.testing.assert_array_equal(KERNELS["gaussian"][1] * 16, binomial)  # what the pages serve
    typo = np.array([[1, 2, 1], [2, 4, 1], [1, 2, 1]])  # the notes' middle row ends in 1
    assert not np.array_equal(KERNELS["gaussian"][1] * 16, typo)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_gaussians_with_sigma_are_normalised_and_symmetric(sigma):
    g = gaussian(5, sigma)
    assert g.sum() == pytest.approx(1) and np.allclose(g, g.T) and np.allclose(g, g[::-1, ::-1])


def test_blurs_keep_brightness_and_edge_detectors_ignore_it():
    for name in ["box", "gaussian", "gaussian5", "identity"]:
        assert KERNELS[name][1].sum() == pytest.approx(1), name
    for name in ["sobel_x", "sobel_y", "scharr_x", "scharr_y", "laplacian"]:
        assert KERNELS[name][1].sum() == pytest.approx(0), name

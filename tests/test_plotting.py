"""Tests of mathcore.plotting: each helper draws what it promises on the axes it is given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mathcore import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_new_figure_grid_and_style():
    fig, axes = plotting.new_figure(ncols=2, nrows=1)
    assert axes.shape == (2,)
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)  # opaque white: readable in dark mode too
    with pytest.raises(ValueError, match="ncols"):
        plotting.new_figure(ncols=0)


def test_scatter_classes_colours_each_class():
    fig, ax = plotting.new_figure()
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    plotting.scatter_classes(ax, X, np.array([0, 1, 1]))
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [1, 2]
    with pytest.raises(ValueError, match="t"):
        plotting.scatter_classes(ax, X, np.array([0, 1]))
    with pytest.raises(ValueError, match="X"):
        plotting.scatter_classes(ax, np.zeros((3, 3)), np.array([0, 1, 1]))


def test_plot_line_solves_the_line_equation():
    fig, ax = plotting.new_figure()
    plotting.plot_line(ax, [1.0, 2.0], -4.0, level=0.0, xlim=(0, 4))
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(1.0 * x + 2.0 * y - 4.0, 0.0, atol=1e-12)
    plotting.plot_line(ax, [2.0, 0.0], -4.0)  # vertical line x = 2
    assert ax.lines[1].get_xdata()[0] == pytest.approx(2.0)


def test_probability_contours_draw_the_half_level():
    fig, ax = plotting.new_figure()
    plotting.plot_probability_contours(ax, lambda P: 1 / (1 + np.exp(-(P[:, 0] - P[:, 1]))), (-3, 3), (-3, 3),
                                       n=50)
    assert len(ax.collections) >= 2


def test_sigmoid_family_marks_midpoints():
    fig, ax = plotting.new_figure()
    plotting.plot_sigmoid_family(ax, [(1.0, 2.0), (2.0, 0.0)])
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert [m.get_xdata()[0] for m in markers] == [-2.0, 0.0]


def test_timings_skip_unmeasured_points():
    fig, ax = plotting.new_figure()
    plotting.plot_timings(ax, [1, 10, 100], {"numpy": [1e-3, 1e-2, 1e-1], "cuda": [np.nan, np.nan, 1e-3]})
    assert len(ax.lines[1].get_xdata()) == 1


def test_other_helpers_run():
    fig, axes = plotting.new_figure(ncols=3)
    plotting.plot_decision_regions(axes[0], lambda P: (P[:, 0] > 0).astype(int), (-1, 1), (-1, 1), n=20)
    plotting.plot_loss_surface(axes[1], lambda w, b: (w - 1) ** 2 + b ** 2, (-2, 2), (-2, 2), n=10)
    plotting.plot_training_curves(axes[2], {"gd": [1.0, 0.5, 0.25]})
    fig2, ax = plotting.new_figure()
    plotting.plot_timeline(ax, [(1838, "a"), (1944, "b")])
    assert axes[2].get_yscale() == "log"

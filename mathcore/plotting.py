"""The course's figures, drawn with one consistent style.

Every function draws on a Matplotlib ``Axes`` that you pass in (or creates one) and returns it, so a
chapter can combine panels freely. Colours come from :data:`PALETTE` (a colour-blind-safe set), and the
two classes also differ in marker (:data:`MARKERS`), so a figure reads without colour too. Figures are
drawn on white at 150 dpi (sharp on high-density screens); in the book's dark mode a style sheet
(``_static/dark-figures.css``) inverts their lightness and keeps their hues, so no figure is a white box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "PALETTE",
    "MARKERS",
    "LINESTYLES",
    "SERIES_MARKERS",
    "STYLE",
    "course_style",
    "new_figure",
    "scatter_classes",
    "plot_line",
    "plot_probability_contours",
    "plot_decision_regions",
    "plot_sigmoid_family",
    "plot_loss_surface",
    "plot_training_curves",
    "plot_timings",
    "plot_timeline",
]

#: Colour-blind-safe colours (Okabe-Ito), by role.
PALETTE = {
    "class0": "#0072B2",  # blue
    "class1": "#D55E00",  # vermillion
    "logistic": "#009E73",  # green
    "least_squares": "#CC79A7",  # purple
    "neutral": "#555555",
    "accent": "#E69F00",  # orange
    "extra": "#56B4E9",  # sky blue
}

#: Markers of the two classes: shape as well as colour.
MARKERS = {"class0": "o", "class1": "^"}

#: Line styles and markers that the series of one plot cycle through, so lines differ without colour too.
LINESTYLES = ("-", "--", ":", "-.")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")

_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

#: Matplotlib rcParams of the course style.
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 150,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=_CYCLE),
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.frameon": False,
    "image.cmap": "RdBu_r",
    "svg.hashsalt": "mathcore",  # deterministic SVG ids
}


@contextmanager
def course_style():
    """Context manager applying :data:`STYLE` temporarily.

    Examples
    --------
    >>> with course_style():
    ...     fig, ax = new_figure()
    """
    with mpl.rc_context(STYLE):
        yield


def new_figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None):
    """Create a figure in the course style.

    Parameters
    ----------
    ncols, nrows : int, default 1
        Grid of axes.
    width, height : float, optional
        Size in inches; defaults scale with the grid (4.2 x 3.4 inches per panel).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : matplotlib.axes.Axes or numpy.ndarray of Axes
        A single Axes when ``ncols == nrows == 1``.
    """
    for value, name in ((ncols, "ncols"), (nrows, "nrows")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    width = 4.2 * ncols if width is None else width
    height = 3.4 * nrows if height is None else height
    with course_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")
    return fig, axes


def _as_2d(X, name="X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name}: expected an array of shape (n, 2), got shape {X.shape}")
    return X


def scatter_classes(ax, X, t, labels=("t = 0", "t = 1"), alpha: float = 0.6, s: float = 14, **kwargs):
    """Scatter a two-feature binary data set, one colour and one marker per class.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    X : array of shape (n, 2)
    t : array of shape (n,) with values in {0, 1}
    labels : pair of str
        Legend entries for t = 0 and t = 1.
    """
    X = _as_2d(X)
    t = np.asarray(t)
    if t.shape != (X.shape[0],):
        raise ValueError(f"t: expected shape ({X.shape[0]},) to match X, got {t.shape}")
    for k, role in ((0, "class0"), (1, "class1")):
        mask = t == k
        ax.scatter(X[mask, 0], X[mask, 1], s=s, alpha=alpha, color=PALETTE[role], marker=MARKERS[role],
                   label=labels[k], edgecolors="none", **kwargs)
    return ax


def plot_line(ax, w, b: float, level: float = 0.0, xlim=None, **kwargs):
    """Draw the straight line ``w[0] * x + w[1] * y + b = level`` across the axes.

    With ``level = 0`` and logistic-regression parameters this is the decision boundary ``p = 0.5``.
    """
    w = np.asarray(w, dtype=float).ravel()
    if w.shape != (2,):
        raise ValueError(f"w: expected 2 coefficients, got shape {w.shape}")
    if w[1] == 0:
        ax.axvline((level - b) / w[0], **kwargs)
        return ax
    x0, x1 = ax.get_xlim() if xlim is None else xlim
    xs = np.linspace(x0, x1, 200)
    ax.plot(xs, (level - b - w[0] * xs) / w[1], **kwargs)
    ax.set_xlim(x0, x1)
    return ax


def _grid(xlim, ylim, n):
    xs = np.linspace(*xlim, n)
    ys = np.linspace(*ylim, n)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()])


def plot_probability_contours(ax, proba: Callable, xlim, ylim, levels=(0.1, 0.5, 0.9), n: int = 200,
                              shade: bool = True, label_lines: bool = True):
    """Shade ``p(t=1 | x)`` over a rectangle and draw its contour lines.

    Parameters
    ----------
    proba : callable
        Maps an array of shape (m, 2) to probabilities of shape (m,).
    xlim, ylim : pair of float
    levels : sequence of float
        Probability levels to draw; 0.5 is the decision boundary.
    """
    gx, gy, pts = _grid(xlim, ylim, n)
    p = np.asarray(proba(pts), dtype=float).reshape(gx.shape)
    if shade:
        ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.25)
    cs = ax.contour(gx, gy, p, levels=sorted(levels), colors=PALETTE["neutral"],
                    linestyles=["--" if abs(v - 0.5) > 1e-12 else "-" for v in sorted(levels)],
                    linewidths=1.2)
    if label_lines:
        ax.clabel(cs, fmt=lambda v: f"p = {v:g}", fontsize=8)
    return ax


def plot_decision_regions(ax, predict: Callable, xlim, ylim, n: int = 250, n_classes: int = 2,
                          alpha: float = 0.25):
    """Colour the plane by the predicted class of ``predict`` (array (m, 2) -> labels (m,))."""
    gx, gy, pts = _grid(xlim, ylim, n)
    labels = np.asarray(predict(pts)).reshape(gx.shape)
    colours = [PALETTE["class0"], PALETTE["class1"], PALETTE["logistic"], PALETTE["accent"],
               PALETTE["least_squares"], PALETTE["extra"]][:max(n_classes, 2)]
    cmap = mpl.colors.ListedColormap(colours)
    ax.contourf(gx, gy, labels, levels=np.arange(len(colours) + 1) - 0.5, cmap=cmap, alpha=alpha)
    return ax


def plot_sigmoid_family(ax, params: Sequence[tuple[float, float]], x=None, mark_midpoints: bool = True):
    """Plot ``sigmoid(w x + b)`` for each ``(w, b)`` in ``params`` and mark the midpoints ``-b / w``."""
    from scipy.special import expit

    x = np.linspace(-6, 6, 400) if x is None else np.asarray(x, dtype=float)
    for k, (w, b) in enumerate(params):
        (line,) = ax.plot(x, expit(w * x + b), ls=LINESTYLES[k % len(LINESTYLES)], label=f"w = {w:g}, b = {b:g}")
        if mark_midpoints and w != 0:
            ax.plot([-b / w], [0.5], "o", color=line.get_color(), ms=4)
    ax.axhline(0.5, color=PALETTE["neutral"], lw=0.8, ls=":")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("x")
    ax.set_ylabel(r"$\sigma(wx + b)$")
    return ax


def plot_loss_surface(ax, loss: Callable, w_range, b_range, n: int = 120, levels: int = 30,
                      log: bool = False):
    """Contour plot of a loss over a (w, b) grid; ``loss(w, b)`` must accept scalars."""
    ws = np.linspace(*w_range, n)
    bs = np.linspace(*b_range, n)
    values = np.array([[loss(w, b) for w in ws] for b in bs])
    if log:
        values = np.log10(values)
    cs = ax.contourf(ws, bs, values, levels=levels, cmap="viridis")
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    return cs


def plot_training_curves(ax, histories: Mapping[str, Sequence[float]], logy: bool = True,
                         xlabel: str = "iteration", ylabel: str = "loss"):
    """One line per named history (e.g. loss per iteration of several solvers)."""
    for k, (name, values) in enumerate(histories.items()):
        ax.plot(np.arange(len(values)), values, ls=LINESTYLES[k % len(LINESTYLES)], label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_timings(ax, sizes, timings: Mapping[str, Sequence[float]], xlabel: str = "N · D",
                 ylabel: str = "time per gradient [s]"):
    """Log-log plot of time against problem size, one line per back-end (NaN = not measured)."""
    sizes = np.asarray(sizes, dtype=float)
    for k, (name, values) in enumerate(timings.items()):
        values = np.asarray(values, dtype=float)
        ok = np.isfinite(values)
        ax.loglog(sizes[ok], values[ok], marker=SERIES_MARKERS[k % len(SERIES_MARKERS)],
                  ls=LINESTYLES[k % len(LINESTYLES)], label=name, ms=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_timeline(ax, events: Sequence[tuple[int, str]]):
    """A horizontal timeline of ``(year, text)`` events, labels alternating above and below."""
    years = [year for year, _ in events]
    ax.axhline(0, color=PALETTE["neutral"], lw=1)
    for i, (year, text) in enumerate(events):
        up = 1 if i % 2 == 0 else -1
        ax.plot([year, year], [0, 0.55 * up], color=PALETTE["neutral"], lw=0.8)
        ax.plot([year], [0], "o", color=PALETTE["class1"], ms=5)
        ax.text(year, 0.62 * up, f"{year}\n{text}" if up > 0 else f"{text}\n{year}",
                ha="center", va="bottom" if up > 0 else "top", fontsize=9)
    span = max(years) - min(years)
    ax.set_xlim(min(years) - 0.12 * span, max(years) + 0.12 * span)
    ax.set_ylim(-1.6, 1.6)
    ax.axis("off")
    return ax

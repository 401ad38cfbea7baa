"""The strong-Wolfe line search of ``lbfgs`` (Nocedal & Wright, algorithms 3.5 and 3.6)."""

import math

__all__ = ["strong_wolfe", "cubic_minimiser"]


def cubic_minimiser(x1, f1, g1, x2, f2, g2, lo, hi):
    """Minimiser of the cubic through two points with slopes, clipped to [lo, hi]."""
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0 or not math.isfinite(disc):
        return 0.5 * (lo + hi)
    d2 = math.sqrt(disc) * (1.0 if x2 >= x1 else -1.0)
    denom = g2 - g1 + 2.0 * d2
    if denom == 0:
        return 0.5 * (lo + hi)
    x = x2 - (x2 - x1) * (g2 + d2 - d1) / denom
    return min(max(x, lo), hi) if math.isfinite(x) else 0.5 * (lo + hi)


def strong_wolfe(phi, f0, slope0, step, noise=0.0, min_step=0.0, c1=1e-4, c2=0.9, max_evals=25):
    """Line search for a step satisfying the strong Wolfe conditions.

    ``phi(step)`` returns ``(f, g, slope)`` at ``theta + step * d``. Follows Nocedal &
    Wright, *Numerical Optimization*, algorithms 3.5 (bracketing, with
    extrapolation) and 3.6 (zoom, with cubic interpolation). Values of ``f`` that
    differ by less than ``noise`` (its rounding error) count as equal, so that near
    the optimum, where the decrease of ``f`` drowns in rounding, the slope (which is
    still accurate) decides. The search gives up when the bracket is narrower than
    ``min_step`` (steps so short that ``theta`` would not change). Returns
    ``(step, f, g)`` or ``None`` when no acceptable step was found.
    """
    prev = (0.0, f0, None, slope0)
    best = None
    bracket = None
    for i in range(max_evals):
        f, g, slope = phi(step)
        cur = (step, f, g, slope)
        if f <= f0 + c1 * step * slope0 + noise and (best is None or f < best[1]):
            best = cur
        if f > f0 + c1 * step * slope0 + noise or (i > 0 and f > prev[1] + noise):
            bracket = (prev, cur)
            break
        if abs(slope) <= -c2 * slope0:
            return step, f, g
        if slope >= 0:
            bracket = (cur, prev)
            break
        # Still going down: extrapolate, between 2x and 10x further.
        new = cubic_minimiser(prev[0], prev[1], prev[3], step, f, slope, 2.0 * step, 10.0 * step)
        prev, step = cur, new
    if bracket is not None:
        lo, hi = bracket  # lo: sufficient decrease and lowest f so far
        for _ in range(max_evals - i - 1):
            a, b = sorted((lo[0], hi[0]))
            width = b - a
            if width <= max(min_step, 1e-12 * b):
                break
            step = cubic_minimiser(lo[0], lo[1], lo[3], hi[0], hi[1], hi[3], a + 0.1 * width, b - 0.1 * width)
            f, g, slope = phi(step)
            cur = (step, f, g, slope)
            if f > f0 + c1 * step * slope0 + noise or f > lo[1] + noise:
                hi = cur
            else:
                if best is None or f < best[1]:
                    best = cur
                if abs(slope) <= -c2 * slope0:
                    return step, f, g
                if slope * (hi[0] - lo[0]) >= 0:
                    hi = lo
                lo = cur
    if best is not None and best[2] is not None:
        return best[0], best[1], best[2]
    return None

"""bench_fit's problems and protocol constants, the helpers its workers share, and the data worker
(synthetic data or breast cancer, and the reference optimum from a NumPy Newton method)."""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


NAME = "fit"
TOLS = [10.0**-k for k in range(3, 13)]  # 1e-3 ... 1e-12, loosest first
TARGETS = {"float64": 1e-8, "float32": 1e-6}
REF_GTOL = 1e-13
BC = "breast_cancer"
# Problems are run in batches: every family's worker handles one batch, so the
# families measure a given problem minutes apart at most.
FULL_BATCHES = [[BC, (10_000, 10), (10_000, 100), (100_000, 10), (100_000, 100)],
                [(1_000_000, 10)], [(1_000_000, 100)]]
QUICK_BATCHES = [[BC, (10_000, 10), (10_000, 100)]]

MATHCORE_SOLVERS = ("default", "newton", "lbfgs", "gd")
MATHCORE_MAX_ITER = {"default": 1000, "newton": 100, "lbfgs": 1000, "gd": 50_000}
SKLEARN_SOLVERS = ("lbfgs", "newton-cholesky", "liblinear", "saga")
SKLEARN_MAX_ITER = {"lbfgs": 10_000, "newton-cholesky": 100, "liblinear": 1000, "saga": 1000}
SKLEARN_ALWAYS_ALL_CONFIGS = ("lbfgs", "newton-cholesky")
SKLEARN_SKIP_LARGE = ("liblinear", "saga")  # not run at N >= LARGE_N (time budget)
# Not run from this size of X (N * D) on, for the time budget (make bench under 15 minutes on
# 2 cores): scikit-learn's newton-cholesky (5-14 s a fit at 1e6 x 100, 3-9 x its lbfgs: each step
# forms a D x D Hessian, N D^2 work) and statsmodels (about 36 s a fit). No goal reads them there.
LARGEST_ENTRIES = 100_000_000
SKLEARN_SKIP_LARGEST = ("newton-cholesky",)
LIBLINEAR_C_UNPENALISED = 1e10  # liblinear refuses C=inf; the penalty then changes f by < 1e-13
LARGE_N = 1_000_000
THREAD_CONFIGS = ("default", "blas1", "omp1")
# mathcore's default solver is also timed with torch limited to one thread (for
# information: the summary and the goals use torch's default pool, what a user gets).
MATHCORE_CONFIGS = ("default", "torch1")
SINGLE_CONFIG_BELOW_S = 0.5  # liblinear/saga: three configurations only when a fit is this fast
SWEEP_BUDGET_S = {"full": 120.0, "quick": 15.0}  # per solver: stop sweeping tol after this


# ---------------------------------------------------------------------------
# helpers shared by the workers (NumPy only at module level)
# ---------------------------------------------------------------------------


def problem_name(p):
    return BC if p == BC else f"syn_{p[0]}_{p[1]}"


def summary_stats(samples):
    """Median, min, quartiles and every sample (seconds)."""
    s = sorted(samples)
    q = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else [s[0]] * 3
    med = statistics.median(s)
    return {"median_s": med, "min_s": s[0], "q25_s": q[0], "q75_s": q[2],
            "iqr_rel": (q[2] - q[0]) / med if med > 0 else 0.0, "n": len(s), "samples_s": list(samples)}


def best_gap(steps):
    gaps = [s["gap"] for s in steps if s["gap"] is not None]
    return f"{min(gaps):.1e}" if gaps else "none (diverged)"


def n_repeats(seconds, quick):
    """Fits to time, from the duration of one fit (see the module docstring)."""
    if quick:
        return 3
    if seconds < 0.01:
        return 21
    if seconds < 1.0:
        return 7
    if seconds < 10.0:
        return 5
    return 3  # the slowest fits (over 10 s), far from the fastest


def load(prob, which):
    import numpy as np

    return np.load(prob["paths"][which])


def sweep(fit, gap_of, target, budget_s):
    """Fit at each tol (loosest first) until ``f - f* <= target``.

    ``fit(tol)`` returns ``(seconds, w, info)`` where ``info`` has ``n_iter`` and
    ``stalled`` (the solver stopped for another reason than its tol, so a tighter
    tol cannot help). Returns ``(chosen step or None, all steps, w of chosen)``.
    """
    steps, spent = [], 0.0
    for tol in TOLS:
        seconds, w, info = fit(tol)
        gap = gap_of(w)
        gap = gap if math.isfinite(gap) else None  # a diverged fit (JSON has no inf/nan)
        step = {"tol": tol, "gap": gap, "met": gap is not None and gap <= target, "time_s": seconds, **info}
        steps.append(step)
        spent += seconds
        if step["met"]:
            return step, steps
        if info.get("stalled") or spent > budget_s:
            break
    return None, steps


# ---------------------------------------------------------------------------
# worker: data and reference optimum (NumPy)
# ---------------------------------------------------------------------------


def objective_np(X, flip, lam, w):
    import numpy as np

    z = X @ w
    return float(np.logaddexp(0.0, flip * z).mean() + 0.5 * lam / X.shape[0] * (w @ w))


def reference_newton(X, t, lam):
    """Float64 Newton/IRLS with Armijo backtracking, until max |grad f| < 1e-13."""
    import numpy as np
    from scipy.linalg import cho_factor, cho_solve
    from scipy.special import expit

    N, D = X.shape
    flip = 1.0 - 2.0 * t
    w = np.zeros(D)
    block = max(1, (8 * 2**20) // (8 * D))
    f = objective_np(X, flip, lam, w)
    g_inf, steps, history = np.inf, 0, []
    for _ in range(100):
        p = expit(X @ w)
        g = X.T @ (p - t) / N + lam / N * w
        g_inf = float(np.abs(g).max())
        history.append({"f": f, "grad_inf": g_inf})
        if g_inf < REF_GTOL:
            break
        s = p * (1.0 - p)
        H = lam / N * np.eye(D)
        for i in range(0, N, block):
            Xb = X[i:i + block]
            H += Xb.T @ (Xb * s[i:i + block, None]) / N
        d = cho_solve(cho_factor(H), -g)
        slope, step = float(g @ d), 1.0
        for _ in range(60):
            f_new = objective_np(X, flip, lam, w + step * d)
            if f_new <= f + 1e-4 * step * slope + 4e-16 * abs(f):
                break
            step *= 0.5
        else:
            break  # no decrease possible at this precision
        w, f, steps = w + step * d, f_new, steps + 1
    return w, f, g_inf, steps, history


def data_worker(spec):
    """Write each problem's arrays to disk and compute its reference optimum."""
    import numpy as np
    from scipy.special import expit

    out = {"load_start": os.getloadavg()[0], "problems": []}
    for prob in spec["problems"]:
        start = time.perf_counter()
        if prob["name"] == BC:
            from sklearn.datasets import load_breast_cancer

            Xraw, t = load_breast_cancer(return_X_y=True)
            Xs = (Xraw - Xraw.mean(axis=0)) / Xraw.std(axis=0)
            X = np.ascontiguousarray(np.hstack([Xs, np.ones((len(Xs), 1))]))
            t = t.astype(np.float64)
        else:
            N, D = prob["N"], prob["D"]
            rng = np.random.default_rng([spec["seed"], N, D])
            X = rng.standard_normal((N, D))
            w_true = rng.normal(0.0, np.sqrt(4.0 / D), size=D)
            t = (rng.random(N) < expit(X @ w_true)).astype(np.float64)
        np.save(prob["paths"]["X64"], X)
        np.save(prob["paths"]["t"], t)
        if "X32" in prob["paths"]:
            np.save(prob["paths"]["X32"], X.astype(np.float32))
        gen_s = time.perf_counter() - start
        start = time.perf_counter()
        w, f, g_inf, iters, history = reference_newton(X, t, prob["lam"])
        out["problems"].append({
            "name": prob["name"], "N": int(X.shape[0]), "D": int(X.shape[1]), "positives": float(t.mean()),
            "f_star": f, "w_star": w.tolist(), "ref_grad_inf": g_inf, "ref_iters": iters,
            "ref_reached_gtol": bool(g_inf < REF_GTOL), "ref_history": history,
            "ref_s": time.perf_counter() - start, "generate_s": gen_s,
        })
        print(f"  data {prob['name']}: f* = {f:.12f}, max|g| = {g_inf:.1e} after {iters} Newton steps", flush=True)
        del X, t
    out["load_end"] = os.getloadavg()[0]
    return out

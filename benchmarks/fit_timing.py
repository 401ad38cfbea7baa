"""bench_fit's timing workers: one fitting function per library family, each timed in its own process
(mathcore/torch, scikit-learn, statsmodels)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_setup import (  # noqa: E402
    LARGE_N,
    LARGEST_ENTRIES,
    LIBLINEAR_C_UNPENALISED,
    MATHCORE_CONFIGS,
    MATHCORE_MAX_ITER,
    MATHCORE_SOLVERS,
    SINGLE_CONFIG_BELOW_S,
    SKLEARN_ALWAYS_ALL_CONFIGS,
    SKLEARN_MAX_ITER,
    SKLEARN_SKIP_LARGE,
    SKLEARN_SKIP_LARGEST,
    SKLEARN_SOLVERS,
    SWEEP_BUDGET_S,
    TARGETS,
    THREAD_CONFIGS,
    best_gap,
    load,
    n_repeats,
    objective_np,
    summary_stats,
    sweep,
)

# ---------------------------------------------------------------------------
# fitting functions, one family each (imports happen inside)
# ---------------------------------------------------------------------------


def mathcore_fit(solver, X, y, lam, dtype):
    from mathcore.models import LogisticRegression

    def fit(tol):
        est = LogisticRegression(
            solver="auto" if solver == "default" else solver,
            penalty=None if lam == 0 else "l2", C=1.0 / lam if lam else 1.0,
            fit_intercept=False, tol=tol, max_iter=MATHCORE_MAX_ITER[solver], dtype=dtype,
        )
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        h = est.history_
        info = {"n_iter": int(est.n_iter_), "solver_used": est.solver_, "converged": bool(h.converged),
                "message": h.message, "solver_s": float(h.time[-1]) if h.time else None,
                "stalled": not h.converged}
        return seconds, est.coef_.ravel().astype("float64"), info

    return fit


def sklearn_fit(solver, X, y, lam):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if lam:
        C = 1.0 / lam
    else:
        C = LIBLINEAR_C_UNPENALISED if solver == "liblinear" else np.inf

    def fit(tol):
        est = LogisticRegression(solver=solver, C=C, fit_intercept=False, tol=tol,
                                 max_iter=SKLEARN_MAX_ITER[solver], random_state=0)
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        n_iter = int(np.max(est.n_iter_))
        info = {"n_iter": n_iter, "stalled": n_iter >= SKLEARN_MAX_ITER[solver]}
        return seconds, est.coef_.ravel().astype("float64"), info

    return fit


def statsmodels_fit(X, y, lam):
    from statsmodels.discrete.discrete_model import Logit

    if lam:
        # Logit.fit has no L2 penalty; statsmodels' (private) PenalizedMixin adds
        # pen_weight * sum(w^2) to the summed negative log-likelihood: lam/2 here.
        from statsmodels.base._penalized import PenalizedMixin
        from statsmodels.base._penalties import L2

        class PenalizedLogit(PenalizedMixin, Logit):
            pass

        def make():
            return PenalizedLogit(y, X, penal=L2(), pen_weight=lam / 2)
    else:
        def make():
            return Logit(y, X)

    def fit(tol):
        start = time.perf_counter()
        res = make().fit(method="newton", tol=tol, maxiter=100, disp=0)
        seconds = time.perf_counter() - start
        rv = res.mle_retvals
        info = {"n_iter": int(rv.get("iterations", -1)), "converged": bool(rv.get("converged")),
                "stalled": not rv.get("converged")}
        return seconds, res.params.astype("float64"), info

    return fit


# ---------------------------------------------------------------------------
# worker: timing (one family per process)
# ---------------------------------------------------------------------------


def _gap_numpy(X, t, lam, f_star_own):
    flip = 1.0 - 2.0 * t
    return lambda w: objective_np(X, flip, lam, w) - f_star_own


def _gap_torch(X, t, lam, w_star):
    """f(w) - f(w*) evaluated with torch in float64 (no NumPy BLAS threads in the mathcore process)."""
    import torch
    import torch.nn.functional as F

    Xt, flip = torch.from_numpy(X), torch.from_numpy(1.0 - 2.0 * t)
    N = X.shape[0]

    def f(w):
        wt = torch.from_numpy(w)
        return float(F.softplus(flip * (Xt @ wt), threshold=40.0).mean() + 0.5 * lam / N * torch.dot(wt, wt))

    f_star_own = f(w_star)
    return (lambda w: f(w) - f_star_own), f_star_own


def _time_interleaved(entries, quick):
    """Time every entry (one solver in one configuration) at its chosen tol, interleaved.

    Each entry is a dict with ``fit``, ``tol``, ``config``, ``enter`` (``enter(config)``
    returns a context manager that sets the thread configuration) and ``first``
    (the duration of the sweep's fit at that tol, made in the default
    configuration). All entries of one problem run round by round, in a rotating
    order, so that a burst of load from other processes hits them alike. The
    sweep's fit counts as a sample of the default configuration when it took
    more than 1 s (always with ``--quick``); other entries get one warm-up fit.
    Returns one ``summary_stats`` dict per entry.
    """
    for e in entries:
        e["n"] = n_repeats(e["first"], quick)
        e["samples"] = [e["first"]] if e["config"] == "default" and (e["first"] > 1.0 or quick) else []
    for e in entries:
        if not e["samples"]:
            with e["enter"](e["config"]):
                e["fit"](e["tol"])
    for r in range(max((e["n"] for e in entries), default=0)):
        k = r % len(entries)
        for e in entries[k:] + entries[:k]:
            if len(e["samples"]) < e["n"]:
                with e["enter"](e["config"]):
                    e["samples"].append(e["fit"](e["tol"])[0])
    return [summary_stats(e["samples"]) for e in entries]


def _finish_rows(pending, quick, label):
    """Time the pending (row, entry) pairs interleaved and fill in each row's timing."""
    timings = _time_interleaved([e for _, e in pending], quick)
    rows = []
    for (row, _), tm in zip(pending, timings, strict=True):
        row["timing"], row["median_s"] = tm, tm["median_s"]
        rows.append(row)
        print(f"  {label} {row['solver']:16s} {row['dtype']} [{row['threads']}]: tol {row['tol']:.0e}, "
              f"{row['n_iter']} it, gap {row['gap']:.1e}: {tm['median_s'] * 1e3:.4g} ms "
              f"(min {tm['min_s'] * 1e3:.4g}, n={tm['n']})", flush=True)
    return rows


def _row(library, solver, dtype, threads, target, chosen, steps, timing, x_bytes):
    last = chosen or steps[-1]
    return {
        "library": library, "solver": solver, "dtype": dtype, "threads": threads,
        "target": target, "target_met": chosen is not None,
        "tol": chosen["tol"] if chosen else None,
        "gap": last["gap"], "n_iter": last["n_iter"],
        "solver_used": last.get("solver_used"), "message": last.get("message"),
        "timing": timing, "median_s": timing["median_s"] if timing else None,
        "sweep": steps, "x_bytes": x_bytes,
    }


def mathcore_worker(spec):
    import numpy as np
    import torch

    import mathcore

    quick = spec["quick"]
    out = {"family": "mathcore", "threads": torch.get_num_threads(), "load_start": os.getloadavg()[0],
           "mathcore_file": mathcore.__file__, "problems": []}
    if spec.get("mathcore_snapshot") and not mathcore.__file__.startswith(spec["mathcore_snapshot"]):
        raise RuntimeError(f"mathcore imported from {mathcore.__file__}, not from the snapshot")
    for prob in spec["problems"]:
        X64, t = load(prob, "X64"), load(prob, "t")
        y = t.astype(np.int64)
        lam, w_star = prob["lam"], np.asarray(prob["w_star"])
        gap_of, f_star_own = _gap_torch(X64, t, lam, w_star)
        failed, pending = [], []
        for dtype in ("float64", "float32") if "X32" in prob["paths"] else ("float64",):
            X = X64 if dtype == "float64" else load(prob, "X32")
            target = TARGETS[dtype]
            for solver in MATHCORE_SOLVERS:
                fit = mathcore_fit(solver, X, y, lam, dtype)
                mathcore_fit(solver, X[:1000], y[:1000], lam, dtype)(1e-3)  # warm-up (lazy initialisation)
                chosen, steps = sweep(fit, gap_of, target, SWEEP_BUDGET_S["quick" if quick else "full"])
                if chosen is None:
                    failed.append(_row("mathcore", solver, dtype, "default", target, None, steps, None, X.nbytes))
                    print(f"  mathcore {prob['name']} {dtype} {solver}: target not met "
                          f"(best gap {best_gap(steps)})", flush=True)
                    continue
                for c in MATHCORE_CONFIGS if solver == "default" else ("default",):
                    row = _row("mathcore", solver, dtype, c, target, chosen, steps if c == "default" else [],
                               None, X.nbytes)
                    pending.append((row, {"fit": fit, "tol": chosen["tol"], "config": c,
                                          "enter": _torch_threads, "first": chosen["time_s"]}))
        rows = _finish_rows(pending, quick, f"mathcore {prob['name']}") + failed
        out["problems"].append({"name": prob["name"], "f_star_own": f_star_own, "rows": rows, "skipped": []})
    out["load_end"] = os.getloadavg()[0]
    return out


@contextlib.contextmanager
def _torch_threads(config):
    """mathcore's thread configurations: torch's default pool, or one thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1 if config == "torch1" else before)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def thread_limits(config):
    from threadpoolctl import threadpool_limits

    if config == "blas1":
        return threadpool_limits(limits=1, user_api="blas")
    if config == "omp1":
        return threadpool_limits(limits=1, user_api="openmp")
    return threadpool_limits(limits=None)


def sklearn_worker(spec):
    import numpy as np
    from threadpoolctl import threadpool_info

    quick = spec["quick"]
    out = {"family": "sklearn", "load_start": os.getloadavg()[0], "problems": [],
           "thread_pools": [{k: p.get(k) for k in ("user_api", "internal_api", "num_threads")}
                            for p in threadpool_info()]}
    for prob in spec["problems"]:
        X, t = load(prob, "X64"), load(prob, "t")
        y = t.astype(np.int64)
        lam, w_star = prob["lam"], np.asarray(prob["w_star"])
        f_star_own = objective_np(X, 1.0 - 2.0 * t, lam, w_star)
        gap_of = _gap_numpy(X, t, lam, f_star_own)
        target = TARGETS["float64"]
        failed, pending, skipped = [], [], []
        for solver in SKLEARN_SOLVERS:
            if ((solver in SKLEARN_SKIP_LARGE and X.shape[0] >= LARGE_N)
                    or (solver in SKLEARN_SKIP_LARGEST and X.size >= LARGEST_ENTRIES)):
                skipped.append(f"sklearn {solver}")
                continue
            fit = sklearn_fit(solver, X, y, lam)
            sklearn_fit(solver, X[:1000], y[:1000], lam)(1e-3)  # warm-up
            with thread_limits("default"):
                chosen, steps = sweep(fit, gap_of, target, SWEEP_BUDGET_S["quick" if quick else "full"])
            if chosen is None:
                failed.append(_row("sklearn", solver, "float64", "default", target, None, steps, None, X.nbytes))
                print(f"  sklearn {prob['name']} {solver}: target not met "
                      f"(best gap {best_gap(steps)})", flush=True)
                continue
            first = chosen["time_s"]
            configs = (THREAD_CONFIGS if solver in SKLEARN_ALWAYS_ALL_CONFIGS or first < SINGLE_CONFIG_BELOW_S
                       else ("default",))
            for c in configs:
                row = _row("sklearn", solver, "float64", c, target, chosen, steps if c == "default" else [],
                           None, X.nbytes)
                pending.append((row, {"fit": fit, "tol": chosen["tol"], "config": c, "enter": thread_limits,
                                      "first": first}))
        rows = _finish_rows(pending, quick, f"sklearn {prob['name']}") + failed
        out["problems"].append({"name": prob["name"], "f_star_own": f_star_own, "rows": rows, "skipped": skipped})
    out["load_end"] = os.getloadavg()[0]
    return out


def statsmodels_worker(spec):
    import numpy as np

    quick = spec["quick"]
    out = {"family": "statsmodels", "load_start": os.getloadavg()[0], "problems": []}
    for prob in spec["problems"]:
        X, t = load(prob, "X64"), load(prob, "t")
        lam, w_star = prob["lam"], np.asarray(prob["w_star"])
        f_star_own = objective_np(X, 1.0 - 2.0 * t, lam, w_star)
        if X.size >= LARGEST_ENTRIES:  # time budget (fit_setup.LARGEST_ENTRIES)
            out["problems"].append({"name": prob["name"], "f_star_own": f_star_own, "rows": [],
                                    "skipped": ["statsmodels newton"]})
            continue
        gap_of = _gap_numpy(X, t, lam, f_star_own)
        target = TARGETS["float64"]
        fit = statsmodels_fit(X, t, lam)
        statsmodels_fit(X[:1000], t[:1000], lam)(1e-3)  # warm-up
        chosen, steps = sweep(fit, gap_of, target, SWEEP_BUDGET_S["quick" if quick else "full"])
        row = _row("statsmodels", "newton", "float64", "default", target, chosen, steps, None, X.nbytes)
        if chosen:
            rows = _finish_rows([(row, {"fit": fit, "tol": chosen["tol"], "config": "default", "enter": thread_limits,
                                        "first": chosen["time_s"]})], quick, f"statsmodels {prob['name']}")
        else:
            rows = [row]
            print(f"  statsmodels {prob['name']}: target not met (best gap {best_gap(steps)})", flush=True)
        out["problems"].append({"name": prob["name"], "f_star_own": f_star_own, "rows": rows, "skipped": []})
    out["load_end"] = os.getloadavg()[0]
    return out

"""Time to fit logistic regression to the same optimum: mathcore against scikit-learn and statsmodels.

Every solver is timed to the **same objective value**, never to the same ``tol``
(tolerances mean different things in each library)::

    f(w) = (1/N) sum_i [softplus(z_i) - t_i z_i] + lam / (2N) * ||w||^2,   z = X w

with no separate intercept (``fit_intercept=False`` everywhere).

Problems

* synthetic, not separable: ``x ~ N(0, 1)``, ``w_true ~ N(0, 4/D)``,
  ``t ~ Bernoulli(sigma(x . w_true))``, seeded; ``lam = 0`` (no penalty);
  N in {1e4, 1e5, 1e6} x D in {10, 100};
* breast cancer (569 x 30, standardised, plus a column of ones): it is linearly
  separable, so the unpenalised optimum does not exist; L2 with ``C = 1``
  (``lam = 1``, the column of ones penalised like the others).

Protocol

1. ``f*`` comes from a float64 Newton reference written in NumPy, run until the
   largest gradient entry is below 1e-13.
2. For each solver, ``tol`` is swept from 1e-3 down to 1e-12; the loosest value
   whose fit reaches ``f - f* <= 1e-8`` (``1e-6`` for float32 fits, ``f``
   evaluated in float64 on the float64 data) is the one timed. A solver that
   reaches the target at no ``tol`` is reported as "target not met" and gets no
   time.
3. Medians of 21 fits under 10 ms, 7 under 1 s, 5 from there on (statsmodels
   at the largest size: 5 fits of about 20 s); min, quartiles and ``n`` are recorded.
   ``--quick``: 3 fits. Within a process, all the solvers and configurations of
   one problem are timed interleaved (round-robin, rotating order), so that load
   from other processes on a shared machine hits them alike.
4. Each library family runs in its own subprocess (mathcore/torch,
   scikit-learn, statsmodels), with the thread-pool variables set to all usable
   CPUs. scikit-learn's ``lbfgs`` and ``newton-cholesky`` are timed in three
   thread configurations set with threadpoolctl (default; BLAS limited to 1
   thread; OpenMP limited to 1 thread), interleaved round by round, and the
   fastest one counts. ``liblinear`` and ``saga`` (single-threaded algorithms)
   get the three configurations only when one fit takes under 0.5 s, and are
   skipped at N = 1e6 (about 10 s and 25 s per fit on 2 cores: they would
   take half of the time budget and are far from the fastest).
5. Peak memory of one fit: in a separate process (one thread per pool), glibc's ``mmap`` threshold is
   pinned (``mallopt``) so that freed arrays go back to the system, the
   kernel's peak-RSS mark is reset (``/proc/self/clear_refs``) just before the
   fit, and ``VmHWM - VmRSS`` after it is the peak increase; reported divided by
   the size of ``X`` (``peak / X`` counts ``X`` itself too). At the largest size
   a fresh process per measurement (``ru_maxrss`` delta, default malloc)
   cross-checks the headline numbers. statsmodels' memory is not measured at
   N * D = 1e8 (one more fit of 25-60 s; about 2.1 x X at every smaller size).

The ratio mathcore / fastest scikit-learn solver (in its best thread
configuration) is given for each problem; the goals are read against it.

Usage::

    python benchmarks/bench_fit.py            # full run, about 10-15 min on 2 cores
    python benchmarks/bench_fit.py --quick    # breast cancer and N = 1e4, < 2 min
    python benchmarks/bench_fit.py --out DIR --threads 2

Results: ``fit.json`` and ``fit.md`` in ``benchmarks/results/``
(``benchmarks/results/tmp/`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

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
LIBLINEAR_C_UNPENALISED = 1e10  # liblinear refuses C=inf; the penalty then changes f by < 1e-13
LARGE_N = 1_000_000
# statsmodels' peak memory is not measured from this size of X (N * D) on: one more fit
# would take 25-60 s, and its ratio is already clear from the smaller sizes (about 2.1 x X).
STATSMODELS_MEMORY_MAX = 100_000_000
THREAD_CONFIGS = ("default", "blas1", "omp1")
# mathcore's default solver is also timed with torch limited to one thread (for
# information: the summary and the goals use torch's default pool, what a user gets).
MATHCORE_CONFIGS = ("default", "torch1")
SINGLE_CONFIG_BELOW_S = 0.5  # liblinear/saga: three configurations only when a fit is this fast
SWEEP_BUDGET_S = {"full": 120.0, "quick": 15.0}  # per solver: stop sweeping tol after this


# ---------------------------------------------------------------------------
# helpers shared by the workers (NumPy only at module level)
# ---------------------------------------------------------------------------


def _problem_name(p):
    return BC if p == BC else f"syn_{p[0]}_{p[1]}"


def _stats(samples):
    """Median, min, quartiles and every sample (seconds)."""
    s = sorted(samples)
    q = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else [s[0]] * 3
    med = statistics.median(s)
    return {"median_s": med, "min_s": s[0], "q25_s": q[0], "q75_s": q[2],
            "iqr_rel": (q[2] - q[0]) / med if med > 0 else 0.0, "n": len(s), "samples_s": list(samples)}


def _best_gap(steps):
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
    return 5


def _load(prob, which):
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


def _objective_np(X, flip, lam, w):
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
    f = _objective_np(X, flip, lam, w)
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
            f_new = _objective_np(X, flip, lam, w + step * d)
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


# ---------------------------------------------------------------------------
# fitting functions, one family each (imports happen inside)
# ---------------------------------------------------------------------------


def _mathcore_fit(solver, X, y, lam, dtype):
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


def _sklearn_fit(solver, X, y, lam):
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


def _statsmodels_fit(X, y, lam):
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
    return lambda w: _objective_np(X, flip, lam, w) - f_star_own


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
    Returns one ``_stats`` dict per entry.
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
    return [_stats(e["samples"]) for e in entries]


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
        X64, t = _load(prob, "X64"), _load(prob, "t")
        y = t.astype(np.int64)
        lam, w_star = prob["lam"], np.asarray(prob["w_star"])
        gap_of, f_star_own = _gap_torch(X64, t, lam, w_star)
        failed, pending = [], []
        for dtype in ("float64", "float32") if "X32" in prob["paths"] else ("float64",):
            X = X64 if dtype == "float64" else _load(prob, "X32")
            target = TARGETS[dtype]
            for solver in MATHCORE_SOLVERS:
                fit = _mathcore_fit(solver, X, y, lam, dtype)
                _mathcore_fit(solver, X[:1000], y[:1000], lam, dtype)(1e-3)  # warm-up (lazy initialisation)
                chosen, steps = sweep(fit, gap_of, target, SWEEP_BUDGET_S["quick" if quick else "full"])
                if chosen is None:
                    failed.append(_row("mathcore", solver, dtype, "default", target, None, steps, None, X.nbytes))
                    print(f"  mathcore {prob['name']} {dtype} {solver}: target not met "
                          f"(best gap {_best_gap(steps)})", flush=True)
                    continue
                for c in MATHCORE_CONFIGS if solver == "default" else ("default",):
                    row = _row("mathcore", solver, dtype, c, target, chosen, steps if c == "default" else [],
                               None, X.nbytes)
                    pending.append((row, {"fit": fit, "tol": chosen["tol"], "config": c,
                                          "enter": _torch_threads, "first": chosen["time_s"]}))
        rows = _finish_rows(pending, quick, f"mathcore {prob['name']}") + failed
        out["problems"].append({"name": prob["name"], "f_star_own": f_star_own, "rows": rows})
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


def _limits(config):
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
        X, t = _load(prob, "X64"), _load(prob, "t")
        y = t.astype(np.int64)
        lam, w_star = prob["lam"], np.asarray(prob["w_star"])
        f_star_own = _objective_np(X, 1.0 - 2.0 * t, lam, w_star)
        gap_of = _gap_numpy(X, t, lam, f_star_own)
        target = TARGETS["float64"]
        failed, pending, skipped = [], [], []
        for solver in SKLEARN_SOLVERS:
            if solver in SKLEARN_SKIP_LARGE and X.shape[0] >= LARGE_N:
                skipped.append(solver)
                continue
            fit = _sklearn_fit(solver, X, y, lam)
            _sklearn_fit(solver, X[:1000], y[:1000], lam)(1e-3)  # warm-up
            with _limits("default"):
                chosen, steps = sweep(fit, gap_of, target, SWEEP_BUDGET_S["quick" if quick else "full"])
            if chosen is None:
                failed.append(_row("sklearn", solver, "float64", "default", target, None, steps, None, X.nbytes))
                print(f"  sklearn {prob['name']} {solver}: target not met "
                      f"(best gap {_best_gap(steps)})", flush=True)
                continue
            first = chosen["time_s"]
            configs = (THREAD_CONFIGS if solver in SKLEARN_ALWAYS_ALL_CONFIGS or first < SINGLE_CONFIG_BELOW_S
                       else ("default",))
            for c in configs:
                row = _row("sklearn", solver, "float64", c, target, chosen, steps if c == "default" else [],
                           None, X.nbytes)
                pending.append((row, {"fit": fit, "tol": chosen["tol"], "config": c, "enter": _limits,
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
        X, t = _load(prob, "X64"), _load(prob, "t")
        lam, w_star = prob["lam"], np.asarray(prob["w_star"])
        f_star_own = _objective_np(X, 1.0 - 2.0 * t, lam, w_star)
        gap_of = _gap_numpy(X, t, lam, f_star_own)
        target = TARGETS["float64"]
        fit = _statsmodels_fit(X, t, lam)
        _statsmodels_fit(X[:1000], t[:1000], lam)(1e-3)  # warm-up
        chosen, steps = sweep(fit, gap_of, target, SWEEP_BUDGET_S["quick" if quick else "full"])
        row = _row("statsmodels", "newton", "float64", "default", target, chosen, steps, None, X.nbytes)
        if chosen:
            rows = _finish_rows([(row, {"fit": fit, "tol": chosen["tol"], "config": "default", "enter": _limits,
                                        "first": chosen["time_s"]})], quick, f"statsmodels {prob['name']}")
        else:
            rows = [row]
            print(f"  statsmodels {prob['name']}: target not met (best gap {_best_gap(steps)})", flush=True)
        out["problems"].append({"name": prob["name"], "f_star_own": f_star_own, "rows": rows})
    out["load_end"] = os.getloadavg()[0]
    return out


# ---------------------------------------------------------------------------
# worker: peak memory of one fit
# ---------------------------------------------------------------------------


def _proc_status():
    vals = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmHWM:", "VmRSS:")):
                vals[line.split(":")[0]] = int(line.split()[1]) * 1024
    return vals


def _reset_peak():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _pin_malloc():
    """Fix glibc's mmap threshold at 128 KiB: large freed arrays return to the system at once."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, 128 * 1024))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def _make_fit(m, X, y, t, lam):
    lib, solver = m["library"], m["solver"]
    if lib == "mathcore":
        return _mathcore_fit(solver, X, y, lam, m["dtype"])
    if lib == "sklearn":
        return _sklearn_fit(solver, X, y, lam)
    return _statsmodels_fit(X, t, lam)


def memory_worker(spec):
    """Peak RSS increase of each requested fit, measured one after the other in this process."""
    import gc

    import numpy as np

    pinned = _pin_malloc()
    import sklearn.linear_model  # noqa: F401
    import statsmodels.discrete.discrete_model  # noqa: F401

    import mathcore.models  # noqa: F401  (imports before the first measurement)

    out = {"family": "memory", "malloc_pinned": pinned, "load_start": os.getloadavg()[0], "problems": []}
    for prob in spec["problems"]:
        arrays = {"float64": _load(prob, "X64")}
        if "X32" in prob["paths"]:
            arrays["float32"] = _load(prob, "X32")
        t = _load(prob, "t")
        y = t.astype(np.int64)
        res = []
        for m in prob["measure"]:
            X = arrays[m["dtype"]]
            with _limits(m["threads"] or "default"):
                # warm-up on enough rows for the large-X path, so that one-time costs (loading the
                # compiled kernel: about 45 MiB) are not counted as the fit's memory
                n = min(len(X), max(2000, 2**18 // X.shape[1] + 1))
                _make_fit(m, X[:n], y[:n], t[:n], prob["lam"])(m["tol"])
                fit = _make_fit(m, X, y, t, prob["lam"])
                gc.collect()
                ok = _reset_peak()
                before = _proc_status()
                fit(m["tol"])
                after = _proc_status()
            inc = after["VmHWM"] - before["VmRSS"] if ok else None
            res.append({**m, "peak_increase_bytes": inc, "x_bytes": X.nbytes,
                        "increase_over_x": inc / X.nbytes if inc is not None else None,
                        "method": "VmHWM reset via clear_refs, malloc mmap threshold pinned"})
            print(f"  memory {prob['name']} {m['library']} {m['solver']} {m['dtype']}: "
                  + (f"+{inc / 2**20:.1f} MiB = {inc / X.nbytes:.2f} x X" if ok else "not measured"), flush=True)
            del fit
            gc.collect()
        out["problems"].append({"name": prob["name"], "rows": res})
        del arrays
    out["load_end"] = os.getloadavg()[0]
    return out


def memory_fresh_worker(spec):
    """Cross-check: one fit in a fresh process, peak = ru_maxrss after - ru_maxrss before (default malloc)."""
    import resource

    import numpy as np

    prob, m = spec["problems"][0], spec["measure"]
    if m["library"] == "mathcore":
        import mathcore.models  # noqa: F401
    elif m["library"] == "sklearn":
        import sklearn.linear_model  # noqa: F401
    else:
        import statsmodels.discrete.discrete_model  # noqa: F401
    X = _load(prob, "X64" if m["dtype"] == "float64" else "X32")
    t = _load(prob, "t")
    y = t.astype(np.int64)
    with _limits(m["threads"] or "default"):
        _make_fit(m, X[:2000], y[:2000], t[:2000], prob["lam"])(m["tol"])
        fit = _make_fit(m, X, y, t, prob["lam"])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        rss = _proc_status().get("VmRSS")
        fit(m["tol"])
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    inc = after - before
    print(f"  memory (fresh process) {prob['name']} {m['library']} {m['solver']}: +{inc / 2**20:.1f} MiB", flush=True)
    return {**m, "problem": prob["name"], "peak_increase_bytes": inc, "x_bytes": X.nbytes,
            "increase_over_x": inc / X.nbytes, "rss_before_bytes": rss, "maxrss_before_bytes": before,
            "method": "ru_maxrss delta in a fresh process"}


WORKERS = {"data": data_worker, "mathcore": mathcore_worker, "sklearn": sklearn_worker,
           "statsmodels": statsmodels_worker, "memory": memory_worker, "memory-fresh": memory_fresh_worker}


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------


def _run(kind, spec, args, tmp, threads=None):
    result = Path(tmp) / f"{kind}.json"
    spec_path = Path(tmp) / f"{kind}.spec.json"
    spec_path.write_text(json.dumps(spec))
    argv = [str(Path(__file__).resolve()), "--worker", kind, "--spec", str(spec_path), "--result", str(result)]
    start = time.perf_counter()
    res = common.run_worker(argv, threads=threads or args.threads, timeout=args.timeout, result_path=result)
    if isinstance(res, dict):
        res["wall_s"] = time.perf_counter() - start
    return res


def mathcore_fingerprint(root=None):
    """SHA-256 of mathcore's Python sources under ``root`` (default: the repository), and the
    repository's git commit and modified mathcore files (read-only git commands)."""
    import hashlib
    import subprocess

    root = Path(root or common.REPO)
    h = hashlib.sha256()
    for path in sorted((root / "mathcore").rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    info = {"sources_sha256": h.hexdigest()[:16], "git_head": None, "modified_vs_head": None}
    try:
        def git(*a):
            return subprocess.run(["git", *a], cwd=common.REPO, capture_output=True, text=True, timeout=10,
                                  check=True).stdout

        info["git_head"] = git("rev-parse", "--short", "HEAD").strip()
        info["modified_vs_head"] = [line[3:] for line in git("status", "--porcelain", "--", "mathcore").splitlines()]
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def _problem_spec(p, tmp):
    name = _problem_name(p)
    paths = {"X64": str(Path(tmp) / f"{name}_X64.npy"), "t": str(Path(tmp) / f"{name}_t.npy")}
    if p == BC:
        return {"name": name, "kind": "breast_cancer", "lam": 1.0, "paths": paths}
    paths["X32"] = str(Path(tmp) / f"{name}_X32.npy")
    return {"name": name, "kind": "synthetic", "N": p[0], "D": p[1], "lam": 0.0, "paths": paths}


def _best_per_solver(rows):
    """For scikit-learn: the fastest thread configuration of each solver (rows with a time)."""
    best = {}
    for r in rows:
        if r["library"] == "sklearn" and r["median_s"] is not None:
            if r["solver"] not in best or r["median_s"] < best[r["solver"]]["median_s"]:
                best[r["solver"]] = r
    return best


def summarise(problem):
    """Mark the best configurations and add the ratios to the fastest scikit-learn fit."""
    rows = problem["rows"]
    best = _best_per_solver(rows)
    for r in rows:  # the row that speaks for the solver: sklearn's fastest, mathcore's default threads
        r["best_config"] = best.get(r["solver"]) is r if r["library"] == "sklearn" else r["threads"] == "default"
    fastest = min(best.values(), key=lambda r: r["median_s"]) if best else None
    problem["fastest_sklearn"] = (
        {"solver": fastest["solver"], "threads": fastest["threads"], "median_s": fastest["median_s"]}
        if fastest else None)
    for r in rows:
        r["ratio_to_fastest_sklearn"] = (r["median_s"] / fastest["median_s"]
                                         if fastest and r["median_s"] is not None else None)
        peer = best.get({"newton": "newton-cholesky", "lbfgs": "lbfgs"}.get(r["solver"], ""))
        r["ratio_to_same_algorithm_sklearn"] = (
            r["median_s"] / peer["median_s"] if r["library"] == "mathcore" and peer and r["median_s"] else None)


def _find(problem, library, solver, dtype="float64", threads=None):
    """The summary row of a solver (or the row with the given thread configuration)."""
    for r in problem["rows"]:
        if r["library"] == library and r["solver"] == solver and r["dtype"] == dtype and (
                r["threads"] == threads if threads else r["best_config"]):
            return r
    return None


def evaluate_goals(problems):
    by_name = {p["name"]: p for p in problems}
    goals = []

    def speed_goal(gid, name, limit, text):
        p = by_name.get(name)
        r = _find(p, "mathcore", "default") if p else None
        if r is None:
            goals.append({"id": gid, "goal": text, "problem": name, "value": None, "target": limit, "met": None,
                          "note": "not in this run (--quick)" if p is None else "mathcore default: target not met"})
            return
        value = r["ratio_to_fastest_sklearn"]
        fs = p["fastest_sklearn"]
        goals.append({"id": gid, "goal": text, "problem": name, "value": value, "target": limit,
                      "met": None if value is None else bool(value <= limit),
                      "note": f"mathcore default ({r['solver_used']}) {r['median_s']:.3g} s vs sklearn "
                              f"{fs['solver']} [{fs['threads']}] {fs['median_s']:.3g} s" if value else ""})

    speed_goal("fit-1e6", "syn_1000000_100", 0.35, "default fit / fastest sklearn, N=1e6, D=100, float64 <= 0.35")
    speed_goal("fit-1e5", "syn_100000_100", 0.35, "default fit / fastest sklearn, N=1e5, D=100, float64 <= 0.35")
    bc = by_name.get(BC)
    mine = _find(bc, "mathcore", "default") if bc else None
    peers = [r for r in (bc or {"rows": []})["rows"] if r["library"] in ("sklearn", "statsmodels")
             and r["dtype"] == "float64" and r.get("best_config") and r.get("median_s") and r.get("target_met")]
    if mine and mine.get("median_s") and peers:
        best = min(peers, key=lambda r: r["median_s"])
        value = mine["median_s"] / best["median_s"]
        goals.append({"id": "fit-breast-cancer", "goal": "default fit / fastest sklearn or statsmodels fit, breast "
                      "cancer (L2) <= 1.0 (stretch 0.6)", "problem": BC, "value": value, "target": 1.0,
                      "met": bool(value <= 1.0), "note": f"mathcore default ({mine['solver_used']}) "
                      f"{mine['median_s'] * 1e3:.3g} ms vs {best['library']} {best['solver']} "
                      f"{best['median_s'] * 1e3:.3g} ms"})
    for p in problems:
        if p["name"] == BC or p["N"] < 100_000:
            continue
        for dtype in ("float64", "float32"):
            r = _find(p, "mathcore", "default", dtype)
            mem = r.get("memory") if r else None
            value = 1.0 + mem["increase_over_x"] if mem and mem.get("increase_over_x") is not None else None
            goals.append({"id": "memory", "goal": f"default fit: peak memory (X + increase) <= 2 x size of X, "
                                                  f"{p['name']} {dtype}",
                          "problem": p["name"], "dtype": dtype, "value": value, "target": 2.0,
                          "met": None if value is None else bool(value <= 2.0),
                          "note": "" if value is not None else "not measured"})
    return goals


def _ms(x):
    if x is None:
        return None
    return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"


def _r(x, digits=2):
    return None if x is None else round(x, digits)


def build_markdown(record):
    lines = [
        "Same objective for every solver: f - f* <= 1e-8 (float64) or 1e-6 (float32), f* from a float64 Newton "
        "reference with max|grad| < 1e-13; each solver's tol swept from 1e-3 to 1e-12 and the loosest that "
        "reaches the target timed. scikit-learn in its best thread configuration "
        "(default / blas1 = BLAS limited to 1 thread / omp1 = OpenMP limited to 1 thread, via threadpoolctl). "
        "Times are medians; memory = peak RSS increase during one fit / size of X.",
        "",
        "## Summary: mathcore's default solver against the fastest scikit-learn fit",
        "",
    ]
    rows = []
    for p in record["problems"]:
        fs = p["fastest_sklearn"]
        for dtype in ("float64", "float32"):
            r = _find(p, "mathcore", "default", dtype)
            if r is None:
                continue
            mem = r.get("memory") or {}
            one = _find(p, "mathcore", "default", dtype, threads="torch1")
            rows.append([p["name"], p["N"], p["D"], dtype, r["solver_used"] or "–",
                         _ms(r["median_s"]) if r["target_met"] else "target not met",
                         f"{fs['solver']} [{fs['threads']}]" if fs else None, _ms(fs["median_s"]) if fs else None,
                         _r(r["ratio_to_fastest_sklearn"]), _r(one["ratio_to_fastest_sklearn"]) if one else None,
                         _r(mem.get("increase_over_x"))])
    lines.append(common.markdown_table(
        ["problem", "N", "D", "dtype", "mathcore solver used", "mathcore default", "fastest sklearn", "time",
         "ratio", "ratio, mathcore 1 thread", "mem increase / X"], rows))
    lines += ["", "## Goals", ""]
    lines.append(common.markdown_table(
        ["goal", "value", "target", "status", "note"],
        [[g["goal"], _r(g["value"]), g["target"],
          {True: "met", False: "MISSED", None: "not measured"}[g["met"]], g["note"]] for g in record["goals"]]))
    for p in record["problems"]:
        lines += ["", f"## {p['name']} (N={p['N']}, D={p['D']}, lam={p['lam']:g}, f* = {p['f_star']:.12f}, "
                      f"X = {p['x_bytes']['float64'] / 2**20:.1f} MiB in float64)", ""]
        rows = []
        for r in p["rows"]:
            tm = r["timing"]
            mem = r.get("memory") or {}
            rows.append([
                r["library"], r["solver"] + (f" ({r['solver_used']})" if r.get("solver_used") not in
                                             (None, r["solver"]) else ""),
                r["dtype"], r["threads"] or "–", f"{r['tol']:.0e}" if r["tol"] else "–",
                _ms(tm["median_s"]) if tm else "–", _ms(tm["min_s"]) if tm else "–",
                _r(tm["iqr_rel"]) if tm else None, tm["n"] if tm else None, r["n_iter"],
                f"{r['gap']:.1e}" if r["gap"] is not None else "diverged",
                "yes" if r["target_met"] else "**target not met**",
                _r(r["ratio_to_fastest_sklearn"]), _r(mem.get("increase_over_x")),
                ("fastest" if r["library"] == "sklearn" else "summary") if r["best_config"] else ""])
        lines.append(common.markdown_table(
            ["library", "solver", "dtype", "threads", "tol", "median", "min", "IQR/med", "n", "iters", "f - f*",
             "target met", "x fastest sklearn", "mem / X", "config"], rows))
        if p.get("skipped"):
            lines.append(f"\nNot run at this size (time budget): sklearn {', '.join(p['skipped'])}.")
    if record.get("memory_crosscheck"):
        lines += ["", "## Memory cross-check (fresh process per fit, ru_maxrss delta, default malloc)", ""]
        lines.append(common.markdown_table(
            ["problem", "library", "solver", "dtype", "threads", "increase / X (fresh)", "increase / X (main)"],
            [[c["problem"], c["library"], c["solver"], c["dtype"], c["threads"] or "–", _r(c["increase_over_x"]),
              _r(c.get("main_increase_over_x"))] for c in record["memory_crosscheck"]]))
    src = record["meta"].get("mathcore_source") or {}
    lines += ["", "## Run", "",
              f"- mathcore sources: sha256 {src.get('sources_sha256')} (git {src.get('git_head')}, modified: "
              f"{', '.join(src.get('modified_vs_head') or []) or 'none'}), copied at the start and imported "
              f"by every worker; repository's copy unchanged at the end: {record.get('mathcore_repo_unchanged')}",
              f"- wall time {record['wall_s']:.0f} s; load average (1, 5, 15 min) at start "
              f"{record['meta']['machine']['load_average_1_5_15']}, at end {record['load_average_end']}",
              "- per worker (1-min load at start -> end, wall s): " + "; ".join(
                  f"{w['family']} {w['batch']}: {w['load_start']:.2f} -> {w['load_end']:.2f}, {w['wall_s']:.0f} s"
                  for w in record["workers"])]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_args(parser)
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: all usable CPUs)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per worker")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # child process
        import warnings

        spec = json.loads(args.spec.read_text())
        if spec.get("mathcore_snapshot"):  # import the frozen copy of mathcore made by the driver
            sys.path.insert(0, spec["mathcore_snapshot"])
        warnings.simplefilter("ignore")  # ConvergenceWarning etc.: the sweep records what happened
        res = WORKERS[args.worker](spec)
        args.result.write_text(json.dumps(res, allow_nan=False))
        return 0

    if args.threads is None:
        args.threads = common.machine_info()["usable_cpus"]
    meta = common.run_metadata({"threads_per_worker": args.threads, "quick": args.quick})
    for pkg in ("statsmodels", "psutil"):
        try:
            meta["versions"][pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            meta["versions"][pkg] = None
    batches = QUICK_BATCHES if args.quick else FULL_BATCHES
    out = common.out_dir(args)
    started = time.perf_counter()
    # Every worker imports one frozen copy of mathcore, so that edits to the sources
    # during a run (other people work in the same checkout) cannot mix two versions.
    snapshot_dir = tempfile.TemporaryDirectory(prefix="bench_fit_mathcore_")
    shutil.copytree(common.REPO / "mathcore", Path(snapshot_dir.name) / "mathcore",
                    ignore=shutil.ignore_patterns("__pycache__"))
    meta["mathcore_source"] = mathcore_fingerprint(snapshot_dir.name)
    problems, workers, crosscheck = [], [], []

    def log_worker(res, family, names):
        workers.append({"family": family, "batch": ",".join(names), "load_start": res["load_start"],
                        "load_end": res["load_end"], "wall_s": res["wall_s"]})

    for batch in batches:
        with tempfile.TemporaryDirectory(prefix="bench_fit_") as tmp:
            specs = [_problem_spec(p, tmp) for p in batch]
            names = [s["name"] for s in specs]
            base = {"quick": args.quick, "seed": args.seed, "mathcore_snapshot": snapshot_dir.name}
            print(f"bench_fit: batch {names}: data and reference optimum", flush=True)
            data = _run("data", {**base, "problems": specs}, args, tmp)
            log_worker(data, "data", names)
            for s, d in zip(specs, data["problems"], strict=True):
                s.update({"w_star": d["w_star"], "f_star": d["f_star"]})
            fam = {}
            for family in ("mathcore", "sklearn", "statsmodels"):
                print(f"bench_fit: batch {names}: {family}", flush=True)
                fam[family] = _run(family, {**base, "problems": specs}, args, tmp)
                log_worker(fam[family], family, names)
            batch_problems = []
            for i, (s, d) in enumerate(zip(specs, data["problems"], strict=True)):
                rows = [r for f in fam.values() for r in f["problems"][i]["rows"]]
                x_bytes = {"float64": d["N"] * d["D"] * 8}
                if "X32" in s["paths"]:
                    x_bytes["float32"] = d["N"] * d["D"] * 4
                p = {"name": s["name"], "kind": s["kind"], "N": d["N"], "D": d["D"], "lam": s["lam"],
                     "positives": d["positives"], "f_star": d["f_star"], "x_bytes": x_bytes,
                     "reference": {k: d[k] for k in ("ref_grad_inf", "ref_iters", "ref_reached_gtol", "ref_s",
                                                      "generate_s", "ref_history")},
                     "f_star_per_family": {f: fam[f]["problems"][i]["f_star_own"] for f in fam},
                     "skipped": fam["sklearn"]["problems"][i]["skipped"], "rows": rows}
                summarise(p)
                batch_problems.append(p)
            # peak memory of each timed fit (best configuration), in one separate process
            for s, p in zip(specs, batch_problems, strict=True):
                s["measure"] = [{"library": r["library"], "solver": r["solver"], "dtype": r["dtype"],
                                 "threads": r["threads"], "tol": r["tol"]}
                                for r in p["rows"] if r["target_met"] and r["best_config"]
                                and not (r["library"] == "statsmodels" and p["N"] * p["D"] >= STATSMODELS_MEMORY_MAX)]
            print(f"bench_fit: batch {names}: peak memory", flush=True)
            mem = _run("memory", {**base, "problems": specs}, args, tmp, threads=1)
            log_worker(mem, "memory", names)
            for p, mp in zip(batch_problems, mem["problems"], strict=True):
                for m in mp["rows"]:
                    for r in p["rows"]:
                        if all(r[k] == m[k] for k in ("library", "solver", "dtype", "threads")):
                            r["memory"] = {k: m[k] for k in ("peak_increase_bytes", "increase_over_x", "method")}
            # cross-check at the largest size: a fresh process per fit
            largest = max(batch_problems, key=lambda p: p["N"] * p["D"])
            if not args.quick and largest["N"] >= LARGE_N and largest["D"] >= 100:
                s = next(s for s in specs if s["name"] == largest["name"])
                picks = [r for r in largest["rows"] if r["target_met"] and r["best_config"]
                         and ((r["library"] == "mathcore" and r["solver"] == "default")
                              or (largest["fastest_sklearn"] and r["library"] == "sklearn"
                                  and r["solver"] == largest["fastest_sklearn"]["solver"]))]
                for r in picks:
                    m = {k: r[k] for k in ("library", "solver", "dtype", "threads", "tol")}
                    print(f"bench_fit: memory cross-check {m}", flush=True)
                    c = _run("memory-fresh", {**base, "problems": [s], "measure": m}, args, tmp, threads=1)
                    c["main_increase_over_x"] = (r.get("memory") or {}).get("increase_over_x")
                    crosscheck.append(c)
            problems += batch_problems
        print(f"bench_fit: {time.perf_counter() - started:.0f} s so far", flush=True)

    record = {
        "meta": meta,
        "protocol": {
            "objective": "mean(softplus(X w) - t X w) + lam/(2N) ||w||^2, no intercept",
            "targets": TARGETS, "tols": TOLS, "reference_gtol": REF_GTOL,
            "repeats": "21 fits under 10 ms, 7 under 1 s, 5 from there on; 3 with --quick",
            "thread_configs": {"default": "thread pools as loaded (variables set to --threads)",
                               "blas1": "threadpoolctl BLAS limited to 1 thread",
                               "omp1": "threadpoolctl OpenMP limited to 1 thread"},
            "sklearn_all_configs": list(SKLEARN_ALWAYS_ALL_CONFIGS),
            "sklearn_single_config_rule": f"liblinear/saga: all configurations only when a fit takes "
                                          f"< {SINGLE_CONFIG_BELOW_S} s, else default",
            "sklearn_skipped_at_large_n": {"solvers": list(SKLEARN_SKIP_LARGE), "N": LARGE_N,
                                           "why": "about 10 s (liblinear) and 25 s (saga) per fit at N=1e6, "
                                                  "D=100 on 2 cores: too slow for the time budget and far "
                                                  "from the fastest solver at smaller N"},
            "statsmodels": "Logit(y, X).fit(method='newton'); construction included; breast cancer via "
                           "statsmodels' PenalizedMixin with an L2 penalty (pen_weight = lam/2)",
            "liblinear_unpenalised_C": LIBLINEAR_C_UNPENALISED,
            "memory": "peak RSS increase during one fit (VmHWM reset via /proc/self/clear_refs, glibc mmap "
                      "threshold pinned) in a separate process with one thread per pool; ratio to the size of X",
            "memory_not_measured": f"statsmodels at N*D >= {STATSMODELS_MEMORY_MAX:.0e} (time budget)",
        },
        "threads": args.threads,
        "problems": problems,
        "memory_crosscheck": crosscheck,
        "workers": workers,
        "wall_s": time.perf_counter() - started,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    record["goals"] = evaluate_goals(problems)
    # the repository's sources may have moved on; the run used the snapshot throughout
    record["mathcore_repo_unchanged"] = (mathcore_fingerprint()["sources_sha256"]
                                         == meta["mathcore_source"]["sources_sha256"])
    snapshot_dir.cleanup()
    meta["machine"]["load_average_end"] = record["load_average_end"]
    paths = common.write_results(out, NAME, record, build_markdown(record),
                                 "Benchmark: time to fit logistic regression to the same optimum")
    print(f"bench_fit: {record['wall_s']:.0f} s; wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

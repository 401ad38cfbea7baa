"""bench_fit's memory workers: the peak memory of one fit, in a separate process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_setup import load  # noqa: E402
from fit_timing import mathcore_fit, sklearn_fit, statsmodels_fit, thread_limits  # noqa: E402

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
        return mathcore_fit(solver, X, y, lam, m["dtype"])
    if lib == "sklearn":
        return sklearn_fit(solver, X, y, lam)
    return statsmodels_fit(X, t, lam)


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
        arrays = {"float64": load(prob, "X64")}
        if "X32" in prob["paths"]:
            arrays["float32"] = load(prob, "X32")
        t = load(prob, "t")
        y = t.astype(np.int64)
        res = []
        for m in prob["measure"]:
            X = arrays[m["dtype"]]
            with thread_limits(m["threads"] or "default"):
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
    X = load(prob, "X64" if m["dtype"] == "float64" else "X32")
    t = load(prob, "t")
    y = t.astype(np.int64)
    with thread_limits(m["threads"] or "default"):
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

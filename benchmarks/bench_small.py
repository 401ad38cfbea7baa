"""Where the small-problem path pays: NumPy evaluations against torch ones, whole fits timed interleaved.

``LogisticObjective`` evaluates small ``X`` (at most ``optim.logistic.SMALL_MAX_ENTRIES`` entries) with
the generated NumPy functions, whose calls cost a few microseconds where torch's cost several. This
script times the estimator's default fit (L2, ``C = 1``, Newton) with the threshold set above and below
each problem size, interleaved round by round in one process, on standardised synthetic data with
D = 30 (the breast-cancer width) and N from 250 to 32,000, and on the breast-cancer data itself.

Recorded (``benchmarks/results/small.json``): the median time of each path per size, their ratio with
its spread, and ``threshold_entries``: the largest N * D up to which the NumPy path was faster at every
measured size. ``SMALL_MAX_ENTRIES`` in ``mathcore/optim/logistic.py`` is set from it. Also the cost of
the fused numba kernel's first call in a fresh process, with an empty cache (compilation) and cached.

    python benchmarks/bench_small.py           # about 2 minutes on 2 cores
    python benchmarks/bench_small.py --quick   # three sizes, a few seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

D = 30
SIZES = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000]
QUICK_SIZES = [250, 2000, 16000]


def problems(quick):
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, t = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", StandardScaler().fit_transform(X), t
    rng = np.random.default_rng(0)
    for n in QUICK_SIZES if quick else SIZES:
        X = rng.standard_normal((n, D))
        t = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.normal(0, 2 / D**0.5, D)))).astype(int)
        yield f"syn_{n}_{D}", X, t


def time_paths(X, t, rounds):
    """Median seconds of one default fit with the NumPy path and with the torch path, interleaved."""
    import numpy as np

    import mathcore
    from mathcore.optim import logistic

    def fit(small):
        logistic.SMALL_MAX_ENTRIES = 2**62 if small else -1
        start = time.perf_counter()
        model = mathcore.LogisticRegression(C=1.0).fit(X, t)
        return time.perf_counter() - start, model

    samples = {True: [], False: []}
    coefs = {}
    for k in range(rounds + 2):
        for small in ((True, False) if k % 2 else (False, True)):
            seconds, model = fit(small)
            coefs[small] = model.coef_
            if k >= 2:  # two warm-up rounds
                samples[small].append(seconds)
    ratios = np.array(samples[True]) / np.array(samples[False])
    return {"numpy_s": float(np.median(samples[True])), "torch_s": float(np.median(samples[False])),
            "ratio_median": float(np.median(ratios)), "ratio_q1": float(np.quantile(ratios, 0.25)),
            "ratio_q3": float(np.quantile(ratios, 0.75)), "rounds": rounds,
            "max_coef_diff": float(np.abs(coefs[True] - coefs[False]).max())}


FIRST_CALL = """
import time, numpy as np
start = time.perf_counter()
from mathcore.optim import _fused
imported = time.perf_counter()
X = np.ones((1000, 10)); w = np.zeros(10); z = np.empty(1000)
_fused.logistic_sums(X, np.zeros(1000), w, 0.0, z)
print(imported - start, time.perf_counter() - imported)
"""


def first_call_seconds():
    """Import plus first call of the fused kernel (float64, logistic) in a fresh process: with an empty
    numba cache (the compile a reader pays once) and again with the cache that run left."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [[float(x) for x in subprocess.run([sys.executable, "-c", FIRST_CALL], env=env,
                                                  capture_output=True, text=True, check=True).stdout.split()]
                for _ in range(2)]
    # import: mathcore with torch and numba; call: the first call alone (compile, or load from the cache)
    return {"import_s": runs[1][0], "cold_s": runs[0][1], "cached_s": runs[1][1]}


def main(argv=None):
    parser = common.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    rows = []
    for name, X, t in problems(args.quick):
        r = time_paths(X, t, rounds=5 if args.quick else 21)
        rows.append({"problem": name, "N": X.shape[0], "D": X.shape[1], "entries": X.size, **r})
        print(f"  {name:16s} numpy {r['numpy_s'] * 1e3:7.2f} ms  torch {r['torch_s'] * 1e3:7.2f} ms  "
              f"ratio {r['ratio_median']:.2f} [{r['ratio_q1']:.2f}, {r['ratio_q3']:.2f}]", flush=True)
    threshold = 0
    for r in sorted((r for r in rows if r["problem"] != "breast_cancer"), key=lambda r: r["entries"]):
        if r["ratio_median"] >= 1.0:
            break
        threshold = r["entries"]
    first = first_call_seconds()
    print(f"  fused kernel, first call: {first['cold_s']:.2f} s with an empty numba cache, "
          f"{first['cached_s']:.2f} s from the cache (import of mathcore: {first['import_s']:.1f} s)", flush=True)
    record = {"meta": common.run_metadata({"quick": args.quick}), "rows": rows,
              "threshold_entries": threshold, "fused_first_call": first, "load_average_end": os.getloadavg()}
    body = [f"Largest N x D up to which the NumPy path was faster at every size: **{threshold}**.", "",
            f"Fused kernel, first call in a fresh process: {first['cold_s']:.2f} s with an empty numba cache "
            f"(compilation), {first['cached_s']:.2f} s with the cache it left (importing mathcore, torch and "
            f"numba before it: {first['import_s']:.1f} s).", "",
            common.markdown_table(
                ["problem", "N", "D", "NumPy path", "torch path", "ratio (median [q1, q3])", "max |coef diff|"],
                [[r["problem"], r["N"], r["D"], f"{r['numpy_s'] * 1e3:.2f} ms", f"{r['torch_s'] * 1e3:.2f} ms",
                  f"{r['ratio_median']:.2f} [{r['ratio_q1']:.2f}, {r['ratio_q3']:.2f}]",
                  f"{r['max_coef_diff']:.1e}"] for r in rows])]
    common.write_results(common.out_dir(args), "small", record, "\n".join(body),
                         "Small problems: the NumPy path against the torch path")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

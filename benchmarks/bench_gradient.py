"""One full-batch logistic-regression gradient against the machine's memory bandwidth.

    g = X.T @ (sigmoid(X @ w) - t)        (gradient of the summed loss)

For N in {1e3, 1e4, 1e5, 1e6} x D in {10, 100} x {float64, float32} this times

* NumPy:      the one-liner, and the one-pass row-blocked variant
              (``mathcore.bench.logistic_gradient_blocked``) with and without
              its cache prefetch;
* torch CPU:  the same three;
* torch CUDA: the one-liner and the fit's pass (the fused Triton kernel
              where Triton is installed) on data already on the GPU (when
              CUDA is available), also at N = 1e7, with the host-to-device
              copy of X and t timed apart.

Achieved bandwidth = compulsory bytes (N*D + N) * itemsize / median time, and
its fraction of the machine's read bandwidth (``torch.sum`` over a large
array) and copy bandwidth (``copy_``, read + write counted), both measured in
the same run by ``mathcore.bench.measure_bandwidth``: in a separate process
before and after the gradients (the larger of the two medians is the
ceiling, so the fractions are conservative). On a GPU the ceilings are
measured inside the CUDA worker.

A read probe (a plain sum over a large array, all cores) is also timed in the
same rounds as the gradients: ``frac_read_inround`` divides by it, a ratio of
two numbers measured together.

Goals (``evaluate_goals``, in the JSON as ``goals``): the fastest CPU path at
N=1e6, D=100 reaches 75 % of the in-round read bandwidth; on a GPU, the fastest
variant at every size with N*D*itemsize >= 1e9 reaches 70 % of the device copy
bandwidth ("not measured" without one). ``crossover``: from which N the GPU beats the fastest
CPU path, with the data on the device and with the copy included.

Method:

* each library family runs in its own subprocess with the thread-pool
  variables set to ``--threads`` (default: all usable CPUs), because NumPy's
  OpenBLAS and torch's OpenMP pools fight when mixed in one process;
* for one size, the variants of a family are timed *interleaved* (one call of
  each in turn, round after round), so that they are compared under the same
  conditions on a shared machine; medians of at least 9 rounds (21 when a
  call takes under 10 ms) after 2 warm-up rounds;
* every result is checked against a float64 reference of the same library;
* a row whose IQR exceeds 10 % of its median is flagged "noisy".

Usage::

    python benchmarks/bench_gradient.py            # full run, ~2-5 min on 2 cores
    python benchmarks/bench_gradient.py --quick    # CI smoke run, < 60 s
    python benchmarks/bench_gradient.py --out DIR --threads 2
    python benchmarks/bench_gradient.py --wait-idle 600   # on a shared machine

Results: ``gradient.json`` and ``gradient.md`` in ``benchmarks/results/``
(``benchmarks/results/tmp/`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "gradient"
FULL_SIZES = [(1_000, 10), (1_000, 100), (10_000, 10), (10_000, 100), (100_000, 10), (100_000, 100),
              (1_000_000, 10), (1_000_000, 100)]
QUICK_SIZES = [(10_000, 10), (10_000, 100), (100_000, 100)]
# A GPU also gets N = 1e7: the GPU goal is read where X is large enough to keep the
# device busy (N * D * itemsize >= 1e9 bytes), and the small sizes give the crossover.
GPU_EXTRA_SIZES = [(10_000_000, 10), (10_000_000, 100)]
HEADLINE = (1_000_000, 100)
# At one size (the headline; N = 1e5 with --quick) the prefetched blocked gradient
# is also timed with other block sizes, in the same rounds: it shows what the
# fixed cost of each block (a handful of torch/NumPy calls, dispatched under
# Python's GIL) does to the bandwidth as blocks shrink.
SWEEP_KIB = (256, 512, 2048)
SWEEP_PREFIX = "blocked+prefetch, block "
GOAL_CPU_READ = 0.75  # best CPU gradient >= 75 % of the read bandwidth measured with it (issue 15)
GOAL_GPU_COPY = 0.70  # GPU gradient >= 70 % of the device copy bandwidth ...
GOAL_GPU_MIN_BYTES = 1e9  # ... where N * D * itemsize >= 1e9
DTYPES = ("float64", "float32")
FAMILIES = ("numpy", "torch-cpu", "torch-cuda")
NOISY = 0.10  # IQR / median above this flags a row


# ---------------------------------------------------------------------------
# worker side (runs in a fresh subprocess, one library family)
# ---------------------------------------------------------------------------


def _time_interleaved(fns, *, warmup, repeats, sync):
    """Time several functions round-robin; return {name: Timing}."""
    from mathcore.bench import Timing

    for _ in range(warmup):
        for fn in fns.values():
            fn()
    sync()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            samples[name].append(time.perf_counter() - start)
    return {name: Timing.from_samples(s) for name, s in samples.items()}


def _variants(family, X, w, t):
    """The functions to compare for one family, on data already in place."""
    from mathcore.bench.gradients import grad_blocked, grad_numpy, grad_torch

    if family == "numpy":
        return {
            "one-liner": lambda: grad_numpy(X, w, t),
            "blocked": lambda: grad_blocked(X, w, t, prefetch=False),
            "blocked+prefetch": lambda: grad_blocked(X, w, t, prefetch=True),
        }
    if family == "torch-cpu":
        from mathcore import optim

        # the pass the fit makes: the fused numba kernel when numba is installed (loss included),
        # scaled back from the mean to the summed gradient
        objective = optim.LogisticObjective(X, t, fit_intercept=False)
        variants = {
            "one-liner": lambda: grad_torch(X, w, t),
            "blocked": lambda: grad_blocked(X, w, t, prefetch=False),
            "blocked+prefetch": lambda: grad_blocked(X, w, t, prefetch=True),
            FIT_PASS: lambda: objective.value_grad(w)[1] * X.shape[0],
        }
        return variants
    from mathcore import optim

    # on a GPU the fit's pass is the Triton kernel (mathcore.optim._triton) where Triton is installed
    objective = optim.LogisticObjective(X, t, fit_intercept=False)
    return {"one-liner": lambda: grad_torch(X, w, t), FIT_PASS: lambda: objective.value_grad(w)[1] * X.shape[0]}


PROBE = "read probe"
FIT_PASS = "fit's pass (fused kernel)"
DOTS = "dot products only"
DOTS_BLOCK_BYTES = 256 * 2**10  # the fused kernel's block size (mathcore.optim._fused.BLOCK_BYTES)


def _dots_only(X, w):
    """``z = X w`` over blocks of rows on the fit's worker threads, compiled by numba; None without numba.

    The fit's pass minus its work per row (exponential, division, loss terms) and its update
    ``g += r_i x_i``: every byte of ``X`` read once, one multiply-add each. Timed at one size, in
    the same rounds as the fit's pass, it shows how much of the pass's time that work adds.
    The returned function returns ``z`` (the worker checks it against ``X @ w``).
    """
    try:
        import numba
    except ImportError:
        return None
    import numpy as np

    from mathcore.optim.workers import map_ranges, pass_threads

    @numba.njit(nogil=True, fastmath={"reassoc", "contract"})
    def kernel(X, w, z, zero, block, first, last):
        n, d = X.shape
        for i in range(first * block, min(n, last * block)):
            acc = zero  # in X's dtype, as the fit's float32 kernel sums
            for j in range(d):
                acc += X[i, j] * w[j]
            z[i] = acc

    Xn, wn = X.numpy(), w.numpy()
    z = np.empty(Xn.shape[0], Xn.dtype)
    block = max(64, DOTS_BLOCK_BYTES // (Xn.shape[1] * Xn.itemsize))
    n_blocks = -(-Xn.shape[0] // block)
    zero = Xn.dtype.type(0)

    def run():
        map_ranges(lambda lo, hi: kernel(Xn, wn, z, zero, block, lo, hi), n_blocks, pass_threads())
        return z

    return run


def _read_probe(family, spec, dev):
    """A plain full-array reduction, timed in the same rounds as the gradients.

    Its bandwidth is the family's achievable read bandwidth *at that moment*,
    so "% of in-round read" is a ratio of two numbers measured interleaved,
    immune to slow drifts of a shared machine. NumPy's sum is single-threaded,
    so for NumPy one Python thread per core sums its own slice (numpy releases
    the GIL); torch.sum uses torch's own threads; on a GPU, torch.sum on the device.
    """
    import threading

    import numpy as np
    import torch

    if family == "numpy":
        a = np.ones(spec["cpu_nbytes"] // 8)
        k = max(1, os.cpu_count() or 1)
        parts = np.array_split(a, k)

        def probe():
            out = [None] * k
            ths = [threading.Thread(target=lambda i=i: out.__setitem__(i, parts[i].sum())) for i in range(1, k)]
            for th in ths:
                th.start()
            out[0] = parts[0].sum()
            for th in ths:
                th.join()
            return out

        return probe, a.nbytes
    nbytes = spec["gpu_nbytes"] if family == "torch-cuda" else spec["cpu_nbytes"]
    a = torch.ones(nbytes // 8, dtype=torch.float64, device=dev)
    return a.sum, a.numel() * 8


def _rel_err(g, ref):
    import numpy as np

    g = g.detach().cpu().numpy() if hasattr(g, "detach") else g
    ref = ref.detach().cpu().numpy() if hasattr(ref, "detach") else ref
    return float(np.max(np.abs(g.astype(np.float64) - ref)) / np.max(np.abs(ref)))


def worker(family, spec):
    """Measure one family; return a JSON-ready dict."""
    import numpy as np
    import torch

    from mathcore import bench
    from mathcore.bench.gradients import (
        blas_threads,
        default_block_rows,
        grad_blocked,
        grad_numpy,
        grad_torch,
    )

    out = {"family": family, "load_start": os.getloadavg()[0], "ceilings": [], "rows": []}
    dev = torch.device("cuda") if family == "torch-cuda" else None
    sync = (lambda: torch.cuda.synchronize(dev)) if dev is not None else (lambda: None)
    if family == "torch-cuda":
        out["ceilings"].append(bench.measure_bandwidth("cuda", spec["gpu_nbytes"], repeats=21))
    out["threads"] = torch.get_num_threads() if family != "numpy" else blas_threads()
    read_probe, probe_bytes = _read_probe(family, spec, dev)
    out["probe_bytes"] = probe_bytes

    sizes = spec["sizes"] + (spec["gpu_extra_sizes"] if family == "torch-cuda" else [])
    for dtype in DTYPES:
        for N, D in sizes:
            X, w, t = bench.make_problem(N, D, dtype, seed=0)
            if family == "numpy":
                ref = grad_numpy(*(a.astype(np.float64) for a in (X, w, t)))
                data = (X, w, t)
            else:
                Xt, wt, tt = (torch.from_numpy(a) for a in (X, w, t))
                ref = grad_torch(*(a.double() for a in (Xt, wt, tt)))
                data = (Xt, wt, tt)
            transfer = None
            if family == "torch-cuda":
                transfer = bench.time_function(
                    lambda Xt=Xt, tt=tt: (Xt.to(dev), tt.to(dev)), device=dev, repeats=9
                )
                data = tuple(a.to(dev) for a in data)
            fns = _variants(family, *data)
            if family == "torch-cpu" and [N, D] == list(spec["sweep_size"]):
                dots = _dots_only(*data[:2])
                if dots is not None:
                    fns[DOTS] = dots
            if family != "torch-cuda" and [N, D] == list(spec["sweep_size"]):
                itemsize = np.dtype(dtype).itemsize
                for kib in SWEEP_KIB:
                    rows = kib * 1024 // (D * itemsize)
                    fns[f"{SWEEP_PREFIX}{kib}"] = (
                        lambda rows=rows, data=data: grad_blocked(*data, block_rows=rows, prefetch=True))
            first = bench.time_function(fns["one-liner"], warmup=1, repeats=3, device=dev).median
            repeats = max(spec["repeats"], 21 if first < 0.01 else 9)
            fns[PROBE] = read_probe
            timings = _time_interleaved(fns, warmup=2, repeats=repeats, sync=sync)
            for attempt in range(2):  # one rerun if a row is noisy
                if all(tm.iqr / tm.median <= NOISY for tm in timings.values()) or attempt == 1:
                    break
                retry = _time_interleaved(fns, warmup=1, repeats=repeats, sync=sync)
                timings = {k: min(timings[k], retry[k], key=lambda tm: tm.iqr / tm.median) for k in timings}
            nbytes = bench.cost_model(N, D, dtype)["compulsory_bytes"]
            probe_gbps = probe_bytes / timings[PROBE].median / 1e9
            for variant, fn in fns.items():
                if variant == PROBE:
                    continue
                tm = timings[variant]
                if variant == DOTS:  # a probe, not a gradient: recorded apart from the rows
                    z_ref = data[0].double() @ data[1].double()
                    z_err = float((torch.from_numpy(fn()).double() - z_ref).abs().max() / z_ref.abs().max())
                    if z_err > (1e-12 if dtype == "float64" else 1e-5):  # a timing of wrong sums is no probe
                        raise RuntimeError(f"{DOTS}: z differs from X @ w by {z_err:.1e} (relative), {dtype}")
                    out.setdefault("dots_only", []).append({
                        "dtype": dtype, "N": N, "D": D, "timing": tm.as_dict(), "median_s": tm.median,
                        "compulsory_bytes": nbytes, "gbps": nbytes / tm.median / 1e9, "probe_read_gbps": probe_gbps,
                        "frac_read_inround": nbytes / tm.median / 1e9 / probe_gbps,
                        "fit_pass_median_s": timings[FIT_PASS].median if FIT_PASS in timings else None})
                    continue
                swept = variant.startswith(SWEEP_PREFIX)
                if swept or (variant == "blocked+prefetch" and [N, D] == list(spec["sweep_size"])):
                    out.setdefault("block_sweep", []).append({
                        "family": family, "dtype": dtype, "N": N, "D": D, "default": not swept,
                        # bench's default block: (1 << 20) // (D * itemsize) rows, nominally 1 MiB
                        "block_kib": int(variant[len(SWEEP_PREFIX):]) if swept else 1024, "timing": tm.as_dict(),
                        "median_s": tm.median, "gbps": nbytes / tm.median / 1e9,
                        "frac_read_inround": nbytes / tm.median / 1e9 / probe_gbps,
                        "rel_err_vs_float64": _rel_err(fn(), ref)})
                if swept:
                    continue
                out["rows"].append(
                    {
                        "family": family,
                        "variant": variant,
                        "N": N,
                        "D": D,
                        "dtype": dtype,
                        "compulsory_bytes": nbytes,
                        "timing": tm.as_dict(),
                        "median_s": tm.median,
                        "gbps": nbytes / tm.median / 1e9,
                        "probe_read_gbps": probe_gbps,
                        "probe_iqr_rel": timings[PROBE].iqr / timings[PROBE].median,
                        "frac_read_inround": nbytes / tm.median / 1e9 / probe_gbps,
                        "iqr_rel": tm.iqr / tm.median,
                        "rel_err_vs_float64": _rel_err(fn(), ref),
                        "transfer_s": transfer.median if transfer is not None else None,
                        "block_rows": default_block_rows(D, np.dtype(dtype).itemsize)
                        if variant.startswith("blocked")
                        else None,
                    }
                )
            del X, w, t, data, fns, ref
            if family == "torch-cuda":
                torch.cuda.empty_cache()
            print(f"  {family:10s} {dtype} N={N:>8} D={D:>3}: "
                  + ", ".join(f"{k} {v.median * 1e3:.3g} ms" for k, v in timings.items() if k != PROBE)
                  + f"; read probe {probe_gbps:.1f} GB/s", flush=True)

    if family == "torch-cuda":
        out["ceilings"].append(bench.measure_bandwidth("cuda", spec["gpu_nbytes"], repeats=21))
    out["load_end"] = os.getloadavg()[0]
    return out


def ceiling_worker(spec):
    from mathcore import bench

    return {"load": os.getloadavg()[0], **bench.measure_bandwidth("cpu", spec["cpu_nbytes"], repeats=21)}


# ---------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------


def _run(kind, spec, args, tmp):
    waited = common.wait_for_idle(args.wait_idle) if args.wait_idle > 0 else None
    result = Path(tmp) / f"{kind}.json"
    argv = [str(Path(__file__).resolve()), "--worker", kind, "--spec", json.dumps(spec), "--result", str(result)]
    out = common.run_worker(argv, threads=args.threads, timeout=args.timeout, result_path=result)
    out["waited_for_idle"] = waited
    return out


def _is_cpu(row):
    return row["family"] in ("numpy", "torch-cpu")


def _goal(goal_id, text, target, value, value_vs_run_ceiling, note):
    """One goal: ``met`` is None (not measured) when there is no value."""
    return {"id": goal_id, "goal": text, "target": target, "value": value,
            "value_vs_run_ceiling": value_vs_run_ceiling,
            "met": None if value is None else bool(value >= target), "note": note}


def evaluate_goals(rows, gpu_present):
    """The gradient goals, read against the rows of one run.

    * ``gradient-cpu-<dtype>``: the fastest CPU code path at N=1e6, D=100 reaches at
      least 75 % of the read bandwidth. The value is the fraction of the read probe
      timed in the same rounds (``frac_read_inround``: two numbers measured together);
      the fraction of the run's separate ceiling is given next to it
      (``value_vs_run_ceiling``), and is lower when the machine's bandwidth drifted up
      during the ceiling probes.
    * ``gradient-gpu-<dtype>``: at every size with N * D * itemsize >= 1e9, the fastest CUDA
      variant reaches at least 70 % of the device's copy bandwidth (the smallest such
      fraction is the value). Without a GPU: value None, ``met`` None ("not measured").
    """
    goals = []
    N, D = HEADLINE
    for dtype in DTYPES:
        cands = [r for r in rows if _is_cpu(r) and (r["N"], r["D"], r["dtype"]) == (N, D, dtype)]
        best = max(cands, key=lambda r: r["frac_read_inround"]) if cands else None
        goals.append(_goal(
            f"gradient-cpu-{dtype}",
            f"fastest CPU gradient, N=1e6, D=100, {dtype}: >= {GOAL_CPU_READ:.0%} of read bandwidth",
            GOAL_CPU_READ, best and best["frac_read_inround"], best and best["frac_read"],
            f"{best['family']} {best['variant']}: {best['gbps']:.1f} GB/s against a read probe of "
            f"{best['probe_read_gbps']:.1f} GB/s in the same rounds" if best else "not in this run"))
    for dtype in DTYPES:
        big = [r for r in rows if r["family"] == "torch-cuda" and r["dtype"] == dtype
               and r["N"] * r["D"] * (8 if dtype == "float64" else 4) >= GOAL_GPU_MIN_BYTES]
        fastest = [max((r for r in big if (r["N"], r["D"]) == size), key=lambda r: r["frac_copy"])
                   for size in sorted({(r["N"], r["D"]) for r in big})]  # the fastest variant at each size
        worst = min(fastest, key=lambda r: r["frac_copy"]) if fastest else None
        goals.append(_goal(
            f"gradient-gpu-{dtype}",
            f"GPU gradient, N*D*itemsize >= 1e9, {dtype}: >= {GOAL_GPU_COPY:.0%} of device copy bandwidth",
            GOAL_GPU_COPY, worst and worst["frac_copy"], None,
            f"smallest fraction at N={worst['N']:.0e}, D={worst['D']} ({worst['variant']})" if worst
            else "not measured: no CUDA device" if not gpu_present else "no row that large in this run"))
    return goals


def crossover(rows):
    """Where a GPU starts to beat the CPU, for each (D, dtype).

    For every size measured on both, compare the fastest GPU variant (data already on the
    device) with the fastest CPU code path, and again with the host-to-device copy of
    ``X`` and ``t`` added to the GPU time. ``n_star`` is the smallest N from which the
    GPU is faster at every larger measured N (None: never faster, or no GPU rows).
    """
    out = []
    keys = sorted({(r["D"], r["dtype"]) for r in rows if r["family"] == "torch-cuda"})
    for D, dtype in keys:
        sizes = sorted({r["N"] for r in rows if r["family"] == "torch-cuda" and (r["D"], r["dtype"]) == (D, dtype)})
        points = []
        for N in sizes:
            sel = [r for r in rows if (r["N"], r["D"], r["dtype"]) == (N, D, dtype)]
            cpu = [r for r in sel if _is_cpu(r)]
            gpu = min((r for r in sel if r["family"] == "torch-cuda"), key=lambda r: r["median_s"])
            if not cpu:
                continue
            best = min(cpu, key=lambda r: r["median_s"])
            points.append({"N": N, "cpu_s": best["median_s"], "cpu_path": f"{best['family']} {best['variant']}",
                           "gpu_s": gpu["median_s"], "gpu_path": gpu["variant"], "gpu_with_copy_s": gpu["median_s"] + (gpu["transfer_s"] or 0.0)})

        def first_win(key, points=points):
            n_star = None
            for p in reversed(points):
                if p[key] < p["cpu_s"]:
                    n_star = p["N"]
                else:
                    break
            return n_star

        out.append({"D": D, "dtype": dtype, "points": points, "n_star_resident": first_win("gpu_s"),
                    "n_star_with_copy": first_win("gpu_with_copy_s")})
    return out


def _fmt(x, digits=3):
    return None if x is None else float(f"{x:.{digits}g}")


def build_markdown(record):
    cpu = record["ceilings"]["cpu"]
    lines = [
        "Compulsory bytes = (N*D + N) * itemsize (X and t read once). "
        "% read / % copy = achieved GB/s as a fraction of the ceilings below, measured in the same run.",
        "",
        "## Ceilings",
        "",
        common.markdown_table(
            ["device", "probe", "array", "read GB/s", "copy GB/s", "read IQR/med", "copy IQR/med"],
            [
                [c["device"], c["when"], f"{c['nbytes'] // 2**20} MiB", _fmt(c["read_gbps"]), _fmt(c["copy_gbps"]),
                 _fmt(c["read_iqr_rel"], 2), _fmt(c["copy_iqr_rel"], 2)]
                for c in record["ceilings"]["all"]
            ],
        ),
        "",
        f"CPU ceiling used: read {cpu['read_gbps']:.1f} GB/s, copy {cpu['copy_gbps']:.1f} GB/s "
        f"(the larger medians of the before/after probes, {record['threads']} threads).",
    ]
    if record["ceilings"].get("cuda"):
        g = record["ceilings"]["cuda"]
        lines.append(f"CUDA ceiling used: read {g['read_gbps']:.0f} GB/s, copy {g['copy_gbps']:.0f} GB/s.")
    else:
        lines.append("CUDA: not measured (no CUDA device on this machine).")
    lines += [
        "",
        "Two read fractions are given. **% read (in-round)** divides by a read probe (a plain sum "
        f"over {record['probe_mib']} MiB with all cores) timed in the *same rounds* as the gradients, "
        "interleaved: a ratio of two numbers measured together, robust to the drifts of a shared VM. "
        "**% read (run)** divides by the run's ceiling above, the larger of two separate probes.",
        "",
        "## Headline: N=1e6, D=100",
        "",
    ]
    for dtype in DTYPES:
        best = [r for r in record["rows"] if r["N"] == 1_000_000 and r["D"] == 100 and r["dtype"] == dtype
                and r["family"] != "torch-cuda"]
        if best:
            b = max(best, key=lambda r: r["frac_read_inround"])
            naive = next(r for r in best if r["family"] == "torch-cpu" and r["variant"] == "one-liner")
            lines.append(
                f"- {dtype}, best CPU: {b['family']} {b['variant']} {b['median_s'] * 1e3:.1f} ms = "
                f"{b['frac_read_inround'] * 100:.0f} % of the in-round read bandwidth "
                f"({b['probe_read_gbps']:.1f} GB/s), {b['frac_read'] * 100:.0f} % of the run's ceiling; "
                f"torch one-liner: {naive['frac_read_inround'] * 100:.0f} % / {naive['frac_read'] * 100:.0f} %"
            )
        gpu = [r for r in record["rows"] if r["N"] == 1_000_000 and r["D"] == 100 and r["dtype"] == dtype
               and r["family"] == "torch-cuda"]
        for r in gpu:
            lines.append(
                f"- {dtype}, GPU one-liner: {r['median_s'] * 1e3:.3f} ms = {r['frac_read_inround'] * 100:.0f} % "
                f"of in-round read, {r['frac_copy'] * 100:.0f} % of copy bandwidth; "
                f"host-to-device copy of X and t: {r['transfer_s'] * 1e3:.1f} ms"
            )
    if not any(r["N"] == 1_000_000 for r in record["rows"]):
        lines.append("- not in this run (--quick)")
    disturbed = [w["family"] for w in record["workers"] if (w.get("foreign_cores") or 0) > 0.1]
    if disturbed:
        lines.append(f"- **warning**: other processes used the CPUs during {', '.join(disturbed)} "
                     "(see Interference below); treat those timings as pessimistic.")
    lines += ["", "## Goals", ""]
    status = {True: "met", False: "**missed**", None: "not measured"}
    lines.append(common.markdown_table(
        ["goal", "measured", "vs run ceiling", "status", "note"],
        [[g["goal"], "–" if g["value"] is None else f"{g['value']:.0%}",
          "–" if g.get("value_vs_run_ceiling") is None else f"{g['value_vs_run_ceiling']:.0%}",
          status[g["met"]], g["note"]] for g in record.get("goals", [])]))
    if record.get("block_sweep"):
        lines += ["", "## Block size (blocked+prefetch)", "",
                  "The same gradient with other block sizes, timed in the same rounds (the default is marked):", ""]
        lines.append(common.markdown_table(
            ["family", "dtype", "N", "D", "block KiB", "median ms", "GB/s", "% read (in-round)", ""],
            [[b["family"], b["dtype"], f"{b['N']:.0e}".replace("+0", ""), b["D"], b["block_kib"],
              _fmt(b["median_s"] * 1e3), _fmt(b["gbps"]), round(100 * b["frac_read_inround"]),
              "default" if b.get("default") else ""] for b in record["block_sweep"]]))
    if record.get("dots_only"):
        lines += ["", "## The fit's pass without its work per row", "",
                  f"`{DOTS}`: z = X w only, in the fused kernel's blocks and threads, timed in the same "
                  "rounds as the fit's pass (torch-cpu worker):", ""]
        lines.append(common.markdown_table(
            ["dtype", "N", "D", "median ms", "% read (in-round)", "fit's pass ms"],
            [[d["dtype"], f"{d['N']:.0e}".replace("+0", ""), d["D"], _fmt(d["median_s"] * 1e3),
              round(100 * d["frac_read_inround"]), _fmt((d["fit_pass_median_s"] or float("nan")) * 1e3)]
             for d in record["dots_only"]]))
    lines += ["", "## CPU/GPU crossover", ""]
    if not record.get("crossover"):
        lines.append("Not measured (no CUDA device on this machine).")
    for c in record.get("crossover", []):
        lines.append(f"- D={c['D']}, {c['dtype']}: GPU faster from N = {c['n_star_resident'] or 'never'} "
                     f"(data on the GPU), from N = {c['n_star_with_copy'] or 'never'} (copy of X included)")
    lines += ["", "## All rows", ""]
    rows = []
    for r in record["rows"]:
        note = "noisy" if r["iqr_rel"] > NOISY else ""
        rows.append([
            r["family"], r["variant"], f"{r['N']:.0e}".replace("+0", ""), r["D"], r["dtype"],
            _fmt(r["median_s"] * 1e3), _fmt(r["timing"]["min"] * 1e3), _fmt(r["iqr_rel"], 2), r["timing"]["n"],
            _fmt(r["gbps"]), _fmt(r["probe_read_gbps"]), round(100 * r["frac_read_inround"]),
            round(100 * r["frac_read"]), round(100 * r["frac_copy"]),
            f"{r['rel_err_vs_float64']:.0e}", _fmt(r["transfer_s"] * 1e3 if r["transfer_s"] else None), note,
        ])
    lines.append(common.markdown_table(
        ["family", "variant", "N", "D", "dtype", "median ms", "min ms", "IQR/med", "n", "GB/s",
         "probe GB/s", "% read (in-round)", "% read (run)", "% copy (run)", "rel err", "H2D ms", "note"],
        rows))
    lines += ["", "## Interference", "",
              "Cores used by *other* processes while each worker ran (from /proc/stat); above ~0.1 the "
              "multi-threaded timings are disturbed, because a 2-thread kernel waits for its second thread.", ""]
    lines.append(common.markdown_table(
        ["worker", "foreign cores", "wall s", "load avg (1 min) start -> end"],
        [[w["family"], w.get("foreign_cores"), w.get("worker_wall_s"),
          f"{w['load_start']:.2f} -> {w['load_end']:.2f}" if w.get("load_end") is not None
          else f"{w['load_start']:.2f}"]
         for w in record["workers"]]))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_args(parser)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (default: all usable CPUs)")
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds, at least 9 (21 under 10 ms)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per worker")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each worker, wait up to this long for other processes to "
                        "use < 0.2 cores (default 0: do not wait)")
    parser.add_argument("--worker", choices=[*FAMILIES, "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # child process
        spec = json.loads(args.spec)
        res = ceiling_worker(spec) if args.worker == "ceiling" else worker(args.worker, spec)
        args.result.write_text(json.dumps(res))
        return 0

    import torch

    if args.threads is None:
        args.threads = common.machine_info()["usable_cpus"]
    spec = {
        "sizes": QUICK_SIZES if args.quick else FULL_SIZES,
        "repeats": max(9, args.repeats),
        "cpu_nbytes": (128 if args.quick else 512) * 2**20,
        "gpu_nbytes": (256 if args.quick else 1024) * 2**20,
        "gpu_extra_sizes": [] if args.quick else GPU_EXTRA_SIZES,
        "sweep_size": (100_000, 100) if args.quick else HEADLINE,
    }
    families = ["numpy", "torch-cpu"] + (["torch-cuda"] if torch.cuda.is_available() else [])
    meta = common.run_metadata({"threads_per_worker": args.threads, "quick": args.quick})
    out = common.out_dir(args)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"bench_gradient: CPU ceilings (before), {args.threads} threads", flush=True)
        before = _run("ceiling", spec, args, tmp)
        workers = []
        for fam in families:
            print(f"bench_gradient: {fam}", flush=True)
            workers.append(_run(fam, spec, args, tmp))
        print("bench_gradient: CPU ceilings (after)", flush=True)
        after = _run("ceiling", spec, args, tmp)

    before["when"], after["when"] = "before", "after"
    for c, fam in ((before, "ceiling (before)"), (after, "ceiling (after)")):
        c["family"], c["load_start"] = fam, c["load"]
    cpu = {k: max(before[k], after[k]) for k in ("read_gbps", "copy_gbps")}
    ceilings = {"cpu": cpu, "all": [before, after], "cuda": None}
    for w in workers:
        if w["family"] == "torch-cuda":
            for c, when in zip(w["ceilings"], ("start of CUDA worker", "end of CUDA worker"), strict=True):
                c["when"] = when
                ceilings["all"].append(c)
            ceilings["cuda"] = {k: max(c[k] for c in w["ceilings"]) for k in ("read_gbps", "copy_gbps")}
    rows = []
    for w in workers:
        ceil = ceilings["cuda"] if w["family"] == "torch-cuda" else cpu
        for r in w["rows"]:
            r["frac_read"] = r["gbps"] / ceil["read_gbps"]
            r["frac_copy"] = r["gbps"] / ceil["copy_gbps"]
            rows.append(r)
    record = {
        "meta": meta,
        "spec": spec,
        "threads": args.threads,
        "probe_mib": spec["cpu_nbytes"] // 2**20,
        "ceilings": ceilings,
        "workers": [
            {k: w.get(k) for k in ("family", "threads", "load_start", "load_end", "foreign_cores",
                                   "worker_wall_s", "waited_for_idle")}
            for w in [before, *workers, after]
        ],
        "rows": rows,
        "wall_s": time.perf_counter() - started,
    }
    record["block_sweep"] = sorted((b for w in workers for b in w.get("block_sweep", [])),
                                   key=lambda b: (b["family"], b["dtype"], b["block_kib"]))
    record["dots_only"] = [d for w in workers for d in w.get("dots_only", [])]
    record["goals"] = evaluate_goals(rows, gpu_present=any(w["family"] == "torch-cuda" for w in workers))
    record["crossover"] = crossover(rows)
    meta["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    paths = common.write_results(out, NAME, record, build_markdown(record),
                                 "Benchmark: one full-batch logistic gradient vs memory bandwidth")
    print(f"bench_gradient: {record['wall_s']:.0f} s; wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

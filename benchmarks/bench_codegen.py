"""Benchmark: SymPy-generated logistic-loss gradient vs hand-written, and derivation cost.

Two questions, answered side by side in one run:

1. **Is the generated gradient as fast as the hand-written one?**
   ``mathcore.symbolic.logistic_loss_gradient(lib)`` computes ``X.T @ f(X @ w, t)`` with
   ``f`` generated from the simplified ``dl/dz = sigmoid(z) - t``.  It is timed against the
   hand-written ``X.T @ (sigmoid(X @ w) - t)`` and against SymPy's stock ``lambdify`` of the
   same derivative (which prints ``-t + Sigmoid(z)``, one extra element-wise pass).
   N = 1e6 rows, D in {10, 100}, float64.  Goal: generated / hand-written <= 1.05.
2. **What does deriving cost as D grows?**  Per-weight (one symbol per weight, ``diff`` +
   ``simplify`` + ``lambdify`` of all D partials) against the vectorised recipe (derive
   ``dl/dz`` once for a scalar ``z``, check it, generate code), for D in {2, 5, 10, 20}.
   Each per-weight derivation runs in its own subprocess under a time cap.

Method:

* numpy and torch run in **separate subprocesses** (their thread pools fight otherwise);
* warm-up calls, then **interleaved** rounds (the order of the variants rotates every
  round), at least 9 rounds; medians, min, IQR and the median of per-round ratios;
* results: ``benchmarks/results/codegen.json`` (machine, versions, date, exact command)
  and ``benchmarks/results/codegen.md``.

Usage::

    python benchmarks/bench_codegen.py            # full run, a few minutes
    python benchmarks/bench_codegen.py --quick    # small N, under 30 s, writes to results/tmp/
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOAL = 1.05  # generated / hand-written
MAX_IQR = 0.10  # timing hygiene: IQR/median above this means "rerun"


# ---------------------------------------------------------------------------
# Timing helpers (used inside the workers)
# ---------------------------------------------------------------------------


def _summary(samples):
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    median = statistics.median(ordered)
    return {
        "median_ms": 1e3 * median,
        "min_ms": 1e3 * ordered[0],
        "q25_ms": 1e3 * q[0],
        "q75_ms": 1e3 * q[2],
        "iqr_over_median": (q[2] - q[0]) / median if median else None,
        "n": len(ordered),
    }


def _interleaved(variants, rounds, warmup=3):
    """Time callables in rotating order; return per-variant samples and per-round times."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    samples = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            variants[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


# ---------------------------------------------------------------------------
# Worker 1: gradient timing for one library
# ---------------------------------------------------------------------------


def gradient_worker(lib, n, dims, rounds_small, rounds_large, seed=0):
    import numpy as np
    import sympy as sp
    from scipy.special import expit
    from threadpoolctl import threadpool_info

    import mathcore.symbolic as ms

    z, t_sym = sp.symbols("z t", real=True)
    derivative = ms.dloss_dz("logistic").rhs  # Sigmoid(z) - t
    if lib == "torch":
        import torch

        sigmoid = torch.sigmoid
        stock = sp.lambdify((z, t_sym), derivative, modules=[{"Sigmoid": torch.sigmoid}])
        threads = {"torch.get_num_threads": torch.get_num_threads(), "torch": torch.__config__.parallel_info()}
    else:
        sigmoid = expit
        stock = sp.lambdify((z, t_sym), derivative, modules=[{"Sigmoid": expit}, "numpy"])
        threads = {"threadpoolctl": [
            {k: i.get(k) for k in ("internal_api", "num_threads", "version")} for i in threadpool_info()
        ]}
    generated = ms.logistic_loss_gradient(lib)
    import inspect

    sources = {
        "generated_elementwise": ms.to_numpy(derivative, [z, t_sym]).source.strip(),
        "stock_lambdify": inspect.getsource(stock).strip(),
    }

    rows = []
    for d in dims:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        w = rng.standard_normal(d) / np.sqrt(d)
        t = (rng.random(n) < expit(X @ w)).astype(np.float64)
        if lib == "torch":
            X, w, t = (torch.from_numpy(a) for a in (X, w, t))

        variants = {
            "hand-written": lambda X=X, w=w, t=t: X.T @ (sigmoid(X @ w) - t),
            "generated": lambda X=X, w=w, t=t: generated(X, w, t),
            "stock lambdify": lambda X=X, w=w, t=t: X.T @ stock(X @ w, t),
        }
        reference = variants["hand-written"]()
        errors = {}
        for name, f in variants.items():
            diff = f() - reference
            scale = float(abs(reference).max())
            errors[name] = float(abs(diff).max()) / scale
        rounds = rounds_small if d <= 10 else rounds_large
        samples = _interleaved(variants, rounds)
        hand = samples["hand-written"]
        row = {"lib": lib, "N": n, "D": d, "dtype": "float64", "rounds": rounds, "variants": {}}
        for name, values in samples.items():
            paired = [v / h for v, h in zip(values, hand, strict=True)]
            row["variants"][name] = {
                **_summary(values),
                "ratio_of_medians": statistics.median(values) / statistics.median(hand),
                "ratio_of_minimums": min(values) / min(hand),
                "median_paired_ratio": statistics.median(paired),
                "max_rel_diff_vs_hand": errors[name],
            }
        rows.append(row)
        del X, w, t, reference
    return {"rows": rows, "threads": threads, "sources": sources}


# ---------------------------------------------------------------------------
# Worker 2: derivation cost (per-weight or vectorised), one D per process
# ---------------------------------------------------------------------------


def derive_worker(mode, d, repeats):
    import sympy as sp
    from sympy.core.cache import clear_cache

    import mathcore.symbolic as ms
    from mathcore.symbolic import codegen

    records = []
    for _ in range(repeats):
        clear_cache()
        if mode == "per-weight":
            weights = sp.symbols(f"w_0:{d}", real=True)
            xs = sp.symbols(f"x_0:{d}", real=True)
            t = sp.Symbol("t", real=True)
            zsum = sp.Add(*[wi * xi for wi, xi in zip(weights, xs, strict=True)])
            loss = ms.softplus(zsum) - t * zsum
            t0 = time.perf_counter()
            gradient = [sp.diff(loss, wi) for wi in weights]
            t1 = time.perf_counter()
            simplified = [sp.simplify(g) for g in gradient]
            t2 = time.perf_counter()
            sp.lambdify([*weights, *xs, t], simplified, modules="numpy")
            t3 = time.perf_counter()
            records.append({
                "diff_s": t1 - t0, "simplify_s": t2 - t1, "lambdify_s": t3 - t2, "total_s": t3 - t0,
                "count_ops_raw": int(sum(sp.count_ops(g) for g in gradient)),
                "count_ops_simplified": int(sum(sp.count_ops(g) for g in simplified)),
            })
        else:
            codegen.dloss_dz.cache_clear()
            codegen.score_function.cache_clear()
            t0 = time.perf_counter()
            derivation = ms.dloss_dz("logistic")  # diff + simplify + verify
            t1 = time.perf_counter()
            ms.logistic_loss_gradient("numpy")  # code generation
            t2 = time.perf_counter()
            records.append({
                "derive_and_verify_s": t1 - t0, "generate_s": t2 - t1, "total_s": t2 - t0,
                "count_ops_simplified": int(sp.count_ops(derivation.rhs)),
            })
    totals = [r["total_s"] for r in records]
    return {"mode": mode, "D": d, "repeats": repeats, "median_total_s": statistics.median(totals),
            "records": records}


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def _run_worker(args, timeout):
    command = [sys.executable, str(Path(__file__).resolve()), *map(str, args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    if done.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine():
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")
        )
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0]
        info["memory"] = meminfo.split(":", 1)[1].strip()
        info["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, StopIteration):
        pass
    return info


def _versions():
    out = {}
    for package in ("numpy", "scipy", "torch", "sympy", "mathcore", "threadpoolctl"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def _fmt_ms(value):
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def _markdown(report):
    lines = [
        "# Code generation benchmark (`benchmarks/bench_codegen.py`)",
        "",
        f"- date: {report['date']}",
        f"- command: `{report['command']}`",
        f"- machine: {report['machine'].get('cpu_model', '?')}, {report['machine']['cpu_count']} CPUs, "
        f"{report['machine'].get('memory', '?')}; load average at start "
        f"{' '.join(report['machine'].get('loadavg_at_start', []))}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
        f"- mode: {'quick' if report['quick'] else 'full'}; numpy and torch in separate subprocesses; "
        "interleaved rounds after warm-up; times are medians",
        "",
        "## 1. Gradient of the logistic loss: generated vs hand-written",
        "",
        f"Goal: generated / hand-written <= {GOAL} (ratio of medians, same process, interleaved). "
        f"Timing hygiene: IQR/median <= {MAX_IQR} for both, else the row is marked for a rerun "
        "(other processes were competing for the cores).",
        "`stock lambdify` is SymPy's `lambdify` of the same derivative, which prints `-t + Sigmoid(z)`. "
        "The paired median ratio is the median over rounds of (variant time / hand-written time in the same "
        "round); with the ratio of minimums it is the more robust estimate when the machine is busy.",
        "",
        "| library | N | D | rounds | hand-written | generated | generated / hand | paired median ratio "
        "| ratio of minimums | stock lambdify / hand | IQR/median (hand, gen) | goal | timing hygiene |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for lib in ("numpy", "torch"):
        for row in report["gradient"][lib]["rows"]:
            v = row["variants"]
            hand, gen, stock = v["hand-written"], v["generated"], v["stock lambdify"]
            ok = "PASS" if gen["ratio_of_medians"] <= GOAL else "not yet"
            noisy = max(hand["iqr_over_median"], gen["iqr_over_median"]) > MAX_IQR
            lines.append(
                f"| {lib} | {row['N']:.0e} | {row['D']} | {row['rounds']} | {_fmt_ms(hand['median_ms'])} "
                f"| {_fmt_ms(gen['median_ms'])} | {gen['ratio_of_medians']:.3f} | {gen['median_paired_ratio']:.3f} "
                f"| {gen['ratio_of_minimums']:.3f} "
                f"| {stock['ratio_of_medians']:.3f} | {hand['iqr_over_median']:.2f}, {gen['iqr_over_median']:.2f} "
                f"| {ok} | {'noisy: rerun' if noisy else 'ok'} |"
            )
    lines += [
        "",
        "Generated element-wise function (same source for both libraries):",
        "",
        "```python",
        report["gradient"]["numpy"]["sources"]["generated_elementwise"],
        "```",
        "",
        "## 2. Cost of deriving the gradient as D grows",
        "",
        "Per-weight: `diff` of the one-sample loss by each of D weight symbols, `simplify`, `lambdify`. "
        "Vectorised: derive `dl/dz` once for a scalar z (diff + simplify + equivalence check), then generate "
        f"`X.T @ f(X @ w, t)`. Each per-weight run is capped at {report['derive_cap_s']} s.",
        "",
        "| D | per-weight total | diff | simplify | lambdify | count_ops raw -> simplified "
        "| vectorised total | per-weight / vectorised |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in report["derive"]:
        vec = entry["vectorised"]
        per = entry["per_weight"]
        if "timeout_s" in per:
            lines.append(f"| {entry['D']} | timeout (> {per['timeout_s']} s) | | | | | "
                         f"{1e3 * vec['median_total_s']:.0f} ms | > {per['timeout_s'] / vec['median_total_s']:.0f} |")
            continue
        r = min(per["records"], key=lambda rec: rec["total_s"])
        med = per["median_total_s"]
        lines.append(
            f"| {entry['D']} | {med:.2f} s | {r['diff_s']:.3f} s | {r['simplify_s']:.2f} s | {r['lambdify_s']:.3f} s "
            f"| {r['count_ops_raw']} -> {r['count_ops_simplified']} | {1e3 * vec['median_total_s']:.0f} ms "
            f"| {med / vec['median_total_s']:.1f} |"
        )
    lines += [
        "",
        "Notes: the per-weight table reports the median total and, for the breakdown, the fastest repeat. "
        "The vectorised derivation does not depend on D. Absolute times on a shared VM vary between "
        "processes; the ratios in section 1 are measured within one process.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N and D (under 30 s); writes to results/tmp/")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: benchmarks/results)")
    parser.add_argument("--worker", choices=["numpy", "torch", "derive"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dims", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--mode", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker in ("numpy", "torch"):
        small, large = map(int, args.rounds.split(","))
        dims = [int(d) for d in args.dims.split(",")]
        print(json.dumps(gradient_worker(args.worker, args.n, dims, small, large)))
        return
    if args.worker == "derive":
        print(json.dumps(derive_worker(args.mode, int(args.dims), args.repeats)))
        return

    quick = args.quick
    out = args.out or (HERE / "results" / "tmp" if quick else HERE / "results")
    n = 20_000 if quick else 1_000_000
    rounds = "9,9" if quick else "41,21"  # D = 10, D = 100 (the whole run: under 15 min)
    derive_dims = (2, 5) if quick else (2, 5, 10, 20)
    cap = 20 if quick else 120
    started = time.perf_counter()

    report = {
        "benchmark": "bench_codegen",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", *sys.argv]),
        "cwd": os.getcwd(),
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "quick": quick,
        "machine": _machine(),
        "versions": _versions(),
        "goal_ratio": GOAL,
        "derive_cap_s": cap,
        "gradient": {},
        "derive": [],
    }
    for lib in ("numpy", "torch"):
        print(f"[bench_codegen] gradient, {lib}, N={n}", flush=True)
        report["gradient"][lib] = _run_worker(
            ["--worker", lib, "--n", n, "--dims", "10,100", "--rounds", rounds], timeout=1200
        )
    for d in derive_dims:
        print(f"[bench_codegen] derivation cost, D={d}", flush=True)
        repeats = 1 if (quick or d > 10) else 3
        per_weight = _run_worker(["--worker", "derive", "--mode", "per-weight", "--dims", d,
                                  "--repeats", repeats], timeout=cap)
        vectorised = _run_worker(["--worker", "derive", "--mode", "vectorised", "--dims", d,
                                  "--repeats", 3 if quick else 5], timeout=cap)
        report["derive"].append({"D": d, "per_weight": per_weight, "vectorised": vectorised})
    report["wall_s"] = time.perf_counter() - started
    report["machine"]["loadavg_at_end"] = (
        Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None
    )

    out.mkdir(parents=True, exist_ok=True)
    (out / "codegen.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "codegen.md").write_text(_markdown(report))
    print(_markdown(report))
    print(f"[bench_codegen] wrote {out / 'codegen.json'} and {out / 'codegen.md'} in {report['wall_s']:.1f} s")


if __name__ == "__main__":
    main()

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
3. Medians of 21 fits under 10 ms, 7 under 1 s, 5 under 10 s and 3 from there on; min,
   quartiles and ``n`` are recorded.
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
   take half of the time budget and are far from the fastest). At N * D = 1e8
   scikit-learn's ``newton-cholesky`` (5-14 s a fit, 3-9 x its ``lbfgs``) and
   statsmodels (about 36 s a fit) are not run either: no goal reads them there,
   and they took a third of the run.
5. Peak memory of one fit: in a separate process (one thread per pool), glibc's ``mmap`` threshold is
   pinned (``mallopt``) so that freed arrays go back to the system, the
   kernel's peak-RSS mark is reset (``/proc/self/clear_refs``) just before the
   fit, and ``VmHWM - VmRSS`` after it is the peak increase; reported divided by
   the size of ``X`` (``peak / X`` counts ``X`` itself too). At the largest size
   a fresh process per measurement (``ru_maxrss`` delta, default malloc)
   cross-checks the headline numbers.

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
import json
import os
import shutil
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from fit_memory import memory_fresh_worker, memory_worker  # noqa: E402
from fit_report import build_markdown, evaluate_goals, summarise  # noqa: E402
from fit_setup import (  # noqa: E402
    BC,
    FULL_BATCHES,
    LARGE_N,
    LARGEST_ENTRIES,
    LIBLINEAR_C_UNPENALISED,
    NAME,
    QUICK_BATCHES,
    REF_GTOL,
    SINGLE_CONFIG_BELOW_S,
    SKLEARN_ALWAYS_ALL_CONFIGS,
    SKLEARN_SKIP_LARGE,
    SKLEARN_SKIP_LARGEST,
    TARGETS,
    TOLS,
    data_worker,
    problem_name,
)
from fit_timing import mathcore_worker, sklearn_worker, statsmodels_worker  # noqa: E402

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
    name = problem_name(p)
    paths = {"X64": str(Path(tmp) / f"{name}_X64.npy"), "t": str(Path(tmp) / f"{name}_t.npy")}
    if p == BC:
        return {"name": name, "kind": "breast_cancer", "lam": 1.0, "paths": paths}
    paths["X32"] = str(Path(tmp) / f"{name}_X32.npy")
    return {"name": name, "kind": "synthetic", "N": p[0], "D": p[1], "lam": 0.0, "paths": paths}


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
                     "skipped": [n for f in ("sklearn", "statsmodels") for n in fam[f]["problems"][i]["skipped"]],
                     "rows": rows}
                summarise(p)
                batch_problems.append(p)
            # peak memory of each timed fit (best configuration), in one separate process
            for s, p in zip(specs, batch_problems, strict=True):
                s["measure"] = [{"library": r["library"], "solver": r["solver"], "dtype": r["dtype"],
                                 "threads": r["threads"], "tol": r["tol"]}
                                for r in p["rows"] if r["target_met"] and r["best_config"]]
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
            "repeats": "21 fits under 10 ms, 7 under 1 s, 5 under 10 s, 3 from there on; 3 with --quick",
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
            "not_run_at_largest": {"N*D": LARGEST_ENTRIES,
                                   "solvers": [f"sklearn {s}" for s in SKLEARN_SKIP_LARGEST] + ["statsmodels newton"],
                                   "why": "5-14 s (newton-cholesky, 3-9x scikit-learn's lbfgs there) and about "
                                          "36 s (statsmodels) per fit at N=1e6, D=100 on 2 cores: the time budget; "
                                          "no goal reads them at that size"},
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

"""bench_fit's summary: ratios to the fastest scikit-learn fit, the goals (met or missed) and fit.md."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from fit_setup import BC  # noqa: E402


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
            lines.append(f"\nNot run at this size (time budget): {', '.join(p['skipped'])}.")
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

"""The benchmark scripts' bookkeeping, and the results committed from them.

No timing happens here (speed lives in ``benchmarks/``, run on demand): these tests
check that the goals are read correctly from a run's rows, that a GPU row is never
invented where no GPU was measured, and that every committed result says where,
when and how it was produced.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"


def _load_script(name):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def bg():
    return _load_script("bench_gradient")


def row(family, variant, N, D, dtype, seconds, *, probe_gbps=30.0, copy=None, transfer=None):
    nbytes = (N * D + N) * (8 if dtype == "float64" else 4)
    gbps = nbytes / seconds / 1e9
    return {"family": family, "variant": variant, "N": N, "D": D, "dtype": dtype, "median_s": seconds,
            "gbps": gbps, "probe_read_gbps": probe_gbps, "frac_read_inround": gbps / probe_gbps,
            "frac_read": gbps / (probe_gbps * 1.2), "frac_copy": copy if copy is not None else gbps / 25.0,
            "transfer_s": transfer}


def test_cpu_gradient_goal_is_read_from_the_fastest_path_at_the_headline_size(bg):
    bytes64 = (10**8 + 10**6) * 8
    rows = [
        row("numpy", "one-liner", 10**6, 100, "float64", bytes64 / 9e9),  # 30 % of 30 GB/s
        row("torch-cpu", "blocked+prefetch", 10**6, 100, "float64", bytes64 / 24e9),  # 80 %
        row("torch-cpu", "blocked+prefetch", 10**5, 100, "float64", 1e-9),  # another size: ignored
        row("torch-cpu", "one-liner", 10**6, 100, "float32", (10**8 + 10**6) * 4 / 12e9),  # 40 %
    ]
    goals = {g["id"]: g for g in bg.evaluate_goals(rows, gpu_present=False)}
    g64, g32 = goals["gradient-cpu-float64"], goals["gradient-cpu-float32"]
    assert g64["value"] == pytest.approx(0.80) and g64["met"] is True  # goal: 75 %
    assert "torch-cpu blocked+prefetch" in g64["note"]
    assert g64["value_vs_run_ceiling"] == pytest.approx(0.80 / 1.2)
    assert g32["value"] == pytest.approx(0.40) and g32["met"] is False


def test_gpu_goals_say_not_measured_without_a_gpu(bg):
    goals = {g["id"]: g for g in bg.evaluate_goals([], gpu_present=False)}
    for dtype in ("float64", "float32"):
        g = goals[f"gradient-gpu-{dtype}"]
        assert g["value"] is None and g["met"] is None
        assert "not measured" in g["note"]
    assert goals["gradient-cpu-float64"]["met"] is None  # no row at all: nothing is claimed


def test_gpu_goal_uses_the_worst_large_size_at_its_fastest_variant(bg):
    rows = [row("torch-cuda", "one-liner", 10**7, 100, "float64", 1e-3, copy=0.8),  # 8e9 bytes
            row("torch-cuda", "one-liner", 10**6, 100, "float64", 1e-3, copy=0.9),  # 8e8 bytes: too small
            row("torch-cuda", "one-liner", 10**7, 10, "float64", 1e-3, copy=0.65)]  # 8e8: too small too
    rows.append(row("torch-cuda", "one-liner", 2 * 10**7, 10, "float64", 1e-3, copy=0.6))  # 1.6e9: counts
    g = {g["id"]: g for g in bg.evaluate_goals(rows, gpu_present=True)}["gradient-gpu-float64"]
    assert g["value"] == pytest.approx(0.6) and g["met"] is False
    # each size is read from its fastest variant: the fused kernel lifts 2e7 x 10 to 0.75, 1e7 x 100 stays 0.8
    rows.append(row("torch-cuda", "fit's pass (fused kernel)", 2 * 10**7, 10, "float64", 1e-3, copy=0.75))
    rows.append(row("torch-cuda", "fit's pass (fused kernel)", 10**7, 100, "float64", 1e-3, copy=0.5))
    g = {g["id"]: g for g in bg.evaluate_goals(rows, gpu_present=True)}["gradient-gpu-float64"]
    assert g["value"] == pytest.approx(0.75) and g["met"] is True
    assert "fused kernel" in g["note"] and "N=2e+07, D=10" in g["note"]


def test_crossover_is_the_size_from_which_the_gpu_always_wins(bg):
    rows = []
    for N, cpu_s, gpu_s in [(10**3, 1e-5, 5e-5), (10**4, 1e-4, 5e-5), (10**5, 1e-3, 6e-5), (10**6, 1e-2, 1e-4)]:
        rows.append(row("numpy", "one-liner", N, 10, "float64", cpu_s))
        rows.append(row("torch-cpu", "one-liner", N, 10, "float64", cpu_s * 2))
        rows.append(row("torch-cuda", "one-liner", N, 10, "float64", gpu_s, transfer=N * 1e-8))
    rows.append(row("torch-cuda", "one-liner", 10**7, 10, "float64", 1e-3, transfer=0.1))  # no CPU row
    # a second GPU variant, faster only at 1e3: the comparison takes the faster GPU variant at each size
    for N, gpu_s in [(10**3, 2e-6), (10**4, 9e-5), (10**5, 9e-5), (10**6, 2e-4)]:
        rows.append(row("torch-cuda", "fit's pass (fused kernel)", N, 10, "float64", gpu_s, transfer=N * 1e-8))
    (c,) = bg.crossover(rows)
    assert [p["gpu_path"] for p in c["points"]] == ["fit's pass (fused kernel)"] + ["one-liner"] * 3
    assert c["points"][0]["gpu_s"] == 2e-6
    assert (c["D"], c["dtype"]) == (10, "float64")
    assert [p["N"] for p in c["points"]] == [10**3, 10**4, 10**5, 10**6]
    assert all(p["cpu_path"] == "numpy one-liner" for p in c["points"])
    assert c["n_star_resident"] == 10**3  # the fused variant's 2e-6 s beats the CPU's 1e-5 s at 1e3
    # with the copy: 1e3 -> 2e-6 + 1e-5 > 1e-5 (CPU wins); 1e4 -> 5e-5 + 1e-4 > 1e-4; 1e5 -> 6e-5 + 1e-3 > 1e-3; 1e6 -> 1e-4 + 1e-2 > 1e-2
    assert c["n_star_with_copy"] is None


def test_no_crossover_without_gpu_rows(bg):
    assert bg.crossover([row("numpy", "one-liner", 10**4, 10, "float64", 1e-4)]) == []


# ---------------------------------------------------------------------------
# the committed results
# ---------------------------------------------------------------------------

COMMITTED = ["fit", "gradient", "codegen", "small"]


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_result_says_where_when_and_how(name):
    path = RESULTS / f"{name}.json"
    assert path.exists(), f"{path} is not committed: run `make bench`"
    rec = json.loads(path.read_text())
    assert (RESULTS / f"{name}.md").exists(), f"{name}.md (the summary) is missing next to {name}.json"
    if "meta" in rec:
        meta = rec["meta"]
        date, command, machine, versions = meta["date_utc"], meta["command"], meta["machine"], meta["versions"]
        assert machine["usable_cpus"] >= 1 and machine["cpu"]
        assert "gpus" in machine
    else:  # bench_codegen's own layout
        date, command, machine, versions = rec["date"], rec["command"], rec["machine"], rec["versions"]
        assert machine["cpu_count"] >= 1
    assert date[:2] == "20" and "bench_" in command
    assert versions.get("torch") and versions.get("numpy")
    assert not rec.get("quick") and not (rec.get("meta") or {}).get("quick"), f"{name}.json is a --quick run"


def test_committed_gpu_rows_only_where_a_gpu_was_there():
    rec = json.loads((RESULTS / "gradient.json").read_text())
    cuda_rows = [r for r in rec["rows"] if r["family"] == "torch-cuda"]
    gpu_goals = [g for g in rec["goals"] if g["id"].startswith("gradient-gpu")]
    assert len(gpu_goals) == 2  # one per dtype, measured or not
    if cuda_rows:  # GPU numbers need a GPU on the machine and its own measured ceilings
        assert rec["meta"]["machine"]["gpus"] and rec["ceilings"]["cuda"] is not None
        assert rec["crossover"]
    else:  # no GPU number is presented: the goals say "not measured"
        assert rec["ceilings"]["cuda"] is None and not rec["crossover"]
        assert all(g["met"] is None and g["value"] is None for g in gpu_goals)


def test_committed_fit_times_reached_the_target():
    """A solver is timed only if it reached f - f* within the target: nothing is timed that did not get there."""
    rec = json.loads((RESULTS / "fit.json").read_text())
    timed = 0
    for p in rec["problems"]:
        for r in p["rows"]:
            if r["median_s"] is not None:
                timed += 1
                target = 1e-8 if r["dtype"] == "float64" else 1e-6
                assert r["target_met"] and r["gap"] is not None and r["gap"] <= target, (p["name"], r["solver"])
    assert timed > 0


def test_committed_block_sweep_has_the_default_block_for_each_cpu_family():
    rec = json.loads((RESULTS / "gradient.json").read_text())
    sweep = rec["block_sweep"]
    combos = {(b["family"], b["dtype"]) for b in sweep}
    assert combos == {(f, d) for f in ("numpy", "torch-cpu") for d in ("float64", "float32")}
    for family, dtype in combos:
        sizes = sorted(b["block_kib"] for b in sweep if (b["family"], b["dtype"]) == (family, dtype))
        defaults = [b for b in sweep if (b["family"], b["dtype"]) == (family, dtype) and b["default"]]
        assert sizes == sorted([1024, *_load_script("bench_gradient").SWEEP_KIB])
        assert len(defaults) == 1 and defaults[0]["block_kib"] == 1024
        # the default entry is the blocked+prefetch row of the same run
        row = next(r for r in rec["rows"] if (r["family"], r["dtype"], r["variant"], r["N"], r["D"])
                   == (family, dtype, "blocked+prefetch", defaults[0]["N"], defaults[0]["D"]))
        assert row["median_s"] == defaults[0]["median_s"]
    assert all(b["rel_err_vs_float64"] < (1e-12 if b["dtype"] == "float64" else 1e-4) for b in sweep)


def test_committed_dots_only_probe_sits_beside_the_fit_pass_of_its_rounds(bg):
    """z = X w alone is recorded at the headline size for both dtypes, apart from the gradient rows,
    with the fit's pass and the read probe of the same rounds."""
    rec = json.loads((RESULTS / "gradient.json").read_text())
    dots = rec["dots_only"]
    assert sorted(d["dtype"] for d in dots) == ["float32", "float64"]
    assert not [r for r in rec["rows"] if r["variant"] == bg.DOTS]  # never a candidate for the goal
    for d in dots:
        assert (d["N"], d["D"]) == bg.HEADLINE
        whole = next(r for r in rec["rows"] if (r["family"], r["variant"], r["dtype"], r["N"], r["D"])
                     == ("torch-cpu", bg.FIT_PASS, d["dtype"], d["N"], d["D"]))
        assert d["fit_pass_median_s"] == whole["median_s"] and d["probe_read_gbps"] == whole["probe_read_gbps"]
        assert d["compulsory_bytes"] == whole["compulsory_bytes"]
        assert abs(d["frac_read_inround"] - d["compulsory_bytes"] / d["median_s"] / 1e9 / d["probe_read_gbps"]) < 1e-12


def test_committed_gradient_goals_follow_from_the_committed_rows(bg):
    rec = json.loads((RESULTS / "gradient.json").read_text())
    gpu = any(r["family"] == "torch-cuda" for r in rec["rows"])
    assert bg.evaluate_goals(rec["rows"], gpu_present=gpu) == rec["goals"]
    assert bg.crossover(rec["rows"]) == rec["crossover"]

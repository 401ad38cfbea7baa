"""The GPU check: everything the course claims about GPUs, run on a machine with one (``make gpu-check``).

Two commands:

``python tools/gpu_check.py prepare`` (``make gpu-wheels``), here, with network:
    downloads into ``.whl/`` the wheels the GPU machine lacks (IPython, ipykernel, nbclient, nbformat
    and what they need, for CPython 3.12 on x86-64 Linux), leaving out what its image already has.

``python tools/gpu_check.py run --out DIR`` (``make gpu-check``), on the GPU machine, from the
repository's root, with ``PYTHONPATH`` holding the unpacked wheels and the repository (mathcore is
imported from the working tree)::

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \\
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD && \\
        python3 tools/gpu_check.py run --out $OUT

It runs, each step with its own time limit, and writes at most eight files into DIR:

1. ``environment``: Python, torch, CUDA, the device (``summary.json``);
2. ``pytest -m gpu``: CPU/GPU parity of losses and gradients, the fused Triton kernels against the
   reference path, device handling (``pytest-gpu.txt``);
3. Chapter 8 and the Performance page re-executed (the two executed notebooks);
4. ``benchmarks/bench_gradient.py`` at full size: the torch-cuda rows up to N = 1e7 (the one-liner and
   the fit's pass, which there is the Triton kernel), the GPU
   bandwidth goal and the CPU/GPU crossover (``gradient.json``, ``gradient.md``).

Without CUDA (a rehearsal on a CPU-only machine) steps 2 and 4 say "skipped: no CUDA device" in the
summary; step 4 then runs the benchmark with ``--quick`` to check its plumbing, and step 3 still runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / ".whl"
NOTEBOOKS = ["book/ch08_vectorisation_and_gpu.ipynb", "book/performance.ipynb"]
# What the chapters and tests need beyond the GPU image (see the device tool's KINDS.md).
NEEDED = ["ipython", "ipykernel", "nbclient", "nbformat"]
# Distributions the GPU image already has: never carried, so that one version of each is imported.
IMAGE_HAS = {
    "anyio", "attrs", "certifi", "contourpy", "cycler", "filelock", "fonttools", "fsspec", "jinja2",
    "joblib", "kiwisolver", "markupsafe", "matplotlib", "mpmath", "networkx", "numpy", "packaging",
    "pandas", "patsy", "pillow", "pluggy", "psutil", "pygments", "pyparsing", "pytest", "python-dateutil",
    "pyyaml", "scikit-learn", "scipy", "six", "statsmodels", "sympy", "threadpoolctl", "torch", "tqdm",
    "triton", "typing-extensions", "tzdata", "pytz", "iniconfig", "execnet", "pytest-xdist", "hypothesis",
    "sortedcontainers", "setuptools", "wheel", "pip", "numba", "llvmlite", "coverage",
}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]


def distribution_name(wheel: Path) -> str:
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def prepare() -> int:
    shutil.rmtree(WHEELS, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version", "3.12",
           "--implementation", "cp", "--abi", "cp312", "--abi", "abi3", "--abi", "none",
           *[arg for p in PLATFORMS for arg in ("--platform", p)], "-d", str(WHEELS), *NEEDED]
    subprocess.run(cmd, check=True)
    for wheel in WHEELS.glob("*.whl"):
        if distribution_name(wheel) in IMAGE_HAS:
            wheel.unlink()
    kept = sorted(WHEELS.glob("*.whl"))
    size = sum(w.stat().st_size for w in kept) / 2**20
    print(f"{len(kept)} wheels, {size:.1f} MiB in {WHEELS.relative_to(ROOT)}: "
          + ", ".join(distribution_name(w) for w in kept))
    return 0


def step(summary: dict, name: str, cmd: list[str], timeout: float, log: Path | None = None) -> bool:
    """Run one step, record its status and duration; True when it passed."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        status = "passed" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
        output = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        status, output = f"failed (over its {timeout:.0f} s limit)", str(exc.stdout or "")
    seconds = time.perf_counter() - start
    if log is not None:
        log.write_text(output)
    summary["steps"].append({"step": name, "status": status, "seconds": round(seconds, 1),
                             "tail": output[-1500:]})
    print(f"{name:28s} {status:32s} {seconds:7.1f} s", flush=True)
    return status == "passed"


def environment() -> dict:
    import torch

    env = {"python": platform.python_version(), "torch": torch.__version__,
           "cuda_available": torch.cuda.is_available(), "machine": platform.platform()}
    if env["cuda_available"]:
        env["device"] = torch.cuda.get_device_name(0)
        env["cuda"] = torch.version.cuda
    return env


def run(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    summary = {"environment": environment(), "steps": []}
    has_cuda = summary["environment"]["cuda_available"]
    print(f"gpu-check: {summary['environment']}", flush=True)

    if has_cuda:
        step(summary, "pytest -m gpu", [sys.executable, "-m", "pytest", "tests", "-m", "gpu", "-q",
                                        "-p", "no:cacheprovider"], 240, out / "pytest-gpu.txt")
    else:
        summary["steps"].append({"step": "pytest -m gpu", "status": "skipped: no CUDA device", "seconds": 0})
    for notebook in NOTEBOOKS:
        code = ("import sys, nbformat; from nbclient import NotebookClient; p = sys.argv[1]; "
                "nb = nbformat.read(p, as_version=4); "
                "NotebookClient(nb, timeout=300, kernel_name='python3', "
                "resources={'metadata': {'path': 'book'}}).execute(); "
                f"nbformat.write(nb, {str(out)!r} + '/' + p.split('/')[-1])")
        step(summary, f"execute {Path(notebook).name}", [sys.executable, "-c", code, notebook], 240)
    bench = [sys.executable, "benchmarks/bench_gradient.py", "--out", str(out)] + ([] if has_cuda else ["--quick"])
    step(summary, "bench_gradient" + ("" if has_cuda else " --quick (no CUDA: plumbing only)"), bench, 360)
    if not has_cuda:
        summary["steps"].append({"step": "GPU rows of bench_gradient", "status": "skipped: no CUDA device",
                                 "seconds": 0})
    summary["seconds"] = round(time.perf_counter() - start, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    failed = [s["step"] for s in summary["steps"] if s["status"].startswith("failed")]
    print(f"gpu-check: {summary['seconds']:.0f} s; {'FAILED: ' + ', '.join(failed) if failed else 'all steps passed or skipped'}")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="download the wheels the GPU machine lacks into .whl/")
    run_parser = sub.add_parser("run", help="run the check and write its files into --out")
    run_parser.add_argument("--out", type=Path, default=ROOT / "_build" / "gpu-check")
    args = parser.parse_args(argv)
    return prepare() if args.command == "prepare" else run(args.out.resolve())


if __name__ == "__main__":
    sys.exit(main())

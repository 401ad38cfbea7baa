"""Shared harness of the benchmark scripts in ``benchmarks/``.

Every ``bench_*.py`` script

* accepts ``--quick`` (a CI smoke run, under a minute) and ``--out DIR``
  (``add_common_args``);
* runs each library family (NumPy/OpenBLAS, PyTorch/OpenMP, ...) in its own
  subprocess, so their thread pools never compete (``run_worker``);
* writes ``<name>.json`` (the full record: machine, library versions, date,
  exact command, every sample) and ``<name>.md`` (a table for humans) with
  ``write_results``.

Results of full runs go to ``benchmarks/results/`` (committed); quick runs go to
``benchmarks/results/tmp/`` (ignored by git) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
QUICK_RESULTS = RESULTS / "tmp"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--quick`` and ``--out`` to a script's argument parser."""
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI smoke tests (< 60 s)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"directory for the JSON and Markdown results (default: {RESULTS.relative_to(REPO)}, "
        f"or {QUICK_RESULTS.relative_to(REPO)} with --quick)",
    )
    return parser


def out_dir(args) -> Path:
    """The output directory chosen by ``--out``/``--quick``, created if needed."""
    path = args.out if args.out is not None else (QUICK_RESULTS if args.quick else RESULTS)
    path.mkdir(parents=True, exist_ok=True)
    return path


def command_line() -> str:
    """The exact command that started this process, interpreter included."""
    argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return shlex.join(argv)


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info() -> dict:
    """CPU model, core count, memory, load, GPUs: what the numbers depend on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    mem_kb = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")),
        None,
    )
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "platform": platform.platform(),
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "memory_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "gpus": [],
    }
    try:
        import torch

        if torch.cuda.is_available():
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    return info


def library_versions() -> dict:
    """Python and library versions, and the native thread pools they loaded."""
    versions = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "torch", "sklearn", "mathcore", "threadpoolctl"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "?")
        except ImportError:
            versions[name] = None
    try:
        import torch

        versions["torch_cuda"] = torch.version.cuda
        versions["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info

        versions["thread_pools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "version", "num_threads")} for p in threadpool_info()
        ]
    except ImportError:
        pass
    return versions


def run_metadata(extra: dict | None = None) -> dict:
    """Date (UTC), exact command, working directory, thread variables, machine, versions."""
    meta = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command_line(),
        "cwd": os.getcwd(),
        "thread_env": {v: os.environ.get(v) for v in THREAD_VARS},
        "machine": machine_info(),
        "versions": library_versions(),
    }
    if extra:
        meta.update(extra)
    return meta


def thread_env(threads: int | None) -> dict:
    """A copy of the environment with every thread-pool variable set to ``threads``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    if threads is not None:
        for var in THREAD_VARS:
            env[var] = str(threads)
    return env


def _machine_busy_seconds() -> float | None:
    """CPU seconds spent busy by the whole machine since boot (Linux ``/proc/stat``)."""
    line = _read("/proc/stat").split("\n", 1)[0].split()
    if not line or line[0] != "cpu":
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in line[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """CPU seconds used by this process and its finished children."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def foreign_load(interval: float = 2.0) -> float | None:
    """Average number of cores used by *other* processes over the next ``interval`` seconds."""
    busy0, own0, t0 = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    if busy0 is None:
        return None
    time.sleep(interval)
    busy1, own1 = _machine_busy_seconds(), _own_cpu_seconds()
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / (time.perf_counter() - t0)


def wait_for_idle(max_wait: float, threshold: float = 0.2) -> dict:
    """Wait up to ``max_wait`` seconds until other processes use less than ``threshold`` cores.

    Returns ``{"waited_s": ..., "foreign_cores": ...}`` (the last reading).
    Benchmarks on a shared machine are only meaningful when nothing else runs;
    this does not guarantee it, it only avoids starting in the middle of a
    known burst.
    """
    start = time.perf_counter()
    load = foreign_load(1.0)
    while load is not None and load > threshold and time.perf_counter() - start < max_wait:
        load = foreign_load(2.0)
    return {"waited_s": round(time.perf_counter() - start, 1), "foreign_cores": load}


def run_worker(argv: list[str], *, threads: int | None, timeout: float, result_path: Path) -> object:
    """Run ``python argv...`` in a fresh process and return the JSON it wrote to ``result_path``.

    The child's output (progress messages) goes straight to this process's
    terminal; a non-zero exit raises ``RuntimeError``. If the returned JSON
    is a dict, ``"foreign_cores"`` is added: the average number of cores that
    *other* processes on the machine used while the worker ran (from
    ``/proc/stat``; ``None`` where unavailable). Above about 0.1 the timings
    were disturbed.
    """
    if result_path.exists():
        result_path.unlink()
    cmd = [sys.executable, *argv]
    sys.stdout.flush()
    busy0, own0, t0 = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, env=thread_env(threads), timeout=timeout)
    busy1, own1, wall = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed with exit code {proc.returncode}: {shlex.join(cmd)}")
    result = json.loads(result_path.read_text())
    if isinstance(result, dict):
        foreign = None if busy0 is None else max(0.0, (busy1 - busy0) - (own1 - own0)) / wall
        result["foreign_cores"] = None if foreign is None else round(foreign, 3)
        result["worker_wall_s"] = round(wall, 2)
    return result


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as indented JSON (keys in insertion order)."""
    path.write_text(json.dumps(obj, indent=1, allow_nan=False) + "\n")


def markdown_table(columns: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table; numbers are right-aligned."""

    def cell(x):
        return "–" if x is None else str(x)

    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) for i in range(len(columns))]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(cell(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def metadata_markdown(meta: dict) -> str:
    """A short bullet list describing the run (for the top of a results page)."""
    m, v = meta["machine"], meta["versions"]
    pools = ", ".join(f"{p['internal_api']} {p['version']} ({p['num_threads']} thr)" for p in v.get("thread_pools", []))
    lines = [
        f"- date (UTC): {meta['date_utc']}",
        f"- command: `{meta['command']}`",
        f"- machine: {m['cpu']}, {m['usable_cpus']} usable CPUs, {m['memory_gib']} GiB; "
        f"GPUs: {', '.join(m['gpus']) or 'none'}; load average at start {m['load_average_1_5_15']}",
        f"- versions: Python {v['python']}, numpy {v['numpy']}, scipy {v['scipy']}, torch {v['torch']}"
        f" (CUDA {v.get('torch_cuda')}), mathcore {v['mathcore']}; native pools in the parent: {pools or 'n/a'}",
    ]
    return "\n".join(lines)


def write_results(out: Path, name: str, record: dict, markdown_body: str, title: str) -> tuple[Path, Path]:
    """Write ``<out>/<name>.json`` and ``<out>/<name>.md``; return both paths."""
    json_path, md_path = out / f"{name}.json", out / f"{name}.md"
    write_json(json_path, record)
    md = f"# {title}\n\n{metadata_markdown(record['meta'])}\n\n{markdown_body.rstrip()}\n"
    md_path.write_text(md)
    return json_path, md_path

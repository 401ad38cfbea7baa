"""Run every ``benchmarks/bench_*.py`` script, each in its own subprocess.

Scripts are discovered by glob, so a new ``bench_<topic>.py`` is picked up
without editing this file. Each script must accept ``--quick`` and
``--out DIR`` (see ``common.add_common_args``).

Usage::

    python benchmarks/run_all.py                 # full runs -> benchmarks/results/
    python benchmarks/run_all.py --quick         # smoke runs -> benchmarks/results/tmp/
    python benchmarks/run_all.py --only gradient # scripts whose name contains "gradient"

The exit status is non-zero if any script fails; the others still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def discover(pattern: str | None = None) -> list[Path]:
    """All ``bench_*.py`` scripts next to this file, sorted by name."""
    scripts = sorted(common.HERE.glob("bench_*.py"))
    return [s for s in scripts if pattern is None or pattern in s.stem]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmarks/bench_*.py script.")
    common.add_common_args(parser)
    parser.add_argument("--only", default=None, help="run only scripts whose name contains this text")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per script")
    parser.add_argument("--list", action="store_true", help="list the scripts and exit")
    args = parser.parse_args(argv)

    scripts = discover(args.only)
    if args.list or not scripts:
        print("\n".join(str(s.relative_to(common.REPO)) for s in scripts) or "no bench_*.py scripts found")
        return 0 if scripts or args.list else 1
    out = common.out_dir(args)
    summary = []
    for script in scripts:
        cmd = [sys.executable, str(script), "--out", str(out)] + (["--quick"] if args.quick else [])
        print(f"run_all: {' '.join(cmd)}", flush=True)
        start = time.perf_counter()
        try:
            rc = subprocess.run(cmd, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        summary.append((script.name, rc, time.perf_counter() - start))
    print("\nrun_all summary:")
    for name, rc, seconds in summary:
        print(f"  {name:30s} {'ok' if rc == 0 else f'FAILED ({rc})':14s} {seconds:7.1f} s")
    print(f"results in {out}")
    return 0 if all(rc == 0 for _, rc, _ in summary) else 1


if __name__ == "__main__":
    sys.exit(main())

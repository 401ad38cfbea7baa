"""Re-execute the book's notebooks in place and store clean outputs (``make notebooks``).

* nbclient runs each notebook top to bottom in the project's interpreter, with single-threaded BLAS so the
  last printed digits do not depend on the machine's core count.
* Per-cell ``execution`` timestamps and other volatile metadata are dropped, so ``git diff`` shows only
  real changes.
* The wall time, device and library versions of each run are recorded in ``book/status.json`` and the
  status page ``book/status.md`` is regenerated from it.

Usage::

    python tools/run_notebooks.py                 # every notebook in book/
    python tools/run_notebooks.py book/ch01_*.ipynb
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
STATUS_JSON = BOOK / "status.json"
STATUS_MD = BOOK / "status.md"
LIBRARIES = ["mathcore-course", "numpy", "scipy", "sympy", "torch", "scikit-learn", "statsmodels", "matplotlib",
             "jupyter-book", "myst-nb", "nbval"]
DETERMINISTIC_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "PYTHONHASHSEED": "0", "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


def device_description() -> str:
    """The accelerator the notebooks could use, in words (CPU model when there is none)."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"CUDA: {torch.cuda.get_device_name(0)}"
    except ImportError:  # pragma: no cover - torch is a hard dependency of the course
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU only ({os.cpu_count()} cores, {cpu})"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def clean(nb) -> None:
    """Drop volatile metadata so that re-running a notebook gives a byte-identical file."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.setdefault("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    clean(nb)
    nbformat.write(nb, path)
    return elapsed


def write_status(records: dict) -> None:
    STATUS_JSON.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    lines = [
        "# Status of the notebooks",
        "",
        "Every chapter is a notebook committed with its outputs. `make notebooks` re-executes them and",
        "regenerates this page; `make test` then re-runs each one under nbval and fails if any stored",
        "output changed. The table shows the last refresh of each notebook.",
        "",
        "| notebook | execution time | device | refreshed (UTC) |",
        "|---|---:|---|---|",
    ]
    for name in sorted(records):
        r = records[name]
        lines.append(f"| [{name}]({Path(name).stem}.ipynb) | {r['seconds']:.1f} s | `{r['device']}` | {r['date']} |")
    lines += ["", "## Library versions of the last refresh", "", "| library | version |", "|---|---|"]
    latest = max(records.values(), key=lambda r: r["date"]) if records else {"versions": versions()}
    for lib, ver in latest["versions"].items():
        lines.append(f"| `{lib}` | {ver} |")  # names and data: nothing to translate
    lines.append("")
    STATUS_MD.write_text("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all in book/)")
    parser.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    os.environ.update(DETERMINISTIC_ENV)
    os.environ.pop("MPLBACKEND", None)  # an inherited Agg backend suppresses inline figures
    paths = args.notebooks or sorted(BOOK.glob("*.ipynb"))
    records = json.loads(STATUS_JSON.read_text()) if STATUS_JSON.exists() else {}
    device, libs = device_description(), versions()
    failed = []
    for path in paths:
        path = path.resolve()
        print(f"running {path.relative_to(ROOT)} ...", flush=True)
        try:
            seconds = run(path, args.timeout)
        except Exception as exc:  # report every failing notebook, then exit non-zero
            print(f"  FAILED: {type(exc).__name__}: {str(exc)[-2000:]}", file=sys.stderr)
            failed.append(path.name)
            continue
        print(f"  {seconds:.1f} s")
        records[path.name] = {"seconds": round(seconds, 1), "device": device, "versions": libs,
                              "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")}
    records = {k: v for k, v in records.items() if (BOOK / k).exists()}
    write_status(records)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

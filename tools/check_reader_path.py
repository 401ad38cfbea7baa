"""The reader's path, tested offline (``make reader-path``; part of ``make test``).

A reader opens a chapter in Colab or downloads it into a fresh Python environment. This script does the
same with nothing of the project's environment:

1. builds mathcore's wheel from the working tree;
2. creates a fresh virtual environment holding only what such a reader already has: a Jupyter kernel
   (ipykernel) and torch. torch is there first, as in Colab; here it is the machine's CPU build
   (``torch==2.13.0``) because any other torch release pip finds is a multi-GB CUDA build;
3. executes every notebook in ``book/`` top to bottom in that environment. The first cell (see
   ``tools/first_cell.py``) installs the wheel with its ``notebooks`` extra, ``MATHCORE_INSTALL``
   pointing at it; pip picks the newest versions ``pyproject.toml`` allows (no pins);
4. fails, naming the notebook and the cell, when a cell raises, when the first cell reinstalled torch,
   or when the set-up cell prints anything once everything is installed.

Outputs are not compared (library versions differ); the hidden assert cells run and must pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "_build" / "reader-path"
KERNEL = "mathcore-reader-path"
READER_HAS = ["ipykernel", "torch==2.13.0"]


def sh(*cmd: str | Path, **kwargs) -> None:
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def build_wheel() -> Path:
    dist = WORK / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, ROOT)
    (wheel,) = dist.glob("mathcore_course-*.whl")
    return wheel


def fresh_environment() -> Path:
    venv = WORK / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    sh(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    sh(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(python, "-m", "pip", "install", "--quiet", *READER_HAS)
    sh(python, "-m", "ipykernel", "install", "--prefix", venv, "--name", KERNEL)
    return python


def torch_install_stamp(python: Path) -> str:
    """Version and the install time of torch's metadata: a reinstall changes it."""
    code = ("import importlib.metadata as m, os; d = m.distribution('torch'); "
            "print(d.version, os.stat(d._path).st_mtime_ns)")
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def execute(path: Path, timeout: int) -> tuple[str | None, list[str]]:
    """Run a notebook top to bottom; return (the first failure, named by cell, or None; set-up output)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        failing = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), "?")
        return f"{path.relative_to(ROOT)} cell {failing}: {exc.ename}: {exc.evalue}", []
    setup = next(c for c in nb.cells if c.cell_type == "code")
    setup_output = [o.get("text", "") or str(o.get("data", "")) for o in setup.get("outputs", [])]
    return None, setup_output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in book/")
    parser.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep an existing environment (development)")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "book").glob("*.ipynb"))
    start = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel()
    python = WORK / "venv" / "bin" / "python"
    if not (args.reuse and python.exists()):
        python = fresh_environment()
    torch_before = torch_install_stamp(python)
    # Kernels inherit this process's environment; nothing of the project's may leak into them.
    os.environ.update({"JUPYTER_PATH": str(WORK / "venv" / "share" / "jupyter"),
                       "MATHCORE_INSTALL": f"mathcore-course[notebooks] @ {wheel.as_uri()}",
                       "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    for name in ("MPLBACKEND", "PYTHONPATH", "VIRTUAL_ENV"):
        os.environ.pop(name, None)
    print(f"reader's environment ready ({time.perf_counter() - start:.0f} s); running "
          f"{len(notebooks)} notebooks", flush=True)

    # The first notebook installs (as a reader's first chapter does); the rest then run two at a time.
    failures = []
    error, _ = execute(notebooks[0], args.timeout)
    failures += [error] if error else []
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda p: (p, *execute(p, args.timeout)), notebooks[1:]))
    for path, error, setup_output in results:
        if error:
            failures.append(error)
        elif any(text.strip() for text in setup_output):
            failures.append(f"{path.relative_to(ROOT)} cell 0: the set-up cell printed with everything "
                            f"installed: {setup_output}")
    torch_after = torch_install_stamp(python)
    if torch_after != torch_before:
        failures.append(f"the set-up cell replaced the reader's torch ({torch_before} -> {torch_after})")
    versions = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True,
                              text=True).stdout
    (WORK / "versions.txt").write_text(versions)
    print(f"reader path: {len(notebooks)} notebooks in {time.perf_counter() - start:.0f} s; versions in "
          f"{(WORK / 'versions.txt').relative_to(ROOT)}")
    for failure in failures:
        print("FAILED:", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

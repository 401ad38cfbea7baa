"""The unit tests at the floors of pyproject.toml (``make floors``).

Each ``name>=X`` among mathcore's dependencies and its ``notebooks`` extra becomes ``name==X`` in a
fresh virtual environment under ``_build/floors``; the test tools (pytest, xdist, hypothesis, ...)
are taken at the project's pins in ``requirements.txt``, since the floors are about what mathcore
needs. mathcore is installed from the working tree without its dependencies, and ``tests/`` runs there
(the checks of the notebooks and the book's Sphinx extension are left to ``make test``). torch is the exception: older releases on
PyPI are multi-GB CUDA builds, so it stays at the machine's CPU build, ``torch==2.13.0``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "_build" / "floors"
TORCH = "torch==2.13.0"


TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis", "pyyaml", "nbformat")  # what tests/ imports


def floors() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = []
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["notebooks"]]:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([\w.]+)", requirement).groups()
        pins.append(TORCH if name == "torch" else f"{name}=={floor}")
    pinned = (ROOT / "requirements.txt").read_text().splitlines()
    pins += [line for line in pinned if line.split("==")[0].lower() in TEST_TOOLS]
    return pins


def main() -> int:
    pins = floors()
    print("floors:", " ".join(pins), flush=True)
    venv = WORK / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools"], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *pins], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(ROOT)],
                   check=True, cwd=WORK)
    frozen = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    (WORK / "versions.txt").write_text(frozen)
    # Run from WORK so that the installed mathcore, not the working tree's, is the one imported.
    tests = subprocess.run([python, "-m", "pytest", str(ROOT / "tests"), "-q", "-p", "no:cacheprovider",
                            "-n", "2", "--dist", "loadfile", "--rootdir", str(ROOT),
                            "--ignore", str(ROOT / "tests" / "test_notebook_hygiene.py"),
                            "--ignore", str(ROOT / "tests" / "test_notebook_guard.py")], cwd=WORK)
    print(f"unit tests at the floors: {'passed' if tests.returncode == 0 else 'FAILED'}; versions in "
          f"{(WORK / 'versions.txt').relative_to(ROOT)}")
    return tests.returncode


if __name__ == "__main__":
    sys.exit(main())

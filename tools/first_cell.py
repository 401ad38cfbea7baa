"""The first code cell of every notebook: what makes a chapter run where a reader opens it.

In the project's environment it finds everything and does nothing (no output, so nbval compares an
empty output). In Colab, Binder or a fresh download it installs ``mathcore`` with its ``notebooks``
extra (the distribution is named ``mathcore-course``: ``mathcore`` on PyPI is
another project), pinning the torch that is already there so that Colab's CUDA build is never replaced.
``MATHCORE_INSTALL`` overrides what is installed (a pip requirement, e.g. a local wheel), which is how
``tools/check_reader_path.py`` tests this cell offline. What it installs by default is pinned to the
release tag named in _config.yml (``repository.branch``), the same ref the launch buttons open.

``python tools/first_cell.py`` writes the cell into every notebook in ``book/``;
``tests/test_notebook_hygiene.py`` checks that each notebook starts with exactly this cell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def release_ref() -> tuple[str, str]:
    """The repository and the git ref that readers' notebooks use: ``repository.url`` and
    ``repository.branch`` of _config.yml, the one setting behind the launch buttons (Binder, Colab) and
    this cell. At a release it names the release tag (``v`` + the version in pyproject.toml)."""
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return repository["url"], repository["branch"]


_URL, _REF = release_ref()
DEFAULT_SOURCE = f"mathcore-course[notebooks] @ git+{_URL}@{_REF}"

SOURCE = f'''\
# Set-up for Colab, Binder or a fresh download: installs the course's package and what the chapters
# import when they are missing. An installed torch is kept (pinned), never replaced; MATHCORE_INSTALL
# may name another source, e.g. a wheel. Where everything is installed, this cell does nothing.
import importlib.util, os
if not all(importlib.util.find_spec(name) for name in ("mathcore", "statsmodels", "IPython")):
    from importlib.metadata import PackageNotFoundError, version
    try:
        keep_torch = f"torch=={{version('torch')}}"
    except PackageNotFoundError:
        keep_torch = ""
    source = os.environ.get("MATHCORE_INSTALL", "{DEFAULT_SOURCE}")
    %pip install --quiet "{{source}}" {{keep_torch}}
    importlib.invalidate_caches()'''


def install_cell(nb) -> bool:
    """Make ``SOURCE`` the notebook's first code cell (it follows the title); True if it changed."""
    index = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), len(nb.cells))
    first = nb.cells[index] if index < len(nb.cells) else None
    if first is not None and first.source == SOURCE:
        return False
    if first is not None and "%pip install" in first.source:  # an older version of the cell
        first.source = SOURCE
    else:
        nb.cells.insert(index, nbformat.v4.new_code_cell(SOURCE))
    return True


def main(paths: list[str]) -> int:
    for path in paths or sorted(str(p) for p in (ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if install_cell(nb):
            nbformat.write(nb, path)
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

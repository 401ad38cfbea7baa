"""Sphinx extension: refuse to render a notebook whose stored outputs are not a successful run.

The book renders the outputs committed with each notebook (``execute_notebooks: off``); ``make test`` has
re-executed them under nbval first. This guard makes the strict build (``-W``) fail, naming the file and
the cell, when a notebook carries a stored error (outside cells tagged ``raises-exception``) or a code
cell that was never executed.
"""

from __future__ import annotations

import json
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def problems_in_notebook(path: Path) -> list[str]:
    """Return a description of every cell whose stored state is not a clean execution."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    code_index = 0
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        code_index += 1
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("execution_count") is None:
            problems.append(f"cell {index} (code cell {code_index}) was never executed")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and "raises-exception" not in tags:
                problems.append(
                    f"cell {index} (code cell {code_index}) stores an error: "
                    f"{output.get('ename')}: {output.get('evalue')}"
                )
    return problems


def check_notebook(app, docname, source):
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    for problem in problems_in_notebook(path):
        logger.warning(f"notebook error in {path.relative_to(app.srcdir)}: {problem}", location=docname)


def setup(app):
    app.connect("source-read", check_notebook)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""The book's Sphinx guard must flag stored errors and unexecuted cells (so the strict build fails)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

from notebook_guard import problems_in_notebook  # noqa: E402


def write(tmp_path, cells):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def code(count, outputs=(), tags=()):
    return {"cell_type": "code", "execution_count": count, "metadata": {"tags": list(tags)},
            "outputs": list(outputs), "source": "x"}


ERROR = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": []}


def test_clean_notebook_has_no_problems(tmp_path):
    assert problems_in_notebook(write(tmp_path, [code(1), code(2)])) == []


def test_stored_error_is_reported_with_cell(tmp_path):
    problems = problems_in_notebook(write(tmp_path, [code(1), code(2, [ERROR])]))
    assert len(problems) == 1
    assert "cell 1" in problems[0] and "ZeroDivisionError" in problems[0]


def test_tagged_error_is_allowed(tmp_path):
    assert problems_in_notebook(write(tmp_path, [code(1, [ERROR], ["raises-exception"])])) == []


def test_unexecuted_cell_is_reported(tmp_path):
    problems = problems_in_notebook(write(tmp_path, [code(1), code(None)]))
    assert problems == ["cell 1 (code cell 2) was never executed"]

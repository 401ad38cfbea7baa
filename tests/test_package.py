"""The package's front door: lazy re-exports resolve to the real objects, unknown names fail clearly."""

import subprocess
import sys

import pytest

import mathcore


@pytest.mark.parametrize("name, module", sorted(mathcore._EXPORTS.items()))
def test_reexport_is_the_real_object(name, module):
    import importlib

    assert getattr(mathcore, name) is getattr(importlib.import_module(f"mathcore.{module}"), name)


@pytest.mark.parametrize("name", mathcore._SUBMODULES)
def test_submodules_import(name):
    assert getattr(mathcore, name).__name__ == f"mathcore.{name}"


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        mathcore.nonexistent  # noqa: B018


def test_import_is_lazy():
    """import mathcore must not drag in SymPy or scikit-learn (distributed workers import it)."""
    code = "import sys, mathcore; print('sympy' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_every_subpackage_is_in_the_distribution():
    """The wheel must contain every package directory of mathcore (a missing one breaks every reader's install)."""
    import ast
    import re
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parents[1]
    text = (root / "pyproject.toml").read_text()
    assert "[tool.setuptools.packages.find]" in text
    include = ast.literal_eval(re.search(r"^include = (\[.*\])$", text, flags=re.M).group(1))
    packaged = set(find_packages(str(root), include=include))
    on_disk = {".".join(p.relative_to(root).parts[:-1]) for p in (root / "mathcore").rglob("__init__.py")}
    assert on_disk <= packaged, sorted(on_disk - packaged)

"""Every notebook in book/ is a test, so every notebook must be stored as a complete, clean run.

nbval compares stored and fresh outputs only for cells that carry an execution count: a notebook committed
without outputs would pass nbval while checking nothing. These checks close that hole and keep diffs clean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if p.name.startswith("ch")]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_there_are_notebooks():
    assert CHAPTERS, f"no chapter notebooks found in {BOOK}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_execution_counts_are_1_to_n_in_order(path):
    counts = [c.get("execution_count") for c in code_cells(load(path))]
    missing = [i for i, c in enumerate(counts) if c is None]
    assert not missing, f"{path.name}: code cells {missing} have no execution count (never run): run `make notebooks`"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..n in order: run `make notebooks`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_error_unless_tagged(path):
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if "raises-exception" in tags(cell):
            assert errors, f"{path.name} cell {i}: tagged raises-exception but stores no error"
        else:
            assert not errors, (
                f"{path.name} cell {i}: stored error {errors[0].get('ename')}: {errors[0].get('evalue')}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_volatile_metadata(path):
    nb = load(path)
    for i, cell in enumerate(nb["cells"]):
        assert "execution" not in cell.get("metadata", {}), (
            f"{path.name} cell {i}: execution timestamps stored; refresh with `make notebooks`"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_glue_cells_ignore_output(path):
    """glue stores raw PNG bytes that nbval would compare byte for byte; such cells must be ignored."""
    for i, cell in enumerate(code_cells(load(path))):
        for out in cell.get("outputs", []):
            if any(k.startswith("application/papermill.record/image") for k in out.get("data", {})):
                assert "nbval-ignore-output" in tags(cell), (
                    f"{path.name} code cell {i}: glues a figure but lacks the nbval-ignore-output tag"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_most_cells_are_compared(path):
    """A notebook whose every cell is ignored would again check nothing."""
    cells = code_cells(load(path))
    compared = [c for c in cells if c.get("outputs") and not {"nbval-ignore-output", "nbval-skip"} & set(tags(c))]
    assert len(compared) >= max(1, len(cells) // 4), (
        f"{path.name}: only {len(compared)} of {len(cells)} code cells have outputs that nbval compares"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_checks_its_claims(path):
    """Each chapter asserts what its prose claims, in hidden cells."""
    hidden_asserts = [c for c in code_cells(load(path))
                      if "remove-cell" in tags(c) and "assert" in "".join(c["source"])]
    assert hidden_asserts, f"{path.name}: no hidden (remove-cell) cell asserts the chapter's claims"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_size(path):
    size = path.stat().st_size
    assert size < 3_000_000, f"{path.name}: {size / 1e6:.1f} MB; lower the figure dpi"


# Left-overs of drafting that must never reach readers: a paragraph that only says "placeholder" or
# "TODO", and checks that cannot fail (``assert True``, ``assert 1``).
PLACEHOLDER = re.compile(r"^\s*(placeholder|todo|tbd|fixme|xxx|lorem ipsum)\b", re.IGNORECASE | re.MULTILINE)
VACUOUS_ASSERT = re.compile(r"^\s*assert\s+(True|1|not\s+False|not\s+None)\s*(#.*)?$", re.MULTILINE)


@pytest.mark.parametrize("path", [*NOTEBOOKS, *sorted(BOOK.glob("*.md"))], ids=lambda p: p.name)
def test_no_placeholders_or_vacuous_checks(path):
    if path.suffix == ".md":
        cells = [{"cell_type": "markdown", "source": path.read_text(encoding="utf-8")}]
    else:
        cells = load(path)["cells"]
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            hit = PLACEHOLDER.search(source)
            assert not hit, f"{path.name} cell {i}: unfinished text {hit.group(0).strip()!r}"
        elif cell["cell_type"] == "code":
            hit = VACUOUS_ASSERT.search(source)
            assert not hit, f"{path.name} cell {i}: a check that cannot fail: {hit.group(0).strip()!r}"


@pytest.mark.parametrize("text,flagged", [
    ("assert True", True), ("    assert 1  # always", True), ("assert not None", True),
    ("assert ok", False), ("assert True_value", False), ("assert x == 1", False),
])
def test_vacuous_assert_pattern(text, flagged):
    assert bool(VACUOUS_ASSERT.search(text)) is flagged


@pytest.mark.parametrize("text,flagged", [
    ("placeholder", True), ("TODO: write this", True), ("  tbd", True),
    ("The placeholder values are replaced below.", False), ("Nothing to do here.", False),
])
def test_placeholder_pattern(text, flagged):
    assert bool(PLACEHOLDER.search(text)) is flagged


# --- outputs that travel -------------------------------------------------------------------------------
# A float's 16th digit moves with the CPU, the BLAS and the thread count. mathcore.notebook.glue stores a
# float rounded to the format the prose pastes it with; these checks keep every notebook to that rule.
GLUE_PREFIX = "application/papermill.record/"
GLUE_ROLE = re.compile(r"\{glue(?::text|:|:any|:md)?\}`([^`]*)`")


def glue_records(path: Path) -> dict[str, tuple[int, str | None]]:
    records = {}
    for i, cell in enumerate(load(path)["cells"]):
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta:
                records[meta["name"]] = (i, out.get("data", {}).get(GLUE_PREFIX + "text/plain"))
    return records


def glue_references() -> dict[tuple[str, str], set[str]]:
    """(notebook name, key) -> the formats the book's prose pastes it with, from every page."""
    refs: dict[tuple[str, str], set[str]] = {}
    for page in [*NOTEBOOKS, *sorted(BOOK.glob("*.md"))]:
        texts = ([page.read_text(encoding="utf-8")] if page.suffix == ".md" else
                 ["".join(c["source"]) for c in load(page)["cells"] if c["cell_type"] == "markdown"])
        for text in texts:
            for body in GLUE_ROLE.findall(text):
                doc, _, body = body.rpartition("::")
                key, _, fmt = body.partition(":")
                refs.setdefault((Path(doc).name if doc else page.name, key), set()).add(fmt)
    return refs


def as_float(text: str | None) -> float | None:
    """The value of a stored record that is a float (not an int, a string or a figure)."""
    if text is None or re.fullmatch(r"-?\d+", text):
        return None
    try:
        return float(text)
    except ValueError:
        return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_glued_floats_carry_only_the_digits_the_prose_shows(path):
    from mathcore.notebook import round_to_format

    refs = glue_references()
    for key, (cell, text) in glue_records(path).items():
        value = as_float(text)
        if value is None:
            continue
        fmts = refs.get((path.name, key), set())
        assert fmts, f"{path.name} cell {cell}: float {key!r} is glued but no page pastes it: drop it"
        assert "" not in fmts, (f"{path.name}: {key!r} is a float pasted without a format, which shows all "
                                f"its digits; give the role a format such as {key}:.3f")
        assert any(round_to_format(value, fmt) == value for fmt in fmts), (
            f"{path.name} cell {cell}: {key!r} is stored as {text}, with more digits than the prose shows "
            f"({sorted(fmts)}): glue it with that format, e.g. glue({key!r}, value, {sorted(fmts)[0]!r})")


def test_every_pasted_key_is_glued():
    records = {(p.name, key) for p in NOTEBOOKS for key in glue_records(p)}
    missing = sorted(set(glue_references()) - records)
    assert not missing, f"the prose pastes keys that no notebook glues: {missing}"


SANITIZER = BOOK.parent / "tests" / "nbval_sanitize.cfg"


def sanitize(text: str) -> str:
    rules = re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZER.read_text(), re.MULTILINE)
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text)
    return text


@pytest.mark.parametrize("stored,new", [
    ("coef_ = [ 1.234 -0.567]", "coef_ = [ 1.244 -0.567]"),          # a coefficient's 3rd digit
    ("accuracy 0.9867", "accuracy 0.9866"),
    ("'98.7'", "'98.8'"),                                            # a glued value
    ("16244.8", "16244.9"),
    ("converged in 12 iterations", "converged in 13 iterations"),
    ("tensor([0.5000, 0.2689])", "tensor([0.5000, 0.2690])"),
])
def test_sanitizer_cannot_hide_a_real_change(stored, new):
    assert sanitize(stored) != sanitize(new)


@pytest.mark.parametrize("stored,new", [
    ("<object at 0x7f3a2b1c9d80>", "<object at 0x7f00deadbeef>"),
    ("elapsed: 0.0184 s", "elapsed: 0.0201 s"),
    ("tensor([1., 1.], device='cuda:0')", "tensor([1., 1.])"),
])
def test_sanitizer_removes_what_is_volatile(stored, new):
    assert sanitize(stored) == sanitize(new)

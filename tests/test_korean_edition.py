"""The Korean edition's catalogues (locales/ko/LC_MESSAGES): complete, in step with the English text,
faithful to its math, code and glued numbers, and using the glossary's Korean terms.

The catalogue tests read the committed .po files; ``test_catalogues_follow_the_english_text`` re-extracts
the English text with Sphinx's gettext builder (about 30 s) and fails when a page changed until
``python tools/i18n.py update`` has been run and the new messages translated.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import i18n  # noqa: E402

PO_FILES = sorted(i18n.PO_DIR.rglob("*.po"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")


def catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def messages(path: Path):
    return [m for m in catalog(path) if m.id and not i18n.is_docstring(m)]


def page(po: Path) -> str:
    return str(po.relative_to(i18n.PO_DIR).with_suffix(""))


def glossary_entries() -> dict[str, list[str]]:
    """Every headword (lower case) -> the Korean headwords of its entry, the course's form first.

    An entry with as many English as Korean headwords pairs them in order (weight/가중치, bias/편향).
    """
    text = (ROOT / "book" / "glossary.md").read_text()
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries, heads = {}, []
    for line in block.splitlines() + [""]:
        if line and not line.startswith(" "):
            heads.append(line.strip())
        elif heads:
            korean = [h for h in heads if HANGUL.search(h)]
            english = [h for h in heads if not HANGUL.search(h)]
            for i, h in enumerate(english):
                entries[h.lower()] = korean[i:] + korean[:i] if len(english) == len(korean) else korean
            for h in korean:
                entries[h.lower()] = [h]
            heads = []
    return entries


def role_target(content: str) -> str:
    match = re.search(r"<([^>]*)>\s*$", content)
    return (match.group(1) if match else content).strip()


def without_roles_and_code(text: str) -> str:
    text = ROLE.sub(" ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\]\([^)]*\)|<[^>]*>", " ", text, flags=re.S)
    return text


def test_there_is_a_catalogue_for_every_page_of_the_book():
    toc = (ROOT / "_toc.yml").read_text()
    pages = set(re.findall(r"(?:root|file): (\S+)", toc))
    assert pages and pages <= {page(p) for p in PO_FILES}, pages - {page(p) for p in PO_FILES}


@pytest.mark.parametrize("po", PO_FILES, ids=page)
def test_every_message_is_translated_and_none_is_fuzzy(po):
    result = subprocess.run(["msgfmt", "--statistics", "--check-header", "--check-domain", "-o", "/dev/null", str(po)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    stats = result.stderr
    assert "fuzzy" not in stats, f"{page(po)}: {stats}"
    docstrings_left = sum(1 for m in catalog(po) if m.id and not m.string and i18n.is_docstring(m))
    untranslated = int(re.search(r"(\d+) untranslated", stats).group(1)) if "untranslated" in stats else 0
    assert untranslated == docstrings_left, f"{page(po)}: {stats.strip()} (only API docstrings may stay English)"


@pytest.mark.parametrize("po", PO_FILES, ids=page)
def test_math_code_numbers_and_links_are_kept(po):
    """A translation may reword the prose around them, never the math, code, glued values or targets."""
    for m in messages(po):
        if not m.string:
            continue
        for pattern in (r"\$\$.*?\$\$|\$[^$]+\$", r"(?<!`)`[^`]+`(?!`)", r"\]\(([^)]*)\)"):
            want = sorted(re.findall(pattern, ROLE.sub("", m.id), flags=re.S))
            got = sorted(re.findall(pattern, ROLE.sub("", m.string), flags=re.S))
            assert got == want, f"{page(po)}: {m.id[:80]!r}: {set(want) ^ set(got)}"
        kept = [(r, c if r.startswith(("glue", "eq", "cite", "math")) else role_target(c))
                for r, c in ROLE.findall(m.id) if r != "term"]
        found = [(r, c if r.startswith(("glue", "eq", "cite", "math")) else role_target(c))
                 for r, c in ROLE.findall(m.string) if r != "term"]
        assert sorted(found) == sorted(kept), f"{page(po)}: {m.id[:80]!r}"


@pytest.mark.parametrize("po", PO_FILES, ids=page)
def test_glossary_terms_use_the_glossary_korean_form(po):
    """Wherever the English links a glossary term, the Korean says it with the glossary's (first) Korean term."""
    entries = glossary_entries()
    for m in messages(po):
        for role, content in ROLE.findall(m.id):
            if role != "term":
                continue
            korean = entries.get(role_target(content).lower())
            assert korean is not None, f"{page(po)}: {content!r} is not a glossary headword"
            if korean and m.string:
                assert korean[0] in m.string, f"{page(po)}: {m.id[:70]!r} lacks {korean[0]!r}"


def test_glossary_headwords_are_kept_so_that_every_link_resolves():
    entries = glossary_entries()
    for m in messages(i18n.PO_DIR / "book" / "glossary.po"):
        if m.id.lower() in entries:
            assert m.string == m.id, f"headword {m.id!r} translated as {m.string!r}"


@pytest.mark.parametrize("po", PO_FILES, ids=page)
def test_the_korean_text_is_korean(po):
    """A message with English prose has Hangul in its translation (no copied English left behind)."""
    headwords = set(glossary_entries())
    for m in messages(po):
        words = re.findall(r"[A-Za-z]{3,}", without_roles_and_code(m.id))
        if m.string and len(words) >= 2 and m.id.lower() not in headwords and not i18n.is_data(m.id):
            assert HANGUL.search(m.string), f"{page(po)}: {m.id[:80]!r} -> {m.string[:80]!r}"


@pytest.mark.parametrize("po", PO_FILES, ids=page)
def test_misconception_boxes_are_titled_for_korean_readers(po):
    for m in messages(po):
        if m.id.startswith("Common misconception:") and m.string:
            assert m.string.startswith("흔한 오해:"), f"{page(po)}: {m.string[:60]!r}"


def test_data_messages_are_recognised():
    assert i18n.is_data("`CPU only (2 cores, AMD EPYC)`")
    assert i18n.is_data("12.0 s") and i18n.is_data("2026-12-07 03:38") and i18n.is_data("3.11.7")
    assert i18n.is_data("[ch01_regression_vs_classification.ipynb](ch01_regression_vs_classification.ipynb)")
    assert i18n.is_data("1.0.4.post1") and i18n.is_data("2.13.0+cpu") and i18n.is_data("8.2 ms")
    assert i18n.is_data("\np(t = 1 \\mid x) = \\sigma(z) = \\frac{1}{1 + e^{-z}} \\quad \\text{if } z > 0\n")
    assert i18n.is_data("$w^\\top x = \\sum_d w_d x_d$.")
    assert not i18n.is_data("device") and not i18n.is_data("12 notebooks") and not i18n.is_data("")
    assert not i18n.is_data("the gradient $X^\\top r$ in one pass") and not i18n.is_data("3 passes")


def test_catalogues_follow_the_english_text(tmp_path):
    """Re-extract the English text: every page's messages must be exactly the catalogue's (no stale text)."""
    pot_dir = i18n.extract(tmp_path / "pot")
    for pot in sorted(pot_dir.rglob("*.pot")):
        po = i18n.PO_DIR / pot.relative_to(pot_dir).with_suffix(".po")
        assert po.exists(), f"{po} missing: run python tools/i18n.py update"
        fresh = {m.id for m in catalog(pot) if m.id}
        stored = {m.id for m in catalog(po) if m.id}
        new, gone = sorted(fresh - stored), sorted(stored - fresh)
        assert not new and not gone, (
            f"{page(po)}: the English text changed; run python tools/i18n.py update and translate.\n"
            f"new: {[s[:60] for s in new[:3]]}\nno longer in the English: {[s[:60] for s in gone[:3]]}")


@pytest.mark.parametrize("po", PO_FILES, ids=page)
def test_numbered_headings_are_not_read_as_lists(po):
    """Sphinx parses a translation on its own: "4. Title" would become a Markdown list item, and Sphinx
    then drops the translation (the heading stays English). The period must be escaped: "4\\. 제목"."""
    for m in messages(po):
        assert not re.match(r"^\d+\. ", m.string or ""), f"{page(po)}: write {m.string[:20]!r} as 'N\\. ...'"

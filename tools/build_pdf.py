"""The whole book as one PDF (``make pdf``), printed offline by Chromium from a single-page HTML build.

1. ``jupyter-book build . --builder singlehtml`` renders every page of ``_toc.yml`` into one HTML file
   (stored notebook outputs, no execution), with MathJax served from the build itself.
2. Headless Chromium (Debian's, driven by playwright) opens it from a server on 127.0.0.1, blocks every
   request that would leave the machine, waits until MathJax has typeset every equation, and prints it
   with the print style sheet to ``_build/pdf/logistic-regression-book.pdf`` (A4, page numbers).
   Before printing, the page itself is checked: every equation typeset by MathJax without error, and no
   raw LaTeX (``$``, ``\\frac``, ``\\begin{``) in the prose (code blocks may contain LaTeX strings).
3. ``check_pdf`` reads the PDF back (pypdf): enough pages, every chapter title in its text and a CJK font
   embedded for the Korean terms.

Usage::

    python tools/build_pdf.py            # build the single-page HTML, print, check
    python tools/build_pdf.py --check    # only check an existing PDF
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "_build" / "singlehtml"
PDF = ROOT / "_build" / "pdf" / "logistic-regression-book.pdf"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MIN_PAGES = 100
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# In the browser, after MathJax: equations left untypeset or in error, and raw LaTeX in prose (outside
# code, math and scripts).
UNTYPESET_JS = """() => {
  const untypeset = Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container'));
  const errors = document.querySelectorAll('mjx-merror, [data-mjx-error]').length;
  const skip = 'PRE, CODE, SCRIPT, STYLE, MJX-CONTAINER, TEXTAREA';
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip) || n.parentElement.closest('.math, .highlight')) continue;
    const m = n.textContent.match(/\\$|\\\\frac|\\\\begin\\{/);
    if (m) raw.push(n.textContent.trim().slice(0, 80));
  }
  return {untypeset: untypeset.length, errors: errors, raw: raw.slice(0, 5), rawCount: raw.length};
}"""


def chapter_titles() -> list[str]:
    """The first heading of every chapter notebook (what the PDF must contain)."""
    titles = []
    for path in sorted((ROOT / "book").glob("ch*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            text = "".join(cell["source"])
            match = re.search(r"^# (.+)$", text, flags=re.M) if cell["cell_type"] == "markdown" else None
            if match:
                titles.append(match.group(1).strip())
                break
    return titles


def master_page() -> str:
    """The single page's path: the root document of _toc.yml (index.html only redirects to it)."""
    import yaml

    return yaml.safe_load((ROOT / "_toc.yml").read_text())["root"] + ".html"


PRINTED = "print.html"  # the single page, moved to the build's root


def page_for_print() -> str:
    """The single page at the build's root: its links (``_static/``, ``_images/``) are relative to the root
    although Sphinx writes the page to the root document's folder (``book/intro.html``)."""
    (SINGLE / PRINTED).write_text((SINGLE / master_page()).read_text(encoding="utf-8"), encoding="utf-8")
    return PRINTED


def build_single_html() -> Path:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")  # the course environment's
    subprocess.run([str(jupyter_book), "build", str(ROOT), "--builder", "singlehtml"], check=True, cwd=ROOT)
    index = SINGLE / master_page()
    if not index.exists():
        raise SystemExit(f"{index} was not built")
    return index


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def print_pdf(out: Path = PDF) -> Path:
    """Print the single page with headless Chromium once MathJax has typeset it."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(SINGLE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    external = []

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:  # the book works offline: nothing may be fetched from elsewhere
            external.append(r.request.url)
            r.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = browser.new_page()
            page.set_default_timeout(600_000)  # one page with the whole book: loading and typesetting take minutes
            page.route("**/*", route)
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/{page_for_print()}", wait_until="load")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise")
            math = page.evaluate(UNTYPESET_JS)
            if math["untypeset"] or math["errors"] or math["rawCount"]:
                raise SystemExit(f"equations not typeset in the single page: {math}")
            page.emulate_media(media="print")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                     header_template="<span></span>",
                     footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                                     '<span class="pageNumber"></span></div>',
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            browser.close()
    finally:
        httpd.shutdown()
    if external:
        raise SystemExit(f"the PDF build tried to fetch from other hosts: {external[:5]}")
    return out


def _fonts(reader) -> set[str]:
    """Names of the embedded fonts (Chromium embeds some as Type 3, named only in their descriptor)."""
    names = set()
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            family = descriptor.get_object().get("/FontFamily", "") if descriptor is not None else ""
            names.add(str(font.get("/BaseFont") or family))
    return names


def _squeeze(text: str) -> str:
    """Text without spaces and with ligatures unfolded (PDF text extraction varies in both)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def check_pdf(path: Path = PDF) -> list[str]:
    """What is wrong with the PDF (an empty list when nothing is)."""
    from pypdf import PdfReader

    if not path.exists():
        return [f"{path} does not exist: run make pdf"]
    reader = PdfReader(str(path))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    flat = _squeeze(text)
    problems = []
    if len(reader.pages) < MIN_PAGES:
        problems.append(f"only {len(reader.pages)} pages (expected at least {MIN_PAGES})")
    for title in chapter_titles():
        # the main title (before a dash, colon or the Korean title in parentheses): a long heading may
        # wrap, and the extracted text does not keep a wrapped line in order
        main = re.split(r"\s[—:(]", title)[0]
        if _squeeze(main) not in flat:
            problems.append(f"chapter title missing from the text: {title!r}")
    if HANGUL.search(text) is None:
        problems.append("no Korean text found (the glossary has Korean terms)")
    if not any(re.search(r"CJK|Hangul|Nanum", name) for name in _fonts(reader)):
        problems.append(f"no CJK font embedded, so Korean text shows as boxes; fonts: {sorted(_fonts(reader))[:8]}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check an existing PDF")
    args = parser.parse_args(argv)
    if not args.check:
        build_single_html()
        print_pdf()
    problems = check_pdf()
    if problems:
        print("\n".join(problems))
        return 1
    from pypdf import PdfReader

    pages = len(PdfReader(str(PDF)).pages)
    site = ROOT / "_build" / "html"
    for edition in (site, site / "ko"):  # each edition's first page links to it (the PDF is in English)
        if edition.is_dir():
            shutil.copyfile(PDF, edition / PDF.name)
    print(f"{PDF.relative_to(ROOT)}: {pages} pages, every chapter title present, every equation typeset, "
          "CJK font embedded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Browser tests of the built book (``_build/html``, the Korean edition in ``_build/html/ko``), in a real
headless Chromium.

For every page in ``_toc.yml``, in both editions: HTTP 200, no console errors beyond a short allowlist,
every equation rendered by MathJax without error nodes, every image decoded, and no request leaving
127.0.0.1. Search must find a term from Chapter 1 (and a Korean word in the Korean edition); each page
links to the same page in the other edition.

Run after ``make build`` (``make test`` does). Without Debian's chromium these tests skip with a
reason, except under ``CI=true``, where they are required.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
SCREENSHOTS = ROOT / "_build" / "screenshots"

# Console errors that the Jupyter Book 1 stack itself emits on a healthy page (documented in
# shared/reference/testing-notes.md section 4). Anything else fails the test.
CONSOLE_ALLOWLIST = [
    re.compile(r"Identifier 'THEBE_JS_URL' has already been declared"),  # sphinx-thebe config emitted twice
    re.compile(r"Got invalid theme mode"),  # fresh browser profile without a stored theme preference
]


def toc_pages() -> list[str]:
    """HTML paths of every document in _toc.yml, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", p) + ".html" for p in pages]


PAGES = toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if (ROOT / p.replace(".html", ".ipynb")).exists()]
# The Korean edition (tools/i18n.py build): the same pages under ko/.
KO_PAGES = [f"ko/{p}" for p in PAGES]
KO_NOTEBOOK_PAGES = [f"ko/{p}" for p in NOTEBOOK_PAGES]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _require_browser():
    if not Path(CHROMIUM).exists():
        reason = f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + "; browser tests are required when CI=true")
        pytest.skip(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        message = "python playwright is not installed (pip install -r requirements.txt)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    for index in (HTML / "index.html", HTML / "ko" / "index.html"):
        if not index.exists():
            pytest.fail(f"{index} missing: build both editions first (make build)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="session")
def server():
    _require_browser()
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


class PageVisit:
    """A page opened with every non-loopback request blocked and recorded."""

    def __init__(self, browser, url):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.response = self.page.goto(url, wait_until="load")

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    visits = []

    def _open(path):
        v = PageVisit(browser, f"{server}/{path}")
        visits.append(v)
        return v

    yield _open
    for v in visits:
        v.close()


RAW_LATEX_JS = r"""() => {
  const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                           NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el.closest('pre, code, script, style, mjx-container, .math, .highlight, textarea')) continue;
    if (/\$|\\frac|\\begin\{/.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
  }
  return raw.slice(0, 5);
}"""


def unexpected(errors):
    return [e for e in errors if not any(p.search(e) for p in CONSOLE_ALLOWLIST)]


@pytest.mark.parametrize("path", PAGES + KO_PAGES)
def test_page(visit, path):
    v = visit(path)
    assert v.response is not None and v.response.status == 200, f"{path}: HTTP {v.response and v.response.status}"
    page = v.page
    # MathJax (served from _static/mathjax) typesets every equation; wait until it has finished.
    has_math = page.evaluate("document.querySelectorAll('.math, .MathJax, script[type^=\"math/tex\"]').length") > 0
    if has_math:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("MathJax.startup.promise")
        rendered = page.evaluate("document.querySelectorAll('mjx-container').length")
        assert rendered > 0, f"{path}: page has math but MathJax rendered none"
        errors = page.evaluate(
            "Array.from(document.querySelectorAll('mjx-merror, .MathJax_Error, mjx-container [data-mjx-error]'))"
            ".map(e => e.getAttribute('data-mjx-error') || e.textContent)")
        assert not errors, f"{path}: MathJax errors: {errors[:5]}"
        raw = page.evaluate("Array.from(document.querySelectorAll('.math')).filter("
                            "e => !e.querySelector('mjx-container')).length")
        assert raw == 0, f"{path}: {raw} equations were left untypeset"
    # Math that the Markdown parser did not recognise stays as raw LaTeX in the prose.
    leaked = page.evaluate(RAW_LATEX_JS)
    assert not leaked, f"{path}: raw LaTeX in the text (math the parser did not recognise): {leaked}"
    broken = page.evaluate(
        "Promise.all(Array.from(document.images).map(async img => {"
        "  try { if (!img.complete) await new Promise(r => {img.onload = r; img.onerror = r;});"
        "        await img.decode(); return img.naturalWidth > 0 ? null : img.src; }"
        "  catch (e) { return img.currentSrc || img.src; } })).then(r => r.filter(x => x))")
    assert not broken, f"{path}: images that failed to decode: {broken}"
    page.wait_for_timeout(200)
    assert not v.external, f"{path}: requests left the machine: {v.external}"
    assert not unexpected(v.console_errors), f"{path}: console errors: {unexpected(v.console_errors)}"


def test_search_finds_chapter_1_term(visit):
    v = visit("search.html?q=odds")
    v.page.wait_for_selector("#search-results ul.search li", timeout=20000)
    links = v.page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any("ch01_regression_vs_classification" in link for link in links), links
    assert not v.external, v.external


@pytest.mark.parametrize("path", NOTEBOOK_PAGES + KO_NOTEBOOK_PAGES)
def test_notebook_page_has_download_and_launch_buttons(visit, server, path):
    """A reader must be able to download the notebook or open it in Binder or Colab."""
    v = visit(path)
    page = v.page
    stem = Path(path).stem
    download = page.eval_on_selector_all("a.btn-download-source-button", "els => els.map(e => e.href)")
    assert any(href.endswith(f"{stem}.ipynb") for href in download), f"{path}: no .ipynb download button"
    ipynb = next(href for href in download if href.endswith(f"{stem}.ipynb"))
    response = page.request.get(ipynb)
    assert response.status == 200 and b'"cells"' in response.body(), f"{path}: download link broken: {ipynb}"
    # Bootstrap moves a tooltip's title into data-bs-original-title once the page's scripts have run.
    launch = page.eval_on_selector_all(".dropdown-launch-buttons a", "els => els.map(e => e.href)")
    for name, host in (("Binder", "mybinder.org"), ("Colab", "colab.research.google.com")):
        hrefs = [h for h in launch if urlparse(h).hostname == host and f"{stem}.ipynb" in h]
        assert hrefs, f"{path}: no 'Launch on {name}' button for {stem}.ipynb (launch menu: {launch})"


def test_chapter_screenshots_light_and_dark(visit):
    """Chapter 1 renders in both colour modes; the screenshots are kept in _build/screenshots/."""
    v = visit("book/ch01_regression_vs_classification.html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for mode in ("light", "dark"):
        v.page.evaluate(f"document.documentElement.dataset.theme = '{mode}'; "
                        f"document.documentElement.dataset.mode = '{mode}'")
        v.page.wait_for_timeout(300)
        background = v.page.evaluate("getComputedStyle(document.body).backgroundColor")
        sizes[mode] = background
        target = SCREENSHOTS / f"ch01_{mode}.png"
        v.page.screenshot(path=str(target), full_page=False)
        assert target.stat().st_size > 10_000
    assert sizes["light"] != sizes["dark"], f"dark mode did not change the page background: {sizes}"
    figures = v.page.evaluate("Array.from(document.querySelectorAll('img')).filter("
                              "i => i.src.includes('/_images/') || i.src.startsWith('data:image')).length")
    assert figures >= 3, f"expected at least 3 figures on chapter 1, found {figures}"


def test_site_has_no_external_script_or_stylesheet():
    """Belt and braces: no built page references a script or stylesheet on another host."""
    if not (HTML / "index.html").exists():
        pytest.fail("build the book first")
    offenders = []
    pattern = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"(https?:)?//(?!127\.0\.0\.1|localhost)[^\"]+\"")
    for page in HTML.rglob("*.html"):
        for match in pattern.finditer(page.read_text(encoding="utf-8", errors="replace")):
            tag = match.group(0)
            if "rel=\"canonical\"" in tag or "rel=\"author\"" in tag:
                continue
            offenders.append(f"{page.relative_to(HTML)}: {tag[:120]}")
    assert not offenders, offenders[:10]



def _content_images(html: str) -> list[str]:
    """The <img> tags of the book's figures (written to _images/), not the theme's logos and icons."""
    return [tag for tag in re.findall(r"<img\b[^>]*>", html) if re.search(r'\bsrc="[^"]*_images/', tag)]


FILENAME_LIKE = re.compile(r"^[\w./-]*\.(png|svg|jpe?g|gif)$|^[0-9a-f]{32,}", re.IGNORECASE)


@pytest.mark.parametrize("path", NOTEBOOK_PAGES + KO_NOTEBOOK_PAGES)
def test_every_figure_has_alt_text(path):
    """Every figure in the built page says what it shows to a screen reader (not a file name or hash),
    in Korean on the Korean pages."""
    page = HTML / path
    if not page.exists():
        pytest.fail(f"{page} missing: build the book first")
    problems = []
    figures = _content_images(page.read_text(encoding="utf-8"))
    assert figures or path.endswith("status.html"), f"{path}: no figures found (is the pattern still right?)"
    for tag in figures:
        alt = re.search(r'\balt="([^"]*)"', tag)
        text = (alt.group(1) if alt else "").strip()
        korean_missing = path.startswith("ko/") and not HANGUL.search(text)
        if len(text) < 20 or FILENAME_LIKE.search(text) or korean_missing:
            src = re.search(r'\bsrc="([^"]*)"', tag)
            problems.append(f"{src.group(1) if src else tag[:60]}: alt={text!r}")
    assert not problems, f"{path}: figures without a description: {problems[:5]}"


def _white_fraction(png: bytes) -> float:
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float((pixels.min(axis=2) > 180).mean())


def test_figures_are_not_white_boxes_in_dark_mode(visit):
    """In the dark theme the figures are shown dark: light pixels (every channel > 180) cover under 20 %
    of each figure of Chapter 1 (the theme's default only dims them, to a light grey box)."""
    v = visit("book/ch01_regression_vs_classification.html")
    v.page.evaluate("document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'")
    v.page.wait_for_timeout(300)
    figures = v.page.query_selector_all("main .cell_output img, main figure img")
    assert len(figures) >= 3, f"expected at least 3 figures on chapter 1, found {len(figures)}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    fractions = []
    for k, img in enumerate(figures):
        img.scroll_into_view_if_needed()
        shot = img.screenshot()
        if k == 0:
            (SCREENSHOTS / "ch01_dark_figure.png").write_bytes(shot)
        fractions.append(_white_fraction(shot))
    assert max(fractions) < 0.2, f"near-white share of each figure in dark mode: {fractions}"
    v.page.evaluate("document.documentElement.dataset.theme = 'light'; document.documentElement.dataset.mode = 'light'")
    v.page.wait_for_timeout(300)
    light = [_white_fraction(img.screenshot()) for img in figures[:3]]
    assert min(light) > 0.5, f"the light theme should show the figures on white: {light}"


@pytest.mark.parametrize("path", ["book/ch04_chain_rule_and_gradient.html", "book/intro.html", "book/glossary.html"])
def test_each_page_links_to_the_same_page_in_the_other_edition(visit, path):
    for here, there, lang in ((path, f"ko/{path}", "ko"), (f"ko/{path}", path, "en")):
        v = visit(here)
        link = v.page.eval_on_selector(".language-switch a", "a => a.href")
        assert link.endswith("/" + there), f"{here}: links to {link}, expected {there}"
        response = v.page.goto(link)
        assert response.status == 200, f"{link}: HTTP {response.status}"
        assert v.page.evaluate("document.documentElement.lang").startswith(lang)
        assert not v.external, v.external


def test_korean_chapter_4_reads_in_korean(visit):
    """Chapter 4 in Korean: Hangul prose, rendered equations, a screenshot in _build/screenshots/ko_ch04.png."""
    v = visit("ko/book/ch04_chain_rule_and_gradient.html")
    v.page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
    v.page.evaluate("MathJax.startup.promise")
    text = v.page.inner_text("main")
    assert len(HANGUL.findall(text)) > 2000, "the Korean chapter has little Korean text"
    assert "연쇄 법칙" in v.page.title() or "연쇄 법칙" in text[:200]
    assert v.page.evaluate("document.querySelectorAll('mjx-container').length") > 20
    ui = v.page.inner_text("body")
    assert "검색" in ui, "the theme's interface strings are not Korean"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    v.page.set_viewport_size({"width": 1280, "height": 1600})
    v.page.screenshot(path=str(SCREENSHOTS / "ko_ch04.png"), full_page=False)
    assert (SCREENSHOTS / "ko_ch04.png").stat().st_size > 50_000
    assert not v.external, v.external


def test_korean_search_finds_a_korean_word(visit):
    v = visit("ko/search.html?q=%EC%8B%9C%EA%B7%B8%EB%AA%A8%EC%9D%B4%EB%93%9C")  # 시그모이드
    v.page.wait_for_selector("#search-results ul.search li", timeout=20000)
    links = v.page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any("ch02_sigmoid_and_logistic_model" in link for link in links), links
    assert not v.external, v.external

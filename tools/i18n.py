"""The Korean edition: gettext catalogues built from the English sources, their checks, the Korean build.

    python tools/i18n.py update   extract the English text (Sphinx's gettext builder) into _build/i18n/pot
                                  and merge it into locales/ko/LC_MESSAGES/<page>.po (sphinx-intl)
    python tools/i18n.py check    every message translated and none fuzzy (msgfmt), the catalogues in step
                                  with the English text, terms, placeholders (tests/test_korean_edition.py)
    python tools/i18n.py build    the Korean HTML into _build/html/ko (run after the English build)

Only prose is translated: math, code, outputs and glued numbers are the same objects in both editions.
Messages with nothing to translate (code spans, numbers, dates, links to notebooks) are copied unchanged
by ``update``. The API reference's docstrings stay in English (the page says so in Korean).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
PO_DIR = LOCALES / "ko" / "LC_MESSAGES"
WORK = ROOT / "_build" / "i18n"
POT_DIR = WORK / "pot"
KO_HTML = ROOT / "_build" / "html" / "ko"
PROJECT = "Logistic regression from first principles"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
JB = Path(sys.executable).with_name("jupyter-book")

# A message is "data" when no word is left after removing these: it is copied, not translated.
_DATA_PARTS = [
    r"`[^`]*`",                                   # code span
    r"\[[^\]]*\]\([^)]*\.ipynb\)",                # link to a notebook
    r"\$\$.*?\$\$|\$[^$]*\$",                       # math
    r"\\(text|mathrm|operatorname\*?|mathbf)\{[^}]*\}",  # words inside a display equation
    r"\\(begin|end)\{[^}]*\}",                    # environments of a display equation
    r"\\[A-Za-z]+",                               # LaTeX commands
    r"\d{4}-\d\d-\d\d( \d\d:\d\d)?",              # date
    r"\d+\.\d+\.\d+([.+][A-Za-z0-9]+)*",             # version such as 1.0.4.post1 or 2.13.0+cpu
    r"[-+]?\d[\d.,]*\s*(ms|µs|s|x|×|%)?(?![A-Za-z])",  # number with a unit
]


def is_data(msgid: str) -> bool:
    rest = msgid
    for pattern in _DATA_PARTS:
        rest = re.sub(pattern, " ", rest, flags=re.S)
    # in an equation, letter pairs such as dx are symbols, not words
    word = r"[A-Za-z]{3,}" if re.search(r"\\[A-Za-z]", msgid) else r"[A-Za-z]{2,}"
    return msgid.strip() != "" and not re.search(word + r"|[\uac00-\ud7a3]", rest)


def is_docstring(message) -> bool:
    """True for text that autodoc took from mathcore's docstrings (kept in English): no page is its source."""
    return bool(message.locations) and not any("book/" in str(f) for f, _ in message.locations)


def run(cmd: list[str], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)


def extract(out: Path = POT_DIR) -> Path:
    """Sphinx's gettext builder over the whole book: one .pot per page in ``out``."""
    tmp = WORK / "gettext-build"
    shutil.rmtree(tmp, ignore_errors=True)
    run([JB, "build", ".", "--builder", "custom", "--custom-builder", "gettext", "--path-output", tmp],
        stdout=subprocess.DEVNULL)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(tmp / "_build" / "gettext", out)
    extract_cell_text(out)
    return out


def extract_cell_text(out: Path) -> None:
    """Text that Sphinx does not extract (book/_ext/i18n_extras.py puts the translations in the Korean
    build): the figures' alt text, in cell metadata (figures.pot), and the exercises' titles, which
    sphinx-exercise builds outside gettext's reach (exercises.pot)."""
    import nbformat
    from babel.messages.catalog import Catalog

    figures, exercises = (Catalog(project=PROJECT, version=VERSION) for _ in range(2))
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
            where = [(f"book/{notebook.name}", index)]
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
            if alt:
                figures.add(alt, locations=where)
            if cell.cell_type == "markdown":
                for alt in re.findall(r"^:alt:[ \t]+(.+?)\s*$", cell.source, flags=re.M):  # {glue:figure}
                    figures.add(alt, locations=where)
                for title in re.findall(r"^(?:`{3,}|:{3,})\{exercise\}[ \t]+(.+?)\s*$", cell.source, flags=re.M):
                    exercises.add(title, locations=where)
    for name, catalog in (("figures", figures), ("exercises", exercises)):
        with (out / f"{name}.pot").open("wb") as f:
            write_po(f, catalog, width=0)


def tidy(po: Path) -> None:
    """Set the header fields and copy the messages that have nothing to translate."""
    with po.open("rb") as f:
        catalog = read_po(f)
    catalog.fuzzy, catalog.project, catalog.version = False, PROJECT, VERSION
    catalog.last_translator = catalog.language_team = "The mathcore authors"
    catalog.revision_date = catalog.creation_date
    catalog.header_comment = (f"# Korean edition of {po.relative_to(PO_DIR).with_suffix('')}: "
                              "translate msgstr only (tools/i18n.py).\n# CC BY 4.0, as the English text.")
    for message in catalog:
        # babel marks text with a "%" followed by a letter as a format string; none of ours is one
        message.flags.discard("python-format")
        # data (numbers, dates, code) is copied, also over a "fuzzy" guess from a similar old message
        if message.id and is_data(message.id) and (not message.string or message.fuzzy):
            message.string = message.id
            message.flags.discard("fuzzy")
    with po.open("wb") as f:
        write_po(f, catalog, width=0)


def update() -> None:
    extract()
    run([Path(sys.executable).with_name("sphinx-intl"), "update", "-p", POT_DIR, "-l", "ko", "-d", LOCALES,
         "-w", "0"])
    for po in sorted(PO_DIR.rglob("*.po")):
        tidy(po)
    print(f"Catalogues in {PO_DIR.relative_to(ROOT)}; translate the empty msgstr entries, then run check.")


def korean_config() -> Path:
    """_config.yml with the language set to Korean and the site's URLs moved under /ko/."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]["config"]
    sphinx["language"] = "ko"
    with (PO_DIR / "book" / "intro.po").open("rb") as f:  # the book's title, as the intro page translates it
        config["title"] = read_po(f)[PROJECT].string
    # this file lives in _build/i18n: paths that Jupyter Book reads relative to the config become absolute
    config["sphinx"]["local_extensions"] = {k: str(ROOT / v) for k, v in config["sphinx"]["local_extensions"].items()}
    sphinx["html_static_path"] = [str(ROOT / p) for p in sphinx["html_static_path"]]
    sphinx["locale_dirs"] = [str(ROOT / p) for p in sphinx["locale_dirs"]]
    config["bibtex_bibfiles"] = [str(ROOT / p) for p in config["bibtex_bibfiles"]]
    config["html"]["baseurl"] = config["html"]["baseurl"].rstrip("/") + "/ko/"
    sphinx["notfound_urls_prefix"] = sphinx["notfound_urls_prefix"].rstrip("/") + "/ko/"
    sphinx["notfound_context"] = {
        "title": "페이지를 찾을 수 없습니다",
        "body": "<h1>페이지를 찾을 수 없습니다</h1><p>이 페이지는 (더 이상) 없습니다. "
                "<a href='/logistic-regression-book/ko/'>목차</a>에서 다시 시작하거나 검색 상자를 쓰세요.</p>",
    }
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "_config_ko.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def build() -> None:
    out = WORK / "ko-build"
    shutil.rmtree(out, ignore_errors=True)
    run([JB, "build", ".", "--config", korean_config(), "--path-output", out, "-W", "-n", "--keep-going"])
    shutil.rmtree(KO_HTML, ignore_errors=True)
    shutil.copytree(out / "_build" / "html", KO_HTML)
    print(f"The Korean edition is in {KO_HTML.relative_to(ROOT)}")


def check() -> int:
    return subprocess.run([sys.executable, "-m", "pytest", "tests/test_korean_edition.py", "-q"], cwd=ROOT).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["update", "check", "build"])
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "build":
        build()
    else:
        return check()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Text that Sphinx's gettext machinery misses, made translatable.

* The alt text of a figure is cell metadata (``mystnb.image.alt``), which the gettext builder does not
  see; tools/i18n.py collects it into ``locales/<lang>/LC_MESSAGES/figures.po`` and this extension puts
  the translation on the images of that language's build (untranslated: the English text stays).
* The titles of exercises (``{exercise} <title>``): sphinx-exercise builds them without a source
  location (so gettext skips them) and rebuilds them after translation from a copy it made before; they
  are collected into ``exercises.po`` and replaced in the resolved doctree, like the alt text.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from docutils import nodes

CATALOGUES = ("figures", "exercises")


def load_translations(app) -> None:
    app.env.extra_translations = {name: {} for name in CATALOGUES}
    language = app.config.language or "en"
    for locale_dir in app.config.locale_dirs:
        for name in CATALOGUES:
            path = Path(app.srcdir, locale_dir, language, "LC_MESSAGES", f"{name}.po")
            if language != "en" and path.exists():
                with path.open("rb") as f:
                    table = {m.id: m.string for m in read_po(f) if m.id and m.string}
                app.env.extra_translations[name].update(table)


def translate_extras(app, doctree, docname) -> None:
    tables = getattr(app.env, "extra_translations", {})
    alt, titles = tables.get("figures", {}), tables.get("exercises", {})
    for image in doctree.findall(nodes.image):
        if image.get("alt") in alt:
            image["alt"] = alt[image["alt"]]
    for subtitle in list(doctree.findall(nodes.subtitle)):  # sphinx-exercise's exercise_subtitle
        text = subtitle.astext()
        if text in titles:
            subtitle.children = []
            subtitle.append(nodes.Text(titles[text]))


def setup(app):
    app.connect("builder-inited", load_translations)
    app.connect("doctree-resolved", translate_extras)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

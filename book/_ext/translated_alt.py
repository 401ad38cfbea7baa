"""Translated alt text for the notebooks' figures.

The alt text of a figure is cell metadata (``mystnb.image.alt``), which Sphinx's gettext builder does not
see; tools/i18n.py collects it into ``locales/<lang>/LC_MESSAGES/figures.po`` and this extension puts the
translation on the images of that language's build. A figure without a translation keeps its English text.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from docutils import nodes


def load_translations(app) -> None:
    app.env.figure_alt = {}
    language = app.config.language or "en"
    for locale_dir in app.config.locale_dirs:
        path = Path(app.srcdir, locale_dir, language, "LC_MESSAGES", "figures.po")
        if language != "en" and path.exists():
            with path.open("rb") as f:
                app.env.figure_alt.update({m.id: m.string for m in read_po(f) if m.id and m.string})


def translate_alt(app, doctree, docname) -> None:
    table = getattr(app.env, "figure_alt", {})
    for image in doctree.findall(nodes.image):
        if image.get("alt") in table:
            image["alt"] = table[image["alt"]]


def setup(app):
    app.connect("builder-inited", load_translations)
    app.connect("doctree-resolved", translate_alt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

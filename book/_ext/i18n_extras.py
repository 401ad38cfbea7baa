"""Text that Sphinx's gettext machinery misses, made translatable.

* The alt text of a figure is cell metadata (``mystnb.image.alt``), which the gettext builder does not
  see; tools/i18n.py collects it into ``locales/<lang>/LC_MESSAGES/figures.po`` and this extension puts
  the translation on the images of that language's build (untranslated: the English text stays).
* The titles of exercises (``{exercise} <title>``): sphinx-exercise builds them without a source
  location (so gettext skips them) and rebuilds them after translation from a copy it made before; they
  are collected into ``exercises.po`` and replaced in the resolved doctree, like the alt text.
* The captions of the table of contents (``_toc.yml``): sphinx-external-toc inserts the toctrees after
  Sphinx has translated the page, so they are translated here from the root page's catalogue.
* Glued values in translated paragraphs: Sphinx parses each translation as a small document of its own,
  and myst-nb looks glue keys up on the notebook's document; the notebook's renderer is kept per page
  and lent to those small documents, so ``{glue:text}`` works in Korean as in English.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from docutils import nodes
from myst_nb import sphinx_ as myst_nb_sphinx
from myst_nb.ext.glue import directives as glue_directives
from myst_nb.ext.glue import roles as glue_roles
from myst_nb.ext.glue import utils as glue_utils
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

CATALOGUES = ("figures", "exercises", "book/intro")  # intro: the table of contents' captions


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


def translate_captions(app, doctree) -> None:
    captions = getattr(app.env, "extra_translations", {}).get("book/intro", {})
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption") in captions:
            toctree["caption"] = captions[toctree["caption"]]


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


_CURRENT = {}  # the renderer of the notebook being read (holds its glue data)
_retrieve_glue_data = glue_utils.retrieve_glue_data
_load_renderer = myst_nb_sphinx.load_renderer


def load_renderer(name):
    """myst-nb's renderer class, whose instances are remembered: myst-nb drops the renderer from the
    document at the end of parsing, before the translations are parsed."""
    cls = _load_renderer(name)

    def make(*args, **kwargs):
        _CURRENT["renderer"] = cls(*args, **kwargs)
        return _CURRENT["renderer"]

    return make


class ForgetOtherPages(SphinxTransform):
    default_priority = 10  # before sphinx.transforms.i18n.Locale (20) parses the translations

    def apply(self):
        if not str(self.document.get("source", "")).endswith(".ipynb"):
            _CURRENT.pop("renderer", None)  # a page that is not a notebook has no glue data


def retrieve_glue_data(document, key):
    """myst-nb's lookup, for a translation's own small document too (it has no renderer of its own;
    pages are read one at a time, and its page is the notebook parsed last)."""
    if "nb_renderer" in document or _CURRENT.get("renderer") is None:
        return _retrieve_glue_data(document, key)
    document["nb_renderer"] = _CURRENT["renderer"]
    try:
        return _retrieve_glue_data(document, key)
    finally:  # the renderer cannot be pickled with the page (myst-nb removes its own copy too)
        del document["nb_renderer"]


def setup(app):
    for module in (glue_utils, glue_roles, glue_directives):
        module.retrieve_glue_data = retrieve_glue_data
    myst_nb_sphinx.load_renderer = load_renderer
    app.add_transform(ForgetOtherPages)
    app.connect("builder-inited", load_translations)
    app.connect("doctree-read", translate_captions)
    app.connect("doctree-resolved", translate_extras)
    # the lookup above relies on pages being read one at a time
    return {"parallel_read_safe": False, "parallel_write_safe": True}

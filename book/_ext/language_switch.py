"""A link from each page to the same page in the other edition (English at /, Korean at /ko/).

tools/i18n.py builds the Korean edition with ``language: ko`` into _build/html/ko/, so the pages of
the two editions differ only by that prefix.
"""

from __future__ import annotations

EDITIONS = {"en": ("ko", "한국어"), "ko": ("en", "English")}


def add_language_link(app, pagename, templatename, context, doctree):
    if app.builder.name != "html" or doctree is None or "body" not in context:
        return
    here = "ko" if (app.config.language or "en").startswith("ko") else "en"
    other, label = EDITIONS[here]
    to_root = "../" * pagename.count("/")
    target = app.builder.get_target_uri(pagename)
    href = f"{to_root}ko/{target}" if other == "ko" else f"{to_root}../{target}"
    context["body"] = (f'<p class="language-switch"><a href="{href}" hreflang="{other}" lang="{other}">'
                       f"{label}</a></p>\n" + context["body"])
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{other}" href="{href}" />')


def setup(app):
    app.connect("html-page-context", add_language_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Let the single-page HTML build (``--builder singlehtml``, used by ``make pdf``) render notebook pages.

myst-nb registers the HTML visitors of its node for hidden code cells (``hide-input``) only for the
``html`` builder; ``singlehtml`` uses the same translator but finds no visitor and stops. Register the
same visitors for it.
"""

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput


def setup(app):
    app.add_node(HideCodeCellNode, override=True, singlehtml=(visit_HideCellInput, depart_HideCellInput))
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Glue for the book's prose: store a value in a notebook output, with only the digits the text shows.

The book pastes numbers computed by the code into its sentences with myst-nb's ``{glue:text}`` role.
``glue`` writes the output record that role reads (the same format as ``myst_nb.glue``), so chapters need
no documentation tools to run, with one rule added: **a float is stored rounded to the format the prose
uses**. ``glue("acc", 0.98666, ".1%")`` stores ``0.987`` and the page shows ``98.7%``.

Why: a notebook's stored outputs are compared on every machine that runs the tests (nbval). The 16th
digit of a float moves with the CPU, the BLAS and the thread count; the digits a sentence shows do not,
unless the result itself changed. Storing only those digits makes the comparison test what the reader
sees, and nothing else.
"""

from __future__ import annotations

import math
import numbers
import re

__all__ = ["at_least", "glue", "glue_bound", "round_to_format"]

#: myst-nb reads glued values from outputs whose MIME types carry this prefix.
GLUE_PREFIX = "application/papermill.record/"

_FORMAT = re.compile(r"^(?P<comma>,?)(?:\.(?P<precision>\d+))?(?P<kind>[efg%])$")


def round_to_format(value: float, fmt: str) -> float:
    """The float that ``format(value, fmt)`` shows, e.g. ``round_to_format(0.98666, ".1%") == 0.987``.

    ``fmt`` is one of the format specifications the book uses: ``".Nf"``, ``",.Nf"``, ``".Ne"``,
    ``".Ng"``, ``"g"`` or ``".N%"``.
    """
    match = _FORMAT.match(fmt) if isinstance(fmt, str) else None
    if match is None:
        raise ValueError(f"fmt must be a format like '.3f', '.2e', '.3g' or '.1%'; got {fmt!r}")
    value = float(value)
    if not math.isfinite(value):
        return value
    kind = match["kind"]
    precision = int(match["precision"]) if match["precision"] is not None else 6
    if kind == "f":
        return round(value, precision)
    if kind == "%":
        return round(value, precision + 2)
    shown = format(value, f".{precision}{kind}")
    return float(shown)


def _is_float_array(value) -> bool:
    """An array or tensor of floats with at least one dimension (its repr would carry every digit)."""
    dtype = getattr(value, "dtype", None)
    if dtype is None or not getattr(value, "ndim", 0):
        return False
    return bool(getattr(dtype, "is_floating_point", False)) or getattr(dtype, "kind", "") in "fc"


def _is_float(value) -> bool:
    if isinstance(value, bool | numbers.Integral):
        return False
    if isinstance(value, numbers.Real):
        return True
    dtype = getattr(value, "dtype", None)   # 0-d NumPy arrays and 0-d torch tensors
    if dtype is None or getattr(value, "ndim", None) != 0:
        return False
    return bool(getattr(dtype, "is_floating_point", False)) or getattr(dtype, "kind", "") == "f"


def glue(name: str, value, fmt: str | None = None, *, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the book to paste, as ``{glue:text}`name:fmt```.

    Parameters
    ----------
    name : str
        The key the prose refers to; unique within the notebook.
    value : object
        What to store: a number, a string, a figure, anything IPython can display.
    fmt : str, optional
        Required for a float: the format the prose shows it with (``".3f"``, ``".1e"``, ``".2g"``,
        ``".1%"``...). The float is stored rounded to exactly that, so the stored output does not carry
        digits that depend on the machine. Not allowed for other types.
    display : bool, default False
        Also show the value in the cell's output (as ``myst_nb.glue(display=True)`` does).

    Raises
    ------
    TypeError
        If ``name`` is not a string, ``value`` is a float and ``fmt`` is missing, ``value`` is an array
        or tensor of floats, or ``fmt`` is given for a value that is not a float.
    ValueError
        If ``fmt`` is not one of the supported formats.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipython_display

    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str; got {name!r}")
    if _is_float_array(value):
        raise TypeError(f"glue({name!r}, ...): value is an array of floats, whose repr carries every digit; "
                        "glue each number with its format, or a string formatted to the digits the prose needs")
    if _is_float(value):
        if fmt is None:
            raise TypeError(f"glue({name!r}, ...): value is a float ({float(value)!r}); pass fmt, the "
                            "format the prose shows it with (e.g. '.3f'), so only those digits are stored")
        value = round_to_format(float(value), fmt)
    elif fmt is not None:
        raise TypeError(f"glue({name!r}, ...): fmt is only for floats; value is {type(value).__name__}")
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipython_display({prefix + key: data for key, data in bundle.items()}, raw=True, metadata=metadata)


def at_least(value: float, fmt: str, floor: float) -> str:
    """``format(value, fmt)``, or ``"< floor"`` when ``abs(value)`` is below ``floor``.

    For printed tables of quantities that fall to rounding level (a gradient norm at convergence, the
    distance to a peer library's answer): digits below ``floor`` differ on every CPU, so a stored output
    shows only that they are below it. ``at_least(1.04e-14, ".2e", 1e-10) == "< 1e-10"``.
    """
    if not floor > 0:
        raise ValueError(f"floor must be positive; got {floor!r}")
    if math.isnan(value):  # a NaN is not "below" anything: it is a failure to show
        raise ValueError("value is NaN; at_least shows a finite quantity or a bound on it")
    return format(value, fmt) if abs(value) >= floor else f"< {floor:.0e}"


def glue_bound(name: str, value: float, bound: float) -> None:
    """Check that ``abs(value) < bound``, then glue ``bound`` (format ``".0e"``) under ``name``.

    For sentences such as "the two libraries agree to within 1e-05": the difference itself is at
    rounding level and its digits differ on every CPU, so the prose shows the bound, and the bound it
    shows is the one that was checked (one number, not an assert and a glue that could drift apart).

    Raises
    ------
    ValueError
        If ``bound`` is not positive or ``value`` is not finite.
    AssertionError
        If ``abs(value)`` is not below ``bound``: the sentence would be false.
    """
    bound, value = float(bound), float(value)
    if not bound > 0:
        raise ValueError(f"bound must be positive; got {bound!r}")
    if not math.isfinite(value):
        raise ValueError(f"glue_bound({name!r}, ...): value is {value!r}, not a finite number")
    if not abs(value) < bound:
        raise AssertionError(f"glue_bound({name!r}, ...): |{value!r}| is not below {bound:.0e}")
    glue(name, bound, ".0e")

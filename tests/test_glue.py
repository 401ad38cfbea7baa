"""mathcore.notebook.glue: myst-nb's record format, floats stored with only the digits the prose shows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mathcore.notebook import GLUE_PREFIX, glue, round_to_format


@pytest.fixture
def shown(monkeypatch):
    """Capture what glue hands to IPython's display."""
    calls = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: calls.append((a, k)))
    return calls


@pytest.mark.parametrize("value,fmt,expected", [
    (0.98666, ".1%", 0.987), (16244.83374140, ".0f", 16245.0), (16244.83374141, ".0f", 16245.0),
    (1.87478432e-05, ".1e", 1.9e-05), (0.0123456, ".3g", 0.0123), (1234567.891, ",.0f", 1234568.0),
    (2.5, ".2f", 2.5), (-0.0004, ".3f", -0.0), (123.456, "g", 123.456),
])
def test_round_to_format(value, fmt, expected):
    assert round_to_format(value, fmt) == expected


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
       st.sampled_from([".0f", ".1f", ".3f", ",.2f", ".0e", ".2e", ".3g", ".1%", ".0%"]))
def test_rounded_value_shows_the_same_text(value, fmt):
    """What the page shows from the stored value is what it would show from the exact one."""
    assert format(round_to_format(value, fmt), fmt) == format(value, fmt)


@pytest.mark.parametrize("fmt", ["3f", ".3d", "", ".2x", 3, "{:.2f}"])
def test_unknown_format_is_refused(fmt):
    with pytest.raises(ValueError, match="fmt must be a format"):
        round_to_format(1.0, fmt)


def test_record_is_myst_nb_format(shown):
    glue("acc", 0.98666, ".1%")
    (bundle,), kwargs = shown[0]
    assert bundle == {GLUE_PREFIX + "text/plain": "0.987"}
    assert kwargs == {"raw": True, "metadata": {"scrapbook": {"name": "acc", "mime_prefix": GLUE_PREFIX}}}


def test_display_true_shows_the_value(shown):
    glue("n", 12, display=True)
    (bundle,), kwargs = shown[0]
    assert bundle == {"text/plain": "12"} and kwargs["metadata"]["scrapbook"]["mime_prefix"] == ""


@pytest.mark.parametrize("value", [0.5, np.float64(0.5), np.float32(0.5), np.array(0.5), torch.tensor(0.5)])
def test_float_without_format_is_refused(value, shown):
    with pytest.raises(TypeError, match="pass fmt"):
        glue("x", value)
    assert not shown


@pytest.mark.parametrize("value", [np.float32(0.123456), np.array(0.123456), torch.tensor(0.123456)])
def test_floats_of_every_kind_are_rounded(value, shown):
    glue("x", value, ".2f")
    assert shown[0][0][0] == {GLUE_PREFIX + "text/plain": "0.12"}


@pytest.mark.parametrize("value", [3, True, np.int64(3), "text"])
def test_format_only_for_floats(value, shown):
    with pytest.raises(TypeError, match="fmt is only for floats"):
        glue("x", value, ".2f")


@pytest.mark.parametrize("name", ["", None, 3])
def test_name_must_be_a_string(name, shown):
    with pytest.raises(TypeError, match="name must be"):
        glue(name, 1)


def test_non_finite_floats_pass_through(shown):
    glue("x", float("inf"), ".2f")
    assert shown[0][0][0] == {GLUE_PREFIX + "text/plain": "inf"}


@pytest.mark.parametrize("value,expected", [(1.04e-14, "< 1e-10"), (-3e-12, "< 1e-10"), (2.5e-3, "2.50e-03"),
                                            (1e-10, "1.00e-10")])
def test_at_least(value, expected):
    from mathcore.notebook import at_least

    assert at_least(value, ".2e", 1e-10) == expected


def test_at_least_needs_a_positive_floor():
    from mathcore.notebook import at_least

    with pytest.raises(ValueError, match="floor must be positive"):
        at_least(1.0, ".2e", 0)


@pytest.mark.parametrize("value", [np.array([0.1, 0.2]), torch.tensor([0.5]), np.zeros((2, 2), np.float32)])
def test_arrays_of_floats_are_refused(value, shown):
    with pytest.raises(TypeError, match="array of floats"):
        glue("x", value)
    assert not shown


def test_integer_arrays_and_figures_pass(shown):
    glue("counts", np.array([1, 2, 3]))
    assert shown[0][0][0] == {GLUE_PREFIX + "text/plain": "array([1, 2, 3])"}


def test_at_least_refuses_nan():
    from mathcore.notebook import at_least

    with pytest.raises(ValueError, match="value is NaN"):
        at_least(float("nan"), ".2e", 1e-10)
    assert at_least(float("inf"), ".2e", 1e-10) == "inf"


def test_glue_bound_checks_then_glues_the_bound(shown):
    from mathcore.notebook import glue_bound

    glue_bound("diff", -3.2e-6, 1e-5)
    assert shown[0][0][0] == {GLUE_PREFIX + "text/plain": "1e-05"}
    with pytest.raises(AssertionError, match="is not below 1e-05"):
        glue_bound("diff", 2e-5, 1e-5)
    with pytest.raises(ValueError, match="not a finite number"):
        glue_bound("diff", float("nan"), 1e-5)
    with pytest.raises(ValueError, match="bound must be positive"):
        glue_bound("diff", 0.0, 0)
    assert len(shown) == 1                       # nothing glued after a failed check

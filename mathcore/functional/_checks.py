"""Input checks and helpers shared by the functions of ``mathcore.functional`` (private)."""

import functools

import numpy as np
import torch

REDUCTIONS = ("mean", "sum", "none")


def quiet_underflow(func):
    """Decorator: ignore NumPy's underflow flag inside ``func``.

    ``exp(-|z|)`` underflows to 0 for large ``|z|``; that is the correct result,
    not an error, even when the caller runs under ``np.errstate(all="raise")``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return func(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# Input checks (private)
# ---------------------------------------------------------------------------


def kind(x):
    """Readable type name for error messages."""
    if isinstance(x, torch.Tensor):
        return "torch.Tensor"
    if isinstance(x, np.ndarray):
        return "numpy.ndarray"
    return type(x).__name__


def as_numeric(x, name):
    """Return ``x`` as a tensor or ndarray; Python int/float become a 0-d float64 array."""
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return x
    if isinstance(x, np.generic):  # NumPy scalar such as np.float32(1.0)
        return np.asarray(x)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return np.asarray(x, dtype=np.float64)
    raise TypeError(
        f"{name}: expected a NumPy array, a torch tensor or a Python number, got {kind(x)}"
        + (" (wrap it with np.asarray)" if isinstance(x, (list, tuple)) else "")
    )


def float_input(x, name):
    """Check that ``x`` is a floating-point array or tensor (or a Python number)."""
    x = as_numeric(x, name)
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(
                f"{name}: expected a floating-point tensor, got dtype {x.dtype}; "
                f"convert explicitly, e.g. {name}.double()"
            )
    elif not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name}: expected a floating-point array, got dtype {x.dtype}; "
            f"convert explicitly, e.g. {name}.astype(np.float64)"
        )
    return x


def target_like(t, name, z, z_name):
    """Check that target ``t`` matches ``z`` (kind, device, shape); return it in z's dtype."""
    t = as_numeric(t, name)
    if isinstance(z, torch.Tensor) != isinstance(t, torch.Tensor):
        raise TypeError(
            f"{name}: expected the same kind as {z_name} ({kind(z)}), got {kind(t)}"
        )
    if dtype_kind(t) not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {t.dtype}")
    if isinstance(t, torch.Tensor) and t.device != z.device:
        raise ValueError(
            f"{name}: expected a tensor on {z_name}'s device {z.device}, got {t.device}"
        )
    if tuple(t.shape) != tuple(z.shape):
        raise ValueError(
            f"{name}: expected the same shape as {z_name} {tuple(z.shape)}, "
            f"got {tuple(t.shape)}"
        )
    return t.to(z.dtype) if isinstance(t, torch.Tensor) else t.astype(z.dtype, copy=False)


def check_reduction(reduction):
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: expected 'mean', 'sum' or 'none', got {reduction!r}"
        )


def check_not_empty(x, name):
    if x.numel() == 0 if isinstance(x, torch.Tensor) else x.size == 0:
        raise ValueError(f"{name}: expected at least one element, got shape {tuple(x.shape)}")


def check_axis(z, axis, name="z"):
    """Check ``axis`` against ``z`` and return it as a non-negative int."""
    if z.ndim == 0:
        raise ValueError(f"{name}: expected an array with at least 1 dimension, got a 0-d one")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis: expected an int, got {kind(axis)}")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(
            f"axis: expected an int in [{-z.ndim}, {z.ndim}) for {name} with shape "
            f"{tuple(z.shape)}, got {axis}"
        )
    axis = int(axis) % z.ndim
    if z.shape[axis] == 0:
        raise ValueError(f"{name}: axis {axis} is empty (shape {tuple(z.shape)})")
    return axis


def dtype_kind(x):
    """NumPy-style kind of the dtype: 'f' float, 'i'/'u' integer, 'b' bool, 'c' complex."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point():
            return "f"
        if x.is_complex():
            return "c"
        return "b" if x.dtype == torch.bool else "i"
    return x.dtype.kind


def eps(x):
    """Machine epsilon of the floating dtype of ``x``."""
    return torch.finfo(x.dtype).eps if isinstance(x, torch.Tensor) else np.finfo(x.dtype).eps


def to_output(x):
    """0-d NumPy results become NumPy scalars (as NumPy's own functions do)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x[()]
    return x


def reduce(loss, reduction):
    if reduction == "mean":
        return to_output(loss.mean())
    if reduction == "sum":
        return to_output(loss.sum())
    return to_output(loss)

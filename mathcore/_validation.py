"""Input checks shared by the estimators (private).

Every check raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right
kind, wrong value) with a message that names the argument, says what was
expected and shows what was received, e.g.
``ValueError("C: expected a positive number, got -1")``.

The estimators call these checks at the start of ``fit`` (and ``predict``), before
any computation, so a bad argument never costs a half-finished fit.
"""

import numbers
import warnings

import numpy as np
import torch

from .device import resolve_device

__all__ = [
    "check_choice",
    "check_bool",
    "check_int",
    "check_real",
    "check_device",
    "check_dtype",
    "check_features",
    "check_finite",
    "check_targets",
    "encode_labels",
    "check_sample_weight",
    "check_class_weight",
    "to_tensor",
]


# --------------------------------------------------------------------------- #
# Scalars and options
# --------------------------------------------------------------------------- #
def check_choice(name, value, options):
    """Return ``value`` if it is one of ``options``, else raise ``ValueError``."""
    for option in options:
        # ``value == option`` could be an array or raise for odd objects, so
        # compare only hashable scalars of the same kind.
        if value is option or (
            isinstance(value, str) and isinstance(option, str) and value == option
        ):
            return value
    shown = ", ".join(repr(o) for o in options)
    raise ValueError(f"{name}: expected one of {shown}, got {value!r}")


def check_bool(name, value):
    """Return ``bool(value)`` for a Python or NumPy bool, else raise ``TypeError``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name}: expected True or False, got {value!r} of type {type(value).__name__}")


def check_int(name, value, *, low=None, allow_none=False):
    """Return ``value`` as an ``int`` (not bool), optionally ``>= low``."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        expected = "an integer" + (" or None" if allow_none else "")
        raise TypeError(f"{name}: expected {expected}, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return value


def check_real(name, value, *, positive=False, nonnegative=False, allow_inf=False,
               allow_none=False, meaning=""):
    """Return ``value`` as a ``float`` after checking its sign and finiteness.

    ``meaning`` is appended to the expectation in the error message, e.g.
    ``" (the inverse of the L2 strength)"``.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        expected = "a real number" + (" or None" if allow_none else "")
        raise TypeError(
            f"{name}: expected {expected}{meaning}, got {value!r} of type {type(value).__name__}"
        )
    value = float(value)
    if np.isnan(value) or (np.isinf(value) and not allow_inf):
        raise ValueError(f"{name}: expected a finite number{meaning}, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name}: expected a positive number{meaning}, got {value:g}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name}: expected a non-negative number{meaning}, got {value:g}")
    return value


# --------------------------------------------------------------------------- #
# Device and dtype
# --------------------------------------------------------------------------- #
def check_device(device):
    """Resolve an estimator's ``device`` argument to a ``torch.device`` that exists here.

    The same rules as ``mathcore.device.resolve_device`` everywhere in mathcore:
    ``None`` and ``"auto"`` mean ``mathcore.device.default_device()`` (the
    ``MATHCORE_DEVICE`` environment variable if set, else CUDA, then Apple MPS,
    then the CPU); ``"cuda"``, ``"cuda:<index>"`` and ``"mps"`` must exist on this
    machine: asking for a GPU that is not there raises ``ValueError`` instead of
    silently using the CPU. (The estimators' default is ``"cpu"``, which gives the
    same results on every machine.)
    """
    return resolve_device(device)


_DTYPES = {
    "float64": (torch.float64, np.float64),
    "float32": (torch.float32, np.float32),
}


def check_dtype(dtype):
    """Return ``(torch_dtype, numpy_dtype)`` for ``"float64"`` or ``"float32"``.

    NumPy and torch dtype objects (``np.float32``, ``torch.float64``...) are
    accepted too.
    """
    key = None
    if isinstance(dtype, str):
        key = dtype
    elif isinstance(dtype, torch.dtype):
        key = {torch.float64: "float64", torch.float32: "float32"}.get(dtype)
    else:
        try:
            key = np.dtype(dtype).name if dtype is not None else None
        except TypeError:
            key = None
    if key not in _DTYPES:
        raise ValueError(f"dtype: expected 'float64' or 'float32', got {dtype!r}")
    return _DTYPES[key]


# --------------------------------------------------------------------------- #
# Arrays
# --------------------------------------------------------------------------- #
def _first_index(mask):
    """Index tuple of the first True entry of ``mask`` (as plain ints)."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _describe_index(name, index):
    return f"{name}[{', '.join(str(i) for i in index)}]"


def check_features(X, *, name="X"):
    """Check the *kind* of a feature matrix before scikit-learn converts it.

    Catches, with a message naming ``name``: ``None``, sparse matrices, strings
    and other non-numeric objects, complex numbers, arrays that are not 2-D,
    and arrays with no samples or no features. ``X`` itself is not converted
    here, so that scikit-learn can still read DataFrame column names. Numeric
    object arrays such as ``np.array([[1, 2.5]], dtype=object)`` pass; they are
    converted to floats later, as scikit-learn does.

    Returns
    -------
    shape : tuple of int
        ``(n_samples, n_features)``.
    """
    if X is None:
        raise TypeError(f"{name}: expected a 2-D array-like of numbers, got None")
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            f"{name}: expected a dense array, got a sparse matrix of type "
            f"{type(X).__name__}; sparse input is not supported, convert it with "
            f"{name}.toarray()"
        )
    if isinstance(X, torch.Tensor):
        raise TypeError(
            f"{name}: expected a NumPy array or array-like, got a torch.Tensor; "
            f"pass {name}.cpu().numpy()"
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "fiub":
        arr = X  # the common case: nothing to convert, nothing to copy
    else:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name}: expected a 2-D array-like of numbers; could not convert it ({err})") from None

    if arr.dtype.kind in "USa":
        raise TypeError(
            f"{name}: expected numeric features, got strings (dtype {arr.dtype}); "
            "encode categorical features as numbers first (e.g. one-hot)"
        )
    if arr.dtype.kind == "c":
        raise ValueError(f"{name}: expected real numbers, got complex values (dtype {arr.dtype}). "
                         "Complex data not supported")
    if arr.dtype.kind == "O":
        for index, value in np.ndenumerate(arr):
            if isinstance(value, (str, bytes)):
                raise TypeError(
                    f"{name}: expected numeric features, got the string {value!r} at "
                    f"{_describe_index(name, index)}; encode categorical features as numbers first"
                )
            if isinstance(value, complex):
                raise ValueError(f"{name}: expected real numbers, got {value!r} at "
                                 f"{_describe_index(name, index)}. Complex data not supported")
            try:
                float(value)
            except (TypeError, ValueError) as err:
                # ``err`` reads "float() argument must be a string or a real number, not 'dict'"
                raise TypeError(
                    f"{name}: expected numeric features, got an object of type "
                    f"{type(value).__name__} at {_describe_index(name, index)} ({err})"
                ) from None
    elif arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected numeric features, got an array of dtype {arr.dtype}")

    if arr.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array of shape (n_samples, n_features), got a "
            f"{arr.ndim}-D array of shape {arr.shape}. Reshape your data either using "
            f"{name}.reshape(-1, 1) if it has a single feature or {name}.reshape(1, -1) "
            "if it contains a single sample."
        )
    n_samples, n_features = arr.shape
    if n_samples == 0:
        raise ValueError(f"{name}: expected at least 1 sample, got 0 sample(s) (shape={arr.shape})")
    if n_features == 0:
        raise ValueError(
            f"{name}: expected at least 1 feature, got 0 feature(s) (shape={arr.shape}) "
            "while a minimum of 1 is required."
        )
    return arr.shape


def check_finite(X, *, name="X"):
    """Raise ``ValueError`` naming the first NaN or infinity in the float array ``X``.

    The fast path sums ``X`` once with torch (multi-threaded, no temporary array):
    a finite sum proves every entry finite. Only when the sum is not finite (a
    NaN, an infinity, or an overflow of the sum) is ``X`` scanned entry by entry.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        total = torch.from_numpy(np.ascontiguousarray(X) if _negative_strides(X) else X).sum()
    if bool(torch.isfinite(total)):
        return
    bad = ~np.isfinite(X)
    if not bad.any():
        return  # the sum overflowed, the entries are fine
    index = _first_index(bad)
    value = X[index]
    what = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    where = _describe_index(name, index) if X.ndim > 1 else f"{name}[{index[0]}]"
    raise ValueError(
        f"{name}: expected finite values, got {what} at {where} "
        f"({int(bad.sum())} non-finite value(s) in total; NaN and inf are not allowed)"
    )


def check_targets(y, n_samples):
    """Check class labels ``y`` before they are encoded.

    Raises for ``None``, a length different from ``n_samples``, non-finite float
    labels and continuous (regression) targets. Returns ``y`` as a NumPy array
    (not a copy when it already is one).
    """
    from sklearn.utils.multiclass import type_of_target

    if y is None:
        raise ValueError(
            "y: this estimator requires y to be passed, but the target y is None; "
            "expected an array of n_samples class labels"
        )
    if hasattr(y, "toarray"):
        raise TypeError(f"y: expected a dense 1-D array of class labels, got a sparse matrix "
                        f"of type {type(y).__name__}")
    y_arr = np.asarray(y)
    if y_arr.ndim == 0:
        raise ValueError(f"y: expected a 1-D array of class labels, got a scalar {y_arr!r}")
    if y_arr.shape[0] != n_samples:
        raise ValueError(
            f"X and y: expected the same number of samples, got X with {n_samples} "
            f"row(s) and y with {y_arr.shape[0]} label(s)"
        )
    if y_arr.dtype.kind == "c":
        raise ValueError("y: expected real class labels, got complex values. Complex data not supported")
    if y_arr.dtype.kind == "f":
        bad = ~np.isfinite(y_arr)
        if bad.any():
            index = _first_index(bad)
            raise ValueError(
                f"y: expected finite class labels, got {y_arr[index]} at y{list(index)} "
                f"({int(bad.sum())} non-finite label(s); NaN and inf are not allowed)"
            )
    if y_arr.dtype.kind == "f":
        # Float labels must be whole numbers (0.0, 1.0, ...), as in scikit-learn; a
        # vectorised test instead of type_of_target, which sorts y.
        fractional = y_arr != np.trunc(y_arr)
        if fractional.any():
            raise ValueError(
                f"y: expected discrete class labels, got continuous values (e.g. "
                f"{y_arr[fractional][0].item()!r}). Unknown label type: continuous. For "
                "probabilities or regression targets, threshold or encode them as classes first."
            )
    elif y_arr.dtype.kind not in "biu" and (y_arr.ndim == 1 or (y_arr.ndim == 2 and y_arr.shape[1] == 1)):
        kind = type_of_target(y_arr, input_name="y")
        if kind in ("continuous", "continuous-multioutput"):
            raise ValueError(
                f"y: expected discrete class labels, got continuous values (e.g. "
                f"{y_arr.ravel()[0]!r}). Unknown label type: {kind}. For probabilities or "
                "regression targets, threshold or encode them as classes first."
            )
        if kind == "unknown":
            raise ValueError(
                f"y: expected class labels (numbers or strings), got values of dtype "
                f"{y_arr.dtype}. Unknown label type: {kind}"
            )
    return y_arr


def encode_labels(y):
    """Return ``(classes, index)``: the sorted distinct labels and each label's position.

    Like ``np.unique(y, return_inverse=True)``, with a fast path for numeric labels
    that take only two values (the usual binary case), which avoids sorting ``y``.
    """
    if y.dtype.kind in "biuf" and y.size > 0:
        lo, hi = y.min(), y.max()
        is_hi = y == hi
        if lo != hi and (is_hi | (y == lo)).all():
            return np.array([lo, hi], dtype=y.dtype), is_hi.view(np.uint8)  # 0 or 1, no copy
    try:
        classes, index = np.unique(y, return_inverse=True)
    except TypeError:
        raise TypeError(
            "y: expected labels of one kind (all numbers or all strings), got a mix of "
            f"types {sorted({type(v).__name__ for v in y})}"
        ) from None
    return classes, index.reshape(-1)


def check_sample_weight(sample_weight, n_samples, dtype):
    """``sample_weight`` as a float array of length ``n_samples`` (``None``: all ones, returned as None).

    Weights must be finite, ``>= 0`` and not all zero; a scalar or a list is
    accepted, anything else raises naming ``sample_weight``.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, (str, bytes, dict)):
        raise TypeError(f"sample_weight: expected an array of numbers, got {type(sample_weight).__name__}")
    try:
        s = np.asarray(sample_weight)
    except (TypeError, ValueError) as err:
        raise TypeError(f"sample_weight: expected an array of numbers, got {type(sample_weight).__name__}") from err
    if s.dtype.kind not in "biuf" or s.dtype == bool:
        raise TypeError(f"sample_weight: expected real numbers, got an array of dtype {s.dtype}")
    if s.ndim == 0:
        s = np.full(n_samples, float(s))
    if s.shape != (n_samples,):
        raise ValueError(f"sample_weight: expected shape ({n_samples},) (one weight per sample of X), "
                         f"got shape {s.shape}")
    s = s.astype(dtype)
    if not np.isfinite(s).all():
        raise ValueError("sample_weight: expected finite weights, got NaN or inf")
    if (s < 0).any():
        raise ValueError(f"sample_weight: expected weights >= 0, got {s[s < 0][0]:g}")
    if not (s > 0).any():
        raise ValueError("sample_weight: expected at least one positive weight, got all zeros")
    return s


def check_class_weight(class_weight, classes, index, sample_weight=None):
    """One weight per sample from ``class_weight``: None, ``"balanced"`` or ``{label: weight}``.

    ``"balanced"`` gives class ``k`` the weight ``sum(s) / (n_classes * sum_{i in k} s_i)``
    with ``s`` the sample weights (all 1 by default: ``n_samples / (n_classes * n_k)``),
    scikit-learn's rule; a dict must name only labels present in ``y`` (a label
    not named keeps weight 1). Returns None for None.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight: expected None, 'balanced' or a dict, got {class_weight!r}")
        s = np.ones(len(index)) if sample_weight is None else sample_weight
        counts = np.bincount(index, weights=s, minlength=len(classes))
        if not (counts > 0).all():
            raise ValueError("class_weight: 'balanced' needs a positive total sample weight in every class")
        per_class = s.sum() / (len(classes) * counts)
        return per_class[index]
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight: expected None, 'balanced' or a dict, got {type(class_weight).__name__}")
    per_class = np.ones(len(classes))
    known = {label.item() if hasattr(label, "item") else label: k for k, label in enumerate(classes)}
    for label, weight in class_weight.items():
        key = label.item() if hasattr(label, "item") else label
        if key not in known:
            raise ValueError(f"class_weight: label {label!r} is not a class of y; classes are {classes.tolist()}")
        per_class[known[key]] = check_real(f"class_weight[{label!r}]", weight, positive=True)
    return per_class[index]


def _negative_strides(a):
    return any(s < 0 for s in a.strides)


def to_tensor(a, *, dtype, device):
    """Turn the NumPy array ``a`` into a tensor of ``dtype`` on ``device``.

    Shares memory with ``a`` when it already has the right dtype and lives on the
    CPU (``torch.from_numpy``), so a float64 ``X`` of several GB is not copied.
    The estimators never write into these tensors, which is why a read-only
    array is fine (torch's warning about it is silenced).
    """
    if _negative_strides(a):
        a = np.ascontiguousarray(a)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        t = torch.from_numpy(a)
    return t.to(device=device, dtype=dtype)

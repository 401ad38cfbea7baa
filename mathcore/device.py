"""Choosing, checking and describing the torch device that mathcore computes on.

The default is the fastest device present: a CUDA GPU, then Apple's MPS, then
the CPU. Set the environment variable ``MATHCORE_DEVICE`` (e.g. ``cpu``,
``cuda``, ``cuda:1``, ``mps``, or ``auto`` for the default order) to override
the choice for a whole run; an empty value counts as unset.

GPU work is asynchronous: a CUDA call returns before the kernel has finished.
Call ``synchronize(device)`` before reading a clock.
"""

import contextlib
import os

import torch

__all__ = ["ENV_VAR", "default_device", "resolve_device", "synchronize", "describe_device", "torch_threads"]

ENV_VAR = "MATHCORE_DEVICE"
_EXPECTED = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def _check_available(device, name, received):
    """Return ``device`` with an explicit index where tensors report one, or raise ValueError."""
    if device.type == "cpu":
        if device.index not in (None, 0):
            raise ValueError(f"{name}: there is only one CPU device, got {received!r}")
        return torch.device("cpu")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}: CUDA is not available on this machine (torch {torch.__version__}, "
                f"torch.cuda.is_available() is False), got {received!r}; use 'cpu' or 'auto'"
            )
        count = torch.cuda.device_count()
        index = torch.cuda.current_device() if device.index is None else device.index
        if index >= count:
            raise ValueError(
                f"{name}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}, "
                f"got {received!r}"
            )
        return torch.device("cuda", index)  # tensors report cuda:0, not cuda
    if device.type == "mps":
        if not _mps_available():
            raise ValueError(f"{name}: Apple MPS is not available on this machine, got {received!r}; "
                             "use 'cpu' or 'auto'")
        if device.index not in (None, 0):
            raise ValueError(f"{name}: there is only one MPS device, got {received!r}")
        return torch.device("mps", 0)
    raise ValueError(f"{name}: expected {_EXPECTED}, got {received!r}")


def _parse(device, name):
    """Turn a string or torch.device into an available torch.device; None/'auto' -> None."""
    if isinstance(device, torch.device):
        return _check_available(device, name, str(device))
    if not isinstance(device, str):
        raise TypeError(
            f"{name}: expected None, a string or a torch.device, got {device!r} of type {type(device).__name__}"
        )
    if device == "auto":
        return None
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name}: expected {_EXPECTED}, got {device!r}") from None
    return _check_available(parsed, name, device)


def default_device():
    """The device mathcore uses when none is given.

    Order: the ``MATHCORE_DEVICE`` environment variable if it is set (and not
    ``auto`` or empty); otherwise CUDA if available, then Apple MPS, then the CPU.

    Returns
    -------
    ``torch.device``
        ``cuda:N`` (the current CUDA device), ``mps:0`` or ``cpu``.

    Raises
    ------
    ValueError
        If ``MATHCORE_DEVICE`` names an unknown device or one this machine lacks.

    Examples
    --------
    >>> default_device()  # on a machine without a GPU  # doctest: +SKIP
    device(type='cpu')
    """
    value = os.environ.get(ENV_VAR, "")
    if value != "":
        chosen = _parse(value, ENV_VAR)
        if chosen is not None:
            return chosen
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if _mps_available():
        return torch.device("mps", 0)
    return torch.device("cpu")


def resolve_device(device=None):
    """Turn a user's device argument into a checked torch.device.

    Parameters
    ----------
    device : ``None``, ``str`` or ``torch.device``, default ``None``
        ``None`` or ``"auto"`` gives ``default_device()``. A string such as
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``, or a torch.device, is
        checked to exist on this machine. ``"cuda"`` without an index resolves to
        the current CUDA device (``cuda:0`` unless changed), so the result
        compares equal to ``tensor.device`` of tensors created there.

    Returns
    -------
    ``torch.device``

    Raises
    ------
    TypeError
        If ``device`` is not None, a string or a torch.device.
    ValueError
        If the device is unknown or not available here (e.g. ``"cuda"`` on a
        CPU-only machine), or ``MATHCORE_DEVICE`` is invalid when it is consulted.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None:
        return default_device()
    chosen = _parse(device, "device")
    return default_device() if chosen is None else chosen


def synchronize(device=None):
    """Wait until all queued work on ``device`` has finished.

    Needed before reading a clock when timing GPU code, because CUDA and MPS
    calls return before their kernels finish. A no-op on the CPU.

    Parameters
    ----------
    device : ``None``, ``str`` or ``torch.device``, default ``None``
        Anything ``resolve_device`` accepts.

    Returns
    -------
    ``None``

    Raises
    ------
    TypeError, ValueError
        As ``resolve_device``.
    """
    device = resolve_device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def describe_device(device=None):
    """A short human-readable description of a device, for logs and the status page.

    Parameters
    ----------
    device : ``None``, ``str`` or ``torch.device``, default ``None``
        Anything ``resolve_device`` accepts.

    Returns
    -------
    ``str``
        For example ``"CPU (2 threads)"``, ``"NVIDIA H100 80GB HBM3 (cuda:0, 79 GiB)"``
        or ``"Apple MPS (mps:0)"``.

    Raises
    ------
    TypeError, ValueError
        As ``resolve_device``.

    Examples
    --------
    >>> describe_device("cpu")  # doctest: +SKIP
    'CPU (2 threads)'
    """
    device = resolve_device(device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({device}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return f"Apple MPS ({device})"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


@contextlib.contextmanager
def torch_threads(n):
    """Limit the calling thread's torch operations to ``n`` threads inside a ``with`` block.

    The previous setting is restored on exit, also after an exception.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected an integer >= 1 (a number of threads), got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)

"""The printer behind ``codegen.generate``: SymPy expression -> element-wise array code, and the backends.

``Sigmoid`` and ``Softplus`` print as ``sigmoid(...)`` and ``softplus(...)``, which each
backend maps to a stable library function; sums print positive terms first.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["ArrayCodePrinter", "NAMESPACES", "BACKENDS", "check_backend"]

#: Names accepted by the ``backend`` argument.
BACKENDS = ("numpy", "torch")


class ArrayCodePrinter(PythonCodePrinter):
    """Prints element-wise array code with backend-neutral function names."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": False, "strict": True})

    def _print_Add(self, expr, order=None):
        # Positive terms first, then subtract the others: "sigmoid(z) - t".
        positive = [a for a in expr.args if not a.could_extract_minus_sign()]
        negative = [-a for a in expr.args if a.could_extract_minus_sign()]
        if not positive:
            text = "-" + self.parenthesize(negative[0], PRECEDENCE["Mul"])
            negative = negative[1:]
        else:
            text = " + ".join(self.parenthesize(a, PRECEDENCE["Add"]) for a in positive)
        for term in negative:
            text += " - " + self.parenthesize(term, PRECEDENCE["Add"], strict=True)
        return text

    def _print_Sigmoid(self, expr):
        return f"sigmoid({self._print(expr.args[0])})"

    def _print_Softplus(self, expr):
        return f"softplus({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        value_at_zero = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"heaviside({self._print(expr.args[0])}, {self._print(value_at_zero)})"

    def _print_Max(self, expr):
        text = self._print(expr.args[0])
        for arg in expr.args[1:]:
            text = f"maximum({text}, {self._print(arg)})"
        return text

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"


def numpy_namespace() -> dict:
    import numpy as np
    from scipy.special import expit

    return {
        "sigmoid": expit,
        "softplus": lambda z: np.logaddexp(0.0, z),
        "exp": np.exp,
        "log": np.log,
        "log1p": np.log1p,
        "sqrt": np.sqrt,
        "tanh": np.tanh,
        "heaviside": np.heaviside,
        "maximum": np.maximum,
        "abs": np.abs,
        "pi": math.pi,
        "e": math.e,
    }


def torch_namespace() -> dict:
    import torch

    def softplus(z):
        # log1p(exp(z)) up to z = 40, z above: exact in float32 and float64 (the
        # remainder log1p(exp(-40)) ~ 4e-18 is below half an ulp of 40), in one pass.
        return torch.nn.functional.softplus(z, threshold=40.0)

    def heaviside(z, value_at_zero):
        return torch.heaviside(z, torch.as_tensor(float(value_at_zero), dtype=z.dtype))

    def maximum(a, b):
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        return torch.maximum(a, b)

    return {
        "sigmoid": torch.sigmoid,
        "softplus": softplus,
        "exp": torch.exp,
        "log": torch.log,
        "log1p": torch.log1p,
        "sqrt": torch.sqrt,
        "tanh": torch.tanh,
        "heaviside": heaviside,
        "maximum": maximum,
        "abs": torch.abs,
        "pi": math.pi,
        "e": math.e,
    }


NAMESPACES = {"numpy": numpy_namespace, "torch": torch_namespace}


def check_backend(backend) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    return backend

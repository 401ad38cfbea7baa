"""The containers of the derivations: ``Derivation`` (one checkable claim) and ``DerivationGroup``.

How a claim is checked: the named functions ``Sigmoid``/``Softplus`` used for display
are replaced by their definitions, unevaluated ``Derivative``/``Limit``/``Subs`` are
evaluated by SymPy, and then ``verify`` proves the identity with ``simplify`` or,
if that fails, checks it at random rational points with 50 digits. Inequalities are
checked numerically at random rational points (or exactly at the given numbers).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass

import sympy as sp

from ..expressions import explicit
from ..verify import NUMERIC_TOLERANCE, VerifyResult, random_value, verify

__all__ = ["Derivation", "DerivationGroup", "combine", "verify_inequality", "real", "one_size", "check_size"]

_RELATIONS = {"=": "=", "!=": r"\neq", "<": "<", "<=": r"\le", ">": ">", ">=": r"\ge"}


# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------


def _evaluate(side):
    """Make one side of a claim concrete: definitions in, derivatives/limits done."""
    if isinstance(side, sp.ConditionSet):
        return sp.solveset(side.condition, side.sym, side.base_set)
    if isinstance(side, sp.Set):
        return side
    if isinstance(side, sp.matrices.MatrixExpr):
        if not all(isinstance(dim, int | sp.Integer) for dim in side.shape):
            return side  # symbolic size: verify proves it by matrix algebra
        side = side.as_explicit()
    return explicit(side).doit()


@dataclass(frozen=True)
class Derivation:
    r"""One checkable claim ``lhs <relation> rhs``, with optional intermediate steps.

    Attributes
    ----------
    key : str
        Identifier of the derivation in ``DERIVATIONS``, e.g. ``"D1a"``.
    title : str
        Short name.
    statement : str
        The claim in words.
    lhs, rhs : sympy object
        The two sides.  They may use the display functions ``Sigmoid``/``Softplus``
        and unevaluated ``Derivative``/``Limit``/``Subs``; ``verify`` evaluates them.
    relation : str
        One of ``"="``, ``"!="``, ``"<"``, ``"<="``, ``">"``, ``">="``.
    steps : tuple
        Intermediate expressions between ``lhs`` and ``rhs`` (for ``"="`` only).
    display_lhs, display_rhs : str or None
        LaTeX to show instead of the (large) explicit sides, e.g. for matrix forms.
    scope : str or None
        What a check of this object covers when that is less than the general claim: a
        matrix identity built at one size says so ("for N = 4, D = 3 only"); copied into
        the ``VerifyResult``.
    """

    key: str
    title: str
    statement: str
    lhs: object
    rhs: object
    relation: str = "="
    steps: tuple = ()
    display_lhs: str | None = None
    display_rhs: str | None = None
    scope: str | None = None

    def __post_init__(self):
        if self.relation not in _RELATIONS:
            raise ValueError(
                f"relation: expected one of {sorted(_RELATIONS)}, got {self.relation!r}"
            )

    def _side_latex(self, side, override):
        return override if override is not None else sp.latex(side)

    def latex(self) -> str:
        r"""Display-ready LaTeX of the claim, e.g. ``\sigma(-z) = 1 - \sigma(z)``.

        With intermediate steps, an ``aligned`` environment with one step per line.

        Returns
        -------
        str
        """
        lhs = self._side_latex(self.lhs, self.display_lhs)
        rhs = self._side_latex(self.rhs, self.display_rhs)
        relation = _RELATIONS[self.relation]
        if not self.steps:
            return f"{lhs} {relation} {rhs}"
        lines = [f"{lhs} &= {sp.latex(self.steps[0])}"]
        lines += [f"&= {sp.latex(step)}" for step in self.steps[1:]]
        lines.append(f"&= {rhs}")
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def latex_row(self) -> str:
        """The claim as one row of an ``aligned`` display (``lhs &= rhs``)."""
        lhs = self._side_latex(self.lhs, self.display_lhs)
        rhs = self._side_latex(self.rhs, self.display_rhs)
        return f"{lhs} &{_RELATIONS[self.relation]} {rhs}"

    def evaluated(self):
        """Both sides with definitions substituted and derivatives/limits evaluated.

        Returns
        -------
        tuple
            ``(lhs, rhs)``.
        """
        return _evaluate(self.lhs), _evaluate(self.rhs)

    def verify(self, **kwargs) -> VerifyResult:
        """Check the claim.

        Parameters
        ----------
        **kwargs
            Passed to ``verify`` (``n_points``, ``seed``, ``positive``, ...).

        Returns
        -------
        VerifyResult
            ``bool(result)`` is True when the claim holds; ``result.how`` says how it was
            established, with this derivation's ``scope``.
        """
        result = self._check(**kwargs)
        return dataclasses.replace(result, scope=self.scope) if self.scope else result

    def _check(self, **kwargs) -> VerifyResult:
        lhs, rhs = self.evaluated()
        if isinstance(lhs, sp.Set) or isinstance(rhs, sp.Set):
            return VerifyResult(holds=bool(lhs == rhs), method="simplify")
        if self.relation == "=":
            chain = [lhs, *(_evaluate(step) for step in self.steps), rhs]
            results = [verify(a, b, **kwargs) for a, b in itertools.pairwise(chain)]
            return combine(results)
        if self.relation == "!=":
            equal = verify(lhs, rhs, **kwargs)
            return VerifyResult(
                holds=not equal.holds,
                method=equal.method,
                max_abs_error=equal.max_abs_error,
                counterexample=equal.counterexample,
                n_points=equal.n_points,
            )
        return verify_inequality(lhs, rhs, self.relation, **kwargs)


@dataclass(frozen=True)
class DerivationGroup:
    r"""Several derivations shown and checked together (e.g. all of D7).

    Iterate over it, index it by position or by key (``group["D7b"]``), show it
    with ``latex`` and check it with ``verify``.
    """

    key: str
    title: str
    items: tuple

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        if isinstance(index, str):
            for item in self.items:
                if item.key == index:
                    return item
            raise KeyError(f"index: no derivation {index!r} in {self.key}; have {self.keys()}")
        return self.items[index]

    def keys(self) -> list:
        """Keys of the derivations in this group, in order."""
        return [item.key for item in self.items]

    def latex(self) -> str:
        """All claims as one ``aligned`` display, one claim per line.

        Returns
        -------
        str
        """
        rows = [item.latex_row() for item in self.items]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def verify_each(self, **kwargs) -> dict:
        """Check every claim; return ``{key: VerifyResult}``."""
        return {item.key: item.verify(**kwargs) for item in self.items}

    def verify(self, **kwargs) -> VerifyResult:
        """Check every claim; the result holds only if all of them hold.

        Returns
        -------
        VerifyResult
        """
        return combine(list(self.verify_each(**kwargs).values()))


def combine(results: list) -> VerifyResult:
    """One VerifyResult summarising several."""
    failed = [r for r in results if not r.holds]
    method = "simplify" if all(r.method == "simplify" for r in results) else "numeric"
    scopes = list(dict.fromkeys(r.scope for r in results if r.scope))
    return VerifyResult(
        holds=not failed,
        method=method,
        max_abs_error=max((r.max_abs_error for r in results), default=0.0),
        counterexample=failed[0].counterexample if failed else None,
        n_points=sum(r.n_points for r in results),
        scope="; ".join(scopes) or None,
    )


def verify_inequality(lhs, rhs, relation, *, n_points=20, seed=0, positive=(), **_):
    """Check ``lhs <relation> rhs`` entry-wise at random rational points (50 digits)."""
    difference = lhs - rhs
    entries = list(difference) if isinstance(difference, sp.MatrixBase) else [difference]
    symbols = sorted(set().union(*(e.free_symbols for e in entries)), key=str)
    rng = random.Random(seed)
    compare = {
        "<": lambda v: v < 0,
        "<=": lambda v: v <= NUMERIC_TOLERANCE,
        ">": lambda v: v > 0,
        ">=": lambda v: v >= -NUMERIC_TOLERANCE,
    }[relation]
    worst, worst_point = 0.0, None
    for _ in range(n_points if symbols else 1):
        point = {s: random_value(s, rng, s in positive) for s in symbols}
        for entry in entries:
            value = sp.N(entry.xreplace(point), 50)
            if not compare(value):
                violation = float(abs(value)) if value.is_finite else float("inf")
                if worst_point is None or violation > worst:
                    worst, worst_point = max(violation, 0.0), point
    return VerifyResult(
        holds=worst_point is None,
        method="numeric",
        max_abs_error=worst,
        counterexample=worst_point,
        n_points=n_points if symbols else 1,
    )


def real(*names):
    return sp.symbols(names, real=True) if len(names) > 1 else sp.Symbol(names[0], real=True)


def one_size(**sizes) -> str:
    """The scope of a claim built at one fixed size, e.g. "for N = 4, D = 3 only (one size)"."""
    shown = ", ".join(f"{name} = {value}" for name, value in sizes.items())
    return f"for {shown} only (one fixed size, not every size)"


def check_size(value, name, low=1, high=8):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"{name}: expected an int in [{low}, {high}] (symbolic sizes must stay small), "
            f"got {value!r}"
        )

"""Tests of mathcore.symbolic: expressions, verify(), derivations D1-D17, chain rule, codegen.

Section 1 repeats every SymPy assertion the course makes, written as the
chapters state them but built from the package's expressions.  Later sections test the API:
registry, LaTeX, chain rule, verify() (including wrong identities), code generation
and bad input.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import scipy.special
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mathcore.symbolic as ms

z, t, a, b, w, x = sp.symbols("z t a b w x", real=True)
p = sp.Symbol("p", positive=True)
sig = ms.sigmoid
softplus = ms.softplus


def rationals(n, seed, low=-30, high=30, den=7):
    rng = random.Random(seed)
    values = []
    while len(values) < n:
        num = rng.randint(low, high)
        if num:
            values.append(sp.Rational(num, rng.choice([den, den + 4, den + 6])))
    return values


# ---------------------------------------------------------------------------
# 1. The brief's assertions, D1-D17
# ---------------------------------------------------------------------------


def test_d1_sigmoid_derivatives():
    s = sig(z)
    assert s == 1 / (1 + sp.exp(-z))
    assert sp.simplify(sp.diff(s, z) - s * (1 - s)) == 0
    assert sp.simplify(sp.diff(s, z, 2) - s * (1 - s) * (1 - 2 * s)) == 0
    assert sp.diff(s, z).subs(z, 0) == sp.Rational(1, 4)


def test_d2_symmetry_and_tanh():
    assert sp.simplify(sig(-z) - (1 - sig(z))) == 0
    assert sp.simplify((sig(z) - (1 + sp.tanh(z / 2)) / 2).rewrite(sp.exp)) == 0


def test_d3_logit_inverse():
    assert sp.simplify(sig(ms.logit(p)) - p) == 0
    assert sp.simplify(ms.logit(sig(z)) - z) == 0
    assert sp.simplify(sp.diff(ms.logit(p), p) - 1 / (p * (1 - p))) == 0


@pytest.mark.parametrize("tv", [0, 1, sp.Rational(3, 10)])
def test_d4_bernoulli_nll_is_softplus_form(tv):
    s = sig(z)
    nll = -(t * sp.log(s) + (1 - t) * sp.log(1 - s))
    assert sp.simplify((nll - (softplus(z) - t * z)).subs(t, tv)) == 0
    # the package's two forms of the NLL agree too
    assert sp.simplify(
        ms.bernoulli_nll(z, tv, form="probability") - ms.bernoulli_nll(z, tv, form="softplus")
    ) == 0


def test_d4_softplus_difference_and_stable_form():
    assert sp.simplify(softplus(z) - softplus(-z) - z) == 0
    stable = sp.Max(z, 0) + sp.log(1 + sp.exp(-sp.Abs(z))) - softplus(z)
    points = rationals(20, seed=1)
    assert any(v > 0 for v in points) and any(v < 0 for v in points)
    for v in points:
        assert abs(sp.N(stable.subs(z, v), 50)) < 1e-25


@pytest.mark.parametrize("tv", [0, 1])
def test_d4_product_form(tv):
    lhs = (sp.exp(z) / (1 + sp.exp(z))) ** t * (1 / (1 + sp.exp(z))) ** (1 - t)
    assert sp.simplify((lhs - sp.exp(t * z) / (1 + sp.exp(z))).subs(t, tv)) == 0
    assert sp.simplify(ms.bernoulli_likelihood(z, tv) - sp.exp(tv * z) / (1 + sp.exp(z))) == 0


@pytest.fixture(scope="module")
def data43():
    return ms.symbolic_data(4, 3)


def test_d5_gradient_matrix_form(data43):
    X, wv, tv = data43
    Z = X * wv
    loss = ms.logistic_loss(X, wv, tv)
    assert loss == sp.Add(*[softplus(Z[i]) - tv[i] * Z[i] for i in range(4)])
    gradient = sp.Matrix([sp.diff(loss, wj) for wj in wv])
    residual = gradient - X.T * (sig(Z) - tv)
    assert all(sp.simplify(e) == 0 for e in residual)


def test_d6_hessian_is_xtsx(data43):
    X, wv, tv = data43
    Z = X * wv
    S = sp.diag(*[sig(Z[i]) * (1 - sig(Z[i])) for i in range(4)])
    H = sp.hessian(ms.logistic_loss(X, wv, tv), list(wv))
    assert all(sp.simplify(e) == 0 for e in H - X.T * S * X)


def test_d6_quadratic_form_is_sum_of_squares():
    X = ms.symbolic_matrix("x", 4, 3)
    u = ms.symbolic_matrix("u", 3, 1)
    s = ms.symbolic_matrix("s", 4, 1, positive=True)
    S = sp.diag(*s)
    lhs = (u.T * X.T * S * X * u)[0, 0]
    rhs = sum(s[i] * (X[i, :] * u)[0, 0] ** 2 for i in range(4))
    assert sp.expand(lhs - rhs) == 0


def test_d6_hessian_eigenvalues_nonnegative_at_random_points():
    derivation = ms.logistic_hessian(4, 3)
    H = derivation.evaluated()[0]
    symbols = sorted(H.free_symbols, key=str)
    for seed in range(5):
        point = dict(zip(symbols, rationals(len(symbols), seed=seed), strict=True))
        numeric = np.array(sp.N(H.xreplace(point), 30).tolist(), dtype=float)
        assert np.linalg.eigvalsh(numeric).min() > -1e-12


def test_d7_mse_sigmoid():
    sw = sig(w * x + b)
    mse = sp.Rational(1, 2) * (sw - t) ** 2
    assert sp.simplify(sp.diff(mse, w) - (sw - t) * sw * (1 - sw) * x) == 0
    assert sp.simplify(sp.diff(mse, b) - (sw - t) * sw * (1 - sw)) == 0
    assert mse == ms.mse_sigmoid(w * x + b, t)
    s = sig(z)
    assert sp.limit(sp.diff(sp.Rational(1, 2) * (s - 1) ** 2, z), z, -sp.oo) == 0
    assert sp.limit(sp.diff(softplus(z) - z, z), z, -sp.oo) == -1
    assert sp.simplify(sp.diff(sp.Rational(1, 2) * (s - 1) ** 2, z, 2) - s * (1 - s) ** 2 * (3 * s - 1)) == 0
    assert sp.simplify(s.subs(z, -sp.log(2)) - sp.Rational(1, 3)) == 0
    d2 = sp.diff(sp.Rational(1, 2) * (s - t) ** 2, z, 2)
    value = sp.N(d2.subs({t: 1, z: -3}))
    assert value < 0
    assert abs(value - (-0.0369)) < 1e-4
    assert sp.simplify(sp.diff(softplus(z) - t * z, z, 2) - s * (1 - s)) == 0


@pytest.fixture(scope="module")
def logits3():
    return ms.symbolic_matrix("z", 3, 1)


def test_d8_softmax_jacobian_sum_and_shift(logits3):
    P = ms.softmax(logits3)
    J = P.jacobian(logits3)
    assert all(sp.simplify(e) == 0 for e in J - (sp.diag(*P) - P * P.T))
    assert sp.simplify(sum(P) - 1) == 0
    c = sp.Symbol("c", real=True)
    Pc = ms.softmax(logits3 + c * sp.ones(3, 1))
    assert all(sp.simplify(e) == 0 for e in Pc - P)


@pytest.mark.parametrize("c", [0, 1, 2])
def test_d9_softmax_cross_entropy_gradient_one_hot(logits3, c):
    y = sp.Matrix([int(k == c) for k in range(3)])
    P = ms.softmax(logits3)
    ce = ms.softmax_cross_entropy(logits3, y)
    grad_z = sp.Matrix([sp.diff(ce, zk) for zk in logits3])
    assert all(sp.simplify(e) == 0 for e in grad_z - (P - y))
    lse = -logits3[c] + ms.log_sum_exp(logits3)
    for v in range(10):
        point = dict(zip(logits3, rationals(3, seed=v), strict=True))
        assert abs(sp.N((ce - lse).subs(point), 50)) < 1e-25


def test_d10_two_class_softmax():
    z1, z2 = sp.symbols("z_1 z_2", real=True)
    assert sp.simplify(sp.exp(z1) / (sp.exp(z1) + sp.exp(z2)) - sig(z1 - z2)) == 0


def test_d11_relu_derivative_away_from_zero_and_affine_collapse():
    dr = sp.diff(ms.relu(z), z)
    for v in (sp.Rational(1, 3), 2, 17):
        assert dr.subs(z, v) == 1
    for v in (-sp.Rational(1, 3), -2, -17):
        assert dr.subs(z, v) == 0
    # PyTorch pins 0 at the kink; SymPy's Heaviside can be told to do the same.
    assert dr.subs(sp.Heaviside(z), sp.Heaviside(z, 0)).subs(z, 0) == 0
    x_in = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.relu(x_in).sum().backward()
    assert x_in.grad.item() == 0.0
    A1, A2 = ms.symbolic_matrix("A", 3, 2), ms.symbolic_matrix("B", 2, 3)
    xv, b1, b2 = ms.symbolic_matrix("x", 2, 1), ms.symbolic_matrix("c", 3, 1), ms.symbolic_matrix("d", 2, 1)
    assert sp.simplify((A2 * (A1 * xv + b1) + b2) - ((A2 * A1) * xv + (A2 * b1 + b2))) == sp.zeros(2, 1)


def test_d12_chain_rule_and_impossible_stationarity():
    assert sp.simplify(sp.diff(-t * w * x + sp.log(1 + sp.exp(w * x)), w) - x * (sig(w * x) - t)) == 0
    assert sp.simplify((-t / p + (1 - t) / (1 - p)) * p * (1 - p) * x - (p - t) * x) == 0
    assert sp.solveset(sp.Eq(sp.exp(a), 1 + sp.exp(a)), a, sp.S.Reals) == sp.S.EmptySet
    for v in rationals(20, seed=3):
        assert abs(sp.N((softplus(a) - a - softplus(-a)).subs(a, v), 50)) < 1e-25
    assert sp.limit(softplus(-a), a, sp.oo) == 0
    assert sp.simplify(sp.diff(softplus(-a), a) + sig(-a)) == 0


def test_d13_newton_step_equals_irls():
    derivation = ms.newton_equals_irls()
    newton, irls = derivation.lhs, derivation.rhs
    assert newton.shape == (2, 1)
    assert all(e.is_Rational for e in newton)  # exact arithmetic, no floats
    assert newton - irls == sp.zeros(2, 1)


def test_d14_separable_toy_has_no_mle():
    lam = sp.Symbol("lam", positive=True)
    L = sum(softplus(lam * xi) - ti * lam * xi for xi, ti in ms.SEPARABLE_TOY)
    assert ms.SEPARABLE_TOY == ((-2, 0), (-1, 0), (1, 1), (3, 1))
    for v in (sp.Rational(1, 10), 1, 5, 20):
        assert sp.N(sp.diff(L, lam).subs(lam, v)) < 0
    assert sp.limit(L, lam, sp.oo) == 0


def test_d15_l2_gradient_hessian_and_finite_minimiser():
    X, wv, tv = ms.symbolic_data(3, 2)
    lam = sp.Symbol("lambda", positive=True)
    loss = ms.logistic_loss(X, wv, tv) + ms.l2_penalty(wv, lam)
    Z = X * wv
    gradient = sp.Matrix([sp.diff(loss, wj) for wj in wv])
    assert all(sp.simplify(e) == 0 for e in gradient - (X.T * (sig(Z) - tv) + lam * wv))
    S = sp.diag(*[sig(Z[i]) * (1 - sig(Z[i])) for i in range(3)])
    H = sp.hessian(loss, list(wv))
    assert all(sp.simplify(e) == 0 for e in H - (X.T * S * X + lam * sp.eye(2)))
    penalised = sum(softplus(w * xi) - ti * w * xi for xi, ti in ms.SEPARABLE_TOY) + w**2 / 2
    slope = sp.diff(penalised, w)
    assert sp.N(slope.subs(w, sp.Rational(1, 10))) < 0
    assert sp.N(slope.subs(w, 10)) > 0


def test_d16_log_odds():
    s = sig(z)
    assert sp.simplify(sp.log(s / (1 - s)) - z) == 0


def test_d17_loss_does_not_split_over_coordinates():
    w1, w2, x1, x2 = sp.symbols("w_1 w_2 x_1 x_2", real=True)
    joint = softplus(w1 * x1 + w2 * x2)
    split = softplus(w1 * x1) + softplus(w2 * x2)
    point = {w1: 1, w2: -2, x1: sp.Rational(1, 2), x2: 3}
    assert abs(sp.N((joint - split).subs(point), 50)) > 1e-3
    assert abs(sp.N(joint.subs(point)) - 0.00408) < 1e-5
    assert abs(sp.N(split.subs(point)) - 0.97655) < 1e-5
    assert sp.simplify(sp.diff(joint, w1) - x1 * sig(w1 * x1 + w2 * x2)) == 0


# ---------------------------------------------------------------------------
# 2. The registry of derivations
# ---------------------------------------------------------------------------

EXPECTED_KEYS = {
    "D1": ["D1a", "D1b", "D1c", "D1d", "D1e"],
    "D2": ["D2a", "D2b"],
    "D3": ["D3a", "D3b", "D3c"],
    "D4": ["D4a", "D4b", "D4c", "D4d"],
    "D5": ["D5a", "D5b", "D5c"],
    "D6": ["D6a", "D6b", "D6c"],
    "D7": ["D7a", "D7b", "D7c", "D7d", "D7e", "D7f", "D7g"],
    "D8": ["D8a", "D8b", "D8c"],
    "D9": ["D9a", "D9b", "D9c"],
    "D10": ["D10a"],
    "D11": ["D11a", "D11b", "D11c"],
    "D12": ["D12a", "D12b", "D12c", "D12d", "D12e", "D12f", "D12g", "D12h"],
    "D13": ["D13a", "D13b"],
    "D14": ["D14a", "D14b", "D14c"],
    "D15": ["D15a", "D15b", "D15c", "D15d"],
    "D16": ["D16a", "D16b"],
    "D17": ["D17a", "D17b"],
}

# Claims that SymPy cannot prove with simplify and that are checked numerically.
NUMERIC = {"D4c", "D6c", "D7f", "D11a", "D12g", "D12h", "D14a", "D14c", "D15c", "D15d", "D17a"}


def test_registry_covers_d1_to_d17():
    assert list(ms.DERIVATIONS) == [f"D{i}" for i in range(1, 18)]


@pytest.mark.parametrize("key", list(EXPECTED_KEYS))
def test_every_derivation_verifies_and_renders(key):
    group = ms.DERIVATIONS[key]()
    assert group.keys() == EXPECTED_KEYS[key]
    results = group.verify_each()
    for item in group:
        result = results[item.key]
        assert result.holds, (item.key, result)
        assert bool(result) is True
        assert result.method == ("numeric" if item.key in NUMERIC else "simplify"), item.key
        assert item.title and item.statement
        latex = item.latex()
        assert isinstance(latex, str) and latex.strip()
    assert group.verify().holds
    rendered = group.latex()
    assert all(item.latex_row() in rendered for item in group)


def test_derivation_latex_examples():
    assert ms.sigmoid_symmetry().latex().startswith(r"\begin{aligned}\sigma\left(- z\right) &=")
    assert ms.two_class_softmax().latex().endswith(r"&= \sigma(z_1 - z_0)\end{aligned}")
    assert r"\neq" in ms.coordinate_split_counterexample().latex()
    assert ms.logistic_gradient_matrix().latex() == (
        r"\nabla_{w}\,\ell(w) = X^{\mathsf T}\left(\sigma(Xw) - t\right)"
    )
    assert r"\emptyset" in ms.single_sample_stationarity()["D12c"].latex()


def test_one_line_notebook_use():
    # every suggested builder is callable without arguments and returns something checkable
    builders = [
        ms.sigmoid_derivative, ms.sigmoid_symmetry, ms.logit_inverse, ms.bernoulli_nll_softplus_form,
        ms.mse_sigmoid_gradient, ms.mse_vanishing_limits, ms.mse_second_derivative,
        ms.softmax_jacobian, ms.softmax_ce_gradient, ms.two_class_softmax, ms.relu_derivative,
        ms.affine_collapse, ms.single_sample_stationarity, ms.newton_equals_irls,
        ms.separable_no_mle, ms.l2_gradient_hessian, ms.log_odds,
        ms.coordinate_split_counterexample,
    ]
    for build in builders:
        result = build()
        assert isinstance(result, (ms.Derivation, ms.DerivationGroup))
        assert result.latex()


def test_group_indexing_and_errors():
    group = ms.derivation_group("D7")
    assert group["D7c"].rhs == -1
    assert group[0].key == "D7a"
    with pytest.raises(KeyError, match="D7z"):
        group["D7z"]
    with pytest.raises(ValueError, match="key"):
        ms.derivation_group("D99")
    with pytest.raises(ValueError, match="relation"):
        ms.Derivation("X", "x", "x", z, z, relation="~")
    limits = ms.mse_vanishing_limits()
    assert [d.rhs for d in limits] == [0, -1]


def test_single_sample_stationarity_group():
    group = ms.single_sample_stationarity()
    d12c = group["D12c"]
    lhs, rhs = d12c.evaluated()
    assert lhs == sp.S.EmptySet == rhs
    assert group["D12d"].lhs == ms.Softplus(a) - a and group["D12d"].rhs == ms.Softplus(-a)
    assert group["D12g"].relation == ">"


def test_negative_claims_are_detected():
    # D17: the per-coordinate split is NOT an identity (the "!=" claim holds, with a witness)
    d17 = ms.coordinate_split_counterexample()
    equality = ms.verify(d17.lhs, d17.rhs)
    assert not equality
    assert equality.counterexample is not None and equality.max_abs_error > 1e-3
    claim = d17.verify()
    assert claim.holds and claim.counterexample == equality.counterexample
    # a false "!=" claim and false inequalities are reported as failing
    assert not ms.Derivation("x", "x", "x", ms.Softplus(z) - ms.Softplus(-z), z, relation="!=").verify()
    assert not ms.Derivation("x", "x", "x", ms.Softplus(-a), sp.Integer(0), relation="<").verify()
    wrong_limit = ms.Derivation("x", "x", "x", sp.Limit(ms.Softplus(-a), a, sp.oo), sp.Integer(1))
    assert not wrong_limit.verify()
    # e^a = 1 + e^a has no real solution
    assert ms.single_sample_stationarity()["D12c"].verify().holds


def test_wrong_step_in_a_derivation_fails():
    s = ms.Sigmoid(z)
    bad = ms.Derivation("x", "x", "x", sp.Derivative(s, z), s * (1 - s), steps=(sp.exp(z),))
    result = bad.verify()
    assert not result and result.counterexample is not None


# ---------------------------------------------------------------------------
# 3. verify()
# ---------------------------------------------------------------------------


def test_verify_exact_and_numeric_paths():
    s = sig(z)
    exact = ms.verify(sp.diff(s, z), s * (1 - s))
    assert exact.holds and exact.method == "simplify" and exact.max_abs_error == 0.0
    numeric = ms.verify(sp.Max(z, 0) + sp.log(1 + sp.exp(-sp.Abs(z))), softplus(z))
    assert numeric.holds and numeric.method == "numeric" and numeric.n_points == 20
    assert numeric.max_abs_error < 1e-25


def test_verify_reports_false_for_wrong_identities():
    s = sig(z)
    wrong = ms.verify(sp.diff(s, z), s)
    assert wrong.holds is False and not wrong
    assert wrong.method == "numeric"
    assert set(wrong.counterexample) == {z}
    assert wrong.max_abs_error > 1e-3
    assert not ms.verify(softplus(a + b), softplus(a) + softplus(b))
    assert not ms.verify(sp.log(p), p - 1)  # tangent line is not the function


def test_verify_time_guard_falls_back_to_numeric():
    s = sig(z)
    result = ms.verify(sp.diff(s, z), s * (1 - s), max_ops=0)
    assert result.holds and result.method == "numeric"


def test_verify_matrices_entrywise():
    P = ms.softmax(ms.symbolic_matrix("z", 3, 1))
    assert ms.verify(P, P.applyfunc(lambda e: sp.exp(sp.log(e)))).holds
    broken = P.copy()
    broken[2] = broken[2] + sp.Rational(1, 10**6)
    result = ms.verify(P, broken)
    assert not result and 1e-7 < result.max_abs_error < 1e-5


def test_verify_positive_controls_sampling():
    q, r = sp.symbols("q r", real=True)
    # log(qr) = log q + log r only for positive q, r
    assert ms.verify(sp.log(q * r), sp.log(q) + sp.log(r), positive=(q, r)).holds
    assert not ms.verify(sp.log(q * r), sp.log(q) + sp.log(r))


def test_verify_is_reproducible():
    s = sig(z)
    first = ms.verify(sp.diff(s, z), s, seed=3)
    second = ms.verify(sp.diff(s, z), s, seed=3)
    assert first == second


def test_verify_bad_input():
    with pytest.raises(TypeError, match=r"lhs: .*float.*Rational"):
        ms.verify(0.5, z)
    with pytest.raises(TypeError, match="rhs"):
        ms.verify(z, "z")
    with pytest.raises(ValueError, match=r"rhs: expected shape \(2, 1\)"):
        ms.verify(sp.zeros(2, 1), sp.zeros(1, 2))
    with pytest.raises(ValueError, match="rhs"):
        ms.verify(sp.zeros(2, 1), z)
    with pytest.raises(ValueError, match="n_points"):
        ms.verify(z, z + 1, n_points=0)
    with pytest.raises(ValueError, match="symbols"):
        ms.verify(z, z + t, symbols=[z])
    with pytest.raises(TypeError, match="positive"):
        ms.verify(z, z + 1, positive=["z"])


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(-50, 50).filter(lambda v: v != 0))
def test_verify_polynomial_identities(n, c):
    q, r = sp.symbols("q r", real=True)
    assert ms.verify(sp.expand((q + r) ** n), (q + r) ** n).holds
    shifted = ms.verify(sp.expand((q + r) ** n), (q + r) ** n + sp.Rational(c, 1000), max_ops=0)
    assert not shifted and shifted.counterexample is not None


# ---------------------------------------------------------------------------
# 4. Chain rule
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["logistic", "mse_sigmoid", "softmax_ce"])
def test_chain_rule_factors_product_and_latex(loss):
    chain = ms.chain_rule(loss)
    assert [f.name for f in chain.factors][:2] == ["dl/dp", "dp/dz"]
    assert chain.verify().holds
    latex = chain.latex()
    assert latex.startswith(r"\begin{aligned}") and latex.endswith(r"\end{aligned}")
    for factor in chain.factors:
        assert factor.symbol in latex
        assert sp.latex(factor.expr) in latex
        assert factor.latex().startswith(factor.symbol)
    assert sp.latex(chain.product()) in latex


def test_chain_rule_results():
    p_, t_, x_d = sp.Symbol("p", positive=True), sp.Symbol("t", real=True), sp.Symbol("x_d", real=True)
    logistic = ms.chain_rule("logistic")
    assert sp.simplify(logistic.product() - x_d * (p_ - t_)) == 0
    assert sp.simplify(logistic.factors[1].expr - p_ * (1 - p_)) == 0
    mse = ms.chain_rule("mse_sigmoid")
    assert sp.simplify(mse.product() - x_d * (p_ - t_) * p_ * (1 - p_)) == 0
    assert sp.simplify(mse.direct() - mse.product()) == 0
    softmax = ms.chain_rule("softmax_ce")
    ps = ms.symbolic_matrix("p", 3, 1, start=0, positive=True)    # classes 0, 1, 2
    ys = ms.symbolic_matrix("y", 3, 1, start=0)
    assert softmax.product() == sp.Matrix([[x_d * (ps[k] - ys[k]) for k in range(3)]])
    assert (softmax.factors[1].expr - (sp.diag(*ps) - ps * ps.T)).expand() == sp.zeros(3, 3)


def test_chain_rule_unknown_loss():
    with pytest.raises(ValueError, match="loss: expected one of"):
        ms.chain_rule("hinge")


# ---------------------------------------------------------------------------
# 5. Expressions and bad input
# ---------------------------------------------------------------------------


def test_named_functions_match_definitions():
    assert ms.Sigmoid(z).rewrite(sp.exp) == sig(z)
    assert ms.Softplus(z).rewrite(sp.exp) == softplus(z)
    assert ms.explicit(ms.Sigmoid(z) + ms.Softplus(z)) == sig(z) + softplus(z)
    assert ms.Sigmoid(0) == sp.Rational(1, 2) and ms.Softplus(0) == sp.log(2)
    # their built-in derivatives agree with differentiating the definitions
    assert ms.verify(sp.diff(ms.Sigmoid(z), z), sp.diff(sig(z), z)).holds
    assert ms.verify(sp.diff(ms.Softplus(z), z), sp.diff(softplus(z), z)).holds
    assert sp.latex(ms.Sigmoid(z)) == r"\sigma\left(z\right)"
    assert ms.log_sigmoid(z) == -softplus(-z)


def test_vector_forms():
    X, wv, tv = ms.symbolic_data(2, 2)
    assert X.shape == (2, 2) and wv.shape == (2, 1) and tv.shape == (2, 1)
    assert sig(X * wv).shape == (2, 1)
    assert ms.relu(sp.Matrix([z, -z])) == sp.Matrix([sp.Max(0, z), sp.Max(0, -z)])
    assert ms.l2_penalty(wv, 2) == wv[0] ** 2 + wv[1] ** 2
    assert ms.bernoulli_nll(X * wv, tv) == ms.logistic_loss(X, wv, tv)


def test_expression_bad_input():
    with pytest.raises(TypeError, match=r"z: .*float.*Rational"):
        ms.sigmoid(1.5)
    with pytest.raises(TypeError, match="z: expected"):
        ms.softplus("z")
    with pytest.raises(TypeError, match="z: expected"):
        ms.sigmoid(np.array([1.0]))
    with pytest.raises(ValueError, match="p: expected a positive"):
        ms.logit(sp.Symbol("q", real=True))
    with pytest.raises(ValueError, match="p: expected a positive"):
        ms.logit(0)
    with pytest.raises(ValueError, match=r"p: expected a probability in \(0, 1\)"):
        ms.logit(sp.Rational(3, 2))
    X, wv, tv = ms.symbolic_data(4, 3)
    with pytest.raises(ValueError, match=r"w: expected shape \(3, 1\) .* got shape \(4, 1\)"):
        ms.logistic_loss(X, tv, tv)
    with pytest.raises(ValueError, match=r"t: expected shape \(4, 1\)"):
        ms.logistic_loss(X, wv, wv)
    with pytest.raises(TypeError, match="X: expected a SymPy Matrix"):
        ms.logistic_loss(np.zeros((4, 3)), wv, tv)
    with pytest.raises(ValueError, match=r"z: expected a column vector"):
        ms.softmax(sp.ones(1, 3))
    with pytest.raises(ValueError, match="form"):
        ms.bernoulli_nll(z, t, form="probit")
    with pytest.raises(ValueError, match="name"):
        ms.symbolic_matrix("x y", 2, 2)
    with pytest.raises(ValueError, match="rows"):
        ms.symbolic_matrix("x", 0, 2)
    with pytest.raises(ValueError, match="n: expected an int"):
        ms.logistic_gradient_matrix(n=50)
    with pytest.raises(TypeError, match="expr"):
        ms.explicit(3.0)


# ---------------------------------------------------------------------------
# 6. Code generation
# ---------------------------------------------------------------------------


def test_dloss_dz_is_derived_and_simplified():
    logistic = ms.dloss_dz("logistic")
    assert logistic.rhs == ms.Sigmoid(z) - t
    assert logistic.steps[0].has(sp.exp)  # SymPy's raw derivative, before simplification
    assert logistic.verify().holds
    mse = ms.dloss_dz("mse_sigmoid")
    s = ms.Sigmoid(z)
    assert ms.verify(mse.rhs, (s - t) * s * (1 - s)).holds
    assert ms.dloss_dz("softmax_ce").verify().holds
    with pytest.raises(ValueError, match="loss"):
        ms.dloss_dz("hinge")


def test_generated_logistic_code_is_subtraction_with_stable_sigmoid():
    f = ms.to_numpy(ms.dloss_dz("logistic").rhs, [z, t])
    assert "return sigmoid(z) - t" in f.source
    assert "-t +" not in f.source and "exp" not in f.source
    assert f.__globals__["sigmoid"] is scipy.special.expit
    g = ms.to_torch(ms.dloss_dz("logistic").rhs, [z, t])
    assert g.source == f.source.replace("generated", "generated")
    assert g.__globals__["sigmoid"] is torch.sigmoid
    extreme = np.array([-1000.0, 0.0, 1000.0])
    assert np.array_equal(f(extreme, 0.0), [0.0, 0.5, 1.0])  # no overflow warning (warnings are errors)
    assert torch.equal(g(torch.tensor(extreme), 0.0), torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))


def test_generated_softplus_is_stable():
    for backend, convert in (("numpy", np.asarray), ("torch", lambda v: torch.tensor(v, dtype=torch.float64))):
        f = ms.generate(ms.Softplus(z), [z], backend=backend)
        values = np.asarray(f(convert([-1000.0, 0.0, 1000.0, 30.0])))
        assert np.allclose(values, [0.0, np.log(2.0), 1000.0, 30.0 + np.log1p(np.exp(-30.0))], rtol=1e-15, atol=0)


def test_generate_general_expressions():
    q = sp.Symbol("x_1,2", real=True)  # not a Python identifier
    f = ms.to_numpy(sp.exp(-q) + q**2 / 2, [q])
    assert np.allclose(f(np.array([0.0, 1.0])), [1.0, np.exp(-1.0) + 0.5])
    relu_prime = ms.to_numpy(sp.Heaviside(z, 0), [z])
    assert np.array_equal(relu_prime(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])
    relu_t = ms.to_torch(sp.Max(0, z), [z])
    assert torch.equal(relu_t(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0]))
    mse = ms.to_numpy(ms.dloss_dz("mse_sigmoid").rhs, [z, t])
    assert mse.source.count("sigmoid(") == 1  # common sub-expression computed once


def test_generate_bad_input():
    with pytest.raises(ValueError, match=r"backend: expected one of \('numpy', 'torch'\), got 'jax'"):
        ms.generate(z, [z], backend="jax")
    with pytest.raises(ValueError, match="backend"):
        ms.logistic_loss_gradient(backend="cupy")
    with pytest.raises(TypeError, match="expr: expected a scalar"):
        ms.to_numpy(sp.Matrix([z]), [z])
    with pytest.raises(TypeError, match="expr: expected a scalar"):
        ms.to_numpy("z", [z])
    with pytest.raises(TypeError, match="args: expected SymPy Symbols"):
        ms.to_numpy(z, ["z"])
    with pytest.raises(TypeError, match="args: expected a sequence"):
        ms.to_numpy(z, z)
    with pytest.raises(ValueError, match=r"args: expected every free symbol of expr, missing \['t'\]"):
        ms.to_numpy(z + t, [z])
    with pytest.raises(ValueError, match="args: expected distinct"):
        ms.to_numpy(z, [z, z])
    with pytest.raises(ValueError, match="expr: cannot generate code"):
        ms.to_numpy(sp.Function("f")(z), [z])
    with pytest.raises(ValueError, match="loss"):
        ms.gradient_function("hinge")


def _hand_written(X, w_, t_):
    return X.T @ (scipy.special.expit(X @ w_) - t_)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(0, 2**31 - 1),
    st.floats(0.1, 30.0),
)
def test_generated_gradient_equals_hand_written(n, d, seed, scale):
    rng = np.random.default_rng(seed)
    X = scale * rng.normal(size=(n, d))
    w_ = rng.normal(size=d)
    t_ = (rng.random(n) < 0.5).astype(float)
    grad = ms.logistic_loss_gradient("numpy")
    expected = _hand_written(X, w_, t_)
    assert np.array_equal(grad(X, w_, t_), expected)  # the same operations, bit for bit
    assert np.allclose(ms.logistic_loss_gradient("numpy", mean=True)(X, w_, t_), expected / n)
    torch_grad = ms.logistic_loss_gradient("torch")(torch.tensor(X), torch.tensor(w_), torch.tensor(t_))
    assert np.allclose(torch_grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_other_generated_gradients_match_hand_written():
    rng = np.random.default_rng(0)
    X, w_, t_ = rng.normal(size=(30, 4)), rng.normal(size=4), (rng.random(30) < 0.5) * 1.0
    s = scipy.special.expit(X @ w_)
    mse = ms.gradient_function("mse_sigmoid")(X, w_, t_)
    assert np.allclose(mse, X.T @ ((s - t_) * s * (1 - s)), rtol=1e-13, atol=1e-15)
    l2 = ms.gradient_function("logistic_l2", mean=True)(X, w_, t_, 0.5)
    assert np.allclose(l2, (_hand_written(X, w_, t_) + 0.5 * w_) / 30)
    W = rng.normal(size=(4, 3))
    Y = np.eye(3)[rng.integers(0, 3, 30)]
    softmax_grad = ms.gradient_function("softmax_ce")(X, W, Y)
    assert np.allclose(softmax_grad, X.T @ (scipy.special.softmax(X @ W, axis=1) - Y))
    torch_softmax = ms.gradient_function("softmax_ce", "torch")(*map(torch.tensor, (X, W, Y)))
    assert np.allclose(torch_softmax.numpy(), softmax_grad)


def test_generated_gradient_bad_input():
    grad = ms.logistic_loss_gradient("numpy")
    X, w_, t_ = np.ones((5, 3)), np.zeros(3), np.zeros(5)
    with pytest.raises(ValueError, match=r"X: expected a 2-D array, got shape \(5,\)"):
        grad(np.ones(5), w_, t_)
    with pytest.raises(ValueError, match=r"w: expected 3 rows"):
        grad(X, np.zeros(4), t_)
    with pytest.raises(ValueError, match=r"t: expected 5 rows"):
        grad(X, w_, np.zeros(4))
    with pytest.raises(TypeError, match=r"X: expected a torch.Tensor, got ndarray"):
        ms.logistic_loss_gradient("torch")(X, w_, t_)
    with pytest.raises(TypeError, match="w: expected a numpy.ndarray"):
        grad(X, [0.0, 0.0, 0.0], t_)
    with pytest.raises(ValueError, match="lam"):
        ms.gradient_function("logistic_l2")(X, w_, t_, -1.0)
    with pytest.raises(ValueError, match=r"t: expected shape \(5, 2\)"):
        ms.gradient_function("softmax_ce")(X, np.zeros((3, 2)), np.zeros((5, 3)))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_generated_gradients_show_their_source(backend):
    """grad.source is the code the returned function runs: the generated part and the composition."""
    from mathcore.symbolic import codegen

    grad = codegen.logistic_loss_gradient(backend)
    assert "return sigmoid(z) - t" in grad.source
    assert "return X.T @ dloss_dz_logistic(X @ w, t)" in grad.source
    assert grad.generated[0].source in grad.source
    assert "/ X.shape[0]" in codegen.logistic_loss_gradient(backend, mean=True).source
    l2 = codegen.gradient_function("logistic_l2", backend)
    assert "return lam*w" in l2.source and "+ dpenalty_dw(w, lam)" in l2.source
    soft = codegen.gradient_function("softmax_ce", backend)
    assert "return P - Y" in soft.source
    assert ("axis=1" if backend == "numpy" else "dim=1") in soft.source

    # the text is runnable and computes what the function computes
    if backend == "numpy":
        from scipy.special import expit, softmax

        names, asarray = {"sigmoid": expit, "softmax": softmax}, np.asarray
    else:
        import torch

        names, asarray = {"sigmoid": torch.sigmoid, "softmax": torch.softmax}, torch.as_tensor
    rng = np.random.default_rng(3)
    X, w, W = (asarray(rng.normal(size=s)) for s in ((7, 3), (3,), (3, 4)))
    t = asarray(rng.integers(0, 2, 7).astype(float))
    Y = asarray(np.eye(4)[rng.integers(0, 4, 7)])
    for fn, args in ((grad, (X, w, t)), (codegen.logistic_loss_gradient(backend, mean=True), (X, w, t)),
                     (l2, (X, w, t, 0.7)), (soft, (X, W, Y))):
        namespace = dict(names)
        exec(fn.source, namespace)
        np.testing.assert_allclose(np.asarray(namespace["grad"](*args)), np.asarray(fn(*args)), rtol=1e-12)


def test_chain_rule_cancellation_shows_the_factor_it_cancels():
    """D12b's middle step stays unevaluated: p(1 - p) appears over and next to itself, and the step is checked."""
    d = ms.chain_rule_cancellation()
    text = d.latex()
    assert r"\frac{p - t}{p \left(1 - p\right)}" in text and text.count(r"p \left(1 - p\right)") >= 2
    assert d.verify().holds
    assert sp.simplify(d.steps[0] - d.rhs) == 0  # the displayed step equals the result


# --- how a claim was established -----------------------------------------------------------------------
def test_how_says_proved_only_for_general_symbolic_proofs():
    from mathcore.symbolic import derivations as d

    assert d.sigmoid_derivative().verify().how == "proved symbolically"
    fixed = d.logistic_gradient_matrix(n=4, d=3).verify()
    assert fixed and fixed.how.startswith("checked exactly") and "N = 4, D = 3 only" in fixed.how
    instance = d.newton_equals_irls(n=5, d=2).verify()
    assert "one random 5 x 2 instance" in instance.how and "proved" not in instance.how
    sampled = d.hessian_psd().verify()
    assert sampled.method == "numeric" and "20 random rational points" in sampled.how
    assert "not a proof" in sampled.how and "N = 4, D = 3 only" in sampled.how


def test_how_of_a_group_keeps_the_scope_and_of_a_failure_says_so():
    import sympy as sp

    from mathcore.symbolic import derivations as d

    assert "N = 3, D = 2 only" in d.l2_gradient_hessian(n=3, d=2).verify().how
    z = sp.Symbol("z", real=True)
    wrong = ms.verify(sp.diff(1 / (1 + sp.exp(-z)), z), 1 / (1 + sp.exp(-z)))
    assert not wrong and wrong.how.startswith("does not hold")


def test_class_symbols_are_numbered_from_zero_like_coef_rows():
    """Classes are 0, ..., K-1 in the book and the estimators; mathcore.symbolic names them so too."""
    z0, z1 = sp.symbols("z_0 z_1", real=True)
    d10 = ms.two_class_softmax()
    assert d10.lhs == sp.exp(z1) / (sp.exp(z0) + sp.exp(z1)) and d10.verify()
    assert {str(s) for s in ms.softmax_jacobian(k=3).lhs.free_symbols} == {"z_0", "z_1", "z_2"}
    latex = ms.chain_rule("softmax_ce").latex()
    assert "p_{0}" in latex and "y_{2}" in latex and "p_{3}" not in latex
    assert [str(s) for s in ms.symbolic_matrix("x", 2, 1)] == ["x_1", "x_2"]          # data: from 1
    assert [str(s) for s in ms.symbolic_matrix("W", 1, 2, start=0)] == ["W_0,0", "W_0,1"]


@pytest.mark.parametrize("start", [2, -1, True, 0.0])
def test_symbolic_matrix_start_must_be_0_or_1(start):
    with pytest.raises(ValueError, match="start: expected 0 or 1"):
        ms.symbolic_matrix("x", 2, 1, start=start)


def test_d13b_newton_equals_irls_is_proved_for_every_size():
    general = ms.newton_equals_irls_general()
    assert general.lhs.shape == general.rhs.shape and not general.lhs.shape[0].is_Integer  # n x 1, n a symbol
    result = general.verify()
    assert result and result.method == "simplify" and result.how == "proved symbolically"


def test_symbolic_size_matrix_identity_that_is_false_is_not_established():
    n = sp.Symbol("n", integer=True, positive=True)
    A, B = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)
    assert ms.verify(A * B + B, B + A * B)                       # true: proved by algebra
    wrong = ms.verify(A * B, B * A)                              # false in general
    assert not wrong and wrong.how.startswith("not established")
    with pytest.raises(ValueError, match="expected shape"):
        ms.verify(A, sp.MatrixSymbol("C", n, 1))
    with pytest.raises(ValueError, match="expected a matrix expression"):
        ms.verify(A, sp.Integer(1))


@pytest.mark.parametrize("label", [0, 1])
def test_the_trained_loss_form_is_the_bernoulli_nll(label):
    """softplus((1 - 2t) z), the per-sample loss the estimators train with, is -log p(t | z)."""
    form = ms.logistic_loss_expression()
    t_sym = sp.Symbol("t", real=True)
    nll = ms.bernoulli_nll(z, label)
    result = ms.verify(nll, form.subs(t_sym, label))
    assert result and result.how == "proved symbolically"

"""Data sets of the course: synthetic toys with known answers, and thin loaders over scikit-learn's
bundled data with the label coding spelled out.

Nothing here downloads anything: the synthetic sets are generated from a seed and the real ones ship
inside scikit-learn (``load_breast_cancer``, ``load_iris``, ``load_digits``).

Every loader returns a :class:`Dataset` whose targets follow the course's convention: ``t = 1`` is the
*positive* class, the one whose probability the sigmoid models, ``sigma(z) = p(t=1 | x)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Dataset",
    "height_weight",
    "height_weight_bayes",
    "HEIGHT_WEIGHT_PARAMS",
    "add_far_points",
    "xor",
    "moons",
    "separable_1d",
    "load_breast_cancer",
    "load_iris",
    "load_iris_binary",
    "load_digits",
]


@dataclass(frozen=True)
class Dataset:
    """A design matrix with its targets and the words that explain them.

    Attributes
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        Features, float64.
    t : numpy.ndarray of shape (n_samples,)
        Targets: 0/1 for binary sets (1 = positive class), 0..K-1 for multiclass sets.
    feature_names : tuple of str
        One name per column of ``X``.
    target_names : tuple of str
        ``target_names[k]`` is the meaning of ``t == k``.
    description : str
        Where the data come from and how the labels are coded.
    """

    X: np.ndarray
    t: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str = ""
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_samples(self) -> int:
        """Number of rows of ``X``."""
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        """Number of columns of ``X``."""
        return self.X.shape[1]

    def class_counts(self) -> dict[str, int]:
        """Return ``{target name: number of samples}`` in the order of ``target_names``."""
        return {name: int(np.sum(self.t == k)) for k, name in enumerate(self.target_names)}


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def _check_nonnegative_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value}")
    return float(value)


# --------------------------------------------------------------------------------------------------
# Synthetic height/weight data (Chapter 1 onwards)
# --------------------------------------------------------------------------------------------------

#: The synthetic height/weight generator draws two Gaussian classes with a *shared* covariance,
#: so the Bayes posterior p(t=1 | x) is exactly a logistic function of x (the model is correctly specified).
HEIGHT_WEIGHT_PARAMS = {
    "mean_1": np.array([175.0, 75.0]),  # class t=1, "group A": height in cm, weight in kg
    "mean_0": np.array([162.0, 58.0]),  # class t=0, "group B"
    "std": np.array([7.0, 9.0]),
    "correlation": 0.5,
}


def _height_weight_covariance() -> np.ndarray:
    s = HEIGHT_WEIGHT_PARAMS["std"]
    r = HEIGHT_WEIGHT_PARAMS["correlation"]
    return np.array([[s[0] ** 2, r * s[0] * s[1]], [r * s[0] * s[1], s[1] ** 2]])


def height_weight(n_per_class: int = 400, seed: int = 0) -> Dataset:
    """Synthetic heights (cm) and weights (kg) of two groups, for illustration only.

    Each class is a bivariate Gaussian; both share one covariance matrix (standard deviations 7 cm and
    9 kg, correlation 0.5). Class ``t=1`` has mean (175 cm, 75 kg) and class ``t=0`` has mean
    (162 cm, 58 kg). Because the covariance is shared, the true posterior ``p(t=1 | x)`` is exactly
    ``sigmoid(w @ x + b)`` (see :func:`height_weight_bayes`), so logistic regression is the right model.
    These are *not* population statistics.

    Parameters
    ----------
    n_per_class : int, default 400
        Number of samples drawn from each class.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same data on every machine.

    Returns
    -------
    Dataset
        ``X`` of shape (2 * n_per_class, 2) with columns (height_cm, weight_kg); ``t`` in {0, 1}.
        Rows are shuffled.

    Raises
    ------
    TypeError, ValueError
        If ``n_per_class`` is not a positive integer or ``seed`` is not an integer.
    """
    n = _check_positive_int(n_per_class, "n_per_class")
    seed = _check_positive_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    cov = _height_weight_covariance()
    x1 = rng.multivariate_normal(HEIGHT_WEIGHT_PARAMS["mean_1"], cov, size=n)
    x0 = rng.multivariate_normal(HEIGHT_WEIGHT_PARAMS["mean_0"], cov, size=n)
    X = np.vstack([x1, x0])
    t = np.concatenate([np.ones(n), np.zeros(n)])
    order = rng.permutation(2 * n)
    return Dataset(
        X=X[order],
        t=t[order],
        feature_names=("height_cm", "weight_kg"),
        target_names=("group B", "group A"),
        description=(
            "Synthetic, illustrative data: two Gaussian groups with a shared covariance "
            "(sd 7 cm, 9 kg; correlation 0.5). t=1 is group A (mean 175 cm, 75 kg), "
            "t=0 is group B (mean 162 cm, 58 kg)."
        ),
    )


def height_weight_bayes(prior_1: float = 0.5) -> tuple[np.ndarray, float]:
    """The exact Bayes posterior of the height/weight generator as logistic-regression parameters.

    For Gaussian classes with shared covariance ``Sigma`` and priors ``pi_1, pi_0``,
    ``p(t=1 | x) = sigmoid(w @ x + b)`` with ``w = Sigma^{-1} (mu_1 - mu_0)`` and
    ``b = -mu_1 @ Sigma^{-1} @ mu_1 / 2 + mu_0 @ Sigma^{-1} @ mu_0 / 2 + log(pi_1 / pi_0)``.

    Parameters
    ----------
    prior_1 : float, default 0.5
        Prior probability of class 1 (0.5 for the balanced generator).

    Returns
    -------
    w : numpy.ndarray of shape (2,)
    b : float
    """
    if not (0.0 < float(prior_1) < 1.0):
        raise ValueError(f"prior_1: expected a probability in (0, 1), got {prior_1}")
    mu1, mu0 = HEIGHT_WEIGHT_PARAMS["mean_1"], HEIGHT_WEIGHT_PARAMS["mean_0"]
    precision = np.linalg.inv(_height_weight_covariance())
    w = precision @ (mu1 - mu0)
    b = -0.5 * mu1 @ precision @ mu1 + 0.5 * mu0 @ precision @ mu0 + np.log(prior_1 / (1 - prior_1))
    return w, float(b)


def add_far_points(data: Dataset, n: int = 20, shift=(15.0, 55.0), seed: int = 1) -> Dataset:
    """Append ``n`` far-away points of class 1 that are *correctly* on the class-1 side.

    Used in Chapter 1: least squares with a 0.5 threshold moves its boundary towards such points, logistic
    regression barely moves, because their residual ``sigmoid(z) - t`` is already close to 0.

    Parameters
    ----------
    data : Dataset
        A two-feature binary data set, typically :func:`height_weight`.
    n : int, default 20
        Number of points to add.
    shift : pair of float, default (15, 55)
        How far beyond the class-1 mean the new points are centred, per feature.
    seed : int, default 1
        Seed for the small jitter of the new points.

    Returns
    -------
    Dataset
        A new data set; the input is not modified. ``extra["n_far"]`` records ``n``.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data: expected a mathcore.data.Dataset, got {type(data).__name__}")
    if data.n_features != 2:
        raise ValueError(f"data: expected 2 features, got {data.n_features}")
    n = _check_positive_int(n, "n")
    shift = np.asarray(shift, dtype=float)
    if shift.shape != (2,) or not np.all(np.isfinite(shift)):
        raise ValueError(f"shift: expected two finite numbers, got {shift!r}")
    rng = np.random.default_rng(_check_positive_int(seed, "seed", minimum=0))
    centre = data.X[data.t == 1].mean(axis=0) + shift
    far = centre + rng.normal(scale=3.0, size=(n, 2))
    return Dataset(
        X=np.vstack([data.X, far]),
        t=np.concatenate([data.t, np.ones(n)]),
        feature_names=data.feature_names,
        target_names=data.target_names,
        description=data.description + f" Plus {n} far-away class-1 points.",
        extra={"n_far": n},
    )


# --------------------------------------------------------------------------------------------------
# Small synthetic toys
# --------------------------------------------------------------------------------------------------


def xor(n: int = 400, noise: float = 0.25, seed: int = 0) -> Dataset:
    """The XOR problem: four Gaussian clusters, label = (x1 > 0) XOR (x2 > 0).

    No straight line separates the classes, so logistic regression on the raw features fails while a
    network with one hidden ReLU layer succeeds (Chapter 6).

    Parameters
    ----------
    n : int, default 400
        Total number of samples (a multiple of 4 is not required).
    noise : float, default 0.25
        Standard deviation of each cluster around its centre (±1, ±1).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    """
    n = _check_positive_int(n, "n", minimum=4)
    noise = _check_nonnegative_float(noise, "noise")
    rng = np.random.default_rng(_check_positive_int(seed, "seed", minimum=0))
    centres = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = rng.integers(0, 4, size=n)
    X = centres[which] + rng.normal(scale=noise, size=(n, 2))
    t = (which >= 2).astype(float)
    return Dataset(X, t, ("x1", "x2"), ("same sign", "opposite sign"),
                   "Synthetic XOR: t=1 when the cluster centre's coordinates have opposite signs.")


def moons(n: int = 400, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``, generated locally).

    Parameters
    ----------
    n : int, default 400
        Total number of samples.
    noise : float, default 0.2
        Standard deviation of Gaussian noise added to the points.
    seed : int, default 0
        Random seed.
    """
    from sklearn.datasets import make_moons

    n = _check_positive_int(n, "n", minimum=2)
    noise = _check_nonnegative_float(noise, "noise")
    X, t = make_moons(n_samples=n, noise=noise, random_state=_check_positive_int(seed, "seed", 0))
    return Dataset(X.astype(float), t.astype(float), ("x1", "x2"), ("upper moon", "lower moon"),
                   "scikit-learn make_moons, generated locally from a seed.")


def separable_1d() -> Dataset:
    """The four-point separable toy of Chapter 5: x = (-2, -1, 1, 3), t = (0, 0, 1, 1).

    Any positive slope through the origin classifies it perfectly, so the unpenalised maximum-likelihood
    estimate does not exist (the loss keeps decreasing as the slope grows).
    """
    return Dataset(np.array([[-2.0], [-1.0], [1.0], [3.0]]), np.array([0.0, 0.0, 1.0, 1.0]),
                   ("x",), ("negative", "positive"), "Linearly separable 1-D toy.")


# --------------------------------------------------------------------------------------------------
# scikit-learn's bundled data, label coding spelled out
# --------------------------------------------------------------------------------------------------


def load_breast_cancer(positive: str = "malignant") -> Dataset:
    """Wisconsin breast-cancer data (569 samples, 30 features), bundled with scikit-learn.

    scikit-learn codes ``target == 0`` as *malignant* (212 samples) and ``target == 1`` as *benign*
    (357 samples). So ``sigmoid(z)`` on the raw targets would be ``p(benign | x)``. This loader makes the
    choice explicit: by default the positive class ``t = 1`` is **malignant** (the finding a screening
    test looks for).

    Parameters
    ----------
    positive : {"malignant", "benign"}, default "malignant"
        Which diagnosis is coded ``t = 1``.

    Returns
    -------
    Dataset
        ``target_names[1]`` is the positive class.

    Notes
    -----
    With all 30 (standardised) features the two classes are linearly separable, so an unpenalised fit has
    no finite maximum-likelihood estimate; use L2 regularisation.
    """
    from sklearn.datasets import load_breast_cancer as _load

    if positive not in ("malignant", "benign"):
        raise ValueError(f"positive: expected 'malignant' or 'benign', got {positive!r}")
    raw = _load()
    sk_target = raw.target.astype(int)  # 0 = malignant, 1 = benign in scikit-learn
    if positive == "malignant":
        t = (sk_target == 0).astype(float)
        names = ("benign", "malignant")
    else:
        t = (sk_target == 1).astype(float)
        names = ("malignant", "benign")
    return Dataset(
        X=raw.data.astype(float),
        t=t,
        feature_names=tuple(raw.feature_names),
        target_names=names,
        description=(
            f"Breast cancer Wisconsin (diagnostic), bundled with scikit-learn. scikit-learn codes "
            f"0 = malignant, 1 = benign; here t = 1 means {positive}."
        ),
    )


def load_iris() -> Dataset:
    """Fisher's iris data: 150 flowers, 4 features (cm), 3 classes (setosa=0, versicolor=1, virginica=2)."""
    from sklearn.datasets import load_iris as _load

    raw = _load()
    return Dataset(raw.data.astype(float), raw.target.astype(int), tuple(raw.feature_names),
                   tuple(str(s) for s in raw.target_names),
                   "Iris, bundled with scikit-learn: 0 = setosa, 1 = versicolor, 2 = virginica.")


_IRIS_FEATURES = {
    "sepal length": 0, "sepal width": 1, "petal length": 2, "petal width": 3,
}


def load_iris_binary(negative: str = "versicolor", positive: str = "virginica",
                     features=("petal length", "petal width")) -> Dataset:
    """Two iris species as a binary problem, ``t = 1`` for ``positive``.

    The default pair (versicolor vs. virginica on the petal features) overlaps, so the maximum-likelihood
    estimate exists; ``negative="rest", positive="setosa"`` gives a linearly separable problem.

    Parameters
    ----------
    negative : str, default "versicolor"
        Species coded ``t = 0``, or ``"rest"`` for every species other than ``positive``.
    positive : str, default "virginica"
        Species coded ``t = 1``.
    features : sequence of str, default ("petal length", "petal width")
        Any of "sepal length", "sepal width", "petal length", "petal width".
    """
    iris = load_iris()
    species = iris.target_names
    if positive not in species:
        raise ValueError(f"positive: expected one of {species}, got {positive!r}")
    if negative != "rest" and negative not in species:
        raise ValueError(f"negative: expected one of {species} or 'rest', got {negative!r}")
    if negative == positive:
        raise ValueError(f"negative and positive: expected two different species, got {positive!r} twice")
    features = tuple(features)
    unknown = [f for f in features if f not in _IRIS_FEATURES]
    if not features or unknown:
        raise ValueError(f"features: expected names from {tuple(_IRIS_FEATURES)}, got {features!r}")
    pos = species.index(positive)
    if negative == "rest":
        keep = np.ones(iris.n_samples, dtype=bool)
    else:
        keep = np.isin(iris.t, [pos, species.index(negative)])
    cols = [_IRIS_FEATURES[f] for f in features]
    return Dataset(
        X=iris.X[keep][:, cols],
        t=(iris.t[keep] == pos).astype(float),
        feature_names=tuple(f + " (cm)" for f in features),
        target_names=(negative if negative != "rest" else f"not {positive}", positive),
        description=f"Iris, {negative} (t=0) vs. {positive} (t=1), features {', '.join(features)}.",
    )


def load_digits() -> Dataset:
    """Handwritten digits: 1797 images of 8x8 pixels (intensities 0..16), 10 classes (the digit)."""
    from sklearn.datasets import load_digits as _load

    raw = _load()
    return Dataset(raw.data.astype(float), raw.target.astype(int),
                   tuple(f"pixel_{i // 8}_{i % 8}" for i in range(64)),
                   tuple(str(d) for d in range(10)),
                   "Digits, bundled with scikit-learn: 8x8 grey-level images, t = the digit 0..9.")

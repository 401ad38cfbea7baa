"""mathcore: the companion package of *Logistic regression from first principles*."""

__version__ = "0.1.0"

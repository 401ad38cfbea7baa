"""Shared pytest configuration.

Hypothesis runs derandomised (the examples are a fixed function of each test), so a CI run is
reproducible: a failure seen once is seen every time, and a green run stays green.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "course", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("course")

"""Estimated wait for a caller who has ``n`` competing callers ahead.

Queue-length estimator with abandonment correction (Ibrahim & Whitt 2009, "QL-m"): with
``s`` eligible agents each handling at rate ``mu`` and callers abandoning at rate ``theta``,
a caller with ``n`` ahead moves forward through ``n + 1`` exponential stages, the stage with
``i`` callers ahead ending at rate ``s*mu + i*theta``. The mean wait is the sum of the stage
means, the variance the sum of their squares; the announced range is the matching gamma
distribution's central interval (Wilson-Hilferty approximation of its quantiles).

By default the estimate is conditioned on the caller being answered: a caller who gets an
agent had patience (exponential, rate ``theta``) longer than the wait, which tilts every
stage rate by ``theta`` to ``s*mu + (i+1)*theta``. That is the wait callers who get through
actually experience (E[W | n, answered], the least-squares prediction of their wait);
``given_served=False`` gives the wait of a caller who would never hang up.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist

from acd.core.errors import InvalidValue


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    position: int  # 1 = next to be served
    eligible_agents: int
    mean_seconds: float
    low_seconds: float
    high_seconds: float
    coverage: float

    @property
    def known(self) -> bool:
        return math.isfinite(self.mean_seconds)

    def range_is_useful(self, max_relative_width: float = 1.0, min_width: float = 60.0) -> bool:
        """Is the range narrow enough to announce, or should we fall back to the position?"""
        if not self.known:
            return False
        width = self.high_seconds - self.low_seconds
        return width <= max(min_width, max_relative_width * self.mean_seconds)


def estimate_wait(
    ahead: int,
    eligible_agents: int,
    mu: float,
    theta: float,
    coverage: float = 0.8,
    *,
    given_served: bool = True,
) -> WaitEstimate:
    """Wait of a caller with ``ahead`` competing callers before it.

    ``mu``: per-agent handle rate (1 / mean of talk + wrap-up), ``theta``: abandonment rate
    (1 / mean patience), both per second. With ``given_served`` (the default) the mean and
    the range are those of the wait *given that the caller is answered* (stage rates
    ``s*mu + (i+1)*theta``); without it, of the wait if the caller never hangs up (stage
    rates ``s*mu + i*theta``). The two differ by less than ``1 / (s*mu)``.
    """
    if ahead < 0:
        raise InvalidValue(f"callers ahead must be >= 0, got {ahead}")
    if not (0.0 < coverage < 1.0):
        raise InvalidValue(f"coverage must be in (0, 1), got {coverage}")
    if mu <= 0 or theta < 0 or not math.isfinite(mu) or not math.isfinite(theta):
        raise InvalidValue(f"rates must be positive and finite, got mu={mu}, theta={theta}")
    if eligible_agents <= 0:
        inf = math.inf
        return WaitEstimate(ahead + 1, 0, inf, inf, inf, coverage)
    # Answered means the caller's own exponential patience outlasted the wait W: conditioning
    # on that weights W's density by exp(-theta*W), which turns each exponential stage of
    # rate r into one of rate r + theta (Laplace transforms: prod r/(r+theta+u) / prod
    # r/(r+theta)). The difference from the never-hang-up wait telescopes to
    # 1/(s*mu) - 1/(s*mu + (n+1)*theta).
    base = eligible_agents * mu + (theta if given_served else 0.0)
    mean = 0.0
    var = 0.0
    for i in range(ahead + 1):
        stage = 1.0 / (base + i * theta)
        mean += stage
        var += stage * stage
    low, high = gamma_interval(mean, var, coverage)
    return WaitEstimate(ahead + 1, eligible_agents, mean, low, high, coverage)


def gamma_interval(mean: float, var: float, coverage: float) -> tuple[float, float]:
    """Central ``coverage`` interval of the gamma distribution with this mean and variance."""
    shape = mean * mean / var
    scale = var / mean
    tail = (1.0 - coverage) / 2.0
    normal = NormalDist()
    return (
        _gamma_quantile(shape, scale, normal.inv_cdf(tail)),
        _gamma_quantile(shape, scale, normal.inv_cdf(1.0 - tail)),
    )


def _gamma_quantile(shape: float, scale: float, z: float) -> float:
    # Wilson-Hilferty: (X / (shape*scale))^(1/3) is close to normal; shape >= 1 here since a
    # hypoexponential has a coefficient of variation <= 1.
    c = 1.0 / (9.0 * shape)
    cube = 1.0 - c + z * math.sqrt(c)
    return shape * scale * max(cube, 0.0) ** 3


class RateTracker:
    """Observed handle and abandonment rates over a sliding window, with priors.

    ``mu`` = 1 / mean handle time (talk + wrap-up) over the last ``window`` handled calls.
    ``theta`` = abandonments / total time spent waiting, over the last ``window`` callers who
    left the queue (served or abandoned): the maximum-likelihood rate for exponential patience,
    which counts the patience of served callers as censored rather than ignoring it.
    The priors act as ``prior_weight`` pseudo-observations so the first calls don't swing it.
    """

    __slots__ = (
        "_exits",
        "_handles",
        "_sum_aband",
        "_sum_handle",
        "_sum_wait",
        "prior_handle",
        "prior_patience",
        "prior_weight",
    )

    def __init__(
        self,
        prior_handle_seconds: float = 300.0,
        prior_patience_seconds: float = 180.0,
        window: int = 1000,
        prior_weight: int = 5,
    ) -> None:
        if window < 1:
            raise InvalidValue("window must be >= 1")
        self.prior_handle = prior_handle_seconds
        self.prior_patience = prior_patience_seconds
        self.prior_weight = prior_weight
        self._handles: deque[float] = deque(maxlen=window)
        self._exits: deque[tuple[float, bool]] = deque(maxlen=window)
        self._sum_handle = 0.0
        self._sum_wait = 0.0
        self._sum_aband = 0

    def record_handle(self, seconds: float) -> None:
        if len(self._handles) == self._handles.maxlen:
            self._sum_handle -= self._handles[0]
        self._handles.append(seconds)
        self._sum_handle += seconds

    def record_exit(self, waited_seconds: float, abandoned: bool) -> None:
        if len(self._exits) == self._exits.maxlen:
            old_wait, old_aband = self._exits[0]
            self._sum_wait -= old_wait
            self._sum_aband -= int(old_aband)
        self._exits.append((waited_seconds, abandoned))
        self._sum_wait += waited_seconds
        self._sum_aband += int(abandoned)

    @property
    def mu(self) -> float:
        w = self.prior_weight
        total = self._sum_handle + w * self.prior_handle
        return (len(self._handles) + w) / total

    @property
    def theta(self) -> float:
        w = self.prior_weight
        exposure = self._sum_wait + w * self.prior_patience
        return (self._sum_aband + w) / exposure

"""Queue configuration: timers, service level, weight and time-based relaxation of skills."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from acd.core.errors import InvalidValue

MIN_LEVEL = 1
MAX_LEVEL = 10


def check_level(level: int, what: str) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise InvalidValue(f"{what}: skill level must be an integer 1-10, got {level!r}")
    return level


def check_duration(value: float, what: str, *, allow_zero: bool = True) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidValue(f"{what} must be a finite number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidValue(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class RelaxationStep:
    """After ``after_seconds`` of waiting, also accept ``skill`` (default: the call's own
    primary skill) at ``min_level``.

    Agents reached only through a relaxation step rank *below* every agent that meets the
    original requirement (a ranking, not only a filter): step k is tier k.
    """

    after_seconds: float
    min_level: int
    skill: str | None = None

    def __post_init__(self) -> None:
        check_duration(self.after_seconds, "relaxation after_seconds", allow_zero=False)
        check_level(self.min_level, "relaxation min_level")


@dataclass(frozen=True, slots=True)
class QueueConfig:
    queue_id: str
    wrap_up_seconds: float = 10.0
    ring_timeout_seconds: float = 15.0
    max_misses: int = 3
    service_level_seconds: float = 20.0
    weight: int = 0
    relaxation: tuple[RelaxationStep, ...] = field(default_factory=tuple)
    # Priors for the wait estimate until enough calls have been observed.
    prior_handle_seconds: float = 300.0
    prior_patience_seconds: float = 180.0

    def __post_init__(self) -> None:
        if not self.queue_id:
            raise InvalidValue("queue_id must not be empty")
        check_duration(self.wrap_up_seconds, "wrap_up_seconds")
        check_duration(self.ring_timeout_seconds, "ring_timeout_seconds", allow_zero=False)
        check_duration(self.service_level_seconds, "service_level_seconds", allow_zero=False)
        check_duration(self.prior_handle_seconds, "prior_handle_seconds", allow_zero=False)
        check_duration(self.prior_patience_seconds, "prior_patience_seconds", allow_zero=False)
        if not isinstance(self.max_misses, int) or self.max_misses < 1:
            raise InvalidValue(f"max_misses must be an integer >= 1, got {self.max_misses!r}")
        if not isinstance(self.weight, int):
            raise InvalidValue(f"weight must be an integer, got {self.weight!r}")
        afters = [step.after_seconds for step in self.relaxation]
        if afters != sorted(afters) or len(set(afters)) != len(afters):
            raise InvalidValue("relaxation steps must have strictly increasing after_seconds")

"""Local calendar days in the business time zone, for counters that reset at local midnight."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo


class BusinessDay:
    """Maps an epoch timestamp to its local calendar day, caching the current day's bounds.

    Reads the zone rules only when ``now`` leaves the cached day, so the routing hot path pays
    two float comparisons.
    """

    __slots__ = ("_day_end", "_day_number", "_day_start", "zone")

    def __init__(self, zone: str | tzinfo) -> None:
        self.zone: tzinfo = ZoneInfo(zone) if isinstance(zone, str) else zone
        self._day_start = math.inf
        self._day_end = -math.inf
        self._day_number = 0

    def _load(self, now: float) -> None:
        local = datetime.fromtimestamp(now, self.zone)
        start_local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        next_local = (start_local + timedelta(days=1)).replace(tzinfo=None)
        end_local = next_local.replace(tzinfo=self.zone)
        self._day_start = start_local.astimezone(UTC).timestamp()
        self._day_end = end_local.astimezone(UTC).timestamp()
        self._day_number = local.date().toordinal()

    def day_number(self, now: float) -> int:
        """Proleptic ordinal of the local date at ``now``."""
        if not (self._day_start <= now < self._day_end):
            self._load(now)
        return self._day_number

    def day_start(self, now: float) -> float:
        """Epoch of the local midnight that began the day containing ``now``."""
        self.day_number(now)
        return self._day_start

    def next_midnight(self, now: float) -> float:
        """Epoch of the next local midnight after ``now``."""
        self.day_number(now)
        return self._day_end

"""The simulated base fee: daily and weekly rhythm, a slow drift, and congestion when a drop opens."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from devnet.scenarios import Scenario

GWEI = 10**9
BASE_GWEI = 12.0
DROP_OPEN_HOUR_UTC = 16
# Multipliers for the first hours after a drop opens: everybody rushes to mint at once.
DROP_CONGESTION = (5.0, 3.0, 2.0, 1.5)


def drop_open_hours(scenario: Scenario) -> list[int]:
    """Hour index (from the scenario start) at which each drop opens."""
    return [day * 24 + DROP_OPEN_HOUR_UTC for day in scenario.drop_days]


def base_fee_schedule(scenario: Scenario, rng: random.Random) -> list[int]:
    """Base fee per gas, in wei, for every simulated hour."""
    hours = scenario.days * 24
    congestion = [1.0] * hours
    for open_hour in drop_open_hours(scenario):
        for offset, factor in enumerate(DROP_CONGESTION):
            if open_hour + offset < hours:
                congestion[open_hour + offset] = factor
    fees: list[int] = []
    drift = 0.0
    for hour in range(hours):
        moment = scenario.start + timedelta(hours=hour)
        # US and European daytime overlap (about 15:00 UTC) is the busiest; early UTC morning the quietest.
        daily = 1.0 + 0.45 * math.sin(2 * math.pi * (moment.hour - 9) / 24)
        weekly = 0.75 if moment.weekday() >= 5 else 1.0
        drift = 0.97 * drift + rng.gauss(0.0, 0.06)
        noise = rng.gauss(0.0, 0.12)
        gwei = BASE_GWEI * daily * weekly * congestion[hour] * math.exp(drift + noise)
        fees.append(max(int(gwei * GWEI), GWEI // 10))
    return fees


def quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

"""Simulated marketplace scenarios and the wallet personas that populate them.

Every number that shapes the simulated history lives here, so the behaviour a test or a segment picks up
can be traced back to one line. Rates are actions per active day; an action may be several transactions
from one sender in one block (wrap + approve + buy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chainseg.errors import UserError


@dataclass(frozen=True)
class Persona:
    name: str
    rate_per_day: float
    # Priority tip in gwei, drawn log-uniformly in this range.
    tip_gwei: tuple[float, float]
    # Relative weights of what an action is: buy, mint, list, transfer, pay (plain ETH), wrap.
    weights: dict[str, float]
    # Days a bought token is held before it is put up for sale; None: holds (sells only rarely).
    resell_after_days: tuple[float, float] | None
    budget_eth: tuple[float, float]
    # Acts only when the base fee is below this quantile of the scenario's base fees (None: any time).
    fee_quantile: float | None = None
    # Price a buyer accepts, as a multiple of the collection floor times the token's rarity.
    max_price_factor: float = 1.3
    # Share of listings it prices in WETH rather than ETH.
    weth_share: float = 0.2
    # Markup over the valuation when listing.
    markup: tuple[float, float] = (0.05, 0.3)
    drop_minter: bool = False


PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in [
        Persona(
            "collector", 0.35, (0.5, 2.0),
            {"buy": 0.55, "mint": 0.2, "list": 0.04, "transfer": 0.06, "pay": 0.1, "wrap": 0.05},
            None, (3.0, 12.0), weth_share=0.2, markup=(0.4, 1.0),
        ),
        Persona(
            "flipper", 0.9, (1.0, 3.0),
            {"buy": 0.65, "mint": 0.1, "list": 0.15, "transfer": 0.02, "pay": 0.05, "wrap": 0.03},
            (0.3, 4.0), (3.0, 10.0), max_price_factor=1.25, weth_share=0.3, markup=(0.1, 0.35),
        ),
        Persona(
            "whale", 0.05, (1.0, 4.0),
            {"buy": 0.85, "mint": 0.0, "list": 0.05, "transfer": 0.05, "pay": 0.05, "wrap": 0.0},
            None, (150.0, 600.0), max_price_factor=3.0, weth_share=0.5, markup=(0.5, 1.5),
        ),
        Persona(
            "bargain_hunter", 0.45, (0.01, 0.1),
            {"buy": 0.7, "mint": 0.1, "list": 0.08, "transfer": 0.02, "pay": 0.05, "wrap": 0.05},
            (10.0, 40.0), (2.0, 6.0), fee_quantile=0.3, max_price_factor=0.95, markup=(0.15, 0.4),
        ),
        Persona(
            "sniper", 0.25, (8.0, 40.0),
            {"buy": 0.35, "mint": 0.4, "list": 0.15, "transfer": 0.02, "pay": 0.05, "wrap": 0.03},
            (0.5, 3.0), (2.0, 8.0), markup=(0.2, 0.8), drop_minter=True,
        ),
        Persona(
            "churner", 0.6, (0.5, 2.0),
            {"buy": 0.6, "mint": 0.15, "list": 0.1, "transfer": 0.05, "pay": 0.05, "wrap": 0.05},
            (5.0, 30.0), (2.0, 6.0),
        ),
        Persona(
            "newcomer", 0.5, (0.5, 2.5),
            {"buy": 0.6, "mint": 0.2, "list": 0.05, "transfer": 0.05, "pay": 0.05, "wrap": 0.05},
            None, (1.0, 5.0),
        ),
        Persona(
            "sybil", 0.15, (2.0, 6.0),
            {"buy": 0.1, "mint": 0.6, "list": 0.05, "transfer": 0.2, "pay": 0.05, "wrap": 0.0},
            None, (0.3, 1.0), drop_minter=True,
        ),
        Persona(
            "casual", 0.12, (0.3, 1.5),
            {"buy": 0.45, "mint": 0.2, "list": 0.1, "transfer": 0.05, "pay": 0.15, "wrap": 0.05},
            (20.0, 90.0), (0.5, 3.0),
        ),
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    name: str
    wallets: int
    days: int
    start: datetime
    # Share of wallets per persona (the sybil share counts cluster members, funders included).
    shares: dict[str, float]
    drop_days: tuple[int, ...]
    drop_supply: int  # public-mint tokens released at each drop
    blue_supply: int  # blue-chip tokens airdropped to early holders on day 0
    art_series_every_days: int
    art_series_size: int
    edition_every_days: int
    sybil_cluster_size: tuple[int, int] = (3, 8)
    activity: float = 1.0  # multiplies every persona's rate
    # anvil's cost per mined block grows with the size of the state, so a large history packs more
    # simulated hours into each block.
    hours_per_block: int = 1
    block_gas_target: int = 30_000_000


_SHARES = {
    "collector": 0.18,
    "flipper": 0.10,
    "whale": 0.02,
    "bargain_hunter": 0.12,
    "sniper": 0.07,
    "churner": 0.14,
    "newcomer": 0.12,
    "sybil": 0.08,
    "casual": 0.17,
}

SCENARIOS: dict[str, Scenario] = {
    "demo": Scenario(
        name="demo", wallets=1_000, days=120, start=datetime(2025, 3, 3, tzinfo=UTC), shares=_SHARES,
        drop_days=(8, 35, 63, 91, 110), drop_supply=350, blue_supply=400,
        art_series_every_days=10, art_series_size=8, edition_every_days=9,
    ),
    "large": Scenario(
        name="large", wallets=20_000, days=180, start=datetime(2025, 1, 6, tzinfo=UTC), shares=_SHARES,
        drop_days=(10, 30, 52, 75, 98, 121, 144, 166), drop_supply=9_000, blue_supply=6_000,
        art_series_every_days=5, art_series_size=30, edition_every_days=6, activity=2.8, hours_per_block=2,
    ),
    # Small and quick, for tests that need a complete history but not its size.
    "tiny": Scenario(
        name="tiny", wallets=120, days=30, start=datetime(2025, 3, 3, tzinfo=UTC), shares=_SHARES,
        drop_days=(4, 18), drop_supply=120, blue_supply=60,
        art_series_every_days=6, art_series_size=4, edition_every_days=5, activity=1.5,
    ),
}  # fmt: skip


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise UserError(f"unknown scenario '{name}'; choose one of: {known}") from None

"""Plans the simulated marketplace history one block (one simulated hour) at a time.

The planner keeps a model of the chain (who owns what, what is listed, a lower bound of every balance) and
only plans transactions that will succeed, except the late drop mints it sends on purpose to revert. It is
deterministic: the same scenario, seed and contract addresses give the same blocks. Token ids of public
mints depend on the order anvil executes a block in, so the seeder reports them back (`observe_mints`)
before the next block is planned.

Within one block, no transaction depends on another sender's transaction of the same block (anvil orders
a block by fee, not by arrival): each wallet acts at most once per block, each token is touched at most
once per block, and money received in a block can be spent from the next one on.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from eth_utils import keccak

from devnet.contracts import encode_call, load_artifact
from devnet.fee_market import DROP_OPEN_HOUR_UTC, GWEI, base_fee_schedule, quantile
from devnet.indexed_set import IndexedSet
from devnet.scenarios import PERSONAS, Persona, Scenario

ETHER = 10**18
ZERO_ADDRESS = "0x" + "00" * 20
DROP_MAX_PER_WALLET = 3
DROP_OPEN_HOURS = 48
FEE_BPS = 250
ROYALTY_BPS = {"drop": 500, "blue": 250, "art": 750, "editions": 1000}

# Gas limits per call: generous upper bounds (the receipt records what was really used). Explicit limits
# spare anvil an estimate per transaction and keep a block's total predictable.
GAS = {
    "transfer": 21_000,
    "deposit": 70_000,
    "withdraw": 70_000,
    "approve": 70_000,
    "approve_all": 70_000,
    "list": 160_000,
    "cancel": 60_000,
    "buy": 260_000,
    "mint_base": 80_000,
    "mint_each": 60_000,
    "mint_edition": 120_000,
    "transfer_721": 110_000,
    "transfer_1155": 110_000,
    "batch_base": 80_000,
    "batch_each": 45_000,
    "owner_mint_base": 80_000,
    "drop_admin": 80_000,
    "set_price": 70_000,
}

TokenKey = tuple[str, int]  # (collection address, token id)
ListingKey = tuple[str, int, str]  # (collection address, token id, seller)


@dataclass(frozen=True)
class Tx:
    sender: str
    to: str
    data: str
    value: int
    gas: int


@dataclass
class BlockPlan:
    hour: int
    timestamp: int
    base_fee: int
    txs: list[Tx] = field(default_factory=list)
    # One fee per sender per block: anvil drops a sender's later-nonce transaction with a higher fee cap.
    fees: dict[str, tuple[int, int]] = field(default_factory=dict)
    expected_failures: int = 0
    has_mints: bool = False
    gas: int = 0


@dataclass(frozen=True)
class Contracts:
    weth: str
    marketplace: str
    drop: str
    blue: str
    art: str
    editions: str


@dataclass
class Wallet:
    address: str
    persona: Persona
    start_hour: int
    end_hour: int
    cluster: int | None = None
    funder: str | None = None
    balance: int = 0  # a lower bound: gas is charged at its cap
    weth: int = 0
    weth_approved: bool = False
    approved: set[str] = field(default_factory=set)
    tokens: IndexedSet[TokenKey] = field(default_factory=IndexedSet)
    editions: dict[int, int] = field(default_factory=dict)
    drop_mints: dict[int, int] = field(default_factory=dict)


@dataclass
class Listing:
    amount: int
    currency: str
    price_per_unit: int
    hour: int


@dataclass
class Drop:
    number: int
    open_hour: int
    price: int
    opened: bool = False
    closed: bool = False
    close_hour: int = -1
    minted: int = 0


def derive_address(seed: int, label: str) -> str:
    return "0x" + keccak(text=f"chainseg/{seed}/{label}")[12:].hex()


class Simulator:
    def __init__(self, scenario: Scenario, seed: int, contracts: Contracts, creators: dict[str, str]) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rng = random.Random(seed)
        self.c = contracts
        self.creators = creators  # collection kind -> creator address
        self.kind_of = {
            contracts.drop: "drop",
            contracts.blue: "blue",
            contracts.art: "art",
            contracts.editions: "editions",
        }
        self.art = {
            name: load_artifact(name) for name in ("WETH", "Marketplace", "Collection721", "Editions1155")
        }
        self.hours = scenario.days * 24
        self.step = scenario.hours_per_block
        self._next_slot = 0
        self.base_fees = base_fee_schedule(scenario, self.rng)
        self.start_ts = int(scenario.start.timestamp())
        self.exchanges = [derive_address(seed, f"exchange/{i}") for i in range(3)]
        self.treasury = derive_address(seed, "treasury")
        self.floor = self._floor_prices()
        self.rarity: dict[TokenKey, float] = {}
        self.owner: dict[TokenKey, str] = {}
        self.listings: dict[ListingKey, Listing] = {}
        self.market: dict[str, IndexedSet[ListingKey]] = {address: IndexedSet() for address in self.kind_of}
        self.released_editions: list[int] = []
        self.edition_price: dict[int, tuple[int, int]] = {}  # edition -> (price, hour released)
        self._clusters = 0
        self._hour = 0
        self.drops = [
            Drop(i, day * 24 + DROP_OPEN_HOUR_UTC, self._drop_price(i))
            for i, day in enumerate(scenario.drop_days)
        ]
        self.events: list[tuple[int, int, str, tuple]] = []
        self._seq = 0
        self.wallets: dict[str, Wallet] = {}
        self.pending_mints: dict[str, str] = {}  # tx sender -> why it mints (for observe_mints)
        self.sales = 0
        self.planned_failures = 0
        self._create_wallets()
        self._schedule_market_makers()

    # ----------------------------------------------------------------------------------- population

    def _create_wallets(self) -> None:
        rng, scenario = self.rng, self.scenario
        counts = {name: int(round(share * scenario.wallets)) for name, share in scenario.shares.items()}
        counts["casual"] += scenario.wallets - sum(counts.values())
        index = 0
        for name, count in counts.items():
            persona = PERSONAS[name]
            made = 0
            while made < count:
                if name == "sybil":
                    made += self._create_cluster(
                        persona, min(count - made, rng.randint(*scenario.sybil_cluster_size))
                    )
                    continue
                start, end = self._active_window(name)
                address = derive_address(self.seed, f"wallet/{index}")
                index += 1
                self.wallets[address] = Wallet(address, persona, start, end)
                self._fund(
                    address,
                    start - rng.randint(1, 12),
                    self._budget(persona),
                    self.rng.choice(self.exchanges),
                )
                self._push(start + rng.randint(0, 12), "act", (address,))
                made += 1

    def _create_cluster(self, persona: Persona, size: int) -> int:
        """One funder and its wallets, all created just before a drop they farm together."""
        rng = self.rng
        cluster = self._clusters
        self._clusters += 1
        drop = rng.choice(self.drops[: max(1, len(self.drops) - 1)])
        start = max(1, drop.open_hour - rng.randint(24, 96))
        funder = derive_address(self.seed, f"sybil/{cluster}/funder")
        self.wallets[funder] = Wallet(funder, persona, start, self.hours, cluster=cluster)
        self._fund(funder, start - 6, size * 2 * ETHER, rng.choice(self.exchanges))
        for member_index in range(1, size):
            address = derive_address(self.seed, f"sybil/{cluster}/{member_index}")
            self.wallets[address] = Wallet(
                address, persona, start, self.hours, cluster=cluster, funder=funder
            )
            self._push(start - 3 + member_index % 3, "fund", (funder, address, int(1.5 * ETHER)))
            self._push(start + rng.randint(0, 24), "act", (address,))
        self._push(start + rng.randint(0, 24), "act", (funder,))
        return size

    def _active_window(self, persona: str) -> tuple[int, int]:
        rng, hours = self.rng, self.hours
        if persona == "churner":
            start = int(rng.uniform(0.0, 0.35) * hours)
            return max(start, 2), min(hours, start + int(rng.uniform(20, 45) * 24))
        if persona == "newcomer":
            return int(rng.uniform(0.72, 0.9) * hours), hours
        if persona == "whale":
            return max(2, int(rng.uniform(0.0, 0.2) * hours)), hours
        return max(2, int(rng.uniform(0.0, 0.3) * hours)), hours

    def _budget(self, persona: Persona) -> int:
        low, high = persona.budget_eth
        return int(math.exp(self.rng.uniform(math.log(low), math.log(high))) * ETHER)

    def _fund(self, address: str, hour: int, amount: int, source: str) -> None:
        self._push(max(0, hour), "fund", (source, address, amount))

    def _schedule_market_makers(self) -> None:
        """Creators' own actions: blue-chip airdrop, art series, edition releases, drops."""
        early = [w for w in self.wallets.values() if w.start_hour < 24 * 10 and w.persona.name != "sybil"]
        self.rng.shuffle(early)
        remaining = self.scenario.blue_supply
        for position, wallet in enumerate(early):
            if remaining <= 0:
                break
            quantity = min(remaining, self.rng.randint(1, 3))
            remaining -= quantity
            self._push(1 + position % 24, "airdrop", (wallet.address, quantity))
        self._push(0, "creator_setup", ())
        for hour in range(12, self.hours, self.scenario.art_series_every_days * 24):
            self._push(hour, "art_series", ())
        edition = 1
        for hour in range(6, self.hours, self.scenario.edition_every_days * 24):
            self._push(hour, "edition_release", (edition,))
            edition += 1
        for drop in self.drops:
            if drop.open_hour >= self.hours:
                continue
            self._push(drop.open_hour - 1, "drop_open", (drop.number,))
            for wallet in self.wallets.values():
                if not (wallet.start_hour <= drop.open_hour < wallet.end_hour):
                    continue
                if wallet.persona.name == "sniper":
                    self._push(drop.open_hour, "drop_mint", (wallet.address, drop.number))
                elif wallet.persona.name == "sybil" and wallet.funder:
                    self._push(
                        drop.open_hour + self.rng.randint(0, 5), "drop_mint", (wallet.address, drop.number)
                    )
                elif self.rng.random() < 0.25:
                    delay = int(self.rng.expovariate(1 / 10))
                    self._push(drop.open_hour + delay, "drop_mint", (wallet.address, drop.number))

    def _floor_prices(self) -> dict[str, list[float]]:
        """Floor price in ETH per collection and day: a random walk around a level."""
        levels = {self.c.drop: 0.08, self.c.blue: 1.5, self.c.art: 0.6, self.c.editions: 0.03}
        floors: dict[str, list[float]] = {}
        for address, level in levels.items():
            walk, series = 0.0, []
            for _ in range(self.scenario.days + 1):
                walk = 0.9 * walk + self.rng.gauss(0.0, 0.08)
                series.append(level * math.exp(walk))
            floors[address] = series
        return floors

    def _drop_price(self, number: int) -> int:
        return int((0.02 + 0.01 * (number % 4)) * ETHER)

    # -------------------------------------------------------------------------------- the block loop

    def _push(self, hour: int, kind: str, payload: tuple) -> None:
        self._seq += 1
        heapq.heappush(self.events, (hour, self._seq, kind, payload))

    def next_block(self) -> BlockPlan | None:
        """Plan the next block with transactions; None when the history is complete."""
        while self.events:
            hour = self.events[0][0]
            if hour >= self.hours:
                return None
            # Events can land in a block that is already mined (a mint observed after its block asks
            # for a listing an hour later): they go to the next block, never back in time.
            slot = max(hour - hour % self.step, self._next_slot)
            if slot >= self.hours:
                return None
            plan = self._plan_hour(slot)
            self._next_slot = slot + self.step
            if plan.txs:
                return plan
        return None

    def _plan_hour(self, hour: int) -> BlockPlan:
        """One block for the events of hours hour .. hour + step - 1."""
        timestamp = self.start_ts + hour * 3600 + self.rng.randint(0, self.step * 3600 - 600)
        plan = BlockPlan(hour=hour, timestamp=timestamp, base_fee=self.base_fees[hour])
        self._hour = hour
        self._busy_wallets: set[str] = set()
        self._busy_tokens: set[TokenKey] = set()
        self._credits: list[tuple[str, int, int]] = []  # (address, wei, weth) spendable from next block
        self._close_drops(plan)
        deferred: list[tuple[str, tuple]] = []
        gas_cap = self.scenario.block_gas_target
        while self.events and self.events[0][0] < hour + self.step:
            _, _, kind, payload = heapq.heappop(self.events)
            if plan.gas > gas_cap - 400_000:
                deferred.append((kind, payload))  # the block is full: the rest waits for the next hour
                continue
            handler = getattr(self, f"_on_{kind}")
            if handler(plan, *payload) is False:
                deferred.append((kind, payload))
        for kind, payload in deferred:
            self._push(hour + self.step, kind, payload)
        for address, wei, weth in self._credits:
            if address in self.wallets:
                self.wallets[address].balance += wei
                self.wallets[address].weth += weth
        return plan

    def _send(
        self, plan: BlockPlan, sender: str, to: str, data: str = "0x", value: int = 0, gas: int = 21_000
    ) -> None:
        if sender not in plan.fees:
            plan.fees[sender] = self._fee_for(sender, plan)
        plan.txs.append(Tx(sender, to, data, value, gas))
        plan.gas += gas
        wallet = self.wallets.get(sender)
        if wallet:
            wallet.balance -= value + gas * plan.fees[sender][0]

    def _fee_for(self, sender: str, plan: BlockPlan) -> tuple[int, int]:
        wallet = self.wallets.get(sender)
        low, high = wallet.persona.tip_gwei if wallet else (1.0, 2.0)
        tip = int(math.exp(self.rng.uniform(math.log(low), math.log(high))) * GWEI)
        return 2 * plan.base_fee + tip, tip

    def _call(self, contract: str, function: str, *args: object) -> str:
        return encode_call(self.art[contract], function, list(args))

    def _can_act(self, plan: BlockPlan, wallet: Wallet, reserve: int = 0) -> bool:
        gas_cost = 400_000 * (2 * plan.base_fee + int(wallet.persona.tip_gwei[1] * GWEI))
        return wallet.address not in self._busy_wallets and wallet.balance >= reserve + gas_cost

    # ----------------------------------------------------------------------------- event handlers

    def _on_fund(self, plan: BlockPlan, source: str, target: str, amount: int) -> bool | None:
        if source in self._busy_wallets and source not in self.exchanges:
            return False
        funder = self.wallets.get(source)
        if funder and funder.balance < amount + 21_000 * 4 * plan.base_fee:
            return None  # a sybil funder that ran dry simply stops funding
        self._send(plan, source, target, value=amount)
        self._credits.append((target, amount, 0))
        return None

    def _on_creator_setup(self, plan: BlockPlan) -> None:
        creator = self.creators["art"]
        self._send(
            plan,
            creator,
            self.c.art,
            self._call("Collection721", "setApprovalForAll", self.c.marketplace, True),
            gas=GAS["approve_all"],
        )

    def _on_airdrop(self, plan: BlockPlan, holder: str, quantity: int) -> None:
        creator = self.creators["blue"]
        gas = GAS["owner_mint_base"] + GAS["mint_each"] * quantity
        self._send(
            plan, creator, self.c.blue, self._call("Collection721", "ownerMint", holder, quantity), gas=gas
        )
        plan.has_mints = True

    def _on_art_series(self, plan: BlockPlan) -> None:
        creator = self.creators["art"]
        size = self.scenario.art_series_size
        gas = GAS["owner_mint_base"] + GAS["mint_each"] * size
        self._send(
            plan, creator, self.c.art, self._call("Collection721", "ownerMint", creator, size), gas=gas
        )
        plan.has_mints = True

    def _on_edition_release(self, plan: BlockPlan, edition: int) -> None:
        price = int(self.rng.choice((0.01, 0.015, 0.02, 0.03, 0.05)) * ETHER)
        creator = self.creators["editions"]
        data = self._call("Editions1155", "setEditionPrice", edition, price)
        self._send(plan, creator, self.c.editions, data, gas=GAS["set_price"])
        self.released_editions.append(edition)
        self.edition_price[edition] = (price, plan.hour)  # mintable from the next block on

    def _on_drop_open(self, plan: BlockPlan, number: int) -> None:
        drop = self.drops[number]
        data = self._call("Collection721", "openDrop", drop.price, DROP_MAX_PER_WALLET)
        self._send(plan, self.creators["drop"], self.c.drop, data, gas=GAS["drop_admin"])
        drop.opened = True

    def _close_drops(self, plan: BlockPlan) -> None:
        """Close a drop when its supply is minted or its time is up, before anything else is planned."""
        for drop in self.drops:
            due = drop.minted >= self.scenario.drop_supply or plan.hour >= drop.open_hour + DROP_OPEN_HOURS
            if drop.opened and not drop.closed and due:
                data = self._call("Collection721", "closeDrop")
                self._send(plan, self.creators["drop"], self.c.drop, data, gas=GAS["drop_admin"])
                drop.closed = True
                drop.close_hour = plan.hour

    def _on_drop_mint(self, plan: BlockPlan, address: str, number: int) -> bool | None:
        drop = self.drops[number]
        wallet = self.wallets[address]
        if plan.hour >= wallet.end_hour:
            return None
        if not drop.opened or plan.hour <= drop.open_hour - 1:
            return False
        if drop.closed and plan.hour <= drop.close_hour:
            return None  # never race the close in its own block: the outcome would depend on fee order
        already = wallet.drop_mints.get(number, 0)
        quantity = DROP_MAX_PER_WALLET - already if wallet.persona.drop_minter else 1
        if quantity <= 0 or not self._can_act(plan, wallet, drop.price * quantity):
            return None
        if drop.closed:
            # A late minter who missed the close: the transaction reverts, as such attempts do on mainnet.
            if self.rng.random() > 0.15:
                return None
            plan.expected_failures += 1
            self.planned_failures += 1
        else:
            wallet.drop_mints[number] = already + quantity
            plan.has_mints = True
        gas = GAS["mint_base"] + GAS["mint_each"] * quantity
        self._send(
            plan,
            address,
            self.c.drop,
            self._call("Collection721", "mint", quantity),
            drop.price * quantity,
            gas,
        )
        self._busy_wallets.add(address)
        return None

    def _on_act(self, plan: BlockPlan, address: str) -> None:
        wallet = self.wallets[address]
        if plan.hour >= wallet.end_hour:
            return
        persona = wallet.persona
        if persona.fee_quantile is not None and plan.base_fee > self._fee_ceiling(persona):
            self._push(self._next_cheap_hour(plan.hour, persona), "act", (address,))
            return
        if address in self._busy_wallets:
            self._push(plan.hour + self.step, "act", (address,))
            return
        if not self._can_act(plan, wallet):
            # Out of money: most top up from an exchange and come back; the rest wait for proceeds.
            if self.rng.random() < 0.6:
                self._fund(address, plan.hour, self._budget(persona), self.rng.choice(self.exchanges))
            self._schedule_next_act(wallet, plan.hour)
            return
        choice = self.rng.choices(list(persona.weights), weights=list(persona.weights.values()))[0]
        done = getattr(self, f"_do_{choice}")(plan, wallet)
        if not done and choice != "buy":
            self._do_buy(plan, wallet)
        self._schedule_next_act(wallet, plan.hour)

    def _schedule_next_act(self, wallet: Wallet, hour: int) -> None:
        rate = wallet.persona.rate_per_day * self.scenario.activity
        gap = max(1, int(self.rng.expovariate(rate / 24.0)))
        if hour + gap < wallet.end_hour:
            self._push(hour + gap, "act", (wallet.address,))

    def _fee_ceiling(self, persona: Persona) -> int:
        cache = self.__dict__.setdefault("_ceilings", {})
        if persona.name not in cache:
            cache[persona.name] = quantile(self.base_fees, persona.fee_quantile or 1.0)
        return cache[persona.name]

    def _next_cheap_hour(self, hour: int, persona: Persona) -> int:
        """The start of the next block whose base fee is below the persona's ceiling."""
        ceiling = self._fee_ceiling(persona)
        first = hour - hour % self.step + self.step
        for later in range(first, min(self.hours, first + 96), self.step):
            if self.base_fees[later] <= ceiling:
                return later
        return first + 96

    def _on_list(self, plan: BlockPlan, address: str, token: TokenKey) -> None:
        wallet = self.wallets[address]
        if token not in wallet.tokens or plan.hour >= wallet.end_hour:
            return
        if address in self._busy_wallets or token in self._busy_tokens:
            self._push(plan.hour + self.step, "list", (address, token))
            return
        if not self._can_act(plan, wallet):
            return
        self._list_token(plan, wallet, token[0], token[1], 1)

    def _on_reprice(self, plan: BlockPlan, key: ListingKey) -> None:
        listing = self.listings.get(key)
        collection, token_id, seller = key
        if listing is None or seller in self._busy_wallets or (collection, token_id) in self._busy_tokens:
            return
        wallet = self.wallets.get(seller)
        if wallet is None or plan.hour >= wallet.end_hour or not self._can_act(plan, wallet):
            return
        if wallet.persona.resell_after_days is None and self.rng.random() < 0.5:
            self._send(
                plan,
                seller,
                self.c.marketplace,
                self._call("Marketplace", "cancel", collection, token_id),
                gas=GAS["cancel"],
            )
            self._drop_listing(key)
        else:
            listing.price_per_unit = max(1, int(listing.price_per_unit * self.rng.uniform(0.8, 0.92)))
            data = self._call(
                "Marketplace",
                "list",
                collection,
                token_id,
                listing.amount,
                listing.currency,
                listing.price_per_unit,
            )
            self._send(plan, seller, self.c.marketplace, data, gas=GAS["list"])
            listing.hour = plan.hour
            self._push(plan.hour + self.rng.randint(36, 120), "reprice", (key,))
        self._busy_wallets.add(seller)
        self._busy_tokens.add((collection, token_id))

    def _on_consolidate(self, plan: BlockPlan, address: str, token: TokenKey) -> None:
        wallet = self.wallets[address]
        if token not in wallet.tokens or not wallet.funder or plan.hour >= wallet.end_hour:
            return
        if address in self._busy_wallets or token in self._busy_tokens or not self._can_act(plan, wallet):
            self._push(plan.hour + self.step, "consolidate", (address, token))
            return
        self._transfer_721(plan, wallet, token, wallet.funder)

    # ----------------------------------------------------------------------------------- actions

    def _do_buy(self, plan: BlockPlan, wallet: Wallet) -> bool:
        persona = wallet.persona
        preferred = [self.c.art, self.c.blue] if persona.name == "whale" else list(self.market)
        collections = [c for c in preferred if len(self.market[c])]
        if not collections:
            return False
        collection = self.rng.choice(collections)
        best: tuple[float, ListingKey, int] | None = None
        for _ in range(12):
            key = self.market[collection].choice(self.rng)
            listing = self.listings[key]
            token = (key[0], key[1])
            if key[2] == wallet.address or listing.hour >= plan.hour or token in self._busy_tokens:
                continue
            if key[2] in self._busy_wallets:
                continue
            amount = 1 if listing.amount == 1 else self.rng.randint(1, listing.amount)
            price = listing.price_per_unit * amount
            value = self._value(token) * amount
            if price > persona.max_price_factor * value * ETHER:
                continue
            score = price / (value * ETHER)
            if best is None or score < best[0]:
                best = (score, key, amount)
        if best is None:
            return False
        _, key, amount = best
        listing = self.listings[key]
        price = listing.price_per_unit * amount
        if listing.currency == ZERO_ADDRESS:
            if not self._can_act(plan, wallet, price):
                return False
            value = price
        else:
            shortfall = max(0, price - wallet.weth)
            wrap = shortfall + int(self.rng.uniform(0, 0.2) * ETHER) if shortfall else 0
            if not self._can_act(plan, wallet, wrap):
                return False
            if wrap:
                self._send(
                    plan, wallet.address, self.c.weth, self._call("WETH", "deposit"), wrap, GAS["deposit"]
                )
                wallet.weth += wrap
            if not wallet.weth_approved:
                data = self._call("WETH", "approve", self.c.marketplace, 2**256 - 1)
                self._send(plan, wallet.address, self.c.weth, data, gas=GAS["approve"])
                wallet.weth_approved = True
            wallet.weth -= price
            value = 0
        data = self._call("Marketplace", "buy", key[0], key[1], key[2], amount)
        self._send(plan, wallet.address, self.c.marketplace, data, value, GAS["buy"])
        self._settle(plan, key, listing, amount, wallet)
        return True

    def _settle(self, plan: BlockPlan, key: ListingKey, listing: Listing, amount: int, buyer: Wallet) -> None:
        collection, token_id, seller = key
        price = listing.price_per_unit * amount
        royalty = price * ROYALTY_BPS[self.kind_of[collection]] // 10_000
        fee = price * FEE_BPS // 10_000
        in_weth = listing.currency != ZERO_ADDRESS
        proceeds = price - royalty - fee
        self._credits.append((seller, 0 if in_weth else proceeds, proceeds if in_weth else 0))
        token = (collection, token_id)
        if self.kind_of[collection] == "editions":
            self._move_edition(seller, buyer.address, token_id, amount)
            listing.amount -= amount
            if listing.amount == 0:
                self._drop_listing(key)
        else:
            self._move_721(token, seller, buyer.address)
        self._busy_wallets.update((seller, buyer.address))
        self._busy_tokens.add(token)
        self.sales += 1
        self._after_acquire(buyer, token, plan.hour)

    def _after_acquire(self, wallet: Wallet, token: TokenKey, hour: int) -> None:
        resell = wallet.persona.resell_after_days
        if resell is None:
            if self.rng.random() < 0.08:
                resell = (40.0, 200.0)  # even collectors let a piece go now and then
            else:
                return
        delay = int(self.rng.uniform(*resell) * 24)
        if self.kind_of[token[0]] == "editions":
            return  # edition holders list through their generic actions
        self._push(hour + max(1, delay), "list", (wallet.address, token))

    def _do_mint(self, plan: BlockPlan, wallet: Wallet) -> bool:
        editions = [e for e in self.released_editions if self.edition_price[e][1] < plan.hour]
        if not editions:
            return False
        edition = self.rng.choice(editions[-4:])
        amount = self.rng.randint(1, 4)
        price = self.edition_price[edition][0] * amount
        if not self._can_act(plan, wallet, price):
            return False
        data = self._call("Editions1155", "mintEdition", edition, amount)
        self._send(plan, wallet.address, self.c.editions, data, price, GAS["mint_edition"])
        self._move_edition(None, wallet.address, edition, amount)
        self._busy_wallets.add(wallet.address)
        self._busy_tokens.add((self.c.editions, edition))
        self.rarity.setdefault((self.c.editions, edition), 1.0)
        return True

    def _do_list(self, plan: BlockPlan, wallet: Wallet) -> bool:
        candidates = [
            (self.c.editions, edition)
            for edition, amount in wallet.editions.items()
            if amount > 0 and (self.c.editions, edition) not in self._busy_tokens
        ]
        if len(wallet.tokens):
            token = wallet.tokens.choice(self.rng)
            if token not in self._busy_tokens and (token[0], token[1], wallet.address) not in self.listings:
                candidates.append(token)
        if not candidates:
            return False
        collection, token_id = self.rng.choice(candidates)
        amount = 1
        if collection == self.c.editions:
            amount = self.rng.randint(1, wallet.editions[token_id])
        self._list_token(plan, wallet, collection, token_id, amount)
        return True

    def _list_token(
        self, plan: BlockPlan, wallet: Wallet, collection: str, token_id: int, amount: int
    ) -> None:
        if collection not in wallet.approved:
            function = "Editions1155" if collection == self.c.editions else "Collection721"
            data = self._call(function, "setApprovalForAll", self.c.marketplace, True)
            self._send(plan, wallet.address, collection, data, gas=GAS["approve_all"])
            wallet.approved.add(collection)
        currency = self.c.weth if self.rng.random() < wallet.persona.weth_share else ZERO_ADDRESS
        markup = self.rng.uniform(*wallet.persona.markup)
        value = self._value((collection, token_id))
        price = max(10**12, int(value * (1 + markup) * ETHER) // 10**12 * 10**12)
        data = self._call("Marketplace", "list", collection, token_id, amount, currency, price)
        self._send(plan, wallet.address, self.c.marketplace, data, gas=GAS["list"])
        key = (collection, token_id, wallet.address)
        self.listings[key] = Listing(amount, currency, price, plan.hour)
        self.market[collection].add(key)
        self._busy_wallets.add(wallet.address)
        self._busy_tokens.add((collection, token_id))
        self._push(plan.hour + self.rng.randint(48, 144), "reprice", (key,))

    def _do_transfer(self, plan: BlockPlan, wallet: Wallet) -> bool:
        target = wallet.funder or self._random_wallet(exclude=wallet.address)
        editions = [
            (e, a)
            for e, a in wallet.editions.items()
            if a > 0 and (self.c.editions, e) not in self._busy_tokens
        ]
        if editions and (not len(wallet.tokens) or self.rng.random() < 0.5):
            self._transfer_editions(plan, wallet, editions, target)
            return True
        if len(wallet.tokens):
            token = wallet.tokens.choice(self.rng)
            if token not in self._busy_tokens:
                self._transfer_721(plan, wallet, token, target)
                return True
        return False

    def _transfer_721(self, plan: BlockPlan, wallet: Wallet, token: TokenKey, target: str) -> None:
        data = self._call("Collection721", "transferFrom", wallet.address, target, token[1])
        self._send(plan, wallet.address, token[0], data, gas=GAS["transfer_721"])
        self._move_721(token, wallet.address, target)
        self._busy_wallets.add(wallet.address)
        self._busy_tokens.add(token)

    def _transfer_editions(
        self, plan: BlockPlan, wallet: Wallet, editions: list[tuple[int, int]], target: str
    ) -> None:
        """A single transfer, or a batch; a batch may name the same id twice (the standard allows it)."""
        self.rng.shuffle(editions)
        ids: list[int] = []
        amounts: list[int] = []
        for edition, held in editions[: self.rng.randint(1, 3)]:
            amount = self.rng.randint(1, held)
            if amount >= 2 and self.rng.random() < 0.3:
                first = amount // 2
                ids += [edition, edition]
                amounts += [first, amount - first]
            else:
                ids.append(edition)
                amounts.append(amount)
        if len(ids) == 1:
            data = self._call(
                "Editions1155", "safeTransferFrom", wallet.address, target, ids[0], amounts[0], b""
            )
            gas = GAS["transfer_1155"]
        else:
            data = self._call(
                "Editions1155", "safeBatchTransferFrom", wallet.address, target, ids, amounts, b""
            )
            gas = GAS["batch_base"] + GAS["batch_each"] * len(ids)
        self._send(plan, wallet.address, self.c.editions, data, gas=gas)
        for edition, amount in zip(ids, amounts, strict=True):
            self._move_edition(wallet.address, target, edition, amount)
            self._busy_tokens.add((self.c.editions, edition))
        self._busy_wallets.add(wallet.address)

    def _do_pay(self, plan: BlockPlan, wallet: Wallet) -> bool:
        amount = int(self.rng.uniform(0.005, 0.3) * ETHER)
        if not self._can_act(plan, wallet, amount):
            return False
        target = self._random_wallet(exclude=wallet.address)
        self._send(plan, wallet.address, target, value=amount)
        self._credits.append((target, amount, 0))
        self._busy_wallets.add(wallet.address)
        return True

    def _do_wrap(self, plan: BlockPlan, wallet: Wallet) -> bool:
        if wallet.weth > 0 and self.rng.random() < 0.35:
            amount = wallet.weth
            self._send(
                plan, wallet.address, self.c.weth, self._call("WETH", "withdraw", amount), gas=GAS["withdraw"]
            )
            wallet.weth = 0
            self._credits.append((wallet.address, amount, 0))
        else:
            amount = int(self.rng.uniform(0.05, 0.5) * ETHER)
            if not self._can_act(plan, wallet, amount):
                return False
            self._send(
                plan, wallet.address, self.c.weth, self._call("WETH", "deposit"), amount, GAS["deposit"]
            )
            self._credits.append((wallet.address, 0, amount))
        self._busy_wallets.add(wallet.address)
        return True

    # ---------------------------------------------------------------------------------- model state

    def _random_wallet(self, exclude: str) -> str:
        """Someone already active: payments and gifts go to people who are around, not to future wallets."""
        addresses = self.__dict__.setdefault("_addresses", list(self.wallets))
        address = exclude
        for _ in range(50):
            address = addresses[self.rng.randrange(len(addresses))]
            wallet = self.wallets[address]
            if address != exclude and wallet.start_hour <= self._hour < wallet.end_hour:
                return address
        return address if address != exclude else self.exchanges[0]

    def _value(self, token: TokenKey) -> float:
        """What the market thinks a token is worth today, in ETH."""
        return self.floor[token[0]][self._hour // 24] * self.rarity.get(token, 1.0)

    def _move_721(self, token: TokenKey, seller: str | None, buyer: str) -> None:
        if seller is not None:
            previous = self.wallets.get(seller)
            if previous:
                previous.tokens.discard(token)
            self._drop_listing((token[0], token[1], seller))
        self.owner[token] = buyer
        if buyer in self.wallets:
            self.wallets[buyer].tokens.add(token)

    def _move_edition(self, seller: str | None, buyer: str, edition: int, amount: int) -> None:
        if seller is not None and seller in self.wallets:
            held = self.wallets[seller].editions
            held[edition] -= amount
            key = (self.c.editions, edition, seller)
            listing = self.listings.get(key)
            if listing and listing.amount > held[edition]:
                self._drop_listing(key)  # no longer backed: the holder moved units away
        if buyer in self.wallets:
            held = self.wallets[buyer].editions
            held[edition] = held.get(edition, 0) + amount

    def _drop_listing(self, key: ListingKey) -> None:
        if self.listings.pop(key, None) is not None:
            self.market[key[0]].discard(key)

    def observe_mints(self, transfers: Iterable[tuple[str, str, int]], hour: int) -> None:
        """Record ERC-721 mints the node executed: (collection, recipient, token id), in log order."""
        for collection, recipient, token_id in transfers:
            token = (collection, token_id)
            self.rarity[token] = math.exp(self.rng.gauss(0.0, 0.35))
            kind = self.kind_of.get(collection)
            if kind == "art" and recipient == self.creators["art"]:
                self._push(hour + 1, "creator_list", (token,))
                self.owner[token] = recipient
                continue
            if kind == "drop":
                drop = next((d for d in self.drops if d.opened and not d.closed), None)
                if drop:
                    drop.minted += 1
            self._move_721(token, None, recipient)
            wallet = self.wallets.get(recipient)
            if wallet is None:
                continue
            if wallet.funder and self.rng.random() < 0.7:
                self._push(hour + self.rng.randint(6, 72), "consolidate", (recipient, token))
            elif wallet.persona.resell_after_days is not None or wallet.persona.name == "sniper":
                self._after_acquire(wallet, token, hour)

    def _on_creator_list(self, plan: BlockPlan, token: TokenKey) -> None:
        creator = self.creators["art"]
        price = int(
            self.floor[token[0]][plan.hour // 24] * self.rarity[token] * self.rng.uniform(1.0, 2.5) * 1000
        )
        price_wei = price * 10**15
        data = self._call("Marketplace", "list", token[0], token[1], 1, ZERO_ADDRESS, price_wei)
        self._send(plan, creator, self.c.marketplace, data, gas=GAS["list"])
        key = (token[0], token[1], creator)
        self.listings[key] = Listing(1, ZERO_ADDRESS, price_wei, plan.hour)
        self.market[token[0]].add(key)

    # ------------------------------------------------------------------------------------- outputs

    def answer_key(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = [
            {"address": w.address, "role": "wallet", "persona": w.persona.name, "sybil_cluster": w.cluster}
            for w in self.wallets.values()
        ]
        rows += [
            {"address": a, "role": "exchange", "persona": None, "sybil_cluster": None} for a in self.exchanges
        ]
        rows.append({"address": self.treasury, "role": "treasury", "persona": None, "sybil_cluster": None})
        rows += [
            {"address": a, "role": f"creator:{kind}", "persona": None, "sybil_cluster": None}
            for kind, a in self.creators.items()
        ]
        return rows

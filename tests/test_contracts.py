"""The devnet marketplace contracts, exercised on a real anvil node through devnet.contracts' encoders.

Every transaction is sent with an explicit gas limit so that a reverting one is still mined (status 0)
instead of failing at gas estimation: that lets the failure tests check what a revert actually costs
and leaves unchanged on chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3 import Web3

from devnet.contracts import (
    ARTIFACTS_DIR,
    Artifact,
    decode_event,
    encode_call,
    encode_deploy,
    event_topics,
    load_artifact,
)

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "devnet" / "contracts"
ETH = 10**18
ZERO = "0x0000000000000000000000000000000000000000"
MAX_UINT = 2**256 - 1
GAS = 1_000_000
FEE_BPS = 250
ROYALTY_721_BPS = 500
ROYALTY_1155_BPS = 1000

WETH = load_artifact("WETH")
MARKET = load_artifact("Marketplace")
C721 = load_artifact("Collection721")
E1155 = load_artifact("Editions1155")


@dataclass
class Env:
    w3: Web3
    deployer: str
    fee_recipient: str
    creator: str
    seller: str
    buyer: str
    other: str
    weth: str
    market: str
    c721: str
    e1155: str

    def send(self, sender: str, to: str, art: Artifact, fn: str, args: list[Any], value: int = 0) -> Any:
        tx = {"from": sender, "to": to, "data": encode_call(art, fn, args), "value": value, "gas": GAS}
        return self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_transaction(tx))

    def ok(self, sender: str, to: str, art: Artifact, fn: str, args: list[Any], value: int = 0) -> Any:
        receipt = self.send(sender, to, art, fn, args, value)
        assert receipt["status"] == 1, f"{art.name}.{fn} reverted"
        return receipt

    def call(self, to: str, art: Artifact, fn: str, args: list[Any], out: list[str]) -> Any:
        raw = self.w3.eth.call({"to": to, "data": encode_call(art, fn, args)})
        decoded = abi_decode(out, bytes(raw))
        return decoded[0] if len(out) == 1 else decoded

    def revert_selector(
        self, sender: str, to: str, art: Artifact, fn: str, args: list[Any], value: int = 0
    ) -> str:
        """The 4-byte selector of the custom error eth_call reverts with."""
        tx = {"from": sender, "to": to, "data": encode_call(art, fn, args), "value": hex(value)}
        resp = self.w3.provider.make_request("eth_call", [tx, "latest"])
        assert "error" in resp, f"{art.name}.{fn} did not revert"
        return str(resp["error"]["data"])[:10]

    def weth_of(self, who: str) -> int:
        return self.call(self.weth, WETH, "balanceOf", [who], ["uint256"])

    def owner_of(self, token_id: int) -> str:
        return self.owner_of_in(self.c721, token_id)

    def owner_of_in(self, collection: str, token_id: int) -> str:
        return Web3.to_checksum_address(self.call(collection, C721, "ownerOf", [token_id], ["address"]))

    def listing(self, collection: str, token_id: int, seller: str) -> tuple[int, str, int]:
        amount, currency, price = self.call(
            self.market, MARKET, "listings", [collection, token_id, seller], ["uint256", "address", "uint256"]
        )
        return amount, Web3.to_checksum_address(currency), price


def _deploy(w3: Web3, sender: str, art: Artifact, args: list[Any]) -> str:
    tx_hash = w3.eth.send_transaction({"from": sender, "data": encode_deploy(art, args), "gas": 8_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"deploying {art.name} failed"
    return receipt["contractAddress"]


def _error(art: Artifact, name: str) -> str:
    entry = next(e for e in art.abi if e["type"] == "error" and e["name"] == name)
    sig = f"{name}({','.join(p['type'] for p in entry['inputs'])})"
    return "0x" + keccak(text=sig)[:4].hex()


def _logs(receipt: Any, art: Artifact, address: str, event: str) -> list[dict[str, Any]]:
    topic0 = event_topics(art)[event]
    return [
        decode_event(art, dict(log))
        for log in receipt["logs"]
        if log["address"] == address and log["topics"] and "0x" + bytes(log["topics"][0]).hex() == topic0
    ]


@pytest.fixture
def env(chain: Any) -> Env:
    w3 = Web3(Web3.HTTPProvider(chain.url))
    deployer, fee_recipient, creator, seller, buyer, other = w3.eth.accounts[:6]
    weth = _deploy(w3, deployer, WETH, [])
    market = _deploy(w3, deployer, MARKET, [weth, fee_recipient, FEE_BPS])
    c721 = _deploy(w3, deployer, C721, ["Devnet Apes", "DAPE", creator, ROYALTY_721_BPS, 100])
    e1155 = _deploy(w3, deployer, E1155, ["ipfs://editions/{id}.json", creator, ROYALTY_1155_BPS])
    return Env(w3, deployer, fee_recipient, creator, seller, buyer, other, weth, market, c721, e1155)


def _list_721(env: Env, token_id: int, currency: str, price: int) -> None:
    env.ok(env.creator, env.c721, C721, "ownerMint", [env.seller, token_id])
    env.ok(env.seller, env.c721, C721, "setApprovalForAll", [env.market, True])
    env.ok(env.seller, env.market, MARKET, "list", [env.c721, token_id, 1, currency, price])


def test_eth_sale_of_erc721_pays_everyone_and_moves_the_token(env: Env) -> None:
    price = 1 * ETH
    _list_721(env, 1, ZERO, price)
    assert env.listing(env.c721, 1, env.seller) == (1, ZERO, price)
    before = {a: env.w3.eth.get_balance(a) for a in (env.seller, env.creator, env.fee_recipient)}

    receipt = env.ok(env.buyer, env.market, MARKET, "buy", [env.c721, 1, env.seller, 1], value=price)

    fee, royalty = price * FEE_BPS // 10_000, price * ROYALTY_721_BPS // 10_000
    assert env.owner_of(1) == env.buyer
    # None of these three sent the transaction, so their balances moved by the payouts alone.
    assert env.w3.eth.get_balance(env.seller) - before[env.seller] == price - fee - royalty
    assert env.w3.eth.get_balance(env.creator) - before[env.creator] == royalty
    assert env.w3.eth.get_balance(env.fee_recipient) - before[env.fee_recipient] == fee
    assert env.w3.eth.get_balance(env.market) == 0
    sales = _logs(receipt, MARKET, env.market, "Sale")
    assert sales == [
        {
            "event": "Sale",
            "address": env.market,
            "args": {
                "collection": env.c721,
                "tokenId": 1,
                "amount": 1,
                "seller": env.seller,
                "buyer": env.buyer,
                "currency": ZERO,
                "price": price,
                "fee": fee,
                "royalty": royalty,
            },
        }
    ]
    assert env.listing(env.c721, 1, env.seller) == (0, ZERO, 0)
    # A regression guard on settlement cost (measured ~104k with cold accounts).
    assert receipt["gasUsed"] < 130_000


def test_weth_sale_pulls_each_leg_from_the_buyer(env: Env) -> None:
    price = 3 * ETH // 2
    _list_721(env, 1, env.weth, price)
    env.ok(env.buyer, env.weth, WETH, "deposit", [], value=2 * ETH)
    env.ok(env.buyer, env.weth, WETH, "approve", [env.market, MAX_UINT])

    receipt = env.ok(env.buyer, env.market, MARKET, "buy", [env.c721, 1, env.seller, 1])

    fee, royalty = price * FEE_BPS // 10_000, price * ROYALTY_721_BPS // 10_000
    assert env.owner_of(1) == env.buyer
    assert env.weth_of(env.seller) == price - fee - royalty
    assert env.weth_of(env.creator) == royalty
    assert env.weth_of(env.fee_recipient) == fee
    assert env.weth_of(env.buyer) == 2 * ETH - price
    assert env.weth_of(env.market) == 0
    # WETH9 semantics: an unlimited allowance is not spent down.
    assert env.call(env.weth, WETH, "allowance", [env.buyer, env.market], ["uint256"]) == MAX_UINT
    [sale] = _logs(receipt, MARKET, env.market, "Sale")
    assert sale["args"]["currency"] == env.weth
    assert (sale["args"]["price"], sale["args"]["fee"], sale["args"]["royalty"]) == (price, fee, royalty)
    transfers = _logs(receipt, WETH, env.weth, "Transfer")
    assert sorted((t["args"]["dst"], t["args"]["wad"]) for t in transfers) == sorted(
        [(env.creator, royalty), (env.fee_recipient, fee), (env.seller, price - fee - royalty)]
    )


def test_erc1155_listing_fills_partially_then_disappears(env: Env) -> None:
    unit = ETH // 10
    env.ok(env.creator, env.e1155, E1155, "ownerMint", [env.seller, 7, 5])
    env.ok(env.seller, env.e1155, E1155, "setApprovalForAll", [env.market, True])
    env.ok(env.seller, env.market, MARKET, "list", [env.e1155, 7, 5, ZERO, unit])

    def balance(who: str) -> int:
        return env.call(env.e1155, E1155, "balanceOf", [who, 7], ["uint256"])

    first = env.ok(env.buyer, env.market, MARKET, "buy", [env.e1155, 7, env.seller, 2], value=2 * unit)
    assert (balance(env.seller), balance(env.buyer)) == (3, 2)
    assert env.listing(env.e1155, 7, env.seller) == (3, ZERO, unit)
    # More than what is left is refused, leaving the remainder listed.
    over = env.send(env.buyer, env.market, MARKET, "buy", [env.e1155, 7, env.seller, 4], value=4 * unit)
    assert over["status"] == 0
    assert env.listing(env.e1155, 7, env.seller) == (3, ZERO, unit)

    creator_before = env.w3.eth.get_balance(env.creator)
    second = env.ok(env.buyer, env.market, MARKET, "buy", [env.e1155, 7, env.seller, 3], value=3 * unit)
    assert (balance(env.seller), balance(env.buyer)) == (0, 5)
    assert env.listing(env.e1155, 7, env.seller) == (0, ZERO, 0)
    assert env.w3.eth.get_balance(env.creator) - creator_before == 3 * unit * ROYALTY_1155_BPS // 10_000

    sales = _logs(first, MARKET, env.market, "Sale") + _logs(second, MARKET, env.market, "Sale")
    assert [(s["args"]["tokenId"], s["args"]["amount"], s["args"]["price"]) for s in sales] == [
        (7, 2, 2 * unit),
        (7, 3, 3 * unit),
    ]
    assert [s["args"]["royalty"] for s in sales] == [2 * unit // 10, 3 * unit // 10]


def _state(env: Env, sender: str) -> dict[str, Any]:
    """Everything a buy could change, except the sender's ETH (which pays gas; checked separately)."""
    eth_holders = [
        a for a in (env.seller, env.buyer, env.creator, env.fee_recipient, env.market) if a != sender
    ]
    return {
        "owner": env.owner_of(1),
        "listing": env.listing(env.c721, 1, env.seller),
        **{f"eth:{a}": env.w3.eth.get_balance(a) for a in eth_holders},
        **{f"weth:{a}": env.weth_of(a) for a in (env.seller, env.creator, env.fee_recipient, env.buyer)},
    }


def _assert_reverts(env: Env, sender: str, args: list[Any], value: int, error: str) -> None:
    """The buy fails with `error`, the failed tx costs the sender only gas, and nothing else changes."""
    assert env.revert_selector(sender, env.market, MARKET, "buy", args, value) == _error(MARKET, error)
    before, sender_before = _state(env, sender), env.w3.eth.get_balance(sender)
    receipt = env.send(sender, env.market, MARKET, "buy", args, value)
    assert receipt["status"] == 0
    assert _state(env, sender) == before
    gas_cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert env.w3.eth.get_balance(sender) == sender_before - gas_cost


def test_failed_buys_revert_atomically(env: Env) -> None:
    price = ETH
    _list_721(env, 1, ZERO, price)
    buy = [env.c721, 1, env.seller, 1]

    _assert_reverts(env, env.buyer, buy, price - 1, "IncorrectPayment")
    _assert_reverts(env, env.buyer, buy, price + 1, "IncorrectPayment")
    _assert_reverts(env, env.seller, buy, price, "BuyerIsSeller")

    # The seller moves the token away outside the marketplace: the stale listing must not sell.
    env.ok(env.seller, env.c721, C721, "transferFrom", [env.seller, env.other, 1])
    _assert_reverts(env, env.buyer, buy, price, "NotTokenOwner")
    assert env.owner_of(1) == env.other


def test_weth_buy_short_of_funds_undoes_the_legs_already_paid(env: Env) -> None:
    price = ETH
    _list_721(env, 1, env.weth, price)
    # Enough for the royalty and fee legs (paid first) but not the seller's: those must be undone too.
    env.ok(env.buyer, env.weth, WETH, "deposit", [], value=price // 2)
    env.ok(env.buyer, env.weth, WETH, "approve", [env.market, MAX_UINT])
    before = _state(env, env.buyer)

    receipt = env.send(env.buyer, env.market, MARKET, "buy", [env.c721, 1, env.seller, 1])

    assert receipt["status"] == 0
    assert _state(env, env.buyer) == before
    assert env.weth_of(env.buyer) == price // 2


def test_public_drop_enforces_price_and_per_wallet_cap(env: Env) -> None:
    price = ETH // 100
    collection = _deploy(env.w3, env.deployer, C721, ["Tiny Drop", "TINY", env.creator, 0, 5])
    env.ok(env.creator, collection, C721, "ownerMint", [env.creator, 1])
    not_owner = env.send(env.buyer, collection, C721, "openDrop", [price, 2])
    assert not_owner["status"] == 0
    assert env.send(env.buyer, collection, C721, "mint", [1], value=price)["status"] == 0  # no drop yet

    env.ok(env.creator, collection, C721, "openDrop", [price, 2])
    assert env.call(collection, C721, "dropOpen", [], ["bool"]) is True
    assert env.call(collection, C721, "mintPrice", [], ["uint256"]) == price
    creator_before = env.w3.eth.get_balance(env.creator)

    receipt = env.ok(env.buyer, collection, C721, "mint", [2], value=2 * price)
    transfers = _logs(receipt, C721, collection, "Transfer")
    assert [(t["args"]["from"], t["args"]["to"], t["args"]["tokenId"]) for t in transfers] == [
        (ZERO, env.buyer, 2),
        (ZERO, env.buyer, 3),
    ]
    assert env.w3.eth.get_balance(env.creator) - creator_before == 2 * price
    assert env.w3.eth.get_balance(collection) == 0

    assert env.send(env.other, collection, C721, "mint", [1], value=price - 1)["status"] == 0
    assert env.send(env.buyer, collection, C721, "mint", [1], value=price)["status"] == 0  # 3rd > cap 2
    single = env.ok(env.other, collection, C721, "mint", [1], value=price)
    assert single["gasUsed"] < 120_000  # measured ~108k: three fresh storage slots + the ETH payout
    assert env.call(collection, C721, "totalMinted", [], ["uint256"]) == 4

    # A new drop restarts the per-wallet count but maxSupply (5) still binds.
    env.ok(env.creator, collection, C721, "closeDrop", [])
    assert env.send(env.other, collection, C721, "mint", [1], value=price)["status"] == 0
    env.ok(env.creator, collection, C721, "openDrop", [price, 2])
    assert env.send(env.buyer, collection, C721, "mint", [2], value=2 * price)["status"] == 0  # 6 > 5
    creator_before = env.w3.eth.get_balance(env.creator)  # the creator paid gas for closeDrop/openDrop
    env.ok(env.buyer, collection, C721, "mint", [1], value=price)
    assert env.call(collection, C721, "totalMinted", [], ["uint256"]) == 5
    assert env.w3.eth.get_balance(env.creator) - creator_before == price
    assert env.owner_of_in(collection, 5) == env.buyer


def test_editions_public_mint_and_batch_transfer_with_duplicate_ids(env: Env) -> None:
    unit = ETH // 1000
    env.ok(env.creator, env.e1155, E1155, "setEditionPrice", [3, unit])
    assert env.send(env.buyer, env.e1155, E1155, "mintEdition", [3, 2], value=unit)["status"] == 0
    # Id 4 has no price set, so it is not for sale at any value.
    assert env.send(env.buyer, env.e1155, E1155, "mintEdition", [4, 1], value=0)["status"] == 0
    creator_before = env.w3.eth.get_balance(env.creator)
    env.ok(env.buyer, env.e1155, E1155, "mintEdition", [3, 5], value=5 * unit)
    assert env.w3.eth.get_balance(env.creator) - creator_before == 5 * unit

    receipt = env.ok(
        env.buyer, env.e1155, E1155, "safeBatchTransferFrom", [env.buyer, env.other, [3, 3], [1, 2], b""]
    )
    [batch] = _logs(receipt, E1155, env.e1155, "TransferBatch")
    assert batch["args"]["ids"] == [3, 3]
    assert batch["args"]["values"] == [1, 2]
    assert (batch["args"]["from"], batch["args"]["to"]) == (env.buyer, env.other)
    assert env.call(env.e1155, E1155, "balanceOf", [env.other, 3], ["uint256"]) == 3
    assert env.call(env.e1155, E1155, "balanceOf", [env.buyer, 3], ["uint256"]) == 2


def test_encode_call_matches_eth_abi() -> None:
    a, b = "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    cases = [
        (MARKET, "buy", "buy(address,uint256,address,uint256)", [a, 2**256 - 1, b, 0]),
        (MARKET, "list", "list(address,uint256,uint256,address,uint256)", [a, 1, 5, ZERO, 10**18]),
        (C721, "setApprovalForAll", "setApprovalForAll(address,bool)", [b, True]),
        (
            E1155,
            "safeBatchTransferFrom",
            "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
            [a, b, [3, 3], [1, 2], b""],
        ),
    ]
    for art, fn, sig, args in cases:
        types = sig[sig.index("(") + 1 : -1].split(",")
        expected = "0x" + (keccak(text=sig)[:4] + abi_encode(types, args)).hex()
        assert encode_call(art, fn, args) == expected
    # Overloads: bare name resolves by arity, a full signature picks one explicitly.
    assert encode_call(C721, "safeTransferFrom", [a, b, 1])[:10] == "0x42842e0e"
    assert encode_call(C721, "safeTransferFrom", [a, b, 1, b""])[:10] == "0xb88d4fde"
    with pytest.raises(ValueError):
        encode_call(MARKET, "buy", [a, -1, b, 1])
    with pytest.raises(ValueError):  # a mixed-case address must be a valid checksum
        encode_call(MARKET, "buy", [a.replace("5Fb", "5FB"), 1, b, 1])


def test_artifacts_are_built_from_the_current_sources() -> None:
    sources = sorted((CONTRACTS_DIR / "src").glob("*.sol"))
    assert {p.stem for p in sources} == {p.stem for p in ARTIFACTS_DIR.glob("*.json")}
    solc_pin = json.loads((CONTRACTS_DIR / "package.json").read_text())["devDependencies"]["solc"]
    for source in sources:
        artifact = json.loads((ARTIFACTS_DIR / f"{source.stem}.json").read_text())
        assert set(artifact) == {"contract", "abi", "bytecode", "compiler", "source_sha256"}
        assert artifact["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest(), (
            f"{source.name} changed since the last build: cd devnet/contracts && npm ci && node build.mjs"
        )
        assert artifact["compiler"].startswith(f"{solc_pin}+commit.")
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 2

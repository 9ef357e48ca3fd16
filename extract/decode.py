"""Decode token movements and marketplace sales from JSON-RPC logs.

Works on anything with a log's JSON-RPC attributes (`address`, `topics`, `data`, `blockNumber`,
`transactionHash`, `logIndex`): extract.rpc_types.Log from the node, LogFields from file imports.
uint256 values come out as exact base-10 text plus a float.

- ERC-20 `Transfer(address,address,uint256)`: 3 topics + one data word; as ethereum-etl does, a Transfer
  whose 3 parameters all sit in the data (1 topic + 3 words, e.g. CryptoKitties) counts too, as ERC-20.
- ERC-721 `Transfer`: 4 topics (the token id is indexed), amount 1.
- ERC-1155 `TransferSingle` and `TransferBatch`: a batch becomes one row per (id, value) pair, in order;
  identical pairs are kept and told apart by `batch_index`.
- Sale: the simulated marketplace's `Sale(address,uint256,uint256,address,address,address,uint256,uint256,
  uint256)` event, from whichever contract emits it.
Logs that carry one of these topics but a malformed payload are skipped, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol


class DecodableLog(Protocol):
    @property
    def address(self) -> str: ...
    @property
    def topics(self) -> list[str]: ...
    @property
    def data(self) -> str: ...
    @property
    def blockNumber(self) -> str | int: ...  # noqa: N802 (JSON-RPC spelling)
    @property
    def transactionHash(self) -> str: ...  # noqa: N802
    @property
    def logIndex(self) -> str | int: ...  # noqa: N802


class LogFields(NamedTuple):
    """A log row from a file import, in the shape the decoders read."""

    address: str
    topics: list[str]
    data: str
    blockNumber: str | int  # noqa: N815
    transactionHash: str  # noqa: N815
    logIndex: str | int  # noqa: N815


# keccak256 of each event signature (topic0), spelled out so that extraction does not import eth_utils
# (~0.1 s of start-up); tests/test_replay.py recomputes them from SIGNATURES.
SIGNATURES = {
    "TRANSFER": "Transfer(address,address,uint256)",
    "TRANSFER_SINGLE": "TransferSingle(address,address,address,uint256,uint256)",
    "TRANSFER_BATCH": "TransferBatch(address,address,address,uint256[],uint256[])",
    "SALE": "Sale(address,uint256,uint256,address,address,address,uint256,uint256,uint256)",
}
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
TRANSFER_SINGLE = "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62"
TRANSFER_BATCH = "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb"
SALE = "0x755da6ed0b168b645352568e799770f180885761250aee1dbe2795ad25251600"
ZERO_ADDRESS = "0x" + "00" * 20

TOKEN_TRANSFER_COLUMNS = (
    "block_number", "transaction_hash", "log_index", "batch_index", "token_standard", "contract_address",
    "operator_address", "from_address", "to_address", "token_id", "amount", "amount_double",
)  # fmt: skip
SALE_COLUMNS = (
    "block_number", "transaction_hash", "log_index", "marketplace_address", "collection_address", "token_id",
    "amount", "seller_address", "buyer_address", "currency_address", "price", "price_double", "fee",
    "fee_double", "royalty", "royalty_double",
)  # fmt: skip


def _words(data: str) -> list[str] | None:
    """The 32-byte words of a log's data as hex strings, or None if the data is not whole words."""
    body = data[2:] if data.startswith("0x") else data
    if len(body) % 64:
        return None
    return [body[i : i + 64] for i in range(0, len(body), 64)]


def _address(word: str) -> str | None:
    """The address in a 32-byte word (hex, with or without 0x), or None if the upper bytes are not zero."""
    word = word[-64:]
    if len(word) != 64 or word[:24].strip("0"):
        return None
    return "0x" + word[24:].lower()


def _uint(word: str) -> int:
    return int(word[-64:], 16)


def _block(log: DecodableLog) -> int:
    value = log.blockNumber
    return int(value, 16) if isinstance(value, str) else int(value)


def _index(log: DecodableLog) -> int:
    value = log.logIndex
    return int(value, 16) if isinstance(value, str) else int(value)


def decode_token_transfers(logs: Iterable[DecodableLog]) -> dict[str, list[Any]]:
    """Column lists (TOKEN_TRANSFER_COLUMNS) of every token movement in `logs`."""
    out: dict[str, list[Any]] = {name: [] for name in TOKEN_TRANSFER_COLUMNS}

    def emit(log: DecodableLog, batch_index: int, standard: str, operator: str | None, sender: str,
             receiver: str, token_id: int | None, amount: int) -> None:  # fmt: skip
        out["block_number"].append(_block(log))
        out["transaction_hash"].append(log.transactionHash.lower())
        out["log_index"].append(_index(log))
        out["batch_index"].append(batch_index)
        out["token_standard"].append(standard)
        out["contract_address"].append(log.address.lower())
        out["operator_address"].append(operator)
        out["from_address"].append(sender)
        out["to_address"].append(receiver)
        out["token_id"].append(None if token_id is None else str(token_id))
        out["amount"].append(str(amount))
        out["amount_double"].append(float(amount))

    for log in logs:
        topics = log.topics
        if not topics:
            continue
        topic0 = topics[0].lower()
        if topic0 == TRANSFER:
            words = _words(log.data)
            if words is None:
                continue
            params = [t[2:] for t in topics[1:]] + words
            if len(params) != 3:
                continue
            sender, receiver = _address(params[0]), _address(params[1])
            if sender is None or receiver is None:
                continue
            if len(topics) == 4:
                emit(log, 0, "erc721", None, sender, receiver, _uint(params[2]), 1)
            else:
                emit(log, 0, "erc20", None, sender, receiver, None, _uint(params[2]))
        elif topic0 == TRANSFER_SINGLE and len(topics) == 4:
            words = _words(log.data)
            parties = [_address(t) for t in topics[1:]]
            if words is None or len(words) != 2 or None in parties:
                continue
            operator, sender, receiver = parties
            emit(log, 0, "erc1155", operator, sender, receiver, _uint(words[0]), _uint(words[1]))  # type: ignore[arg-type]
        elif topic0 == TRANSFER_BATCH and len(topics) == 4:
            pairs = _batch_pairs(log.data)
            parties = [_address(t) for t in topics[1:]]
            if pairs is None or None in parties:
                continue
            operator, sender, receiver = parties
            for position, (token_id, amount) in enumerate(pairs):
                emit(log, position, "erc1155", operator, sender, receiver, token_id, amount)  # type: ignore[arg-type]
    return out


def _batch_pairs(data: str) -> list[tuple[int, int]] | None:
    """(id, value) pairs of a TransferBatch: two dynamic uint256 arrays of equal length."""
    words = _words(data)
    if words is None or len(words) < 4:
        return None
    arrays = []
    for head in (0, 1):
        offset = _uint(words[head])
        if offset % 32:
            return None
        start = offset // 32
        if start >= len(words):
            return None
        length = _uint(words[start])
        if start + 1 + length > len(words):
            return None
        arrays.append([_uint(w) for w in words[start + 1 : start + 1 + length]])
    ids, values = arrays
    if len(ids) != len(values):
        return None
    return list(zip(ids, values, strict=True))


def decode_sales(logs: Iterable[DecodableLog]) -> dict[str, list[Any]]:
    """Column lists (SALE_COLUMNS) of every marketplace Sale event in `logs`."""
    out: dict[str, list[Any]] = {name: [] for name in SALE_COLUMNS}
    for log in logs:
        topics = log.topics
        if len(topics) != 4 or topics[0].lower() != SALE:
            continue
        words = _words(log.data)
        if words is None or len(words) != 6:
            continue
        collection, seller, buyer = (_address(t) for t in topics[1:])
        currency = _address(words[2])
        if None in (collection, seller, buyer, currency):
            continue
        price, fee, royalty = _uint(words[3]), _uint(words[4]), _uint(words[5])
        values = {
            "block_number": _block(log),
            "transaction_hash": log.transactionHash.lower(),
            "log_index": _index(log),
            "marketplace_address": log.address.lower(),
            "collection_address": collection,
            "token_id": str(_uint(words[0])),
            "amount": str(_uint(words[1])),
            "seller_address": seller,
            "buyer_address": buyer,
            "currency_address": currency,
            "price": str(price),
            "price_double": float(price),
            "fee": str(fee),
            "fee_double": float(fee),
            "royalty": str(royalty),
            "royalty_double": float(royalty),
        }
        for name, value in values.items():
            out[name].append(value)
    return out

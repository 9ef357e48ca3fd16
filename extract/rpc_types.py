"""The shapes of the JSON-RPC answers extraction reads, decoded straight from the response bytes.

msgspec decodes only the fields named here (a receipt's 512-byte logsBloom, a transaction's signature and
access list are skipped without becoming Python objects), about twice as fast as parsing everything into
dicts, and an answer missing a field we need fails to decode, so it is retried like any other malformed
answer instead of being written. Quantities stay 0x-hex text: DuckDB casts them on insert.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T]):
    """One JSON-RPC response object; `result` is UNSET when the node sent none (an error, or malformed)."""

    id: Any = None
    result: T | msgspec.UnsetType = msgspec.UNSET
    error: Any = None


class Log(msgspec.Struct):
    address: str
    topics: list[str]
    data: str
    blockNumber: str
    blockHash: str
    transactionHash: str
    transactionIndex: str
    logIndex: str


class Receipt(msgspec.Struct):
    transactionHash: str
    logs: list[Log]
    gasUsed: str | None = None
    cumulativeGasUsed: str | None = None
    blockHash: str | None = None
    effectiveGasPrice: str | None = None  # absent before London on some nodes
    contractAddress: str | None = None
    status: str | None = None  # absent before Byzantium


class Transaction(msgspec.Struct, rename={"from_": "from"}):
    hash: str
    transactionIndex: str
    from_: str
    value: str
    gas: str
    input: str
    nonce: str | None = None
    to: str | None = None  # null for a contract creation
    gasPrice: str | None = None
    maxFeePerGas: str | None = None
    maxPriorityFeePerGas: str | None = None
    type: str | None = None


class Block(msgspec.Struct):
    number: str
    hash: str
    parentHash: str
    timestamp: str
    transactions: list[Transaction]
    miner: str | None = None
    gasLimit: str | None = None
    gasUsed: str | None = None
    baseFeePerGas: str | None = None
    size: str | None = None
    extraData: str | None = None

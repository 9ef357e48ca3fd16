"""The shapes of the JSON-RPC answers extraction reads, decoded straight from the response bytes.

msgspec decodes only the fields named here (a receipt's 512-byte logsBloom, a transaction's signature and
access list are skipped without becoming Python objects), about twice as fast as parsing everything into
dicts, and an answer missing a field we need fails to decode, so it is retried like any other malformed
answer instead of being written. Quantities stay 0x-hex text: DuckDB casts them on insert.

The structs are not tracked by the cycle collector (`gc=False`) and their sequences are tuples (which it
stops tracking too): a chunk decodes a few hundred thousand of them, none can be part of a cycle, and
the collector's passes over them cost about a tenth of an extraction's time.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T], gc=False):
    """One JSON-RPC response object; `result` is UNSET when the node sent none (an error, or malformed)."""

    id: Any = None
    result: T | msgspec.UnsetType = msgspec.UNSET
    error: Any = None


class Log(msgspec.Struct, gc=False):
    address: str
    topics: tuple[str, ...]
    data: str
    blockNumber: str
    blockHash: str
    transactionHash: str
    transactionIndex: str
    logIndex: str


class Receipt(msgspec.Struct, gc=False):
    transactionHash: str
    logs: tuple[Log, ...]
    gasUsed: str | None = None
    cumulativeGasUsed: str | None = None
    blockHash: str | None = None
    effectiveGasPrice: str | None = None  # absent before London on some nodes
    contractAddress: str | None = None
    status: str | None = None  # absent before Byzantium


class Transaction(msgspec.Struct, rename={"from_": "from"}, gc=False):
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


class Block(msgspec.Struct, gc=False):
    number: str
    hash: str
    parentHash: str
    timestamp: str
    transactions: tuple[Transaction, ...]
    miner: str | None = None
    gasLimit: str | None = None
    gasUsed: str | None = None
    baseFeePerGas: str | None = None
    size: str | None = None
    extraData: str | None = None

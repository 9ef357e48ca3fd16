"""Compiled devnet contracts: load the committed artifacts and encode/decode calls and events.

The artifacts in ``devnet/contracts/artifacts/`` are built by ``devnet/contracts/build.mjs`` and committed,
so nothing here needs a Solidity compiler. The simulator encodes tens of thousands of calls per run, so
the hot path (``encode_call``) hand-encodes static argument types instead of going through eth_abi,
which costs ~30 µs per call; eth_abi remains the fallback for dynamic types and the reference in tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

ARTIFACTS_DIR = Path(__file__).resolve().parent / "contracts" / "artifacts"

_WordEncoder = Callable[[Any], bytes]


@dataclass(frozen=True, eq=False)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code
    # Per-artifact memo of resolved functions; lives on the (cached) artifact so it dies with it.
    _calls: dict[str, _Call] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Call:
    selector: bytes
    types: tuple[str, ...]
    # One encoder per argument when every argument is a static 32-byte word, else None (use eth_abi).
    words: tuple[_WordEncoder, ...] | None


@cache
def load_artifact(name: str) -> Artifact:
    data = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
    return Artifact(name=data["contract"], abi=data["abi"], bytecode=data["bytecode"])


def _canonical_type(param: dict[str, Any]) -> str:
    # Tuples are spelled "(t1,t2)" in signatures but "tuple" in the ABI JSON.
    typ: str = param["type"]
    if typ.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){typ[len('tuple') :]}"
    return typ


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_canonical_type(p) for p in entry['inputs'])})"


@lru_cache(maxsize=1 << 16)
def _address_word(value: str) -> bytes:
    # Cached because the simulator reuses a few thousand addresses; mixed case is checked as a checksum,
    # as eth_abi would, so a mistyped address fails here instead of sending funds to a wrong account.
    if not (isinstance(value, str) and len(value) == 42 and value[:2] in ("0x", "0X")):
        raise TypeError(f"not an address: {value!r}")
    body = value[2:]
    raw = bytes.fromhex(body)  # ValueError on non-hex
    if len(raw) != 20:  # fromhex skips whitespace, so the string length alone proves nothing
        raise ValueError(f"not an address: {value!r}")
    if body != body.lower() and body != body.upper() and to_checksum_address(value) != value:
        raise ValueError(f"bad address checksum: {value}")
    return bytes(12) + raw


def _encode_address(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray) and len(value) == 20:
        return bytes(12) + bytes(value)
    return _address_word(value)


def _uint_encoder(bits: int) -> _WordEncoder:
    bound = 1 << bits

    def encode(value: Any) -> bytes:
        # bool is an int subclass; refusing it catches swapped arguments early.
        if type(value) is not int or not 0 <= value < bound:
            raise ValueError(f"value {value!r} does not fit uint{bits}")
        return value.to_bytes(32, "big")

    return encode


def _int_encoder(bits: int) -> _WordEncoder:
    bound = 1 << (bits - 1)

    def encode(value: Any) -> bytes:
        if type(value) is not int or not -bound <= value < bound:
            raise ValueError(f"value {value!r} does not fit int{bits}")
        return value.to_bytes(32, "big", signed=True)

    return encode


def _encode_bool(value: Any) -> bytes:
    if type(value) is not bool:
        raise TypeError(f"not a bool: {value!r}")
    return (1 if value else 0).to_bytes(32, "big")


def _encode_bytes32(value: Any) -> bytes:
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"bytes32 needs 32 bytes, got {len(raw)}")
    return raw


def _word_encoder(typ: str) -> _WordEncoder | None:
    if typ == "address":
        return _encode_address
    if typ == "bool":
        return _encode_bool
    if typ == "bytes32":
        return _encode_bytes32
    if typ.startswith("uint") and typ[4:].isdigit():
        return _uint_encoder(int(typ[4:]))
    if typ.startswith("int") and typ[3:].isdigit():
        return _int_encoder(int(typ[3:]))
    return None


def _resolve(artifact: Artifact, fn_name: str, nargs: int) -> _Call:
    # fn_name may be a bare name or a full signature, the latter to pick one overload explicitly
    # (ERC-721 has two safeTransferFrom); a bare name resolves by argument count.
    key = f"{fn_name}/{nargs}"
    call = artifact._calls.get(key)
    if call is not None:
        return call
    fns = [e for e in artifact.abi if e.get("type") == "function"]
    if "(" in fn_name:
        matches = [e for e in fns if _signature(e) == fn_name]
    else:
        matches = [e for e in fns if e["name"] == fn_name and len(e["inputs"]) == nargs]
    if len(matches) != 1:
        raise ValueError(f"{artifact.name}: {len(matches)} functions match {fn_name} with {nargs} args")
    entry = matches[0]
    types = tuple(_canonical_type(p) for p in entry["inputs"])
    encoders = [_word_encoder(t) for t in types]
    call = _Call(
        selector=keccak(text=_signature(entry))[:4],
        types=types,
        words=tuple(encoders) if all(e is not None for e in encoders) else None,  # type: ignore[arg-type]
    )
    artifact._calls[key] = call
    return call


def encode_call(artifact: Artifact, fn_name: str, args: Sequence[Any]) -> str:
    """0x-prefixed calldata for ``fn_name(*args)``."""
    call = _resolve(artifact, fn_name, len(args))
    if len(args) != len(call.types):
        raise ValueError(f"{artifact.name}.{fn_name} takes {len(call.types)} args, got {len(args)}")
    if call.words is not None:
        body = b"".join([enc(arg) for enc, arg in zip(call.words, args, strict=True)])
    else:
        body = abi_encode(call.types, list(args))
    return "0x" + (call.selector + body).hex()


def encode_deploy(artifact: Artifact, args: Sequence[Any] = ()) -> str:
    """Creation code with ABI-encoded constructor arguments appended, as a transaction's data."""
    ctor = next((e for e in artifact.abi if e.get("type") == "constructor"), {"inputs": []})
    types = [_canonical_type(p) for p in ctor["inputs"]]
    if len(args) != len(types):
        raise ValueError(f"{artifact.name} constructor takes {len(types)} args, got {len(args)}")
    return artifact.bytecode + abi_encode(types, list(args)).hex()


@cache  # keyed by artifact identity (eq=False), like the per-artifact call memo
def _events(artifact: Artifact) -> dict[bytes, dict[str, Any]]:
    return {keccak(text=_signature(e)): e for e in artifact.abi if e.get("type") == "event"}


def event_topics(artifact: Artifact) -> dict[str, str]:
    """Event name -> topic0 as 0x hex, e.g. for eth_getLogs filters."""
    return {e["name"]: "0x" + topic.hex() for topic, e in _events(artifact).items()}


def _to_bytes(value: str | bytes) -> bytes:
    # JSON-RPC gives hex strings; web3.py gives HexBytes. Accept both.
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    return bytes(value)


def _normalize(typ: str, value: Any) -> Any:
    # Checksummed addresses compare equal to what web3.py returns for accounts.
    if typ == "address":
        return to_checksum_address(value)
    if typ == "address[]":
        return [to_checksum_address(v) for v in value]
    if typ.endswith("]"):
        return list(value)
    return value


def decode_event(artifact: Artifact, log: dict[str, Any]) -> dict[str, Any]:
    """Decode a JSON-RPC log into ``{"event": name, "address": emitter, "args": {param: value}}``.

    Indexed parameters of dynamic type (string, bytes, arrays, tuples) only exist as their keccak hash in
    the topic, so they are returned as that 0x hex hash.
    """
    topics = [_to_bytes(t) for t in log["topics"]]
    if not topics or topics[0] not in (events := _events(artifact)):
        raise ValueError(f"log is not an event of {artifact.name}")
    entry = events[topics[0]]
    indexed = [p for p in entry["inputs"] if p.get("indexed")]
    plain = [p for p in entry["inputs"] if not p.get("indexed")]
    if len(topics) != 1 + len(indexed):
        raise ValueError(f"{entry['name']} expects {1 + len(indexed)} topics, got {len(topics)}")

    values: dict[str, Any] = {}
    for param, topic in zip(indexed, topics[1:], strict=True):
        typ = _canonical_type(param)
        if _word_encoder(typ) is None:
            values[param["name"]] = "0x" + topic.hex()
        else:
            values[param["name"]] = _normalize(typ, abi_decode([typ], topic)[0])
    decoded = abi_decode([_canonical_type(p) for p in plain], _to_bytes(log.get("data") or b""))
    for param, value in zip(plain, decoded, strict=True):
        values[param["name"]] = _normalize(_canonical_type(param), value)

    ordered = {p["name"]: values[p["name"]] for p in entry["inputs"]}
    return {"event": entry["name"], "address": log.get("address"), "args": ordered}

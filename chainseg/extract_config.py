"""The `chains:` and `extract:` sections of chainseg.yml, as plain dataclasses.

Part of the one configuration (chainseg/config.py nests them in `Config` and pydantic validates them when
the file is read), kept apart so that the extractor, used as a library like cryo, does not import pydantic:
that import was a third of its start-up. Each checks its own bounds when built, so a setting built in code
is held to the same rules as one read from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar


class SettingError(ValueError):
    """A setting out of its bounds; `key` names it, so the file's error message can point at it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def _check(settings: object, bounds: dict[str, tuple[float | None, float | None, bool]]) -> None:
    """bounds: key -> (lowest, highest, lowest excluded); None where a side has no bound."""
    for spec in fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, spec.name)
        if value is None or spec.name not in bounds:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingError(spec.name, f"expected a number, got {value!r}")
        low, high, open_low = bounds[spec.name]
        if low is not None and (value <= low if open_low else value < low):
            raise SettingError(spec.name, f"must be {'greater than' if open_low else 'at least'} {low:g}")
        if high is not None and value > high:
            raise SettingError(spec.name, f"must be at most {high:g}")


@dataclass(frozen=True, kw_only=True)
class ChainConfig:
    """One chain of `chains:`."""

    # Unknown keys are typos more often than not: pydantic rejects them when it reads the file.
    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}

    chain_id: int  # the id the node must report; a mismatch stops the run
    # The URL often carries an API key, so the file names the environment variable holding it, never the
    # URL itself. None: the local devnet started by `chainseg devnet up`.
    rpc_url_env: str | None = None
    confirmations: int = 64  # head lag used where the node has no 'finalized' tag
    use_finalized: bool = True
    start_block: int = 0  # first block of the first extraction

    def __post_init__(self) -> None:
        _check(
            self,
            {"chain_id": (0, None, True), "confirmations": (0, None, False), "start_block": (0, None, False)},
        )


@dataclass(frozen=True, kw_only=True)
class ExtractConfig:
    """The `extract:` section: chunking, batching and the node's limits."""

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}

    chunk_size: int = 2_000  # blocks per chunk at most
    # A chunk is one DuckDB transaction; its size in blocks adapts to hold about this many transactions.
    chunk_transactions: int = 10_000
    max_batch: int = 100  # calls per JSON-RPC batch request, at most
    concurrency: int = 8  # HTTP requests in flight
    chunks_in_flight: int = 4  # chunks fetched ahead of the writer
    timeout: float = 30.0  # seconds per HTTP request
    max_attempts: int = 10
    requests_per_second: float | None = None

    def __post_init__(self) -> None:
        _check(
            self,
            {
                "chunk_size": (1, 100_000, False),
                "chunk_transactions": (1, 1_000_000, False),
                "max_batch": (1, 10_000, False),
                "concurrency": (1, 256, False),
                "chunks_in_flight": (1, 64, False),
                "timeout": (0, None, True),
                "max_attempts": (1, None, False),
                "requests_per_second": (0, None, True),
            },
        )

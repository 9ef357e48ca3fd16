"""Import exported files into the raw schema: ethereum-etl exports, cryo parquet, Dune NFT trades.

`import_files(con, chain_id, paths, kind)` reads and checks EVERY file of the call before writing anything;
a missing column or a malformed value is rejected with a `chainseg.errors.UserError` naming the file, the
line (1-based; a CSV's header is line 1; parquet counts rows) and the column, and nothing is loaded. Then
everything is written in ONE DuckDB transaction, replacing what the warehouse held for the same chain and
block range in the tables written (so importing the same files twice gives the same rows). Rows follow the
conventions of RPC extraction (lowercase 0x text, native values and gas prices as HUGEINT, uint256 from logs
as exact text plus a DOUBLE) with `chain_id` from the argument. A path naming a folder stands for the data
files in it and its subfolders (ethereum-etl's `export_all` nests them). Imports never move the extraction
checkpoint; each logs the earliest block it wrote in raw.rewrites, from whose day the next dbt build
rebuilds the incremental models. With no node to ask, an import does not know which of the addresses its
rows name hold code: it records those raw.addresses does not know in raw.addresses_unchecked, and the
chain's next extraction asks the node (extract/unchecked_addresses.py).

Which file plays which role, and how columns map, is documented in each kind's module:
`ethereum_etl.py`, `cryo.py`, `dune_trades.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from chainseg.errors import UserError
from extract.importers import cryo, dune_trades, ethereum_etl
from extract.importers.common import ImportRejected, expand_paths, read_source, write_plan
from extract.schema import create_raw_schema

KINDS = ("ethereum-etl", "cryo", "dune-trades")

__all__ = ["KINDS", "ImportRejected", "ImportResult", "import_files"]


@dataclass
class ImportResult:
    tables: dict[str, int]  # rows written per raw table (tables the import replaced, even with 0 rows)
    skipped: tuple[Path, ...] = ()  # recognised files of data the warehouse does not keep (token metadata)


def import_files(con: duckdb.DuckDBPyConnection, chain_id: int, paths: list[Path], kind: str) -> ImportResult:
    if kind not in KINDS:
        raise UserError(f"unknown import kind {kind!r}; use one of: {', '.join(KINDS)}")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise UserError(
            f"chain id {chain_id!r} is not a positive whole number; give the chain's id (1 = Ethereum)"
        )
    if not paths:
        raise UserError("no files to import; name the exported files (or their folder)")
    sources = [read_source(path) for path in expand_paths(paths)]
    create_raw_schema(con)
    if kind == "ethereum-etl":
        plan = ethereum_etl.plan(con, chain_id, sources)
    elif kind == "cryo":
        plan = cryo.plan(con, chain_id, sources)
    else:
        plan = dune_trades.plan(chain_id, sources)
    return ImportResult(tables=write_plan(con, chain_id, plan), skipped=tuple(plan.skipped))

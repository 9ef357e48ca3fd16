"""What the file importers share: the user error naming file, line and column; reading CSV, JSON lines and
parquet with line numbers; checking values; giving rows their block hash and timestamp; decoding logs; and
writing a whole import in one DuckDB transaction.

Every file of an import is read and checked before anything is written. Values are checked one by one in
Python (so an error can name the line and column) and come out as Python ints and lowercase 0x text; the
writer only casts them to the raw column types.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from chainseg.errors import UserError
from extract.decode import LogFields, decode_sales, decode_token_transfers
from extract.schema import RAW_TABLES
from extract.unchecked_addresses import record_contracts, record_unchecked
from extract.warehouse import log_rewrite

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
HUGEINT_MAX = 2**127 - 1
UINT256_MAX = 2**256 - 1
MICROS = 1_000_000

FIX = "correct that value in the file (or export the file again) and rerun the import"
TEXT_SUFFIXES = {".csv": "csv", ".json": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class ImportRejected(UserError):
    """A file of an import cannot be loaded as it is; nothing of the import was written."""

    def __init__(self, path: Path, where: str | None, column: str | None, problem: str, fix: str = FIX):
        place = str(path)
        if where:
            place += f", {where}"
        if column:
            place += f", column '{column}'"
        super().__init__(f"import rejected, nothing was loaded: {place}: {problem}; {fix}")
        self.path, self.where, self.column = path, where, column


class BadValue(Exception):
    """One value that does not parse; the row loop adds the file, line and column."""

    def __init__(self, problem: str, column: str | None = None, fix: str = FIX):
        super().__init__(problem)
        self.problem, self.column, self.fix = problem, column, fix


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class Source:
    """One input file, read whole: its columns and its rows, each with its 1-based line (CSV counts the
    header as line 1; JSON lines count every physical line) or, for parquet, its 1-based row number."""

    path: Path
    fmt: str  # 'csv' | 'jsonl' | 'parquet'
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]

    @property
    def unit(self) -> str:
        return "row" if self.fmt == "parquet" else "line"

    def reject(self, number: int | None, column: str | None, problem: str, fix: str = FIX) -> ImportRejected:
        return ImportRejected(
            self.path, None if number is None else f"{self.unit} {number}", column, problem, fix
        )

    def require(self, required: Iterable[str], what: str, fix: str | None = None) -> None:
        """Reject the file if a required column is absent (from the header, or from the first JSON record)."""
        for column in required:
            if column not in self.columns:
                number = None if self.fmt == "parquet" else 1
                raise self.reject(
                    number,
                    column,
                    f"this {what} file has no column '{column}', which the import needs",
                    fix or f"export the file again with the column '{column}' and rerun the import",
                )

    def parse(self, parse_row: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
        """`parse_row` on every row; a BadValue becomes an ImportRejected naming this file, line and column.
        Each result carries `_at` = (source, line) for checks across files."""
        out = []
        for number, row in self.rows:
            try:
                parsed = parse_row(row)
            except BadValue as error:
                raise self.reject(number, error.column, error.problem, error.fix) from None
            parsed["_at"] = (self, number)
            out.append(parsed)
        return out


def reject_at(at: tuple[Source, int], column: str | None, problem: str, fix: str = FIX) -> ImportRejected:
    source, number = at
    return source.reject(number, column, problem, fix)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for the data files (csv, json, jsonl, ndjson, parquet) in it and
    its subfolders, sorted: ethereum-etl's `export_all` nests each range's files in
    `<table>/start_block=.../end_block=.../` folders. Hidden files and folders are left out."""
    out: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and _format_by_suffix(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise ImportRejected(
                    path,
                    None,
                    None,
                    "this folder and its subfolders hold no .csv, .json(l) or .parquet file",
                    "name the files to import",
                )
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise ImportRejected(path, None, None, "no such file", "check the path and rerun the import")
    if len(set(out)) != len(out):
        dup = next(p for p in out if out.count(p) > 1)
        raise ImportRejected(dup, None, None, "this file is named twice in the import", "name each file once")
    return out


def _format_by_suffix(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    return TEXT_SUFFIXES.get(suffix)


def read_source(path: Path) -> Source:
    fmt = _format_by_suffix(path)
    if fmt == "parquet" or (fmt is None and path.read_bytes()[:4] == b"PAR1"):
        return _read_parquet(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(
            path, None, None, "the file is not UTF-8 text", "export it as UTF-8 CSV or JSON lines"
        ) from None
    if fmt is None:
        fmt = "jsonl" if text.lstrip().startswith(("{", "[")) else "csv"
    return _read_jsonl(path, text) if fmt == "jsonl" else _read_csv(path, text)


def _read_csv(path: Path, text: str) -> Source:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected(
            path, None, None, "the file is empty", "export it again with its header line"
        ) from None
    except csv.Error as error:
        raise ImportRejected(path, "line 1", None, f"the header is not valid CSV ({error})") from None
    columns = [name.strip() for name in header]
    for name in columns:
        if not name or columns.count(name) > 1:
            raise ImportRejected(
                path,
                "line 1",
                name or None,
                "the header has an empty or repeated column name",
                "give every column one unique name",
            )
    rows = []
    end = reader.line_num
    while True:
        start = end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportRejected(path, f"line {start}", None, f"not valid CSV ({error})") from None
        end = reader.line_num
        if not record:
            continue  # a blank line
        if len(record) != len(columns):
            raise ImportRejected(
                path, f"line {start}", None, f"{len(record)} fields where the header has {len(columns)}"
            )
        rows.append(
            (
                start,
                {name: (value if value != "" else None) for name, value in zip(columns, record, strict=True)},
            )
        )
    return Source(path, "csv", columns, rows)


def _read_jsonl(path: Path, text: str) -> Source:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_float=Decimal)  # exact: no float rounds a uint256 or a price
        except json.JSONDecodeError as error:
            hint = (
                " (one JSON document over many lines? give one object per line)"
                if line.strip() in "{["
                else ""
            )
            raise ImportRejected(path, f"line {number}", None, f"not valid JSON{hint}: {error.msg}") from None
        if not isinstance(record, dict):
            raise ImportRejected(
                path, f"line {number}", None, "not a JSON object", "give one JSON object per line"
            )
        rows.append((number, record))
    columns = list(rows[0][1]) if rows else []
    return Source(path, "jsonl", columns, rows)


def _read_parquet(path: Path) -> Source:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise ImportRejected(
            path, None, None, f"not a readable parquet file ({error})", "export it again"
        ) from None
    data = table.to_pydict()
    names = table.column_names
    rows = [(i + 1, {name: data[name][i] for name in names}) for i in range(table.num_rows)]
    return Source(path, "parquet", names, rows)


# ---------------------------------------------------------------------------------------------- values


def get(row: dict[str, Any], column: str, parse: Callable[[Any], Any], *, required: bool = True) -> Any:
    """`parse(row[column])`; None for an empty or absent value unless `required`."""
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadValue("is empty (or missing), but every row needs it", column)
        return None
    try:
        return parse(value)
    except BadValue as error:
        error.column = error.column or column
        raise


def _show(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes) else str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def uint(value: Any, limit: int = UINT256_MAX) -> int:
    """A non-negative whole number: an int, base-10 text, 0x-hex text, or big-endian bytes (cryo)."""
    if isinstance(value, bool):
        raise BadValue(f"{_show(value)} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, bytes):
        number = int.from_bytes(value, "big")
    elif isinstance(value, Decimal):  # a JSON number written with a fraction or an exponent
        if not value.is_finite() or value != value.to_integral_value():
            raise BadValue(f"{_show(value)} is not a whole number")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if text[:2].lower() == "0x":
                if len(text) == 2:
                    raise ValueError
                number = int(text[2:], 16)
            elif text.lstrip("-").isdigit() and text.isascii():
                number = int(text)
            else:
                raise ValueError
        except ValueError:
            raise BadValue(f"{_show(value)} is not a whole number (base-10 digits or 0x-hex)") from None
    else:
        raise BadValue(f"{_show(value)} is not a whole number")
    if number < 0:
        raise BadValue(f"{_show(value)} is negative (amounts, numbers and indexes never are)")
    if number > limit:
        raise BadValue(f"{_show(value)} is larger than this column can hold ({limit})")
    return number


def uint_exact_decimal(value: Any, limit: int = UINT256_MAX) -> int:
    """Like `uint`, also accepting decimal or exponent text that is exactly whole ('12.0', '1.5E18')."""
    if (
        isinstance(value, str)
        and any(c in value for c in ".eE")
        and not value.strip().lower().startswith("0x")
    ):
        return uint(decimal(value), limit)
    return uint(value, limit)


def decimal(value: Any) -> Decimal:
    """An exact decimal from text or a JSON number (never through a float)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise BadValue(f"{_show(value)} is not a decimal number")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise BadValue(f"{_show(value)} is not a decimal number") from None
    if not number.is_finite():
        raise BadValue(f"{_show(value)} is not a decimal number")
    if number < 0:
        raise BadValue(f"{_show(value)} is negative")
    return number


def bigint(value: Any) -> int:
    return uint(value, INT64_MAX)


def integer(value: Any) -> int:
    return uint(value, INT32_MAX)


def hugeint(value: Any) -> str:
    """Native values and gas prices: exact, up to HUGEINT's range; kept as base-10 text for the cast."""
    return str(uint(value, HUGEINT_MAX))


def _hex_text(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if not isinstance(value, str):
        raise BadValue(f"{_show(value)} is not 0x-hex text")
    text = value.strip().lower()
    body = text[2:]
    if not text.startswith("0x") or any(c not in "0123456789abcdef" for c in body):
        raise BadValue(f"{_show(value)} is not 0x-hex text")
    return text


def hexdata(value: Any) -> str:
    """Call data, log data, extra data: 0x and whole bytes, lowercase."""
    text = _hex_text(value)
    if len(text) % 2:
        raise BadValue(f"{_show(value)} has an odd number of hex digits")
    return text


def address(value: Any) -> str:
    text = _hex_text(value)
    if len(text) != 42:
        raise BadValue(f"{_show(value)} is not an address (0x and 40 hex digits)")
    return text


def hash32(value: Any) -> str:
    text = _hex_text(value)
    if len(text) != 66:
        raise BadValue(f"{_show(value)} is not a 32-byte hash (0x and 64 hex digits)")
    return text


def unix_micros(value: Any) -> int:
    """A block timestamp in Unix seconds, as microseconds (the writer's timestamp unit)."""
    return uint(value, 2**40) * MICROS


def datetime_micros(value: Any) -> int:
    """A UTC time as text ('2023-05-02 12:19:59.000 UTC', ISO 8601 with Z or an offset) or Unix seconds."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return unix_micros(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return unix_micros(text)
        if text.upper().endswith(" UTC"):
            text = text[:-4].strip() + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadValue(
                f"{_show(value)} is not a date and time (e.g. '2023-05-02 12:19:59 UTC')"
            ) from None
    else:
        raise BadValue(f"{_show(value)} is not a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def status_flag(value: Any) -> bool:
    """A receipt status: 1 success, 0 failure (also true/false)."""
    if isinstance(value, bool):
        return value
    number = uint(value)
    if number not in (0, 1):
        raise BadValue(f"{_show(value)} is not a status (1 success, 0 failure)")
    return number == 1


def check_chain(row: dict[str, Any], chain_id: int, column: str = "chain_id") -> None:
    if row.get(column) is None or row.get(column) == "":
        return
    found = get(row, column, bigint)
    if found != chain_id:
        raise BadValue(
            f"is {found} but the import is for chain {chain_id}",
            column,
            f"import this file with chain id {found}, or pick the files of chain {chain_id}",
        )


def first_duplicate(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], what: str) -> None:
    """Reject the second row of the import (over all files) with the same key."""
    seen: dict[Any, tuple[Source, int]] = {}
    for row in rows:
        k = key(row)
        if k in seen:
            source, number = seen[k]
            raise reject_at(
                row["_at"],
                None,
                f"{what} {k} appears twice (also {source.path}, {source.unit} {number})",
                "give each row once: leave out overlapping or repeated files",
            )
        seen[k] = row["_at"]


# ---------------------------------------------------------------------------------------------- blocks


def attach_blocks(
    con: duckdb.DuckDBPyConnection,
    chain_id: int,
    blocks: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    *,
    need_hash: bool,
    fix: str,
) -> None:
    """Give each of `rows` its `block_timestamp` (and `block_hash` if `need_hash`), checking what it has.

    Sources, in order: the blocks of this import, else the warehouse's raw.blocks of the chain. A row whose
    own block hash or timestamp disagrees with its block is rejected (the files come from different forks
    or exports), and so is a row whose block is found nowhere (`fix` says which file to add).
    """
    imported = {b["block_number"]: (b["block_hash"], b["timestamp"]) for b in blocks}
    pending: list[dict[str, Any]] = []
    for row in rows:
        number = row["block_number"]
        if number in imported:
            _match_block(row, *imported[number], "the blocks file of this import")
        elif row.get("block_timestamp") is None or (need_hash and row.get("block_hash") is None):
            pending.append(row)
    if not pending:
        return
    stored = stored_blocks(con, chain_id, {row["block_number"] for row in pending})
    for row in pending:
        number = row["block_number"]
        if number not in stored:
            missing = "block_timestamp" if row.get("block_timestamp") is None else "block_hash"
            column = missing if missing in row["_at"][0].columns else "block_number"
            raise reject_at(
                row["_at"],
                column,
                f"block {number} gives no {missing[6:]} here and is neither in this import's blocks nor "
                f"in the "
                f"warehouse (chain {chain_id})",
                fix,
            )
        _match_block(row, *stored[number], "the warehouse")


def _match_block(row: dict[str, Any], block_hash: str, timestamp: int, where: str) -> None:
    number = row["block_number"]
    if row.get("block_hash") is not None and row["block_hash"] != block_hash:
        raise reject_at(
            row["_at"],
            "block_hash",
            f"is {row['block_hash']} but {where} has {block_hash} for block {number} "
            "(another fork or export)",
            "export the blocks and the files that name them again, together",
        )
    if row.get("block_timestamp") is not None and row["block_timestamp"] != timestamp:
        raise reject_at(
            row["_at"],
            "block_timestamp",
            f"is {row['block_timestamp'] // MICROS} but {where} has {timestamp // MICROS} for block {number}",
            "export the blocks and the files that name them again, together",
        )
    row["block_hash"] = block_hash
    row["block_timestamp"] = timestamp


def stored_blocks(
    con: duckdb.DuckDBPyConnection, chain_id: int, numbers: set[int]
) -> dict[int, tuple[str, int]]:
    """Hash and timestamp (µs) of the warehouse's blocks among `numbers`."""
    if not numbers:
        return {}
    con.register("import_block_numbers", pa.table({"n": pa.array(sorted(numbers), pa.int64())}))
    try:
        found = con.execute(
            "select b.block_number, b.block_hash, epoch_us(b.timestamp) from raw.blocks b "
            "join import_block_numbers n on b.block_number = n.n where b.chain_id = ?",
            [chain_id],
        ).fetchall()
    finally:
        con.unregister("import_block_numbers")
    return {int(n): (h, int(ts)) for n, h, ts in found}


def log_fields(log: dict[str, Any]) -> LogFields:
    """A log row in the shape `extract.decode` reads."""
    topics = [log[f"topic{i}"] for i in range(4) if log[f"topic{i}"] is not None]
    return LogFields(
        address=log["address"],
        topics=topics,
        data=log["data"],
        blockNumber=log["block_number"],
        transactionHash=log["transaction_hash"],
        logIndex=log["log_index"],
    )


def decode_logs(logs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Token transfers and marketplace sales decoded from log rows, each with its block timestamp."""
    timestamps = {log["block_number"]: log["block_timestamp"] for log in logs}
    fields = [log_fields(log) for log in logs]
    transfers = _rows(decode_token_transfers(fields))
    sales = _rows(decode_sales(fields))
    for row in transfers:
        row["block_timestamp"] = timestamps[row["block_number"]]
    for row in sales:
        row["block_timestamp"] = timestamps[row["block_number"]]
        row["currency_symbol"] = None
        row["source"] = "rpc"  # decoded from the chain's own logs, as RPC extraction does
    return transfers, sales


def _rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


# ---------------------------------------------------------------------------------------------- writing


@dataclass
class ImportPlan:
    """What an import writes: rows per raw table, and per table the rows it replaces first (the chain's
    rows in the import's block ranges, and for nft_sales only those of one `source`)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    replace: dict[str, tuple[list[tuple[int, int]], str | None]] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)  # address -> block known to hold code from
    skipped: list[Path] = field(default_factory=list)  # recognised files of data the warehouse does not keep

    def add(
        self, table: str, rows: list[dict[str, Any]], spans: list[tuple[int, int]], source: str | None = None
    ) -> None:
        self.rows[table] = rows
        self.replace[table] = (spans, source)


def _column_types(table: str) -> list[tuple[str, str]]:
    out = []
    for line in RAW_TABLES[table].strip().splitlines():
        parts = line.split()
        if parts:
            out.append((parts[0], parts[1].rstrip(",")))
    return out


_ARROW = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "hugeint": pa.string(),  # exact base-10 text, cast by DuckDB
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
    "double": pa.float64(),
}


def arrow_table(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """The rows as an Arrow table with the raw table's columns (chain_id left to the writer)."""
    columns = [(name, kind) for name, kind in _column_types(table) if name != "chain_id"]
    return pa.table({name: pa.array([row.get(name) for row in rows], _ARROW[kind]) for name, kind in columns})


def write_plan(con: duckdb.DuckDBPyConnection, chain_id: int, plan: ImportPlan) -> dict[str, int]:
    """Replace and insert everything of `plan` in ONE transaction; rows written per table."""
    tables = {name: arrow_table(name, rows) for name, rows in plan.rows.items()}
    written = {name: table.num_rows for name, table in tables.items()}
    views = {name: f"import_{name}" for name in tables}
    for name, table in tables.items():
        con.register(views[name], table)
    try:
        con.execute("begin transaction")
        try:
            for name, (spans, source) in plan.replace.items():
                sql = f"delete from raw.{name} where chain_id = ? and block_number between ? and ?"
                if source is not None:
                    sql += " and source = ?"
                for first, last in spans:
                    con.execute(sql, [chain_id, first, last] + ([source] if source is not None else []))
            for name in tables:
                casts = ", ".join(
                    f"cast({column} as {kind})"
                    for column, kind in _column_types(name)
                    if column != "chain_id"
                )
                con.execute(
                    f"insert into raw.{name} select $chain_id, {casts} from {views[name]}",
                    {"chain_id": chain_id},
                )
            _record_import(con, chain_id, plan)
            if plan.contracts:
                written["addresses"] = record_contracts(con, chain_id, plan.contracts)
            record_unchecked(con, chain_id, {name: spans for name, (spans, _) in plan.replace.items()})
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        for view in views.values():
            con.unregister(view)
    return written


def _record_import(con: duckdb.DuckDBPyConnection, chain_id: int, plan: ImportPlan) -> None:
    """Log the earliest block the import replaced or added in raw.rewrites, so that the next incremental
    dbt build rebuilds the models from its day on, however old (dbt_project/macros/incremental_window.sql)."""
    parts = []
    for name, (spans, _) in plan.replace.items():
        time_column = "timestamp" if name == "blocks" else "block_timestamp"
        for first, last in spans:
            parts.append(
                f"select block_number, {time_column} as block_time from raw.{name} "
                f"where chain_id = $chain_id and block_number between {int(first)} and {int(last)}"
            )
    if parts:
        log_rewrite(con, chain_id, "import", " union all ".join(parts))


def block_range(rows: Iterable[dict[str, Any]]) -> tuple[int, int] | None:
    numbers = [row["block_number"] for row in rows]
    return (min(numbers), max(numbers)) if numbers else None


def file_spans(
    *groups: Iterable[dict[str, Any]], extra: Iterable[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """The block ranges an import replaces: each file's lowest to highest block (plus `extra` ranges),
    merged where they overlap or touch. Two exports of distant blocks in one call replace two ranges, never
    everything between them."""
    bounds: dict[int, list[int]] = {}
    for group in groups:
        for row in group:
            number, key = row["block_number"], id(row["_at"][0])
            if key in bounds:
                bounds[key][0] = min(bounds[key][0], number)
                bounds[key][1] = max(bounds[key][1], number)
            else:
                bounds[key] = [number, number]
    spans = sorted([(first, last) for first, last in bounds.values()] + list(extra))
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged

"""Import NFT trades shaped like Dune's `nft.trades` (a query result saved as CSV or JSON lines) into
raw.nft_sales with source 'dune'.

Every file of a dune-trades import is a trades table. Columns:
- needed: block_time, block_number, tx_hash, buyer, seller, nft_contract_address, token_id,
  number_of_items (→ amount), amount_original, currency_symbol (kept; may be empty where amount_raw is
  given).
- price, exact wei text: `amount_raw` where the file has it (Dune's amount_original is a rounded double);
  otherwise, for ETH and WETH only, amount_original × 10^18 computed exactly with Decimal (a result that is
  not a whole number of wei is rejected); any other currency without amount_raw is rejected.
- fee and royalty: platform_fee_amount_raw / royalty_fee_amount_raw, else platform_fee_amount /
  royalty_fee_amount × 10^18 for ETH/WETH (other currencies: rejected); null where the file has neither.
  `*_raw` values may be written as exact decimals ('1.5E+16', '12.0') but must be whole numbers.
- optional: currency_contract (→ currency_address), project_contract_address (→ marketplace_address),
  evt_index or log_index (→ log_index), chain_id (must equal the import's), blockchain (one chain per
  import; a known name must match the chain id); `project` (the marketplace's name) → marketplace_name;
  token_standard ('erc721' or 'erc1155', any case; empty: not said) → token_standard, which tells the
  holding periods whether a token id is unique when the collection's transfers are not in the warehouse.
- log_index: where the file has neither evt_index nor log_index, rows are numbered 0, 1, 2… within each
  block in file order: a stand-in that keeps (chain_id, block_number, log_index, source) unique, not the
  event's real log index.

block_timestamp comes from block_time (UTC). No raw.blocks rows are created: the dbt layer treats those
positions as 'left_unobserved'. Replacement: rows of this chain with source 'dune' in each file's block
range (its lowest to highest block; ranges merged where they overlap or touch) are deleted first; other
sources are left alone.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from extract.importers.common import (
    BadValue,
    ImportPlan,
    Source,
    address,
    bigint,
    check_chain,
    datetime_micros,
    decimal,
    file_spans,
    first_duplicate,
    get,
    hash32,
    integer,
    uint,
    uint_exact_decimal,
)

REQUIRED = (
    "block_time",
    "block_number",
    "tx_hash",
    "buyer",
    "seller",
    "nft_contract_address",
    "token_id",
    "number_of_items",
    "amount_original",
    "currency_symbol",
)
WEI_CURRENCIES = {"ETH", "WETH"}
TOKEN_STANDARDS = ("erc721", "erc1155")
WEI = Decimal(10) ** 18
CHAIN_IDS = {
    "ethereum": 1,
    "optimism": 10,
    "bnb": 56,
    "gnosis": 100,
    "polygon": 137,
    "zksync": 324,
    "base": 8453,
    "arbitrum": 42161,
    "nova": 42170,
    "avalanche_c": 43114,
    "linea": 59144,
    "blast": 81457,
    "scroll": 534352,
    "zora": 7777777,
}


def plan(chain_id: int, sources: list[Source]) -> ImportPlan:
    rows: list[dict[str, Any]] = []
    for source in sources:
        source.require(REQUIRED, "dune trades")
        index_column = next((c for c in ("evt_index", "log_index") if c in source.columns), None)
        blockchains: set[str] = set()

        def parse_row(
            row: dict[str, Any], index_column=index_column, blockchains=blockchains
        ) -> dict[str, Any]:
            check_chain(row, chain_id)
            _check_blockchain(row, chain_id, blockchains)
            return _trade(row, index_column)

        rows.extend(source.parse(parse_row))
    _number_missing_indexes(rows)
    first_duplicate(rows, lambda r: (r["block_number"], r["log_index"]), "trade (block, log index)")
    result = ImportPlan()
    if rows:
        result.add("nft_sales", rows, file_spans(rows), "dune")
    return result


def _check_blockchain(row: dict[str, Any], chain_id: int, seen: set[str]) -> None:
    name = row.get("blockchain")
    if name is None or name == "":
        return
    name = str(name).strip().lower()
    seen.add(name)
    if len(seen) > 1:
        raise BadValue(
            f"the file mixes chains ({', '.join(sorted(seen))})",
            "blockchain",
            "filter the query to one blockchain and import each chain on its own",
        )
    known = CHAIN_IDS.get(name)
    if known is not None and known != chain_id:
        raise BadValue(
            f"'{name}' is chain {known} but the import is for chain {chain_id}",
            "blockchain",
            f"import this file with chain id {known}",
        )


def _trade(row: dict[str, Any], index_column: str | None) -> dict[str, Any]:
    symbol = get(row, "currency_symbol", lambda v: str(v).strip(), required=False)
    price = _wei(row, "amount_raw", "amount_original", symbol, required=True)
    fee = _wei(row, "platform_fee_amount_raw", "platform_fee_amount", symbol, required=False)
    royalty = _wei(row, "royalty_fee_amount_raw", "royalty_fee_amount", symbol, required=False)
    log_index = get(row, index_column, integer) if index_column else None
    return {
        "block_number": get(row, "block_number", bigint),
        "block_timestamp": get(row, "block_time", datetime_micros),
        "transaction_hash": get(row, "tx_hash", hash32),
        "log_index": log_index,
        "_stand_in": log_index is None,
        "marketplace_address": get(row, "project_contract_address", address, required=False),
        "marketplace_name": get(row, "project", lambda v: str(v).strip() or None, required=False),
        "collection_address": get(row, "nft_contract_address", address),
        "token_id": str(get(row, "token_id", uint_exact_decimal)),
        "amount": str(get(row, "number_of_items", uint_exact_decimal)),
        "seller_address": get(row, "seller", address),
        "buyer_address": get(row, "buyer", address),
        "currency_address": get(row, "currency_contract", address, required=False),
        "currency_symbol": symbol,
        "price": str(price),
        "price_double": float(price),
        "fee": None if fee is None else str(fee),
        "fee_double": None if fee is None else float(fee),
        "royalty": None if royalty is None else str(royalty),
        "royalty_double": None if royalty is None else float(royalty),
        "source": "dune",
        "token_standard": get(row, "token_standard", _token_standard, required=False),
    }


def _token_standard(value: Any) -> str:
    standard = str(value).strip().lower()
    if standard not in TOKEN_STANDARDS:
        raise BadValue(
            f"token standard {value!r} is neither erc721 nor erc1155",
            "token_standard",
            "leave those trades out of the query, or leave the cell empty",
        )
    return standard


def _wei(row: dict[str, Any], raw: str, units: str, symbol: str | None, *, required: bool) -> int | None:
    """An amount in the currency's smallest unit: the *_raw column, else units × 10^18 for ETH/WETH."""
    if row.get(raw) not in (None, ""):
        return get(row, raw, uint_exact_decimal)
    amount = get(row, units, decimal, required=required and units in row)
    if amount is None:
        if required:
            raise BadValue("is empty and the file has no amount_raw for this trade", units)
        return None
    if (symbol or "").upper() not in WEI_CURRENCIES:
        raise BadValue(
            f"the trade is in {symbol!r}, whose decimals are unknown here, and '{raw}' is empty or absent",
            units,
            f"add the column {raw} (exact smallest units) to the query, "
            "or leave out trades not in ETH or WETH",
        )
    wei = amount * WEI
    if wei != wei.to_integral_value():
        raise BadValue(f"{amount} {symbol} is not a whole number of wei", units)
    return uint(int(wei))


def _number_missing_indexes(rows: list[dict[str, Any]]) -> None:
    """Rows without a log index get 0, 1, 2… within their block, in file order."""
    next_index: dict[int, int] = {}
    for row in rows:
        if row["_stand_in"]:
            number = row["block_number"]
            row["log_index"] = next_index.get(number, 0)
            next_index[number] = row["log_index"] + 1

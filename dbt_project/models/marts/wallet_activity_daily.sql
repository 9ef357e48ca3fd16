{{ config(materialized='view') }}

-- One row per wallet and UTC day with any activity up to as_of. Wallets are addresses without code: the
-- zero address, contracts (marketplace, WETH, collections) are left out.
--
-- A view: every number here is summed in int_wallet_days_summarized, an incremental table by day that
-- also holds what wallet_rfv and the feature model read, so the trades, movements, transactions and ETH
-- transfers of a day are aggregated once for all three (they agree by construction). A column here is
-- the column of the same name there, or renamed below.

select
    chain_id,
    wallet,
    day,
    buys,
    sells,
    units_bought,
    units_sold,
    spend_wei as buy_volume_wei,
    sell_volume_wei,
    royalties_paid_wei,
    fees_paid_wei,
    mints,
    units_minted,
    transfers_in,
    transfers_out,
    burns,
    native_value_spent_wei,
    native_value_received_wei,
    transactions as transactions_sent,
    failed_transactions,
    gas_paid_wei,
    gas_unknown_transactions
from {{ ref('int_wallet_days_summarized') }}

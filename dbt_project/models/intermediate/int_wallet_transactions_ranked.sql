{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'transaction_hash'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('block_date') }}",
    )
}}

-- One row per transaction (int_wallet_gas_paid: its sender is `wallet`, reverted ones included) with the
-- gas measures the segments read: the tip in gwei, the ratio of the price paid to the block's base fee, and
-- where the block's base fee stands in its UTC day (int_block_base_fees_ranked). Transactions in blocks
-- without a base fee (before London) are kept, with NULL gas measures, so they still count as activity.
--
-- A table built incrementally by day (macros/incremental_window.sql), rows up to the end of as_of: every
-- measure depends only on the transaction and its block's UTC day, and the wallet features read it once
-- per ML cutoff, so a stored table saves recomputing the whole history each time.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('block_date') if is_incremental() else none %}

with

transactions as (

    select * from {{ ref('int_wallet_gas_paid') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

blocks as (

    select * from {{ ref('int_block_base_fees_ranked') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

final as (

    select
        transactions.chain_id,
        transactions.wallet,
        transactions.transaction_hash,
        transactions.block_number,
        transactions.block_timestamp,
        transactions.block_date,
        transactions.is_success,
        transactions.gas_paid_wei,
        transactions.effective_gas_price_wei,
        transactions.base_fee_per_gas_wei,
        transactions.priority_fee_per_gas_wei,
        cast(transactions.priority_fee_per_gas_wei as double) / 1e9 as priority_fee_gwei,
        cast(transactions.effective_gas_price_wei as double)
        / nullif(cast(transactions.base_fee_per_gas_wei as double), 0) as fee_to_base_ratio,
        blocks.block_hour,
        blocks.base_fee_percentile,
        blocks.is_cheapest_quartile_hour
    from transactions
    left join blocks
        on
            transactions.chain_id = blocks.chain_id
            and transactions.block_number = blocks.block_number
            -- implied by the block number; stated so date filters on transactions reach blocks too
            and transactions.block_timestamp = blocks.block_timestamp

)

select * from final
-- stored day by day, so the features' gas window skips the storage blocks outside it
order by
    block_date,
    chain_id,
    block_number

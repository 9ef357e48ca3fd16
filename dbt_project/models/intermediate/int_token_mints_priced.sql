{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'block_number', 'log_index', 'batch_index'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('block_date') }}",
    )
}}

-- One row per NFT mint received (the 'in' row of a movement from the zero address in
-- int_wallet_token_movements), with what the receiving wallet paid for it where that is known.
--
-- Known: the wallet sent the minting transaction itself; the price is that transaction's native value
-- (what a payable mint() charges), shared over the units it minted to the wallet in that transaction
-- (macro holdings_allocate: shares add up to the value exactly). Unknown (NULL): a mint sent by another
-- address (an airdrop, a creator's ownerMint, a mint paid through a contract), whatever it cost. A mint
-- priced in WETH or another token, or bundled with other payments in one call, is not told apart: the
-- transaction's native value is taken as it is.
--
-- A table built incrementally by day (macros/incremental_window.sql), rows up to the end of as_of: a mint
-- and its transaction share a block, and holdings, RFV and their tests all read it.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('block_date') if is_incremental() else none %}

with

mints as (

    select * from {{ ref('int_wallet_token_movements') }}
    where
        movement_kind = 'mint'
        and {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

transactions as (

    select
        chain_id,
        transaction_hash,
        block_number,
        block_timestamp,
        from_address,
        value_wei
    from {{ ref('stg_raw__transactions') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

joined as (

    select
        mints.*,
        coalesce(transactions.from_address = mints.wallet, false) as is_paid_by_wallet,
        transactions.value_wei as transaction_value_wei
    from mints
    left join transactions
        on
            mints.chain_id = transactions.chain_id
            and mints.transaction_hash = transactions.transaction_hash
            and mints.block_number = transactions.block_number
            -- implied by the hash; stated so date filters on mints reach the transactions too
            and mints.block_timestamp = transactions.block_timestamp

),

-- the units the wallet minted in the transaction, in log order; block_timestamp is constant within a
-- transaction and partitioning by it lets date filters through the window
units_counted as (

    select
        joined.*,
        sum(amount) over (
            partition by chain_id, block_number, block_timestamp, transaction_hash, wallet
            order by log_index, batch_index
            rows between unbounded preceding and current row
        ) as units_through,
        sum(amount) over (
            partition by chain_id, block_number, block_timestamp, transaction_hash, wallet
        ) as units_in_transaction
    from joined

),

final as (

    select
        chain_id,
        wallet,
        block_number,
        block_timestamp,
        block_date,
        transaction_hash,
        log_index,
        batch_index,
        token_standard,
        collection_address,
        token_id,
        amount,
        is_paid_by_wallet,
        case when is_paid_by_wallet then transaction_value_wei end as transaction_value_wei,
        case
            when is_paid_by_wallet and units_in_transaction > 0
                then {{ holdings_allocate(
                    'transaction_value_wei', 'units_through - amount', 'units_through', 'units_in_transaction'
                ) }}
        end as mint_price_wei
    from units_counted

)

select * from final
-- stored day by day, so date filters downstream skip the storage blocks outside them
order by
    block_date,
    chain_id,
    block_number

-- One row per transaction: what its sender paid for gas, exact, split into the base fee (burned) and the
-- priority fee (to the block producer). Gas is charged whether the transaction succeeds or reverts, so
-- failed transactions are here too (is_success = false); their value never moved (see
-- int_wallet_native_transfers).

with

transactions as (

    select * from {{ ref('stg_raw__transactions') }}

),

blocks as (

    select
        chain_id,
        block_number,
        block_timestamp,
        base_fee_per_gas_wei
    from {{ ref('stg_raw__blocks') }}

),

joined as (

    select
        transactions.*,
        blocks.base_fee_per_gas_wei
    from transactions
    left join blocks
        on
            transactions.chain_id = blocks.chain_id
            and transactions.block_number = blocks.block_number
            -- implied by the block number; stated so date filters on transactions reach blocks too
            and transactions.block_timestamp = blocks.block_timestamp

),

final as (

    select
        chain_id,
        transaction_hash,
        from_address as wallet,
        to_address,
        block_number,
        block_timestamp,
        block_date,
        transaction_index,
        transaction_type,
        is_success,
        gas_limit,
        gas_used,
        effective_gas_price_wei,
        base_fee_per_gas_wei,
        effective_gas_price_wei - base_fee_per_gas_wei as priority_fee_per_gas_wei,
        max_fee_per_gas_wei,
        max_priority_fee_per_gas_wei,
        gas_fee_wei as gas_paid_wei,
        cast(gas_used as {{ wei_type() }}) * base_fee_per_gas_wei as base_fee_paid_wei,
        cast(gas_used as {{ wei_type() }})
        * (effective_gas_price_wei - base_fee_per_gas_wei) as priority_fee_paid_wei
    from joined

)

select * from final

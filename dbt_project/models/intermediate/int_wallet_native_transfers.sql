-- Native currency (ETH) moved by top-level transactions, from each side's point of view: the sender's
-- 'out' row and the recipient's 'in' row, one per successful transaction with a value above zero. A
-- reverted transaction moves no value (its gas is still paid: int_wallet_gas_paid); a transaction whose
-- status is unknown (pre-Byzantium receipts) counts as successful. A contract creation has no 'in' row.
-- Self-sends give both rows, flagged is_self_transfer.
-- Value moved inside contract calls (a marketplace paying a seller in ETH, an unwrap) is not here: that
-- needs traces, which are not extracted; sale proceeds are in int_wallet_trades.

with

transactions as (

    select * from {{ ref('stg_raw__transactions') }}
    where
        value_wei > 0
        and (is_success or is_success is null)

),

sides as (

    select 'out' as direction
    union all
    select 'in' as direction

),

both_sides as (

    select
        sides.direction,
        case when sides.direction = 'out' then transactions.from_address else transactions.to_address end
            as wallet,
        case when sides.direction = 'out' then transactions.to_address else transactions.from_address end
            as counterparty_address,
        transactions.*
    from transactions
    cross join sides
    where sides.direction = 'out' or transactions.to_address is not null

),

final as (

    select
        chain_id,
        wallet,
        direction,
        counterparty_address,
        coalesce(from_address = to_address, false) as is_self_transfer,
        transaction_hash,
        block_number,
        block_timestamp,
        block_date,
        value_wei
    from both_sides

)

select * from final

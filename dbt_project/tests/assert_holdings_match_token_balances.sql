-- The units token_holding_periods shows as held (is_open) equal each wallet's balance from its observed
-- movements (int_wallet_token_movements: the running sum of amount_delta), for every wallet and token
-- whose history the warehouse holds whole: no trades-only event, and a balance that never went below
-- zero (a negative balance means the wallet's acquisition predates the extracted history).
-- Also: an ERC-721 token has at most one open holding. Rows returned: the wallets and tokens that differ.
-- The running balance (whether it ever went below zero) is computed only for the pairs whose final balance
-- and open units differ: the excuse matters only there, and ordering every movement costs the most.
-- After an incremental build, for the tokens that build recomputed (macros/tests_window.sql): the others'
-- rows and movements are unchanged since the run that checked them.

{%- set first_day = tests_first_day(ref('token_holding_periods')) %}

with

{{ holdings_tested_rows(first_day) }}

movements as (

    select * from {{ ref('int_wallet_token_movements') }} as movements
    where
        {{ timestamp_in_days('block_timestamp', none, as_of_date()) }}
        {%- if first_day is not none %}
        and {{ holdings_in_changed_tokens('movements') }}
        {%- endif %}

),

trades_only_tokens as (

    select distinct
        chain_id,
        collection_address,
        token_id
    from {{ ref('int_holding_events_unioned') }}
    where trade_only_source is not null

),

final_balances as (

    select
        chain_id,
        wallet,
        collection_address,
        token_id,
        sum(amount_delta) as balance
    from movements
    group by
        chain_id,
        wallet,
        collection_address,
        token_id

),

held as (

    select
        chain_id,
        wallet,
        contract_address as collection_address,
        token_id,
        sum(amount) as held_units
    from holdings
    where is_open
    group by
        chain_id,
        wallet,
        contract_address,
        token_id

),

differing as (

    select
        final_balances.chain_id,
        final_balances.wallet,
        final_balances.collection_address,
        final_balances.token_id,
        final_balances.balance,
        coalesce(held.held_units, 0) as held_units
    from final_balances
    left join held
        on
            final_balances.chain_id = held.chain_id
            and final_balances.wallet = held.wallet
            and final_balances.collection_address = held.collection_address
            and final_balances.token_id = held.token_id
    where
        final_balances.balance <> coalesce(held.held_units, 0)
        and not exists (
            select 1
            from trades_only_tokens
            where
                trades_only_tokens.chain_id = final_balances.chain_id
                and trades_only_tokens.collection_address = final_balances.collection_address
                and trades_only_tokens.token_id = final_balances.token_id
        )

),

running as (

    select
        movements.chain_id,
        movements.wallet,
        movements.collection_address,
        movements.token_id,
        sum(movements.amount_delta) over (
            partition by movements.chain_id, movements.wallet, movements.collection_address, movements.token_id
            -- a self-transfer's 'in' row before its 'out' row: no dip below zero
            order by movements.block_number, movements.log_index, movements.batch_index, movements.direction
            rows between unbounded preceding and current row
        ) as balance_through
    from movements
    inner join differing
        on
            movements.chain_id = differing.chain_id
            and movements.wallet = differing.wallet
            and movements.collection_address = differing.collection_address
            and movements.token_id = differing.token_id

),

lowest_balances as (

    select
        chain_id,
        wallet,
        collection_address,
        token_id,
        min(balance_through) as lowest_balance
    from running
    group by
        chain_id,
        wallet,
        collection_address,
        token_id

),

compared as (

    select differing.*
    from differing
    inner join lowest_balances
        on
            differing.chain_id = lowest_balances.chain_id
            and differing.wallet = lowest_balances.wallet
            and differing.collection_address = lowest_balances.collection_address
            and differing.token_id = lowest_balances.token_id
    where lowest_balances.lowest_balance >= 0

),

unique_tokens_held_twice as (

    select
        chain_id,
        min(wallet) as wallet,
        contract_address as collection_address,
        token_id,
        cast(count(*) as {{ wei_type() }}) as balance,
        cast(null as {{ wei_type() }}) as held_units
    from holdings
    where
        is_open
        and token_standard = 'erc721'
    group by
        chain_id,
        contract_address,
        token_id
    having count(*) > 1

)

select * from compared
union all
select * from unique_tokens_held_twice

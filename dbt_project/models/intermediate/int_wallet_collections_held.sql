{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ collections_held_delete_recomputed() }}",
    )
}}

-- One row per (chain_id, wallet, collection) the wallet holds at the end of as_of: the tokens of the
-- collection with a positive balance (int_wallet_token_balances: a token's balance is the sum of the
-- wallet's movements of it) and the units they add up to. Rule cohorts' holds_collection condition reads it.
-- A table: as a view every reader and test summed the balances again. Incremental by wallet
-- (macros/balances_incremental.sql): a run recomputes the wallets with a pair int_wallet_token_balances
-- recomputed in the same invocation (every wallet when it did not run incrementally); the others' balances
-- did not change. A full refresh gives the same rows (tests/test_dbt_build.py).

with

balances as (

    select * from {{ ref('int_wallet_token_balances') }} as balances
    {%- if collections_held_window() is not none %}
    where {{ balances_in_changed_wallets('balances') }}
    {%- endif %}

),

final as (

    select
        chain_id,
        wallet,
        collection_address,
        count(*) as tokens_held,
        cast(sum(units) as {{ wei_type() }}) as units_held
    from balances
    where units > 0
    group by
        chain_id,
        wallet,
        collection_address

)

select * from final

-- Every sale decoded from the chain ('rpc') has exactly one token leg in int_wallet_token_movements (its
-- 'buy' row), and that leg moved the units the sale names. A marketplace's Sale event always comes with
-- the token's own Transfer in the same transaction, so a miss means the pairing logic (or the decoding)
-- is wrong. Imported sales are left out: their blocks may not be extracted.
-- After an incremental build, over the days that build rewrote (macros/tests_window.sql): a sale and its
-- leg share a transaction, hence a day.

{%- set last_day = as_of_date() %}
{%- set first_day = tests_first_day(ref('int_nft_sales_deduplicated')) %}

with

sales as (

    select
        chain_id,
        block_number,
        log_index,
        data_source,
        amount
    from {{ ref('int_nft_sales_deduplicated') }}
    where
        data_source = 'rpc'
        and {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

legs as (

    select
        chain_id,
        block_number,
        sale_log_index,
        sale_data_source,
        count(*) as n_legs,
        sum(amount) as leg_amount
    from {{ ref('int_wallet_token_movements') }}
    where
        movement_kind = 'buy'
        and {{ timestamp_in_days('block_timestamp', first_day, last_day) }}
    group by
        chain_id,
        block_number,
        sale_log_index,
        sale_data_source

),

checked as (

    select
        sales.chain_id,
        sales.block_number,
        sales.log_index,
        sales.amount,
        legs.n_legs,
        legs.leg_amount
    from sales
    left join legs
        on
            sales.chain_id = legs.chain_id
            and sales.block_number = legs.block_number
            and sales.log_index = legs.sale_log_index
            and sales.data_source = legs.sale_data_source

)

select * from checked
where
    n_legs is null
    or n_legs <> 1
    or leg_amount <> amount

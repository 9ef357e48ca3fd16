{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('block_date', \"data_source <> 'rpc'\") }}",
    )
}}

-- One row per NFT sale, whichever source reported it, with its currency classified and its amounts in wei
-- where the currency is the native one or a wrapped native token.
--
-- Sources: 'rpc' rows are decoded from the chain's own logs; imports ('dune', ...) may report the same
-- sales again. Within one transaction the rows of a single source are kept, the preferred one: 'rpc' first,
-- then imports by name. A transaction's sales are never mixed from two sources (a singular test checks it).
--
-- A table, built incrementally like the day-grained marts (macros/incremental_window.sql): the marts, the
-- trades and their tests read it many times a night, and as a view each read repeated the deduplication.
-- Rows up to the end of as_of; an incremental run replaces the days from window_start on, and every
-- imported row (an import can add sales of any age: they reach the holding periods the next night, as
-- int_holding_events_unioned rewrites all trades-only rows). A transaction lies in one day, so
-- recomputing whole days and whole transactions gives exactly a full refresh's rows. A wrapped native
-- token first detected tonight re-values its older sales only on a full refresh.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('block_date') if is_incremental() else none %}

with

all_sales as (

    select * from {{ ref('stg_raw__nft_sales') }}
    where {{ timestamp_in_days('block_timestamp', none, last_day) }}

),

{%- if first_day is not none %}

-- before the window, only the transactions with an imported sale (their rows of every source)
older_imported_transactions as (

    select distinct
        chain_id,
        transaction_hash
    from all_sales
    where
        data_source <> 'rpc'
        and block_timestamp < cast('{{ first_day }} 00:00:00' as {{ dbt.type_timestamp() }})

),

sales as (

    select * from all_sales
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

    union all

    select all_sales.*
    from all_sales
    inner join older_imported_transactions
        on
            all_sales.chain_id = older_imported_transactions.chain_id
            and all_sales.transaction_hash = older_imported_transactions.transaction_hash
    where all_sales.block_timestamp < cast('{{ first_day }} 00:00:00' as {{ dbt.type_timestamp() }})

),
{%- else %}

sales as (

    select * from all_sales

),
{%- endif %}

wrapped_native_tokens as (

    select * from {{ ref('int_wrapped_native_tokens') }}

),

prioritized as (

    select
        sales.*,
        {{ dbt.concat(["case when data_source = 'rpc' then '0:' else '1:' end", "data_source"]) }}
            as source_priority
    from sales

),

preferred as (

    select
        prioritized.*,
        -- block_timestamp is constant within a transaction; partitioning by it lets the marts' date
        -- filters reach the raw table through this window
        min(source_priority) over (
            partition by chain_id, block_number, block_timestamp, transaction_hash
        ) as preferred_source_priority
    from prioritized

),

deduplicated as (

    select * from preferred
    where source_priority = preferred_source_priority

),

classified as (

    select
        deduplicated.*,
        case
            when deduplicated.currency_address = '{{ var("zero_address") }}' then 'native'
            when wrapped_native_tokens.token_address is not null then 'wrapped_native'
            when deduplicated.currency_address is null and upper(deduplicated.currency_symbol) = 'ETH'
                then 'native'
            when upper(deduplicated.currency_symbol) = 'WETH' then 'wrapped_native'
            else 'other'
        end as currency_kind
    from deduplicated
    left join wrapped_native_tokens
        on
            deduplicated.chain_id = wrapped_native_tokens.chain_id
            and deduplicated.currency_address = wrapped_native_tokens.token_address

),

final as (

    select
        chain_id,
        block_number,
        block_timestamp,
        block_date,
        transaction_hash,
        log_index,
        data_source,
        marketplace_address,
        collection_address,
        token_id,
        amount,
        seller_address,
        buyer_address,
        currency_address,
        currency_symbol,
        currency_kind,
        price,
        fee,
        royalty,
        price - fee - royalty as seller_proceeds,
        case when currency_kind <> 'other' then price end as price_wei,
        case when currency_kind <> 'other' then fee end as fee_wei,
        case when currency_kind <> 'other' then royalty end as royalty_wei,
        case when currency_kind <> 'other' then price - fee - royalty end as seller_proceeds_wei
    from classified
    {%- if first_day is not none %}
    -- older rpc rows were kept by the pre-hook: only the window's and the imported rows are new
    where
        data_source <> 'rpc'
        or block_timestamp >= cast('{{ first_day }} 00:00:00' as {{ dbt.type_timestamp() }})
    {%- endif %}

)

select * from final

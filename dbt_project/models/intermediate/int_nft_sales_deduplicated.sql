-- One row per NFT sale, whichever source reported it, with its currency classified and its amounts in wei
-- where the currency is the native one or a wrapped native token.
--
-- Sources: 'rpc' rows are decoded from the chain's own logs; imports ('dune', ...) may report the same
-- sales again. Within one transaction the rows of a single source are kept, the preferred one: 'rpc' first,
-- then imports by name. A transaction's sales are never mixed from two sources (a singular test checks it).

with

sales as (

    select * from {{ ref('stg_raw__nft_sales') }}

),

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

)

select * from final

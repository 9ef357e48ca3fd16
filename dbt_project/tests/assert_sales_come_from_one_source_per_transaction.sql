-- int_nft_sales_deduplicated keeps one source per transaction: a sale reported by the chain's logs and by
-- an import must not count twice. Rows returned: transactions whose kept sales still mix sources.

with

sources_per_transaction as (

    select
        chain_id,
        transaction_hash,
        count(distinct data_source) as n_sources
    from {{ ref('int_nft_sales_deduplicated') }}
    group by
        chain_id,
        transaction_hash

)

select * from sources_per_transaction
where n_sources > 1

-- int_nft_sales_deduplicated keeps one source per transaction: a sale reported by the chain's logs and by
-- an import must not count twice. Rows returned: transactions whose kept sales still mix sources.
-- After an incremental build, over the days that build rewrote (macros/tests_window.sql).

{%- set first_day = tests_first_day(ref('int_nft_sales_deduplicated')) %}

with

sources_per_transaction as (

    select
        chain_id,
        transaction_hash,
        count(distinct data_source) as n_sources
    from {{ ref('int_nft_sales_deduplicated') }}
    {%- if first_day is not none %}
    where block_timestamp >= cast('{{ first_day }} 00:00:00' as {{ dbt.type_timestamp() }})
    {%- endif %}
    group by
        chain_id,
        transaction_hash

)

select * from sources_per_transaction
where n_sources > 1

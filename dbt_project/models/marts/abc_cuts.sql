{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ segments_delete_as_of() }}",
    )
}}

-- Where this run's A/B/C cuts fell, one row per (chain_id, as_of, abc_class) for the classes A, B and C of
-- every chain with ranked wallets (an empty class is a row with 0 wallets and NULL spends): how many
-- wallets, the lowest and highest spend in the class, its exact total, and its share of the ranked
-- wallets' total spend. Read from wallet_abc_class for this as_of; contracts left out of the tiers are not
-- counted. Incremental by as_of like wallet_abc_class (a rerun replaces its date).

{%- set as_of = as_of_date() %}

with

classes as (

    select 'A' as abc_class
    union all
    select 'B' as abc_class
    union all
    select 'C' as abc_class

),

tiered as (

    select * from {{ ref('wallet_abc_class') }}
    where
        as_of = cast('{{ as_of }}' as date)
        and abc_class in ('A', 'B', 'C')

),

chains as (

    select
        chain_id,
        count(*) as ranked_wallets,
        sum(spend_wei) as total_spend_wei
    from tiered
    group by chain_id

),

per_class as (

    select
        chain_id,
        abc_class,
        count(*) as wallets,
        min(spend_wei) as min_spend_wei,
        max(spend_wei) as max_spend_wei,
        sum(spend_wei) as spend_wei,
        min(spend_rank) as first_rank,
        max(spend_rank) as last_rank
    from tiered
    group by
        chain_id,
        abc_class

),

final as (

    select
        chains.chain_id,
        cast('{{ as_of }}' as date) as as_of,
        classes.abc_class,
        cast(coalesce(per_class.wallets, 0) as {{ dbt.type_bigint() }}) as wallets,
        cast(per_class.first_rank as {{ dbt.type_bigint() }}) as first_rank,
        cast(per_class.last_rank as {{ dbt.type_bigint() }}) as last_rank,
        cast(per_class.min_spend_wei as {{ wei_type() }}) as min_spend_wei,
        cast(per_class.max_spend_wei as {{ wei_type() }}) as max_spend_wei,
        cast(coalesce(per_class.spend_wei, 0) as {{ wei_type() }}) as spend_wei,
        cast(coalesce(per_class.wallets, 0) as double) / chains.ranked_wallets as share_of_wallets,
        case
            when chains.total_spend_wei > 0
                then cast(coalesce(per_class.spend_wei, 0) as double) / cast(chains.total_spend_wei as double)
        end as share_of_spend
    from chains
    cross join classes
    left join per_class
        on
            chains.chain_id = per_class.chain_id
            and classes.abc_class = per_class.abc_class

)

select * from final

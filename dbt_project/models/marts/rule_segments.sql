{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ segments_delete_as_of() }}",
    )
}}

-- Members of the analysts' rule cohorts (chainseg.yml `marts.rule_cohorts`, macros/rules_cohorts.sql),
-- one row per (as_of, segment, chain_id, wallet): the wallets of int_wallet_features_as_of that satisfy
-- the cohort's rule as of the end of as_of, with the rule they matched and the values that made them
-- match. An invalid rule (unknown field or collection, bad operator, ...) fails the build naming the rule.
-- History: incremental by as_of (a rerun replaces its date), so a cohort's membership can be followed
-- over time; rows of an earlier date keep the definition that date was built with.

{%- set as_of = as_of_date() %}
{%- set cohorts = rules_cohorts(rules_known_collections()) %}

with

features as (

    select * from {{ ref('int_wallet_features_as_of') }}

),

holdings as (

    select * from {{ ref('int_wallet_collections_held') }}

),

members as (

    {%- for cohort in cohorts %}
    {{ rules_cohort_sql(cohort) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    -- no cohort is configured: no member
    select
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as {{ dbt.type_bigint() }}) as chain_id,
        cast(null as {{ dbt.type_string() }}) as wallet,
        cast(null as {{ dbt.type_string() }}) as matched_rule,
        cast(null as {{ dbt.type_string() }}) as matched_values
    where 1 = 0
    {%- endfor %}

),

final as (

    select
        cast('{{ as_of }}' as date) as as_of,
        cast(segment as {{ dbt.type_string() }}) as segment,
        chain_id,
        wallet,
        cast(matched_rule as {{ dbt.type_string() }}) as matched_rule,
        cast(matched_values as {{ dbt.type_string() }}) as matched_values
    from members

)

select * from final

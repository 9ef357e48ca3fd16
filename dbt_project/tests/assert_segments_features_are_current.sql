-- rule_segments reads int_wallet_features_as_of, a table: it must have been built for this run's as_of,
-- or the cohorts would be evaluated on another day's features and stamped with this day. Build them
-- together (`--select +rule_segments`). Rows returned: a features table of another date.
-- (rule_segments is read too so that selecting it alone still runs this test.)

{%- set as_of = as_of_date() %}

with

features as (

    select distinct as_of
    from {{ ref('int_wallet_features_as_of') }}

),

members as (

    select count(*) as n_members
    from {{ ref('rule_segments') }}
    where as_of = cast('{{ as_of }}' as date)

)

select
    features.as_of as features_as_of,
    members.n_members
from features
cross join members
where features.as_of <> cast('{{ as_of }}' as date)

-- The A/B/C tiers of every (chain_id, as_of) are ordered by spend and abc_cuts adds up: tier A's lowest
-- spend is at least tier B's highest, B's lowest at least C's highest; the classes' wallets and spends add
-- up to the ranked wallets of wallet_abc_class; A and A + B hold the wallets the documented rounding gives
-- (ceil(n × share_a) and ceil(n × (share_a + share_b)), from the vars of this run, for this as_of).
-- Rows returned: chains and dates where one of these fails.

{%- set as_of = as_of_date() %}
{%- set abc = segments_abc_settings() %}

with

cuts as (

    select
        chain_id,
        as_of,
        sum(wallets) as wallets,
        sum(spend_wei) as spend_wei,
        max(case when abc_class = 'A' then wallets end) as a_wallets,
        max(case when abc_class = 'B' then wallets end) as b_wallets,
        max(case when abc_class = 'A' then min_spend_wei end) as a_min,
        max(case when abc_class = 'B' then max_spend_wei end) as b_max,
        max(case when abc_class = 'B' then min_spend_wei end) as b_min,
        max(case when abc_class = 'C' then max_spend_wei end) as c_max
    from {{ ref('abc_cuts') }}
    group by
        chain_id,
        as_of

),

tiers as (

    select
        chain_id,
        as_of,
        count(*) as ranked_wallets,
        sum(spend_wei) as spend_wei
    from {{ ref('wallet_abc_class') }}
    where abc_class in ('A', 'B', 'C')
    group by
        chain_id,
        as_of

),

compared as (

    select
        tiers.chain_id,
        tiers.as_of,
        tiers.ranked_wallets,
        cuts.wallets as cut_wallets,
        tiers.spend_wei,
        cuts.spend_wei as cut_spend_wei,
        cuts.a_wallets,
        cuts.b_wallets,
        cast(ceil(tiers.ranked_wallets * cast('{{ abc["share_a"] }}' as decimal(18, 9))) as {{ dbt.type_bigint() }})
            as expected_a_wallets,
        cast(ceil(tiers.ranked_wallets * (
            cast('{{ abc["share_a"] }}' as decimal(18, 9)) + cast('{{ abc["share_b"] }}' as decimal(18, 9))
        )) as {{ dbt.type_bigint() }}) as expected_ab_wallets,
        cuts.a_min,
        cuts.b_max,
        cuts.b_min,
        cuts.c_max
    from tiers
    left join cuts
        on
            tiers.chain_id = cuts.chain_id
            and tiers.as_of = cuts.as_of

)

select * from compared
where
    cut_wallets is null
    or cut_wallets <> ranked_wallets
    or cut_spend_wei <> spend_wei
    or a_min < b_max
    or b_min < c_max
    or a_min < c_max
    or (
        as_of = cast('{{ as_of }}' as date)
        and (a_wallets <> expected_a_wallets or a_wallets + b_wallets <> expected_ab_wallets)
    )

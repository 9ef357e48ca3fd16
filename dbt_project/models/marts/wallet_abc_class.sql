{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ segments_delete_as_of() }}",
    )
}}

-- A/B/C value tiers, one row per (chain_id, wallet, as_of): every address that bought an NFT (a marketplace
-- purchase, int_wallet_trades role 'buyer') in the abc_window_days UTC days ending with as_of.
--
-- spend_wei: the exact sum of the prices it paid in the window, in wei (sales in a currency that is neither
-- native nor wrapped native count 0, so such a buyer is ranked, last). Addresses that hold code
-- (stg_raw__addresses.is_contract) get the class 'contract' and are not ranked, unless the var
-- abc_include_contracts is true.
-- Ranking, per chain: spend_wei descending, then wallet address ascending (ties broken deterministically,
-- so two wallets with the same spend can fall on either side of a cut). With n ranked wallets, the wallet
-- of rank r is
--   A when r - 1 < n * abc_share_a                     (i.e. r <= ceil(n * share_a)),
--   B when r - 1 < n * (abc_share_a + abc_share_b)     (i.e. r <= ceil(n * (share_a + share_b))),
--   C otherwise:
-- a wallet is A when the wallets ranked above it are fewer than share_a of all. Rounding up keeps the top
-- spender in A however few wallets there are: 10 wallets give A 1, B 2, C 7; 3 wallets give A 1, B 0
-- (ceil(0.9) = 1 is already taken by A), C 2; 1 wallet is A. Shares are exact decimals in the comparison.
--
-- History: incremental by as_of. Each run deletes its as_of's rows first (pre-hook) and inserts them again,
-- so a rerun for the same date replaces that date and other dates stay.

{%- set as_of = as_of_date() %}
{%- set abc = segments_abc_settings() %}
{%- set first_day = (modules.datetime.date.fromisoformat(as_of)
    - modules.datetime.timedelta(days=abc['window_days'] - 1)).isoformat() %}

with

buys as (

    select
        chain_id,
        wallet,
        price_wei
    from {{ ref('int_wallet_trades') }}
    where
        role = 'buyer'
        and {{ timestamp_in_days('block_timestamp', first_day, as_of) }}

),

addresses as (

    select
        chain_id,
        address,
        is_contract
    from {{ ref('stg_raw__addresses') }}

),

spenders as (

    select
        chain_id,
        wallet,
        count(*) as buys,
        cast(sum(coalesce(price_wei, 0)) as {{ wei_type() }}) as spend_wei
    from buys
    group by
        chain_id,
        wallet

),

flagged as (

    select
        spenders.*,
        coalesce(addresses.is_contract, false) as is_contract,
        {%- if abc['include_contracts'] %}
        false as is_excluded
        {%- else %}
        coalesce(addresses.is_contract, false) as is_excluded
        {%- endif %}
    from spenders
    left join addresses
        on
            spenders.chain_id = addresses.chain_id
            and spenders.wallet = addresses.address

),

ranked as (

    select
        flagged.*,
        case when not is_excluded then
            row_number() over (partition by chain_id, is_excluded order by spend_wei desc, wallet asc)
        end as spend_rank,
        case when not is_excluded then count(*) over (partition by chain_id, is_excluded) end as ranked_wallets
    from flagged

),

classified as (

    select
        ranked.*,
        case
            when is_excluded then 'contract'
            when spend_rank - 1 < ranked_wallets * cast('{{ abc["share_a"] }}' as decimal(18, 9)) then 'A'
            when
                spend_rank - 1 < ranked_wallets * (
                    cast('{{ abc["share_a"] }}' as decimal(18, 9)) + cast('{{ abc["share_b"] }}' as decimal(18, 9))
                )
                then 'B'
            else 'C'
        end as abc_class
    from ranked

),

final as (

    select
        chain_id,
        wallet,
        cast('{{ as_of }}' as date) as as_of,
        abc_class,
        is_contract,
        cast(buys as {{ dbt.type_bigint() }}) as buys,
        spend_wei,
        cast(spend_rank as {{ dbt.type_bigint() }}) as spend_rank,
        cast(ranked_wallets as {{ dbt.type_bigint() }}) as ranked_wallets,
        cast(spend_rank - 1 as double) / ranked_wallets as share_ranked_above,
        cast('{{ first_day }}' as date) as window_start_date
    from classified

)

select * from final

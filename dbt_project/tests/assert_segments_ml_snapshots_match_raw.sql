-- ml_training_snapshots, recomputed from the rawest layers with a strict filter: for every cutoff of the
-- table and every address without code, the transactions it sent and their gas (stg_raw__transactions)
-- and its purchases and their prices (the sales of int_nft_sales_deduplicated, one source per
-- transaction) with block_timestamp < the cutoff's 00:00 UTC. Any event at or after a cutoff reaching the
-- snapshot, or one before it missing, shows as a difference. Rows returned: (wallet, cutoff) pairs whose
-- counts or sums differ, or that are on one side only.
-- A fixed sixteenth of the wallets (address ending in 0) is checked: an error in the SQL shows on any
-- sample, and the test then costs a sixteenth of a recomputation of every cutoff from raw.
-- After an incremental build, the cutoffs that build wrote (macros/tests_window.sql).

{%- set window = tests_window_of(ref('ml_training_snapshots')) %}

with

cutoffs as (

    select distinct
        cutoff_date,
        cast(cutoff_date as {{ dbt.type_timestamp() }}) as cutoff_at
    from {{ ref('ml_training_snapshots') }}
    {%- if window is not none and window[0] is not none %}
    where {{ window[0] }}
    {%- endif %}

),

facts as (

    select
        chain_id,
        from_address as wallet,
        block_timestamp,
        1 as transactions,
        gas_fee_wei as gas_paid_wei,
        0 as buys,
        0 as spend_wei
    from {{ ref('stg_raw__transactions') }}

    union all

    select
        chain_id,
        buyer_address as wallet,
        block_timestamp,
        0 as transactions,
        0 as gas_paid_wei,
        1 as buys,
        coalesce(price_wei, 0) as spend_wei
    from {{ ref('int_nft_sales_deduplicated') }}

),

recomputed as (

    select
        cutoffs.cutoff_date,
        facts.chain_id,
        facts.wallet,
        sum(facts.transactions) as transactions_total,
        sum(facts.gas_paid_wei) as gas_paid_total_wei,
        sum(facts.buys) as buys_total,
        sum(facts.spend_wei) as spend_total_wei
    from {{ wallets_only('facts') }} as facts
    inner join cutoffs
        on facts.block_timestamp < cutoffs.cutoff_at
    where {{ dbt.right('facts.wallet', 1) }} = '0'
    group by
        cutoffs.cutoff_date,
        facts.chain_id,
        facts.wallet

),

sampled_snapshots as (

    select *
    from {{ ref('ml_training_snapshots') }}
    where
        {{ dbt.right('wallet', 1) }} = '0'
        {%- if window is not none and window[0] is not none %}
        and ({{ window[0] }})
        {%- endif %}

),

compared as (

    select
        coalesce(recomputed.cutoff_date, snapshots.cutoff_date) as cutoff_date,
        coalesce(recomputed.chain_id, snapshots.chain_id) as chain_id,
        coalesce(recomputed.wallet, snapshots.wallet) as wallet,
        recomputed.transactions_total as expected_transactions,
        snapshots.transactions_total as actual_transactions,
        recomputed.gas_paid_total_wei as expected_gas_paid_wei,
        snapshots.gas_paid_total_wei as actual_gas_paid_wei,
        recomputed.buys_total as expected_buys,
        snapshots.buys_total as actual_buys,
        recomputed.spend_total_wei as expected_spend_wei,
        snapshots.spend_total_wei as actual_spend_wei,
        snapshots.wallet is null as missing_from_snapshots
    from recomputed
    full outer join sampled_snapshots as snapshots
        on
            recomputed.cutoff_date = snapshots.cutoff_date
            and recomputed.chain_id = snapshots.chain_id
            and recomputed.wallet = snapshots.wallet

)

select * from compared
where
    missing_from_snapshots
    or coalesce(expected_transactions, 0) <> coalesce(actual_transactions, 0)
    or coalesce(expected_gas_paid_wei, 0) <> coalesce(actual_gas_paid_wei, 0)
    or coalesce(expected_buys, 0) <> coalesce(actual_buys, 0)
    or coalesce(expected_spend_wei, 0) <> coalesce(actual_spend_wei, 0)

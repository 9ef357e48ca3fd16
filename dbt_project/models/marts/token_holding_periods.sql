{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ holdings_save_changed_tokens() }}",
        post_hook="{{ holdings_age_open_positions() }}",
    )
}}

-- Holding periods: one row per (acquisition lot, disposal) pair, and one per lot remainder still held at
-- the end of as_of. Grain and rules: _marts__models.yml.
--
-- Incremental by token: every step below works within one token's events, so a run recomputes whole
-- the tokens with an event from the window start on (macros/incremental_window.sql: the earlier of
-- as_of - lookback_days and the newest day stored), a stored row from then on, or imported trades only,
-- and replaces their rows: the pre-hook deletes every stored row of those tokens, also of a token left with
-- no event to recompute (all of them after an earlier as_of, or gone in a reorg), and the model appends
-- what it recomputes; the post-hook then ages the open positions of every other token to the new as_of.
-- A full refresh gives the same rows (tests/test_dbt_build.py).
--
-- Steps: order every event of a token; for unique tokens (ERC-721), an acquisition whose token next moves
-- otherwise than out of the same wallet was given up unobserved (a 'left_unobserved' exit just before that
-- event); then, per wallet and token, acquisitions (lots) are matched to disposals first-in-first-out on
-- running unit counts: lot i holds units (in_before, in_through] of the wallet's acquired units, disposal j
-- takes units (matched_before, matched_through] of them, and a (lot, disposal) pair is the overlap of the
-- two ranges. Units disposed beyond the balance the warehouse has seen acquired (history not extracted,
-- imported trades) match no lot.
--
-- One-unit tokens (unique, every event moving 1 unit: nearly every ERC-721) take a short cut to the same
-- rows: there every acquisition is followed, in the token's order, by its wallet's disposal (real or the
-- unobserved exit), and FIFO pairs exactly those two (a disposal after a disposal matches nothing), so
-- the pair is the acquisition and the token's next event (one_unit_pieces), without the per-wallet
-- running counts, which need a second sort of the events.

{%- set as_of = as_of_date() %}
{%- set end_of_as_of = (modules.datetime.date.fromisoformat(as_of)
    + modules.datetime.timedelta(days=1)).isoformat() ~ ' 00:00:00' %}
{%- set first_day = holdings_window_start() if is_incremental() else none %}

with

all_events as (

    select * from {{ ref('int_holding_events_unioned') }}
    -- a self-transfer neither closes nor opens a position; a movement of 0 units moves nothing
    where
        not is_self_transfer
        and amount > 0

),

{%- if first_day is not none %}
{%- if execute %}
{%- do tests_record_window(this, holdings_rewritten_rows(this.identifier), first_day) %}
{%- do tests_record_window(this, holdings_written_rows(this.identifier), first_day, rows='written') %}
{%- endif %}

-- every event of the tokens this run recomputes, saved by the pre-hook (macros/holdings_incremental.sql)
events as (

    select * from {{ holdings_changed_events_relation() }}
    where
        not is_self_transfer
        and amount > 0

),
{%- else %}

events as (

    select * from all_events

),
{%- endif %}

contracts as (

    select
        chain_id,
        address
    from {{ ref('stg_raw__addresses') }}
    where is_contract

),

-- One order for all events of a token: block, log index, batch index; a movement's 'out' row before its
-- 'in' row; the rare remaining ties (an import's stand-in log index equal to a transfer's) broken by
-- source, transaction and wallet so that reruns agree. Each row also sees the token's next event.
{%- set token_order %}
    partition by chain_id, collection_address, token_id
    order by
        block_number,
        log_index,
        batch_index,
        case when direction = 'out' then 0 else 1 end,
        coalesce(trade_only_source, ''),
        transaction_hash,
        wallet
{%- endset %}
token_ordered as (

    select
        events.*,
        row_number() over ({{ token_order }}) as token_event_rank,
        1 as tie_rank,
        lead(wallet) over ({{ token_order }}) as next_wallet,
        lead(direction) over ({{ token_order }}) as next_direction,
        lead(block_number) over ({{ token_order }}) as next_block_number,
        lead(block_timestamp) over ({{ token_order }}) as next_block_timestamp,
        lead(transaction_hash) over ({{ token_order }}) as next_transaction_hash,
        lead(log_index) over ({{ token_order }}) as next_log_index,
        lead(batch_index) over ({{ token_order }}) as next_batch_index,
        lead(trade_only_source) over ({{ token_order }}) as next_trade_only_source,
        lead(event_kind) over ({{ token_order }}) as next_event_kind,
        lead(price_wei) over ({{ token_order }}) as next_price_wei,
        lead(proceeds_wei) over ({{ token_order }}) as next_proceeds_wei,
        -- same partition and order as the leads: one sort for all
        min(case when is_unique_token and amount = 1 then 1 else 0 end) over (
            {{ token_order }}
            rows between unbounded preceding and unbounded following
        ) = 1 as is_one_unit_token
    from events

),

{#- An acquisition's own columns, for the lots of both paths (one_unit_pieces, lots). #}
{%- set lot_columns %}
        chain_id,
        wallet,
        collection_address,
        token_id,
        token_standard,
        event_kind as acquired_via,
        block_timestamp as acquired_at,
        block_number as acquired_block_number,
        transaction_hash as acquired_transaction_hash,
        log_index as acquired_log_index,
        batch_index as acquired_batch_index,
        trade_only_source is not null as acquired_from_trade_only,
        token_event_rank as acquired_rank,
        amount as lot_amount,
        price_wei as lot_price_wei,
{%- endset %}

-- The pairs of one-unit tokens: each acquisition with the token's next event, its wallet's disposal or,
-- when the next event is not that, an unobserved exit at the next event's place (as unobserved_exits
-- below); the last acquisition is open. Columns as closed_pieces / open_pieces, ranks as the FIFO path
-- would give them; units 0..1 of a lot of 1.
one_unit_pieces as (

    select
        {{ lot_columns | trim }}
        cast(0 as {{ wei_type() }}) as lot_units_before,
        amount as lot_units_through,
        case when next_wallet is null then cast(0 as {{ wei_type() }}) else amount end as units_matched_total,
        case
            when next_wallet is null then null
            when next_direction = 'out' and next_wallet = wallet then next_event_kind
            else 'left_unobserved'
        end as disposed_via,
        next_block_timestamp as disposal_timestamp,
        next_block_number as disposed_block_number,
        next_transaction_hash as disposed_transaction_hash,
        next_log_index as disposed_log_index,
        next_batch_index as disposed_batch_index,
        case when next_wallet is not null then next_trade_only_source is not null end as disposed_from_trade_only,
        case when next_wallet is not null then token_event_rank + 1 end as disposed_rank,
        case
            when next_wallet is null then null
            when next_direction = 'out' and next_wallet = wallet then 1
            else 0
        end as disposed_tie_rank,
        case when next_wallet is not null then amount end as disposal_amount,
        case when next_direction = 'out' and next_wallet = wallet then next_price_wei end as disposal_price_wei,
        case when next_direction = 'out' and next_wallet = wallet then next_proceeds_wei end
            as disposal_proceeds_wei,
        case when next_wallet is not null then cast(0 as {{ wei_type() }}) end as disposal_units_before,
        cast(0 as {{ wei_type() }}) as piece_units_from,
        amount as piece_units_to
    from token_ordered
    where
        is_one_unit_token
        and direction = 'in'

),

-- A unique token has one holder at a time: when the event after an acquisition is not that wallet's own
-- disposal, the wallet gave the token up at an unobserved moment before that event. The exit takes the
-- next event's place in the order, just before it (tie_rank 0).
unobserved_exits as (

    select
        chain_id,
        wallet,
        'out' as direction,
        'left_unobserved' as event_kind,
        next_block_number as block_number,
        next_block_timestamp as block_timestamp,
        next_transaction_hash as transaction_hash,
        next_log_index as log_index,
        next_batch_index as batch_index,
        next_trade_only_source as trade_only_source,
        token_standard,
        collection_address,
        token_id,
        amount,
        cast(null as {{ wei_type() }}) as price_wei,
        cast(null as {{ wei_type() }}) as proceeds_wei,
        token_event_rank + 1 as token_event_rank,
        0 as tie_rank
    from token_ordered
    where
        is_unique_token
        and not is_one_unit_token
        and direction = 'in'
        and next_wallet is not null
        and not (next_direction = 'out' and next_wallet = wallet)

),

stream as (

    select
        chain_id,
        wallet,
        direction,
        event_kind,
        block_number,
        block_timestamp,
        transaction_hash,
        log_index,
        batch_index,
        trade_only_source,
        token_standard,
        collection_address,
        token_id,
        amount,
        price_wei,
        proceeds_wei,
        token_event_rank,
        tie_rank
    from token_ordered
    where not is_one_unit_token

    union all

    select
        chain_id,
        wallet,
        direction,
        event_kind,
        block_number,
        block_timestamp,
        transaction_hash,
        log_index,
        batch_index,
        trade_only_source,
        token_standard,
        collection_address,
        token_id,
        amount,
        price_wei,
        proceeds_wei,
        token_event_rank,
        tie_rank
    from unobserved_exits

),

-- Running unit counts per wallet and token. net_through can dip below zero only where the wallet
-- disposed of more than it was seen acquiring; least(0, running minimum) is that shortfall, so
-- units_out_through + least(0, running minimum of net_through) = units out so far that came from observed
-- lots (units matched). It never decreases, so the last row's value is the total matched.
{%- set holding_order %}
    partition by chain_id, wallet, collection_address, token_id
    order by token_event_rank, tie_rank
{%- endset %}
running as (

    select
        stream.*,
        sum(case when direction = 'in' then amount else 0 end) over (
            {{ holding_order }}
            rows between unbounded preceding and current row
        ) as units_in_through,
        sum(case when direction = 'out' then amount else 0 end) over (
            {{ holding_order }}
            rows between unbounded preceding and current row
        ) as units_out_through,
        sum(case when direction = 'out' then amount else 0 end) over (
            {{ holding_order }}
            rows between unbounded preceding and unbounded following
        ) as units_out_total,
        sum(case when direction = 'in' then amount else -amount end) over (
            {{ holding_order }}
            rows between unbounded preceding and current row
        ) as net_through
    from stream

),

-- The same ordering as `running`, so one more pass: the matched units through this row, before it (the
-- running minimum up to the row before) and in all.
matched_ranges as (

    select
        running.*,
        running.units_out_through + least(
            0,
            min(running.net_through) over (
                {{ holding_order }}
                rows between unbounded preceding and current row
            )
        ) as units_matched_through,
        running.units_out_through
        - case when running.direction = 'out' then running.amount else 0 end
        + least(
            0,
            coalesce(
                min(running.net_through) over (
                    {{ holding_order }}
                    rows between unbounded preceding and 1 preceding
                ),
                0
            )
        ) as units_matched_before,
        running.units_out_total + least(
            0,
            min(running.net_through) over (
                {{ holding_order }}
                rows between unbounded preceding and unbounded following
            )
        ) as units_matched_total
    from running

),

lots as (

    select
        {{ lot_columns | trim }}
        units_in_through - amount as lot_units_before,
        units_in_through as lot_units_through,
        units_matched_total
    from matched_ranges
    where direction = 'in'

),

disposals as (

    select
        chain_id,
        wallet,
        collection_address,
        token_id,
        event_kind as disposed_via,
        block_timestamp as disposal_timestamp,
        block_number as disposed_block_number,
        transaction_hash as disposed_transaction_hash,
        log_index as disposed_log_index,
        batch_index as disposed_batch_index,
        trade_only_source is not null as disposed_from_trade_only,
        token_event_rank as disposed_rank,
        tie_rank as disposed_tie_rank,
        amount as disposal_amount,
        price_wei as disposal_price_wei,
        proceeds_wei as disposal_proceeds_wei,
        units_matched_before as disposal_units_before,
        units_matched_through as disposal_units_through
    from matched_ranges
    where
        direction = 'out'
        and units_matched_through > units_matched_before

),

closed_pieces as (

    select
        lots.*,
        disposals.disposed_via,
        disposals.disposal_timestamp,
        disposals.disposed_block_number,
        disposals.disposed_transaction_hash,
        disposals.disposed_log_index,
        disposals.disposed_batch_index,
        disposals.disposed_from_trade_only,
        disposals.disposed_rank,
        disposals.disposed_tie_rank,
        disposals.disposal_amount,
        disposals.disposal_price_wei,
        disposals.disposal_proceeds_wei,
        disposals.disposal_units_before,
        greatest(lots.lot_units_before, disposals.disposal_units_before) as piece_units_from,
        least(lots.lot_units_through, disposals.disposal_units_through) as piece_units_to
    from lots
    inner join disposals
        on
            lots.chain_id = disposals.chain_id
            and lots.wallet = disposals.wallet
            and lots.collection_address = disposals.collection_address
            and lots.token_id = disposals.token_id
            and lots.lot_units_before < disposals.disposal_units_through
            and disposals.disposal_units_before < lots.lot_units_through

),

open_pieces as (

    select
        lots.*,
        cast(null as {{ dbt.type_string() }}) as disposed_via,
        cast(null as {{ dbt.type_timestamp() }}) as disposal_timestamp,
        cast(null as {{ dbt.type_bigint() }}) as disposed_block_number,
        cast(null as {{ dbt.type_string() }}) as disposed_transaction_hash,
        cast(null as {{ dbt.type_int() }}) as disposed_log_index,
        cast(null as {{ dbt.type_int() }}) as disposed_batch_index,
        cast(null as boolean) as disposed_from_trade_only,
        cast(null as {{ dbt.type_bigint() }}) as disposed_rank,
        cast(null as {{ dbt.type_int() }}) as disposed_tie_rank,
        cast(null as {{ wei_type() }}) as disposal_amount,
        cast(null as {{ wei_type() }}) as disposal_price_wei,
        cast(null as {{ wei_type() }}) as disposal_proceeds_wei,
        cast(null as {{ wei_type() }}) as disposal_units_before,
        greatest(lots.lot_units_before, lots.units_matched_total) as piece_units_from,
        lots.lot_units_through as piece_units_to
    from lots
    where lots.lot_units_through > lots.units_matched_total

),

pieces as (

    select * from closed_pieces
    union all
    select * from open_pieces
    union all
    select * from one_unit_pieces

),

priced as (

    select
        pieces.*,
        piece_units_to - piece_units_from as amount,
        {{ holdings_allocate(
            'lot_price_wei',
            'piece_units_from - lot_units_before',
            'piece_units_to - lot_units_before',
            'lot_amount'
        ) }} as acquired_price_wei,
        {{ holdings_allocate(
            'disposal_price_wei',
            'piece_units_from - disposal_units_before',
            'piece_units_to - disposal_units_before',
            'disposal_amount'
        ) }} as disposed_price_wei,
        {{ holdings_allocate(
            'disposal_proceeds_wei',
            'piece_units_from - disposal_units_before',
            'piece_units_to - disposal_units_before',
            'disposal_amount'
        ) }} as disposed_proceeds_wei,
        row_number() over (
            partition by chain_id, wallet, collection_address, token_id, acquired_at
            order by
                acquired_rank,
                case when disposed_rank is null then 1 else 0 end,
                disposed_rank,
                disposed_tie_rank
        ) as sequence
    from pieces

),

final as (

    select
        priced.chain_id,
        priced.wallet,
        priced.collection_address as contract_address,
        priced.token_id,
        priced.acquired_at,
        priced.sequence,
        priced.token_standard,
        priced.acquired_via,
        priced.acquired_price_wei,
        priced.acquired_block_number,
        priced.acquired_transaction_hash,
        priced.acquired_log_index,
        priced.acquired_batch_index,
        priced.acquired_from_trade_only,
        priced.lot_amount,
        priced.amount,
        priced.disposed_via is null as is_open,
        case when priced.disposed_via <> 'left_unobserved' then priced.disposal_timestamp end as disposed_at,
        priced.disposed_via,
        priced.disposed_price_wei,
        priced.disposed_proceeds_wei,
        priced.disposed_block_number,
        priced.disposed_transaction_hash,
        priced.disposed_log_index,
        priced.disposed_batch_index,
        priced.disposed_from_trade_only,
        case
            when priced.disposed_via is null
                then {{ holdings_days_between(
                    'priced.acquired_at', "cast('" ~ end_of_as_of ~ "' as " ~ dbt.type_timestamp() ~ ")"
                ) }}
            when priced.disposed_via <> 'left_unobserved'
                then {{ holdings_days_between('priced.acquired_at', 'priced.disposal_timestamp') }}
        end as holding_days,
        case
            when priced.disposed_via = 'sale' then priced.disposed_proceeds_wei - priced.acquired_price_wei
        end as realized_pnl_wei,
        contracts.address is not null as is_contract
    from priced
    left join contracts
        on
            priced.chain_id = contracts.chain_id
            and priced.wallet = contracts.address

)

select * from final

-- Every acquisition lot of token_holding_periods is split without losing or creating a unit or a wei: its
-- rows' amounts add up to the units the acquisition brought and their acquired_price_wei to its price.
-- Every disposal's rows take no more units than it moved, and a disposal whose units all came from
-- observed lots has rows whose disposed_price_wei add up to its price (proceeds likewise).
-- Rows returned: acquisitions or disposals that do not add up.
-- After an incremental build, for the tokens that build recomputed (macros/tests_window.sql).
-- depends_on: {{ ref('int_holding_events_unioned') }}

{%- set first_day = tests_first_day(ref('token_holding_periods')) %}

with

{{ holdings_tested_rows(first_day) }}

events as (

    {#- after an incremental build: those tokens' events, as the model's pre-hook saved them #}
    select * from {{ holdings_changed_events_relation() if first_day is not none
        else ref('int_holding_events_unioned') }} as events
    where
        not is_self_transfer
        and amount > 0

),

lots as (

    select
        chain_id,
        {{ holdings_holder_key('wallet', 'contract_address', 'token_id') }} as holder_key,
        acquired_block_number as block_number,
        acquired_log_index as log_index,
        acquired_batch_index as batch_index,
        acquired_from_trade_only as from_trade_only,
        count(*) as n_rows,
        sum(amount) as units,
        min(lot_amount) as min_lot_amount,
        max(lot_amount) as max_lot_amount,
        sum(acquired_price_wei) as price_wei
    from holdings
    group by
        chain_id,
        {{ holdings_holder_key('wallet', 'contract_address', 'token_id') }},
        acquired_block_number,
        acquired_log_index,
        acquired_batch_index,
        acquired_from_trade_only

),

disposals as (

    select
        chain_id,
        {{ holdings_holder_key('wallet', 'contract_address', 'token_id') }} as holder_key,
        disposed_block_number as block_number,
        disposed_log_index as log_index,
        disposed_batch_index as batch_index,
        disposed_from_trade_only as from_trade_only,
        sum(amount) as units,
        sum(disposed_price_wei) as price_wei,
        sum(disposed_proceeds_wei) as proceeds_wei
    from holdings
    where disposed_via in ('sale', 'transfer', 'burn')
    group by
        chain_id,
        {{ holdings_holder_key('wallet', 'contract_address', 'token_id') }},
        disposed_block_number,
        disposed_log_index,
        disposed_batch_index,
        disposed_from_trade_only

),

lots_checked as (

    select
        'acquisition' as side,
        events.chain_id,
        events.wallet,
        events.block_number,
        events.log_index,
        events.batch_index,
        events.amount as event_units,
        lots.units as row_units,
        events.price_wei as event_price_wei,
        lots.price_wei as row_price_wei
    from events
    left join lots
        on
            events.chain_id = lots.chain_id
            and {{ holdings_holder_key('events.wallet', 'events.collection_address', 'events.token_id') }}
                = lots.holder_key
            and events.block_number = lots.block_number
            and events.log_index = lots.log_index
            and events.batch_index = lots.batch_index
            and (events.trade_only_source is not null) = lots.from_trade_only
    where
        events.direction = 'in'
        and (
            lots.units is null
            or lots.units <> events.amount
            or lots.min_lot_amount <> events.amount
            or lots.max_lot_amount <> events.amount
            or coalesce(lots.price_wei, -1) <> coalesce(events.price_wei, -1)
        )

),

disposals_checked as (

    select
        'disposal' as side,
        events.chain_id,
        events.wallet,
        events.block_number,
        events.log_index,
        events.batch_index,
        events.amount as event_units,
        disposals.units as row_units,
        events.price_wei as event_price_wei,
        disposals.price_wei as row_price_wei
    from events
    inner join disposals
        on
            events.chain_id = disposals.chain_id
            and {{ holdings_holder_key('events.wallet', 'events.collection_address', 'events.token_id') }}
                = disposals.holder_key
            and events.block_number = disposals.block_number
            and events.log_index = disposals.log_index
            and events.batch_index = disposals.batch_index
            and (events.trade_only_source is not null) = disposals.from_trade_only
    where
        events.direction = 'out'
        and (
            disposals.units > events.amount
            or (
                disposals.units = events.amount
                and (
                    coalesce(disposals.price_wei, -1) <> coalesce(events.price_wei, -1)
                    or coalesce(disposals.proceeds_wei, -1) <> coalesce(events.proceeds_wei, -1)
                )
            )
        )

)

select * from lots_checked
union all
select * from disposals_checked

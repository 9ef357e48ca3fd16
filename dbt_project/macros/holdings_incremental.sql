{#-
    Post-hook of token_holding_periods on an incremental run: the open positions of the tokens the run did
    not recompute were measured to an earlier as_of; measure every open position to the end of this one
    (the same formula the model uses). In the model's transaction.
-#}
{% macro holdings_age_open_positions() -%}
    {%- if is_incremental() -%}
        {%- set end_of_as_of = (modules.datetime.date.fromisoformat(as_of_date())
            + modules.datetime.timedelta(days=1)).isoformat() ~ ' 00:00:00' -%}
        update {{ this }}
        set holding_days = {{ holdings_days_between(
            'acquired_at', "cast('" ~ end_of_as_of ~ "' as " ~ dbt.type_timestamp() ~ ")"
        ) }}
        where is_open
    {%- endif -%}
{%- endmacro %}


{#- The first day an incremental run of token_holding_periods looks at (macros/incremental_window.sql) on
    its rows' newest event time, or none (empty target: everything). -#}
{% macro holdings_window_start() -%}
    {{- return(incremental_window_start('greatest(acquired_at, coalesce(disposed_at, acquired_at))')) -}}
{%- endmacro %}


{#- Where an incremental run keeps the tokens it recomputes, for itself and for the tests of this
    invocation (dbt_meta, beside the tests' window log). -#}
{% macro holdings_changed_tokens_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='holdings_changed_tokens')) -}}
{%- endmacro %}


{#- Where an incremental run keeps the events of the tokens it recomputes (int_holding_events_unioned's
    rows of those tokens), read by the model and by assert_holdings_lots_and_sales_add_up instead of each
    picking them out of the whole event history again. -#}
{% macro holdings_changed_events_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='holdings_changed_events')) -}}
{%- endmacro %}


{#- The columns of the changed tokens' events that the model and assert_holdings_lots_and_sales_add_up
    read. Not `events.*`: the copy reads every event of the history to keep a few, and leaving out the wide
    columns nobody reads here (counterparty_address, the sale's source) makes it about a fifth faster (on the
    benchmark warehouse, 550,000 of 21 million events: 1.6-1.7 s -> 1.3 s). -#}
{% macro holdings_changed_events_columns() -%}
    {{- return([
        'chain_id', 'wallet', 'direction', 'event_kind', 'is_self_transfer', 'block_number', 'block_timestamp',
        'transaction_hash', 'log_index', 'batch_index', 'trade_only_source', 'token_standard', 'is_unique_token',
        'collection_address', 'token_id', 'amount', 'price_wei', 'proceeds_wei',
    ]) -}}
{%- endmacro %}


{#-
    Pre-hook of token_holding_periods on an incremental run: computes the changed tokens once, before the
    stored rows change, into holdings_changed_tokens_relation(), and their events into
    holdings_changed_events_relation(), then deletes the stored rows of those tokens; the model recomputes
    those tokens from those events (appended) and its tests read them (the rows it rewrote: those tokens'
    rows, and every open position, re-aged). In the model's transaction.
-#}
{% macro holdings_save_changed_tokens() -%}
    {%- if is_incremental() -%}
        {%- set first_day = holdings_window_start() -%}
        {%- if first_day is not none -%}
            create or replace table {{ holdings_changed_tokens_relation() }} as
            {{ holdings_changed_tokens(first_day, this) }};
            create or replace table {{ holdings_changed_events_relation() }} as
            select
                {%- for column in holdings_changed_events_columns() %}
                events.{{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ ref('int_holding_events_unioned') }} as events
            where {{ key_in(holdings_changed_tokens_relation(), 'events',
                {'chain_id': 'chain_id', 'collection_address': 'collection_address', 'token_id': 'token_id'}) }};
            delete from {{ this }} as holdings
            where {{ holdings_written_rows('holdings') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The rows of token_holding_periods (named `identifier` in the query) an incremental run rewrote: those
    it wrote (holdings_written_rows) and every open position, re-aged. -#}
{% macro holdings_rewritten_rows(identifier) -%}
    is_open or {{ holdings_written_rows(identifier) }}
{%- endmacro %}


{#- The rows an incremental run wrote: the changed tokens' rows. The other tokens' open positions only had
    their as_of columns re-aged; tests of the other columns (keys, links to movements) skip them. -#}
{% macro holdings_written_rows(identifier) -%}
    {{ key_in(holdings_changed_tokens_relation(), identifier,
        {'chain_id': 'chain_id', 'collection_address': 'contract_address', 'token_id': 'token_id'}) }}
{%- endmacro %}


{#-
    The tokens an incremental run of token_holding_periods recomputes, from `first_day` ('YYYY-MM-DD') on:
    an event in the window, or a stored row there (a rerun for an earlier date, an event gone in a reorg),
    and every token known from imported trades only (an import can add trades of any age, and nothing tells
    which are new). `holdings` is the stored table. Computed once per run by the model's pre-hook
    (holdings_save_changed_tokens); the model and the holdings tests read what it saved.
-#}
{% macro holdings_changed_tokens(first_day, holdings) -%}
    {%- set window_start = "cast('" ~ first_day ~ " 00:00:00' as " ~ dbt.type_timestamp() ~ ")" -%}
    select
        chain_id,
        collection_address,
        token_id
    from {{ ref('int_holding_events_unioned') }}
    where
        block_timestamp >= {{ window_start }}
        or trade_only_source is not null

    union

    select
        chain_id,
        contract_address as collection_address,
        token_id
    from {{ holdings }}
    where
        acquired_at >= {{ window_start }}
        or disposed_at >= {{ window_start }}
{%- endmacro %}


{#- `where exists` on the changed tokens, for a relation aliased `alias` with token columns named so. -#}
{% macro holdings_in_changed_tokens(alias, collection_column='collection_address') -%}
    {{ key_in('changed_tokens', alias,
        {'chain_id': 'chain_id', 'collection_address': collection_column, 'token_id': 'token_id'}) }}
{%- endmacro %}


{#-
    The holdings tests' common CTEs: `changed_tokens` (only after an incremental build, `first_day` not
    none: the tokens that build recomputed) and `holdings`, token_holding_periods narrowed to those tokens.
    Ends with a comma.
-#}
{% macro holdings_tested_rows(first_day) -%}
    {%- if first_day is not none %}
changed_tokens as (

    select
        chain_id,
        collection_address,
        token_id
    from {{ holdings_changed_tokens_relation() }}

),
    {%- endif %}

holdings as (

    select * from {{ ref('token_holding_periods') }} as holdings
    {%- if first_day is not none %}
    where {{ holdings_in_changed_tokens('holdings', 'contract_address') }}
    {%- endif %}

),
{%- endmacro %}


{#-
    One value standing for (wallet, contract, token_id) in the holdings tests' groupings, which also key on
    the event's chain, block, log index and batch index: the default concatenates the three texts; DuckDB
    hashes them to one 64-bit integer, so that the lots and disposals of 12 million holding rows are grouped
    and joined on integers (assert_holdings_lots_and_sales_add_up on the benchmark's full build: 15-21 s
    -> 11-14 s). Two different holders of one event position would have to share a hash to be merged.
-#}
{% macro holdings_holder_key(wallet, contract, token_id) -%}
    {{ return(adapter.dispatch('holdings_holder_key')(wallet, contract, token_id)) }}
{%- endmacro %}

{% macro default__holdings_holder_key(wallet, contract, token_id) -%}
    {{ wallet }} || '/' || {{ contract }} || '/' || {{ token_id }}
{%- endmacro %}

{% macro duckdb__holdings_holder_key(wallet, contract, token_id) -%}
    hash({{ wallet }}, {{ contract }}, {{ token_id }})
{%- endmacro %}

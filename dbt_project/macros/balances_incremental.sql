{#- Where an incremental run of int_wallet_token_balances keeps the (wallet, token) pairs it recomputes, for
    itself and for the tests of this invocation (dbt_meta, beside the tests' window log). -#}
{% macro balances_changed_pairs_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='balances_changed_pairs')) -}}
{%- endmacro %}


{#-
    Pre-hook of int_wallet_token_balances on an incremental run, before its stored rows change: saves the
    pairs to recompute (a movement from the window start on, or a stored row whose last movement is from
    then on: a pair whose movements of those days are gone must be recomputed too) into
    balances_changed_pairs_relation(), deletes their rows, and records them as the rows its tests read.
-#}
{% macro balances_replace_changed_pairs() -%}
    {%- if is_incremental() -%}
        {%- set first_day = incremental_window_start('last_movement_day') -%}
        {%- if first_day is not none -%}
            {%- set changed = balances_changed_pairs_relation() -%}
            {%- if execute -%}
                {%- do tests_record_window(this, balances_in_changed_pairs(this.identifier), first_day) -%}
            {%- endif -%}
            create schema if not exists {{ changed.schema }};
            create or replace table {{ changed }} as
            select distinct
                chain_id,
                wallet,
                collection_address,
                token_id
            from {{ ref('int_wallet_token_movements') }}
            where block_date >= cast('{{ first_day }}' as date)
            union
            select
                chain_id,
                wallet,
                collection_address,
                token_id
            from {{ this }}
            where last_movement_day >= cast('{{ first_day }}' as date);
            delete from {{ this }}
            where {{ balances_in_changed_pairs(this.identifier) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- `exists` on the saved changed pairs, for a relation (or alias) named `identifier` with pair columns. -#}
{% macro balances_in_changed_pairs(identifier) -%}
    {{ key_in(balances_changed_pairs_relation(), identifier,
        {'chain_id': 'chain_id', 'wallet': 'wallet', 'collection_address': 'collection_address',
         'token_id': 'token_id'}) }}
{%- endmacro %}


{#-
    int_wallet_collections_held on an incremental run recomputes only the wallets with a pair
    int_wallet_token_balances recomputed, when that model ran incrementally in this invocation (its changed
    pairs are then this run's); otherwise every wallet. Returns that run's window start ('YYYY-MM-DD', from
    its entry in this invocation's window log, macros/tests_window.sql, read here without the tests'
    test_whole_tables switch), or none: recompute every wallet.
-#}
{% macro collections_held_window() -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set key = tests_relation_key(ref('int_wallet_token_balances')) -%}
    {%- set rows = run_query(
        "select cast(max(window_start) as varchar) from " ~ tests_windows_relation()
        ~ " where invocation_id = '" ~ invocation_id ~ "' and relation_name = '" ~ key ~ "'"
    ).rows -%}
    {{- return(rows[0][0]) -}}
{%- endmacro %}


{#- `exists` on the wallets of the saved changed pairs, for a relation (or alias) named `identifier`. -#}
{% macro balances_in_changed_wallets(identifier) -%}
    {{ key_in(balances_changed_pairs_relation(), identifier, {'chain_id': 'chain_id', 'wallet': 'wallet'}) }}
{%- endmacro %}


{#- Pre-hook of int_wallet_collections_held on an incremental run: deletes the rows it recomputes (the
    changed wallets', or all) and records them as the rows its tests read. -#}
{% macro collections_held_delete_recomputed() -%}
    {%- if is_incremental() -%}
        {%- set window_start = collections_held_window() -%}
        {%- if window_start is not none -%}
            {%- do tests_record_window(this, balances_in_changed_wallets(this.identifier), window_start) -%}
            delete from {{ this }} where {{ balances_in_changed_wallets(this.identifier) }}
        {%- else -%}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

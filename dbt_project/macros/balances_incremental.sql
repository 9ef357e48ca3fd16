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

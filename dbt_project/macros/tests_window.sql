{#-
    Nightly data tests cost the window, not the history.

    An incremental day-grained model (macros/incremental_window.sql) rewrites only the days from its window
    start on; the rows before it are the ones earlier runs wrote and tested. So when a model was built
    incrementally in this very invocation, its generic tests (unique, not_null, ranges, relationships from
    it) look at the rewritten rows only: its pre-hook records (relation, a predicate selecting the rows it
    rewrote, window start) under the invocation id, and dbt's `get_where_subquery`, overridden here as dbt
    documents, narrows the tested relation to them. Everything else, and everything in a full refresh or a first build (no window is
    recorded then), is tested whole. A key that is unique within the rewritten days is unique in the table:
    every key of these models contains the day or a block that fixes it, and the older days did not change.
    token_holding_periods, incremental by token, records its window without a predicate: its generic
    tests stay whole, and the holdings tests check the tokens it recomputed (holdings_changed_tokens).

    `--vars '{test_whole_tables: true}'` tests every table whole on an incremental run too.
-#}

{% macro tests_windows_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='incremental_windows')) -}}
{%- endmacro %}


{#- on-run-start (dbt_project.yml): the log exists before any node runs, so nothing needs dbt's relation
    cache to learn of it mid-run; rows of earlier invocations are dropped. -#}
{% macro tests_create_windows_log() -%}
    {%- set log = tests_windows_relation() -%}
    create schema if not exists {{ log.schema }};
    create table if not exists {{ log }} (
        invocation_id varchar,
        relation_name varchar,
        rewritten_rows varchar,
        window_start date
    );
    delete from {{ log }} where invocation_id <> '{{ invocation_id }}'
{%- endmacro %}


{% macro tests_record_window(relation, rewritten_rows, window_start) -%}
    {%- set log = tests_windows_relation() -%}
    {%- call statement('tests_record_window') -%}
        delete from {{ log }} where relation_name = '{{ tests_relation_key(relation) }}';
        insert into {{ log }} values (
            '{{ invocation_id }}', '{{ tests_relation_key(relation) }}',
            {{ "'" ~ rewritten_rows | replace("'", "''") ~ "'" if rewritten_rows else 'null' }},
            cast('{{ window_start }}' as date)
        )
    {%- endcall -%}
{%- endmacro %}


{% macro tests_relation_key(relation) -%}
    {{- return((relation.schema ~ '.' ~ relation.identifier) | lower) -}}
{%- endmacro %}


{#- (predicate on the rewritten rows or none, window start 'YYYY-MM-DD') if `relation` was built
    incrementally in this invocation, else none. -#}
{% macro tests_window_of(relation) -%}
    {%- if not execute or var('test_whole_tables', false) or relation.identifier is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set log = tests_windows_relation() -%}
    {%- set rows = run_query(
        "select rewritten_rows, cast(window_start as varchar) from " ~ log
        ~ " where invocation_id = '" ~ invocation_id ~ "' and relation_name = '" ~ tests_relation_key(relation) ~ "'"
    ).rows -%}
    {{- return((rows[0][0], rows[0][1]) if rows | length > 0 else none) -}}
{%- endmacro %}


{#- The first day a singular test must look at for `relation`: its window start, or none (all days). -#}
{% macro tests_first_day(relation) -%}
    {%- set window = tests_window_of(relation) -%}
    {{- return(window[1] if window is not none else none) -}}
{%- endmacro %}


{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window = tests_window_of(relation) if relation is not string else none -%}
    {%- if window is not none and window[0] is not none -%}
        {%- do filters.append('(' ~ window[0] ~ ')') -%}
    {%- endif -%}
    {%- if filters | length > 0 -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{- return(filtered) -}}
    {%- endif -%}
    {{- return(relation) -}}
{%- endmacro %}

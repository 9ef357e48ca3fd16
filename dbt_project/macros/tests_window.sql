{#-
    Nightly data tests cost the window, not the history.

    An incremental day-grained model (macros/incremental_window.sql) rewrites only the days from its window
    start on; the rows before it are the ones earlier runs wrote and tested. So when a model was built
    incrementally in this very invocation, its generic tests (unique, column_checks,
    relationships from it) look at the rewritten rows only: its pre-hook records (relation, a predicate selecting the rows it
    rewrote, window start) under the invocation id, and dbt's `get_where_subquery`, overridden here as dbt
    documents, narrows the tested relation to them. Everything else, and everything in a full refresh or a first build (no window is
    recorded then), is tested whole. A key that is unique within the rewritten days is unique in the table:
    every key of these models contains the day or a block that fixes it, and the older days did not change.
    token_holding_periods, incremental by token, records as rewritten the rows of the tokens it recomputed
    (saved in dbt_meta.holdings_changed_tokens by its pre-hook) and every open position (re-aged); the
    holdings tests check those tokens (macros/holdings_incremental.sql). Its tests that read no as_of
    column (the key, the links to movements) say `meta: {tests_rows: written}` and skip the open positions
    of the other tokens: re-aging changed none of what they check.

    Sources and views over them (staging, and the intermediate views) have no window of their own: a view
    recomputes its rows on every read. Those that name a time column in their meta
    (`tests_window_column`) are narrowed to the night's raw window instead: rows at or after the earliest
    of as_of - lookback_days, the newest day of wallet_activity_daily (the mart every night builds from
    raw) and the day of a rewrite not rebuilt yet, the same first day the incremental models rebuild from
    (incremental_window_start). The rows before it were in the raw tables, and tested, when earlier nights
    ran: every writer that replaces stored blocks (a reorg's repair, a re-extraction, an import) logs the
    earliest of them in raw.rewrites (macros/rewrites.sql). Keys of these relations contain the block
    (or a transaction hash, unique on a chain), so a key unique within the window is unique in the table.

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
    delete from {{ log }} where invocation_id <> '{{ invocation_id }}';
    {%- set inputs = ml_snapshot_inputs_relation() %}
    create table if not exists {{ inputs }} (
        cutoff_date date,
        source varchar,
        day date,
        row_count bigint,
        hash_sum hugeint
    );
    create table if not exists {{ rolling_states_relation() }} (
        relation_name varchar,
        as_of date,
        settled_before date
    )
    {%- if execute -%}
        {%- do run_query(rewrites_create_rebuilt()) -%}
    {%- endif -%}
    {%- set raw_start = tests_raw_window_start() if execute else none %}
    {%- if raw_start is not none %};
    insert into {{ log }} values (
        '{{ invocation_id }}', '{{ tests_raw_window_key() }}', null, cast('{{ raw_start }}' as date)
    )
    {%- endif %}
{%- endmacro %}


{% macro tests_raw_window_key() -%}
    {{- return('(raw window)') -}}
{%- endmacro %}


{#- The night's raw window's first day, 'YYYY-MM-DD', or none: a full refresh, a first build, or
    test_whole_tables. Computed at on-run-start, before wallet_activity_daily is rebuilt. -#}
{% macro tests_raw_window_start() -%}
    {%- if flags.FULL_REFRESH or var('test_whole_tables', false) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.wallet_activity_daily') -%}
    {%- set built = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)
        if node is not none else none -%}
    {%- if built is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(incremental_window_start('day', built)) -}}
{%- endmacro %}


{#- The time column a source or view declares for the raw window (meta `tests_window_column`), or none.
    Looked up by unique id, not by scanning the graph: it runs for every test. -#}
{% macro tests_raw_window_column(relation) -%}
    {%- set schema = (relation.schema or '') | lower -%}
    {%- set identifier = (relation.identifier or '') | lower -%}
    {%- for source in graph.sources.values() -%}
        {%- if (source.schema | lower) == schema and ((source.identifier or source.name) | lower) == identifier -%}
            {{- return(source.config.meta.get('tests_window_column')) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ identifier) -%}
    {%- if node is not none and node.config.materialized == 'view' and (node.schema | lower) == schema -%}
        {{- return(node.config.meta.get('tests_window_column')) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}


{#- `rows='written'`: a second, narrower predicate for tests whose config says `meta: {tests_rows: written}`:
    the rows the run wrote, leaving out those it only re-aged (token_holding_periods' open positions). -#}
{% macro tests_record_window(relation, rewritten_rows, window_start, rows='rewritten') -%}
    {%- set log = tests_windows_relation() -%}
    {%- set key = tests_relation_key(relation, rows) -%}
    {%- call statement('tests_record_window') -%}
        delete from {{ log }} where relation_name = '{{ key }}';
        insert into {{ log }} values (
            '{{ invocation_id }}', '{{ key }}',
            {{ "'" ~ rewritten_rows | replace("'", "''") ~ "'" if rewritten_rows else 'null' }},
            cast('{{ window_start }}' as date)
        )
    {%- endcall -%}
{%- endmacro %}


{#- Whether the log exists: `dbt compile` and `dbt docs generate` render tests without running on-run-start.
    The commands that run it are answered without a query: this runs for every test. -#}
{% macro tests_windows_logged() -%}
    {%- if flags.WHICH in ['build', 'test', 'run', 'seed', 'snapshot'] -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set log = tests_windows_relation() -%}
    {{- return(adapter.get_relation(database=log.database, schema=log.schema, identifier=log.identifier) is not none) -}}
{%- endmacro %}


{% macro tests_relation_key(relation, rows='rewritten') -%}
    {%- set key = (relation.schema ~ '.' ~ relation.identifier) | lower -%}
    {{- return(key if rows == 'rewritten' else key ~ ' (' ~ rows ~ ')') -}}
{%- endmacro %}


{#- What the log holds for this invocation under `keys`: {relation_name: (rewritten_rows, window_start)};
    empty with test_whole_tables or where no log exists. -#}
{% macro tests_logged(keys) -%}
    {%- set logged = {} -%}
    {%- if execute and not var('test_whole_tables', false) and tests_windows_logged() -%}
        {%- for row in run_query(
            "select relation_name, rewritten_rows, cast(window_start as varchar) from " ~ tests_windows_relation()
            ~ " where invocation_id = '" ~ invocation_id ~ "' and relation_name in ('" ~ keys | join("', '") ~ "')"
        ).rows -%}
            {%- do logged.update({row[0]: (row[1], row[2])}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(logged) -}}
{%- endmacro %}


{#- (predicate on the rewritten rows or none, window start 'YYYY-MM-DD') if `relation` was built
    incrementally in this invocation, else none. -#}
{% macro tests_window_of(relation) -%}
    {%- if relation.identifier is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(tests_logged([tests_relation_key(relation)]).get(tests_relation_key(relation))) -}}
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
    {%- set rows = (config.get('meta') or {}).get('tests_rows', 'rewritten') -%}
    {%- set narrowed = tests_narrowing_predicate(relation, rows) if relation is not string else none -%}
    {%- if narrowed -%}
        {%- do filters.append('(' ~ narrowed ~ ')') -%}
    {%- endif -%}
    {%- if filters | length > 0 -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{- return(filtered) -}}
    {%- endif -%}
    {{- return(relation) -}}
{%- endmacro %}


{#- The predicate a generic test of `relation` reads: the rows it rewrote if it was built incrementally in
    this invocation (none when it recorded no predicate: tested whole), else the raw window when it is a
    source or a view naming its time column, else none. One query to the log per test. -#}
{% macro tests_narrowing_predicate(relation, rows='rewritten') -%}
    {%- if relation.identifier is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set key = tests_relation_key(relation) -%}
    {%- set narrower = tests_relation_key(relation, rows) -%}
    {%- set logged = tests_logged([key, narrower, tests_raw_window_key()]) -%}
    {%- if narrower in logged -%}
        {{- return(logged[narrower][0]) -}}
    {%- endif -%}
    {%- if key in logged -%}
        {{- return(logged[key][0]) -}}
    {%- endif -%}
    {%- if tests_raw_window_key() not in logged -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set column = tests_raw_window_column(relation) -%}
    {%- if not column -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(adapter.quote(column) ~ " >= cast('" ~ logged[tests_raw_window_key()][1] ~ " 00:00:00' as "
        ~ dbt.type_timestamp() ~ ")") -}}
{%- endmacro %}

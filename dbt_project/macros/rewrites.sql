{#-
    Blocks stored earlier and then replaced or removed: a reorg's repair, a re-extracted range, an import
    (raw.rewrites, written by extract/warehouse.py and extract/importers/common.py in the transaction that
    replaces them). Also logged so: a chain's new blocks on days older than another chain's newest day
    (reason 'late blocks': a chain added to a built warehouse, or one whose node was down for nights), and
    the first block naming an imported address found to hold code (reason 'addresses':
    extract/unchecked_addresses.py), days the models built before without them. Until a build has rebuilt every model after such a rewrite, each incremental run
    rebuilds from the rewrite's day however old it is (incremental_window_start), so the marts never keep
    rows of blocks that changed beneath them: lookback_days is only a margin for writers that do not log.

    dbt_meta.rewrites_rebuilt holds the highest rewrite_id a build has rebuilt. on-run-end moves it only
    when every model of the project ran successfully in the invocation: a `--select` build or a failed one
    leaves the rewrites pending, and the next builds rebuild from their day again. A DuckDB writer locks the
    file, so no rewrite can be logged while a build runs.
-#}

{% macro rewrites_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='raw', identifier='rewrites')) -}}
{%- endmacro %}


{% macro rewrites_rebuilt_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='rewrites_rebuilt')) -}}
{%- endmacro %}


{#- Run by on-run-start (tests_create_windows_log) before it computes the night's raw window, which reads
    the table. -#}
{% macro rewrites_create_rebuilt() -%}
    create schema if not exists {{ rewrites_rebuilt_relation().schema }};
    create table if not exists {{ rewrites_rebuilt_relation() }} (
        rewrite_id bigint,
        invocation_id varchar,
        rebuilt_at timestamp
    )
{%- endmacro %}


{#- The day of the earliest rewrite no build has rebuilt yet, 'YYYY-MM-DD', or none. -#}
{% macro rewrites_pending_start() -%}
    {%- if not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {#- `dbt compile` and `docs generate` run no on-run-start: a warehouse built before this log existed
        has no table of it; the commands that run on-run-start are answered without a query -#}
    {%- set rebuilt = rewrites_rebuilt_relation() -%}
    {%- if flags.WHICH not in ['build', 'test', 'run', 'seed', 'snapshot']
        and adapter.get_relation(database=rebuilt.database, schema=rebuilt.schema, identifier=rebuilt.identifier) is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set first = run_query(
        'select cast(min(first_timestamp) as date) from ' ~ rewrites_relation()
        ~ ' where rewrite_id > (select coalesce(max(rewrite_id), 0) from ' ~ rewrites_rebuilt_relation() ~ ')'
    ).columns[0].values()[0] -%}
    {{- return(none if first is none else (first | string)[:10]) -}}
{%- endmacro %}


{#- on-run-end: the rewrites logged so far are rebuilt if every model ran successfully. -#}
{% macro rewrites_mark_rebuilt(results) -%}
    {%- if execute -%}
        {%- set succeeded = [] -%}
        {%- set failed = [] -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'model' and result.status == 'success' -%}
                {%- do succeeded.append(result.node.unique_id) -%}
            {%- elif result.status in ['error', 'fail', 'runtime error'] -%}
                {%- do failed.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set missing = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.unique_id not in succeeded -%}
                {%- do missing.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not missing and not failed %}
    insert into {{ rewrites_rebuilt_relation() }}
    select coalesce(max(rewrite_id), 0), '{{ invocation_id }}', cast(now() as timestamp)
    from {{ rewrites_relation() }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The run date, 'YYYY-MM-DD': marts hold what happened up to the end of this UTC day.

    From the `as_of` variable when it is set (`--vars '{as_of: 2025-03-31}'`); else from the environment
    variable CHAINSEG_AS_OF (how `chainseg build` passes it); otherwise the date of the newest block in the
    `raw.blocks` source, so a bare `dbt build` gives the same rows as `chainseg build` on the same
    warehouse. Never current_date: a rerun for the same date must give the same rows.

    Why an environment variable: dbt parses the whole project again (5 s here) whenever a `--vars` value
    differs from the last run's, and a nightly run's date always does. CHAINSEG_AS_OF is read only while
    dbt executes (`execute`), never while it parses, so partial parsing does not depend on it: during
    parsing the date is a placeholder, 1970-01-01 (parsing renders the SQL only to find refs and configs).

    Use it in SQL as `cast('{{ as_of_date() }}' as date)`. Unit tests override this macro
    (`overrides: macros: as_of_date: '2025-03-10'`).
-#}
{% macro as_of_date() -%}
    {%- set value = var('as_of', none) -%}
    {%- if (value is none or (value | string | trim) == '') and execute -%}
        {%- set value = env_var('CHAINSEG_AS_OF', '') -%}
    {%- endif -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- if not execute -%}
            {{- return('1970-01-01') -}}
        {%- endif -%}
        {%- set blocks = chainseg_source_relation('raw', 'blocks') -%}
        {%- set newest = run_query(
            'select cast(max(' ~ adapter.quote('timestamp') ~ ') as date) from ' ~ blocks
        ).columns[0].values()[0] -%}
        {%- if newest is none -%}
            {{- exceptions.raise_compiler_error(
                'as_of is not set and raw.blocks is empty: extract a chain first, or pass --vars "{as_of: YYYY-MM-DD}"'
            ) -}}
        {%- endif -%}
        {%- set value = newest -%}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{- exceptions.raise_compiler_error("var as_of must be a date 'YYYY-MM-DD', got '" ~ text ~ "'") -}}
    {%- endif -%}
    {{- return(modules.datetime.date.fromisoformat(text).isoformat()) -}}
{%- endmacro %}


{#-
    The relation of a declared source table, without registering a dependency on it (source() would make
    every caller depend on it, and every unit test of a caller give rows for it).
-#}
{% macro chainseg_source_relation(source_name, table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{- return(api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.identifier
            )) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- exceptions.raise_compiler_error('no source ' ~ source_name ~ '.' ~ table_name) -}}
{%- endmacro %}

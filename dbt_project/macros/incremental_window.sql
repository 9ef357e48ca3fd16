{#-
    The window of days an incremental run of a day-grained mart rebuilds, and the pre-hook that clears it.

    An incremental run recomputes every day from `window_start` to as_of and replaces those days whole:
    the pre-hook deletes the target's rows from window_start on (including any day after as_of, left by a
    run for a later date), then the model inserts the recomputed rows. Replacing whole days, not only the
    keys that come back, is what removes a (wallet, day) whose activity vanished in a reorg or a
    re-extraction. Both run in the same transaction as the insert.

    window_start = the earliest of
      - as_of minus `lookback_days` (var, default 3): a margin for rows written into raw by other means;
      - the newest day already stored: that day may have been only partly extracted at the last run, and
        days between the last run and this one (a skipped night) are filled;
      - the day of the earliest block a reorg, a re-extraction or an import replaced that no build has
        rebuilt yet (macros/rewrites.sql), however old.
    An empty target gives None: rebuild everything. `relation` defaults to the model being built (this);
    the tests' raw window passes wallet_activity_daily (macros/tests_window.sql).

    Days only depend on their own blocks, so rebuilding a window gives exactly the rows a full refresh
    gives for those days (tests/test_dbt_build.py builds both and compares).
-#}
{% macro incremental_window_start(date_column, relation=none) -%}
    {%- set lookback = var('lookback_days', 3) | int -%}
    {%- set start = modules.datetime.date.fromisoformat(as_of_date())
        - modules.datetime.timedelta(days=lookback) -%}
    {%- if execute -%}
        {%- set newest = run_query(
            'select max(' ~ date_column ~ ') from ' ~ (relation if relation is not none else this)
        ).columns[0].values()[0] -%}
        {%- if newest is none -%}
            {{- return(none) -}}
        {%- endif -%}
        {%- set newest = modules.datetime.date.fromisoformat((newest | string)[:10]) -%}
        {%- if newest < start -%}
            {%- set start = newest -%}
        {%- endif -%}
        {%- set rewritten = rewrites_pending_start() -%}
        {%- if rewritten is not none and modules.datetime.date.fromisoformat(rewritten) < start -%}
            {%- set start = modules.datetime.date.fromisoformat(rewritten) -%}
        {%- endif -%}
    {%- endif -%}
    {{- return(start.isoformat()) -}}
{%- endmacro %}


{#- Whether the model's stored rows reach past as_of on `date_column` (a run for an earlier date than the
    last one). -#}
{% macro incremental_target_is_ahead(date_column) -%}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set newest = run_query('select max(' ~ date_column ~ ') from ' ~ this).columns[0].values()[0] -%}
    {{- return(newest is not none and (newest | string)[:10] > as_of_date()) -}}
{%- endmacro %}


{#- Pre-hook of int_wrapped_native_tokens: on a run for a day before the newest deposit stored, drop the
    contracts seen after it (the model then reads every day up to as_of again and merges what is left). -#}
{% macro wrapped_tokens_forget_later_days() -%}
    {%- if is_incremental() and incremental_target_is_ahead('last_deposit_date') -%}
        delete from {{ this }} where last_deposit_date > cast('{{ as_of_date() }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- `also_rewritten`: a predicate on rows the model rewrites on every run besides the window's days. -#}
{% macro delete_incremental_window(date_column, also_rewritten=none) -%}
    {%- if is_incremental() -%}
        {%- set start = incremental_window_start(date_column) -%}
        {%- if start is not none -%}
            {%- set rewritten = date_column ~ " >= cast('" ~ start ~ "' as date)" -%}
            {%- if also_rewritten -%}
                {%- set rewritten = rewritten ~ ' or ' ~ also_rewritten -%}
            {%- endif -%}
            {%- if execute -%}
                {%- do tests_record_window(this, rewritten, start) -%}
            {%- endif -%}
        {%- endif -%}
        delete from {{ this }}
        {%- if start is not none %} where {{ rewritten }}{% endif %}
    {%- endif -%}
{%- endmacro %}


{#-
    A predicate keeping rows whose timestamp falls on the UTC days first_day..last_day (inclusive; 'YYYY-MM-DD',
    first_day None = no lower bound). Written on the raw timestamp column, not on a derived date, so the
    warehouse can skip storage blocks by their min/max timestamp (DuckDB zonemaps, Spark/Trino file stats).
-#}
{% macro timestamp_in_days(timestamp_column, first_day, last_day) -%}
    {%- set end = modules.datetime.date.fromisoformat(last_day) + modules.datetime.timedelta(days=1) -%}
    {{ timestamp_column }} < cast('{{ end.isoformat() }} 00:00:00' as {{ dbt.type_timestamp() }})
    {%- if first_day is not none %}
    and {{ timestamp_column }} >= cast('{{ first_day }} 00:00:00' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#-
    `exists` on a table of keys (`keys`: a relation, or the name of a CTE): the row of `alias` whose
    columns equal a key row's, `columns` mapping the key table's column to the row's. How incremental
    models and their tests pick the keys a run saved (changed tokens, changed wallet-token pairs).
-#}
{% macro key_in(keys, alias, columns) -%}
    exists (
        select 1
        from {{ keys }} as saved_keys
        where
            {% for key_column, row_column in columns.items() -%}
            saved_keys.{{ key_column }} = {{ alias }}.{{ row_column }}{{ ' and' if not loop.last }}
            {% endfor %}
    )
{%- endmacro %}

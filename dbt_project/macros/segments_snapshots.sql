{#-
    The cutoffs of ml_training_snapshots and how a run keeps them current, one query per cutoff.

    Cutoffs lie on a fixed calendar: every ml_snapshot_every_days (var, default 7) days counted from Monday
    1970-01-05, so weekly cutoffs are Mondays (each snapshot holds whole weeks) and a cutoff's date never
    depends on the day a run happens. A run as of `as_of` wants the ml_snapshot_count (var, default 12)
    newest calendar cutoffs up to as_of + 1 day (the cutoff after as_of's own day: events up to the end of
    as_of count).

    Because the calendar is fixed, a cutoff's rows, once computed, stay right: a nightly run computes only
    the cutoffs not stored yet, plus those that include a day the day-grained tables rebuild (late or
    re-extracted data), and drops cutoffs that fell out of the wanted ones. Most
    nights that is nothing; a new cutoff every ml_snapshot_every_days nights. A full refresh computes every
    wanted cutoff; both paths give the same rows (tests/test_dbt_build.py).
-#}

{#- The wanted cutoffs as 'YYYY-MM-DD' strings, newest first. -#}
{% macro ml_snapshot_cutoffs() -%}
    {%- set every = var('ml_snapshot_every_days', 7) | int -%}
    {%- set count = var('ml_snapshot_count', 12) | int -%}
    {%- if every < 1 or count < 1 -%}
        {{- exceptions.raise_compiler_error('vars ml_snapshot_every_days and ml_snapshot_count must be at least 1') -}}
    {%- endif -%}
    {%- set datetime = modules.datetime -%}
    {%- set latest_allowed = datetime.date.fromisoformat(as_of_date()) + datetime.timedelta(days=1) -%}
    {%- set offset = (latest_allowed - datetime.date(1970, 1, 5)).days % every -%}
    {%- set newest = latest_allowed - datetime.timedelta(days=offset) -%}
    {%- set cutoffs = [] -%}
    {%- for k in range(count) -%}
        {%- do cutoffs.append((newest - datetime.timedelta(days=k * every)).isoformat()) -%}
    {%- endfor -%}
    {{- return(cutoffs) -}}
{%- endmacro %}


{#- The cutoffs this model holds now (an empty list before its first build). -#}
{% macro ml_snapshot_cutoffs_stored() -%}
    {%- if not execute or not is_incremental() -%}
        {{- return([]) -}}
    {%- endif -%}
    {{- return(ml_snapshot_cutoffs_in_table()) -}}
{%- endmacro %}


{#- The distinct cutoff dates in the table now, as 'YYYY-MM-DD' strings. -#}
{% macro ml_snapshot_cutoffs_in_table() -%}
    {%- set cutoffs = [] -%}
    {%- for value in run_query('select distinct cutoff_date from ' ~ this).columns[0].values() -%}
        {%- do cutoffs.append((value | string)[:10]) -%}
    {%- endfor -%}
    {{- return(cutoffs) -}}
{%- endmacro %}


{#-
    Of the stored cutoffs, those to drop: no longer wanted, or later than the first day that may have
    changed since they were computed, the earlier of as_of - lookback_days and the last day the newest
    stored cutoff included (the same window the day-grained tables rebuild, macros/incremental_window.sql).
-#}
{% macro ml_snapshot_cutoffs_stale(stored) -%}
    {%- if not stored -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set datetime = modules.datetime -%}
    {%- set first_changed = datetime.date.fromisoformat(as_of_date())
        - datetime.timedelta(days=var('lookback_days', 3) | int) -%}
    {%- set newest_included = datetime.date.fromisoformat(stored | max) - datetime.timedelta(days=1) -%}
    {%- set first_changed = [first_changed, newest_included] | min -%}
    {%- set wanted = ml_snapshot_cutoffs() -%}
    {%- set stale = [] -%}
    {%- for cutoff in stored -%}
        {%- if cutoff > first_changed.isoformat() or cutoff not in wanted -%}
            {%- do stale.append(cutoff) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(stale) -}}
{%- endmacro %}


{#- The wanted cutoffs the table lacks once the stale ones are gone, newest first. -#}
{% macro ml_snapshot_cutoffs_to_build(stored=none) -%}
    {%- set stored = ml_snapshot_cutoffs_stored() if stored is none else stored -%}
    {%- set stale = ml_snapshot_cutoffs_stale(stored) -%}
    {%- set missing = [] -%}
    {%- for cutoff in ml_snapshot_cutoffs() -%}
        {%- if cutoff not in stored or cutoff in stale -%}
            {%- do missing.append(cutoff) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(missing) -}}
{%- endmacro %}


{#- Pre-hook: delete the stale cutoffs (in the transaction of the model's insert), and tell the tests which
    cutoffs this run writes (macros/tests_window.sql): the others were tested when they were written. -#}
{% macro ml_snapshots_delete_stale() -%}
    {%- set stored = ml_snapshot_cutoffs_stored() -%}
    {%- if execute and is_incremental() -%}
        {%- set to_build = ml_snapshot_cutoffs_to_build(stored) -%}
        {%- set rewritten -%}
            {%- if to_build -%}
                cutoff_date in ({% for cutoff in to_build %}cast('{{ cutoff }}' as date){{ ', ' if not loop.last }}{% endfor %})
            {%- else -%}
                1 = 0
            {%- endif -%}
        {%- endset -%}
        {%- do tests_record_window(this, rewritten, (to_build | min) if to_build else as_of_date()) -%}
    {%- endif -%}
    {%- set stale = ml_snapshot_cutoffs_stale(stored) -%}
    {%- if stale -%}
        delete from {{ this }} where cutoff_date in (
            {%- for cutoff in stale %}cast('{{ cutoff }}' as date){{ ', ' if not loop.last }}{% endfor -%}
        )
    {%- endif -%}
{%- endmacro %}


{#-
    Post-hook: insert every wanted cutoff still missing (the model's own select inserted the newest one to
    build), one statement per cutoff, each logged. Runs in the model's transaction: a failure leaves the
    table as it was.
-#}
{% macro ml_snapshots_insert_missing() -%}
    {%- if execute -%}
        {%- set stored = ml_snapshot_cutoffs_in_table() -%}
        {%- set missing = [] -%}
        {%- for cutoff in ml_snapshot_cutoffs() -%}
            {%- if cutoff not in stored %}{% do missing.append(cutoff) %}{% endif -%}
        {%- endfor -%}
        {%- for cutoff in missing -%}
            {%- do run_query('insert into ' ~ this ~ ' ' ~ ml_snapshot_select(cutoff)) -%}
            {{- log('ml_training_snapshots: cutoff ' ~ cutoff ~ ' inserted (' ~ loop.index ~ ' of ' ~ (missing | length) ~ ' more)', info=true) -}}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#- The rows of one cutoff, in the column order of ml_training_snapshots. -#}
{% macro ml_snapshot_select(cutoff) -%}
    with

    features as (

        {{ segments_wallet_features(cutoff) }}

    )

    select
        chain_id,
        wallet,
        cast('{{ cutoff }}' as date) as cutoff_date,
        {%- for column in segments_feature_columns() %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from features
{%- endmacro %}

{#-
    The cutoffs of ml_training_snapshots and how a run keeps them current, one query per cutoff.

    Cutoffs lie on a fixed calendar: every ml_snapshot_every_days (var, default 7) days counted from Monday
    1970-01-05, so weekly cutoffs are Mondays (each snapshot holds whole weeks) and a cutoff's date never
    depends on the day a run happens. A run as of `as_of` wants the ml_snapshot_count (var, default 12)
    newest calendar cutoffs up to as_of + 1 day (the cutoff after as_of's own day: events up to the end of
    as_of count).

    Because the calendar is fixed, a cutoff's rows, once computed, stay right: a nightly run computes only
    the cutoffs not stored yet, plus those that include a day the day-grained tables rebuilt with different
    rows (late or re-extracted data), and drops cutoffs that fell out of the wanted ones. Whether a rebuilt
    day's rows differ is told by fingerprints (row count and sum of row hashes per input table and day,
    dbt_meta.ml_snapshot_inputs) recorded when the cutoff was computed: a night that rebuilds its lookback
    days with the same rows keeps the cutoff. Most nights that is nothing to compute; a new cutoff every
    ml_snapshot_every_days nights. A full refresh computes every wanted cutoff; both paths give the same
    rows (tests/test_dbt_build.py).
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
    changed since they were computed, the earliest of as_of - lookback_days, the last day the newest
    stored cutoff included and the day of a rewrite not rebuilt yet (the same window the day-grained
    tables rebuild, macros/incremental_window.sql).
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
    {%- set rewritten = rewrites_pending_start() -%}
    {%- if rewritten is not none -%}
        {%- set first_changed = [first_changed, datetime.date.fromisoformat(rewritten)] | min -%}
    {%- endif -%}
    {%- set wanted = ml_snapshot_cutoffs() -%}
    {%- set stale = [] -%}
    {%- for cutoff in stored -%}
        {%- if cutoff not in wanted -%}
            {%- do stale.append(cutoff) -%}
        {%- elif cutoff > first_changed.isoformat()
            and not ml_snapshot_inputs_unchanged(cutoff, first_changed.isoformat()) -%}
            {%- do stale.append(cutoff) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(stale) -}}
{%- endmacro %}


{#- Where ml_training_snapshots keeps the fingerprints of each stored cutoff's last input days (created by
    on-run-start, tests_create_windows_log). -#}
{% macro ml_snapshot_inputs_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='ml_snapshot_inputs')) -}}
{%- endmacro %}


{#- How many days before a cutoff its fingerprints cover: the days a later night may rebuild while the
    cutoff is wanted (a night as of cutoff - 1 day or later rebuilds from as_of - lookback_days on). -#}
{% macro ml_snapshot_inputs_days() -%}
    {{- return((var('lookback_days', 3) | int) + 1) -}}
{%- endmacro %}


{#-
    Per input table of the wallet feature model (segments_feature_inputs) and day from first_day to the day
    before `cutoff`: (source, day, row_count, hash_sum), hash_sum the sum of the hashes of the day's rows.
    DuckDB-only: hash() of a whole row.
-#}
{% macro ml_snapshot_input_fingerprints(first_day, cutoff) -%}
    {%- for input, day_column in segments_feature_inputs() %}
    select
        '{{ input }}' as source,
        {{ day_column }} as day,
        count(*) as row_count,
        sum(hash(input_rows)) as hash_sum
    from {{ ref(input) }} as input_rows
    where
        {{ day_column }} >= cast('{{ first_day }}' as date)
        and {{ day_column }} < cast('{{ cutoff }}' as date)
    group by {{ day_column }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- Whether the stored fingerprints of `cutoff` cover first_day onwards and equal the input rows now. -#}
{% macro ml_snapshot_inputs_unchanged(cutoff, first_day) -%}
    {%- set inputs = ml_snapshot_inputs_relation() -%}
    {#- `dbt compile` and `docs generate` run no on-run-start: a warehouse built before the fingerprints
        existed has no table of them -#}
    {%- if flags.WHICH not in ['build', 'run']
        and adapter.get_relation(database=inputs.database, schema=inputs.schema, identifier=inputs.identifier) is none -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set comparison -%}
        with

        now_rows as (
            {{ ml_snapshot_input_fingerprints(first_day, cutoff) }}
        ),

        recorded_rows as (
            select source, day, row_count, hash_sum
            from {{ inputs }}
            where
                cutoff_date = cast('{{ cutoff }}' as date)
                and source <> '{{ ml_snapshot_inputs_range_key() }}'
                and day >= cast('{{ first_day }}' as date)
        ),

        differences as (
            (select * from now_rows except all select * from recorded_rows)
            union all
            (select * from recorded_rows except all select * from now_rows)
        )

        select
            (select count(*) from differences) as differences,
            (
                select count(*) from {{ inputs }}
                where
                    cutoff_date = cast('{{ cutoff }}' as date)
                    and source = '{{ ml_snapshot_inputs_range_key() }}'
                    and day <= cast('{{ first_day }}' as date)
            ) as covered
    {%- endset -%}
    {%- set row = run_query(comparison).rows[0] -%}
    {{- return(row[0] == 0 and row[1] > 0) -}}
{%- endmacro %}


{#- The `source` of the row recording from which day a cutoff's fingerprints were taken. -#}
{% macro ml_snapshot_inputs_range_key() -%}
    {{- return('(recorded from)') -}}
{%- endmacro %}


{#- The wanted cutoffs the table lacks once the stale ones are gone, newest first. -#}
{% macro ml_snapshot_cutoffs_to_build(stored=none, stale=none) -%}
    {%- set stored = ml_snapshot_cutoffs_stored() if stored is none else stored -%}
    {%- set stale = ml_snapshot_cutoffs_stale(stored) if stale is none else stale -%}
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
    {#- once: telling a stale cutoff may compare fingerprints of its input days -#}
    {%- set stale = ml_snapshot_cutoffs_stale(stored) -%}
    {%- if execute and is_incremental() -%}
        {%- set to_build = ml_snapshot_cutoffs_to_build(stored, stale) -%}
        {%- set rewritten -%}
            {%- if to_build -%}
                cutoff_date in ({% for cutoff in to_build %}cast('{{ cutoff }}' as date){{ ', ' if not loop.last }}{% endfor %})
            {%- else -%}
                1 = 0
            {%- endif -%}
        {%- endset -%}
        {%- do tests_record_window(this, rewritten, (to_build | min) if to_build else as_of_date()) -%}
    {%- endif -%}
    {%- set inputs = ml_snapshot_inputs_relation() -%}
    {%- if not is_incremental() %}
        delete from {{ inputs }}
    {%- elif stale -%}
        {%- set stale_list -%}
            {%- for cutoff in stale %}cast('{{ cutoff }}' as date){{ ', ' if not loop.last }}{% endfor -%}
        {%- endset %}
        delete from {{ this }} where cutoff_date in ({{ stale_list }});
        delete from {{ inputs }} where cutoff_date in ({{ stale_list }})
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
        {%- set spans = ml_snapshot_holding_spans(missing) -%}
        {%- for cutoff in missing -%}
            {%- do run_query('insert into ' ~ this ~ ' ' ~ ml_snapshot_select(cutoff, holding_spans=spans)) -%}
            {{- log('ml_training_snapshots: cutoff ' ~ cutoff ~ ' inserted (' ~ loop.index ~ ' of ' ~ (missing | length) ~ ' more)', info=true) -}}
        {%- endfor -%}
        {%- if spans is not none %}{% do run_query('drop table ' ~ spans) %}{% endif -%}
        {%- do ml_snapshot_record_inputs() -%}
    {%- endif -%}
{%- endmacro %}


{#- Fingerprints for every stored cutoff that has none (those computed by this run: the pre-hook dropped
    the stale cutoffs' fingerprints with their rows), taken from the inputs as this run read them. -#}
{% macro ml_snapshot_record_inputs() -%}
    {%- set inputs = ml_snapshot_inputs_relation() -%}
    {%- set recorded = [] -%}
    {%- for value in run_query('select distinct cutoff_date from ' ~ inputs).columns[0].values() -%}
        {%- do recorded.append((value | string)[:10]) -%}
    {%- endfor -%}
    {%- for cutoff in ml_snapshot_cutoffs_in_table() if cutoff not in recorded -%}
        {%- set first_day = (modules.datetime.date.fromisoformat(cutoff)
            - modules.datetime.timedelta(days=ml_snapshot_inputs_days())).isoformat() -%}
        {%- call statement('ml_snapshot_record_inputs') -%}
            insert into {{ inputs }}
            select cast('{{ cutoff }}' as date), '{{ ml_snapshot_inputs_range_key() }}', cast('{{ first_day }}' as date), 0, 0
            union all
            select cast('{{ cutoff }}' as date), * from ({{ ml_snapshot_input_fingerprints(first_day, cutoff) }})
        {%- endcall -%}
    {%- endfor -%}
{%- endmacro %}


{#-
    When the post-hook has many cutoffs to insert (a full refresh: all but the newest), the positive balance
    spans of every (wallet, token) before the last of them, once, in a temporary table it returns (else
    none): then each cutoff's holdings are the spans that cover it (segments_wallet_features), instead of
    summing every token-day before the cutoff into 12 million (wallet, token) balances again. A span: the
    units a pair holds after a token-day with a change (`from_day`), until the pair's next such day
    (`until_day`, null: none before the last cutoff); held at cutoff c when from_day < c <= until_day.
    Making them costs about what four cutoffs' holdings do (benchmark warehouse: 18 s; 4-5 s saved per
    cutoff), hence from ml_snapshot_spans_min_cutoffs() cutoffs on.
-#}
{% macro ml_snapshot_holding_spans(cutoffs) -%}
    {%- if (cutoffs | length) < ml_snapshot_spans_min_cutoffs() -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- call statement('ml_snapshot_holding_spans') -%}
        create or replace temporary table ml_snapshot_holding_spans as
        {{ ml_snapshot_holding_spans_select(cutoffs | max) }}
    {%- endcall -%}
    {{- return('ml_snapshot_holding_spans') -}}
{%- endmacro %}


{% macro ml_snapshot_spans_min_cutoffs() -%}
    {{- return(5) -}}
{%- endmacro %}


{#- The spans of ml_snapshot_holding_spans: every token-day before `last_cutoff` after which the pair holds
    units, until its next token-day. -#}
{% macro ml_snapshot_holding_spans_select(last_cutoff) -%}
    with

    balances as (

        select
            chain_id,
            wallet,
            collection_address,
            day,
            sum(amount_delta) over pair_days as units_after,
            lead(day) over pair_days as next_day
        from {{ ref('int_wallet_token_days_netted') }}
        where day < cast('{{ last_cutoff }}' as date)
        window pair_days as (
            partition by chain_id, wallet, collection_address, token_id
            order by day
        )

    )

    select
        chain_id,
        wallet,
        collection_address,
        day as from_day,
        next_day as until_day
    from balances
    where units_after > 0
{%- endmacro %}


{#- The rows of one cutoff, in the column order of ml_training_snapshots; `holding_spans`: see
    ml_snapshot_holding_spans. -#}
{% macro ml_snapshot_select(cutoff, holding_spans=none) -%}
    with

    features as (

        {{ segments_wallet_features(cutoff, holding_spans=holding_spans) }}

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

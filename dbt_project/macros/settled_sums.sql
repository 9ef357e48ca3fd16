{#-
    Per-wallet sums kept from night to night, so that the wallet marts whose every row changes daily (their
    windows and recency move) do not re-aggregate every wallet-day of the history each night.

    A "settled" model holds, per wallet, the sums and extremes of its rows in a wallet-day table before a
    boundary day `settled_before`, and for each RFV window (rfv_windows_days) the part of the window before
    it. The boundary is as_of - lookback_days: the days from it on are the ones a night rebuilds
    (macros/incremental_window.sql), so everything before it is final. The mart adds the few days from the
    boundary to as_of (settled_day_sums) to the kept sums (settled_combined) and derives its columns.
    Two of them, each with a spec of its sums (settled_spec):
      - int_wallet_days_settled over int_wallet_days_summarized, for wallet_rfv;
      - int_wallet_event_days_settled over int_wallet_event_days_summed (a view of
        int_wallet_days_summarized), for int_wallet_features_as_of.

    A night moves a state from (as_of, settled_before) of the last run to its own: it adds the days that
    became final, [old settled_before, new settled_before), and takes out of each window's part the days
    that left it, [old as_of - d + 1, new as_of - d + 1) for a d-day window, reading only those days of
    the wallet-day table and rewriting only the wallets they touch. A first build, a full refresh, a run
    for an earlier as_of, or a night whose source (the table under it: the spec's stored_in) rebuilt days
    before the old boundary adds up all days instead; both ways give the same rows
    (tests/test_dbt_build.py). The boundary and as_of of each stored state are kept in
    dbt_meta.rolling_states.
-#}

{#-
    What a settled model sums, for the wallet-day table `source` (a model name):
      earliest: (column, expression) kept from the earliest day (min); latest: from the latest day (max);
      totals: (column, expression) summed over all days; windowed: (column pattern with {} for the days,
      expression) summed over each window; first_day_values: (column, expression, day column): the
      expression's sum on the day an `earliest` day column names; stored_in: the incremental table holding
      the source's rows, whose days rebuilt in this invocation settled_plan looks at (a view records none).
-#}
{% macro settled_spec(source) -%}
    {%- if source == 'int_wallet_days_summarized' -%}
        {%- set totals = [('buy_days', 'case when buys > 0 then 1 else 0 end')] -%}
        {%- for measure in ['buys', 'spend_wei', 'sells', 'proceeds_wei', 'mints', 'priced_mints', 'mint_spend_wei'] -%}
            {%- do totals.append((measure ~ '_total', measure)) -%}
        {%- endfor -%}
        {{- return({
            'earliest': [('first_seen_day', 'day'), ('first_seen_at', 'first_activity_at'),
                ('first_buy_at', 'first_buy_at'), ('first_buy_day', 'case when buys > 0 then day end')],
            'latest': [('last_seen_at', 'last_activity_at'), ('last_buy_at', 'last_buy_at'),
                ('last_buy_day', 'case when buys > 0 then day end')],
            'totals': totals,
            'windowed': [('buys_{}d', 'buys'), ('spend_wei_{}d', 'spend_wei')],
            'first_day_values': [('first_buy_day_spend_wei', 'spend_wei', 'first_buy_day')],
            'stored_in': 'int_wallet_days_summarized',
        }) -}}
    {%- elif source == 'int_wallet_event_days_summed' -%}
        {{- return({
            'earliest': [('first_activity_at', 'first_activity_at')],
            'latest': [('last_activity_at', 'last_activity_at'), ('last_buy_at', 'last_buy_at')],
            'totals': [('active_days_total', '1'), ('transactions_total', 'transactions'),
                ('gas_paid_total_wei', 'gas_paid_wei'), ('buys_total', 'buys'), ('spend_total_wei', 'spend_wei'),
                ('sells_total', 'sells'), ('sell_volume_total_wei', 'sell_volume_wei'), ('mints_total', 'mints')],
            'windowed': [('active_days_{}d', '1'), ('buys_{}d', 'buys'), ('spend_{}d_wei', 'spend_wei'),
                ('sells_{}d', 'sells')],
            'first_day_values': [],
            'stored_in': 'int_wallet_days_summarized',
        }) -}}
    {%- else -%}
        {{- exceptions.raise_compiler_error('settled_spec: no spec for ' ~ source) -}}
    {%- endif -%}
{%- endmacro %}


{#- The summed columns of a spec (totals and every window's), in order. -#}
{% macro settled_summed_columns(spec) -%}
    {%- set columns = [] -%}
    {%- for column, _ in spec.totals %}{% do columns.append(column) %}{% endfor -%}
    {%- for window_days in segments_windows() -%}
        {%- for pattern, _ in spec.windowed %}{% do columns.append(pattern.format(window_days)) %}{% endfor -%}
    {%- endfor -%}
    {{- return(columns) -}}
{%- endmacro %}


{% macro rolling_states_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema='dbt_meta', identifier='rolling_states')) -}}
{%- endmacro %}


{#- The state's key in dbt_meta.rolling_states and the windows log: 'schema.identifier'. -#}
{% macro rolling_state_key(relation) -%}
    {{- return(relation.schema ~ '.' ~ relation.identifier) -}}
{%- endmacro %}


{#- (as_of, settled_before) of the state stored for `relation` as 'YYYY-MM-DD' strings, or none. -#}
{% macro rolling_state_stored(relation) -%}
    {%- if not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set states = rolling_states_relation() -%}
    {#- `dbt compile` and `docs generate` run no on-run-start: a warehouse built before the table existed -#}
    {%- if flags.WHICH not in ['build', 'run']
        and adapter.get_relation(database=states.database, schema=states.schema, identifier=states.identifier) is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set rows = run_query(
        "select cast(as_of as varchar), cast(settled_before as varchar) from " ~ states
        ~ " where relation_name = '" ~ rolling_state_key(relation) ~ "'"
    ).rows -%}
    {{- return((rows[0][0], rows[0][1]) if rows else none) -}}
{%- endmacro %}


{#- The boundary of a state as of `as_of` ('YYYY-MM-DD'): as_of - lookback_days, the first day a night
    rebuilds. -#}
{% macro settled_boundary_for(as_of) -%}
    {{- return((modules.datetime.date.fromisoformat(as_of)
        - modules.datetime.timedelta(days=var('lookback_days', 3) | int)).isoformat()) -}}
{%- endmacro %}


{#-
    How the settled model being built gets to this run's state from its wallet-day table `source` (a model
    name): {'settled_before': the new boundary, and, when it advances the stored state, 'from_as_of' and
    'from_settled_before' (none: it adds up all days)}.
-#}
{% macro settled_plan(source) -%}
    {%- set as_of = as_of_date() -%}
    {%- set settled_before = settled_boundary_for(as_of) -%}
    {%- set plan = {'settled_before': settled_before, 'from_as_of': none, 'from_settled_before': none} -%}
    {%- if not execute or not is_incremental() -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set stored = rolling_state_stored(this) -%}
    {%- if stored is none or as_of < stored[0] or settled_before < stored[1] -%}
        {{- return(plan) -}}
    {%- endif -%}
    {#- days the source rebuilt in this invocation, when it was built: those before the old boundary are
        already in the state, so it cannot simply advance -#}
    {%- set rebuilt = run_query(
        "select cast(min(window_start) as varchar) from " ~ tests_windows_relation()
        ~ " where relation_name = '" ~ rolling_state_key(ref(settled_spec(source).stored_in)) ~ "' and invocation_id = '" ~ invocation_id ~ "'"
    ).columns[0].values()[0] -%}
    {%- if rebuilt is not none and rebuilt < stored[1] -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- do plan.update({'from_as_of': stored[0], 'from_settled_before': stored[1]}) -%}
    {{- return(plan) -}}
{%- endmacro %}


{#- The boundary a mart can add its last days to: the settled model's if it was built for this as_of (a
    build selecting the mart alone for another date adds up all days instead), else none. -#}
{% macro settled_boundary(settled) -%}
    {%- set stored = rolling_state_stored(settled) -%}
    {{- return(stored[1] if stored is not none and stored[0] == as_of_date() else none) -}}
{%- endmacro %}


{#- The body of a settled model over the wallet-day table `source` (a model name). -#}
{% macro settled_model(source) -%}
    {%- set spec = settled_spec(source) -%}
    {%- set plan = settled_plan(source) -%}
    with

    added as (

        {{ settled_day_sums(
            ref(source), spec, plan.from_settled_before, plan.settled_before, as_of_date(),
            plan.from_as_of, plan.from_settled_before
        ) }}

    ),

    kept as (

        {%- if plan.from_as_of is not none %}
        select * from {{ this }}
        {%- else %}
        select * from added
        where 1 = 0
        {%- endif %}

    ),

    combined as (

        {{ settled_joined(spec, 'kept', 'added', 'right') }}

    )

    select
        chain_id,
        wallet,
        {%- for column, _ in spec.earliest + spec.latest %}
        {{ column }},
        {%- endfor %}
        {%- for column, _, _ in spec.first_day_values %}
        cast({{ column }} as {{ wei_type() }}) as {{ column }},
        {%- endfor %}
        {%- for column in settled_summed_columns(spec) %}
        cast({{ column }} as {{ wei_type() if '_wei' in column else dbt.type_bigint() }}) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from combined
{%- endmacro %}


{#- Post-hook of a settled model: remember which as_of and boundary its rows are for. -#}
{% macro settled_record() -%}
    {%- set states = rolling_states_relation() -%}
    delete from {{ states }} where relation_name = '{{ rolling_state_key(this) }}';
    insert into {{ states }} values (
        '{{ rolling_state_key(this) }}', cast('{{ as_of_date() }}' as date),
        cast('{{ settled_boundary_for(as_of_date()) }}' as date)
    )
{%- endmacro %}


{#- Pre-hook of a settled model: when this run adds up all days, the old rows go (a night that advances
    the state rewrites the wallets it touches: delete+insert on the key). -#}
{% macro settled_prepare(source) -%}
    {%- if is_incremental() and settled_plan(source).from_as_of is none -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#-
    Per (chain_id, wallet) of `days` (wallet-day rows), the spec's sums and extremes of the days in
    [first_day, last_day) (first_day none: no lower bound; last_day a 'YYYY-MM-DD' exclusive bound) and,
    for each window of d days, the change of its sums as of `as_of`: the days in that range on or after
    as_of - d + 1, minus (when `left_from_as_of` is given: advancing a state kept as of that date up to
    left_before) the days in [left_from_as_of - d + 1, as_of - d + 1) before left_before, which left it.
    Rows: every wallet with such a day.
-#}
{% macro settled_day_sums(days, spec, first_day, last_day, as_of, left_from_as_of=none, left_before=none) -%}
    {%- set windows = segments_windows() -%}
    {%- set datetime = modules.datetime -%}
    {%- set as_of_day = datetime.date.fromisoformat(as_of) -%}
    {#- first_day_values made in the aggregation where the adapter can (settled_first_day_aggregate) -#}
    {%- set first_day_aggregates = {} -%}
    {%- for column, expression, day_column in spec.first_day_values -%}
        {%- for earliest_column, day_expression in spec.earliest if earliest_column == day_column -%}
            {%- set aggregate = settled_first_day_aggregate(expression, day_expression) -%}
            {%- if aggregate -%}
                {%- do first_day_aggregates.update({column: aggregate}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set in_range -%}
        day_rows.day < cast('{{ last_day }}' as date)
        {%- if first_day is not none %} and day_rows.day >= cast('{{ first_day }}' as date){% endif %}
    {%- endset -%}
    with

    picked_days as (

        select
            day_rows.*,
            {{ in_range }} as is_added
        from {{ days }} as day_rows
        where
            ({{ in_range }})
            {%- if left_from_as_of is not none %}
            {%- for window_days in windows %}
            {%- set left_from = datetime.date.fromisoformat(left_from_as_of) - datetime.timedelta(days=window_days | int - 1) %}
            {%- set left_to = as_of_day - datetime.timedelta(days=window_days | int - 1) %}
            or (
                day_rows.day >= cast('{{ left_from.isoformat() }}' as date)
                and day_rows.day < cast('{{ left_to.isoformat() }}' as date)
                and day_rows.day < cast('{{ left_before }}' as date)
            )
            {%- endfor %}
            {%- endif %}

    ),

    sums as (

        select
            chain_id,
            wallet,
            {%- for column, expression in spec.earliest %}
            min(case when is_added then {{ expression }} end) as {{ column }},
            {%- endfor %}
            {%- for column, expression in spec.latest %}
            max(case when is_added then {{ expression }} end) as {{ column }},
            {%- endfor %}
            {%- for column, expression in spec.totals %}
            sum(case when is_added then {{ expression }} else 0 end) as {{ column }},
            {%- endfor %}
            {%- for window_days in windows %}
            {%- set window_start = as_of_day - datetime.timedelta(days=window_days | int - 1) %}
            {%- set outer_loop = loop %}
            {%- for pattern, expression in spec.windowed %}
            sum(
                case
                    when is_added and day >= cast('{{ window_start.isoformat() }}' as date) then {{ expression }}
                    {%- if left_from_as_of is not none %}
                    {%- set left_from = datetime.date.fromisoformat(left_from_as_of) - datetime.timedelta(days=window_days | int - 1) %}
                    when
                        not is_added
                        and day >= cast('{{ left_from.isoformat() }}' as date)
                        and day < cast('{{ window_start.isoformat() }}' as date)
                        then -{{ expression }}
                    {%- endif %}
                    else 0
                end
            ) as {{ pattern.format(window_days) }}{{ ',' if not (loop.last and outer_loop.last) }}
            {%- endfor %}
            {%- endfor %}
            {%- for column, aggregate in first_day_aggregates.items() %},
            {{ aggregate }} as {{ column }}
            {%- endfor %}
        from picked_days
        group by
            chain_id,
            wallet

    )

    select
        sums.*
        {%- for column, expression, day_column in spec.first_day_values if column not in first_day_aggregates %},
        (
            select sum(first_day_rows.{{ expression }})
            from picked_days as first_day_rows
            where
                first_day_rows.chain_id = sums.chain_id
                and first_day_rows.wallet = sums.wallet
                and first_day_rows.day = sums.{{ day_column }}
                and first_day_rows.is_added
        ) as {{ column }}
        {%- endfor %}
    from sums
{%- endmacro %}


{#-
    A first_day_values column as one aggregate of settled_day_sums' rows (`is_added` and the source's
    columns in scope), or none: then a correlated subquery adds up the rows of that first day. DuckDB:
    arg_min of the expression at the earliest day, exact because the wallet-day tables hold one row per
    wallet and day (their unique tests); DuckDB answers the subquery by grouping every wallet-day again
    (int_wallet_days_settled on the benchmark's full build: 8.0-9.2 s with it, 4.3-4.8 s with arg_min).
-#}
{% macro settled_first_day_aggregate(expression, day_expression) -%}
    {{ return(adapter.dispatch('settled_first_day_aggregate')(expression, day_expression)) }}
{%- endmacro %}

{% macro default__settled_first_day_aggregate(expression, day_expression) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__settled_first_day_aggregate(expression, day_expression) -%}
    {{ return('arg_min(' ~ expression ~ ', case when is_added then ' ~ day_expression ~ ' end)') }}
{%- endmacro %}


{#-
    The columns of two sets of per-wallet sums of one spec added up (settled_day_sums, or a kept state),
    `earlier` holding only days before those of `later` (relation aliases; a wallet may be missing from
    either): earliest values from `earlier` where it has them, latest from `later`, sums added.
-#}
{% macro settled_combined(spec, earlier, later) -%}
    coalesce({{ earlier }}.chain_id, {{ later }}.chain_id) as chain_id,
    coalesce({{ earlier }}.wallet, {{ later }}.wallet) as wallet,
    {%- for column, _ in spec.earliest %}
    coalesce({{ earlier }}.{{ column }}, {{ later }}.{{ column }}) as {{ column }},
    {%- endfor %}
    {%- for column, _ in spec.latest %}
    coalesce({{ later }}.{{ column }}, {{ earlier }}.{{ column }}) as {{ column }},
    {%- endfor %}
    {%- for column, _, day_column in spec.first_day_values %}
    case
        when {{ earlier }}.{{ day_column }} is not null then {{ earlier }}.{{ column }}
        else {{ later }}.{{ column }}
    end as {{ column }},
    {%- endfor %}
    {%- for column in settled_summed_columns(spec) %}
    coalesce({{ earlier }}.{{ column }}, 0) + coalesce({{ later }}.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The select of settled_combined over `earlier` and `later` joined on the wallet: 'full' keeps the wallets
    of either, 'right' those of `later` only (a night rewrites the wallets its days touch). -#}
{% macro settled_joined(spec, earlier, later, join='full') -%}
    select
        {{ settled_combined(spec, earlier, later) }}
    from {{ earlier }}
    {{ join }} outer join {{ later }}
        on
            {{ earlier }}.chain_id = {{ later }}.chain_id
            and {{ earlier }}.wallet = {{ later }}.wallet
{%- endmacro %}

{#-
    Per-wallet RFV sums kept from night to night, so that wallet_rfv does not re-aggregate every wallet-day
    of the history each night (its windows and recency move daily, so every wallet's row changes).

    int_wallet_days_settled holds, per wallet, the sums and extremes of its wallet-days
    (int_wallet_days_summarized) before a boundary day `settled_before`, and, for each RFV window, the
    part of the window before the boundary. The boundary is as_of - lookback_days: the days from it on are
    the ones a night rebuilds (macros/incremental_window.sql), so everything before it is final. wallet_rfv
    adds the few days from the boundary to as_of (rfv_wallet_day_sums) to the kept sums
    (rfv_combined_sums) and derives its columns from the result.

    A night moves the state from (as_of, settled_before) of the last run to its own: it adds the days
    that became final, [old settled_before, new settled_before), and takes out of each window's part the
    days that left it, [old as_of - d + 1, new as_of - d + 1) for a d-day window, reading only those
    days of int_wallet_days_summarized and rewriting only the wallets they touch. A first build, a full
    refresh, a run for an earlier as_of, or a night whose source rebuilt days before the old boundary
    computes the state from all days instead; both ways give the same rows (tests/test_dbt_build.py).
    The boundary and as_of of the stored state are kept in dbt_meta.rolling_states.
-#}

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
    {%- set rows = run_query(
        "select cast(as_of as varchar), cast(settled_before as varchar) from " ~ rolling_states_relation()
        ~ " where relation_name = '" ~ rolling_state_key(relation) ~ "'"
    ).rows -%}
    {{- return((rows[0][0], rows[0][1]) if rows else none) -}}
{%- endmacro %}


{#-
    How int_wallet_days_settled gets to this run's state: {'settled_before': the new boundary, and, when it
    advances the stored state, 'from_as_of' and 'from_settled_before' (none: it computes from all days)}.
-#}
{% macro rfv_settled_plan() -%}
    {%- set datetime = modules.datetime -%}
    {%- set as_of = as_of_date() -%}
    {%- set settled_before = (datetime.date.fromisoformat(as_of)
        - datetime.timedelta(days=var('lookback_days', 3) | int)).isoformat() -%}
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
    {%- set source = ref('int_wallet_days_summarized') -%}
    {%- set rebuilt = run_query(
        "select cast(min(window_start) as varchar) from " ~ tests_windows_relation()
        ~ " where relation_name = '" ~ rolling_state_key(source) ~ "' and invocation_id = '" ~ invocation_id ~ "'"
    ).columns[0].values()[0] -%}
    {%- if rebuilt is not none and rebuilt < stored[1] -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- do plan.update({'from_as_of': stored[0], 'from_settled_before': stored[1]}) -%}
    {{- return(plan) -}}
{%- endmacro %}


{#- The boundary wallet_rfv can use: the stored state's settled_before if it was built for this as_of
    (a build selecting wallet_rfv alone for another date adds up all days instead), else none. -#}
{% macro rfv_settled_boundary() -%}
    {%- set stored = rolling_state_stored(ref('int_wallet_days_settled')) -%}
    {{- return(stored[1] if stored is not none and stored[0] == as_of_date() else none) -}}
{%- endmacro %}


{#- Post-hook of int_wallet_days_settled: remember which as_of and boundary its rows are for. -#}
{% macro rfv_settled_record() -%}
    {%- set states = rolling_states_relation() -%}
    delete from {{ states }} where relation_name = '{{ rolling_state_key(this) }}';
    insert into {{ states }} values (
        '{{ rolling_state_key(this) }}', cast('{{ as_of_date() }}' as date),
        cast('{{ rfv_settled_plan().settled_before }}' as date)
    )
{%- endmacro %}


{#- Pre-hook of int_wallet_days_settled: when this run computes the state from all days, the old rows go
    (a night that advances it rewrites the wallets it touches: delete+insert on the key). -#}
{% macro rfv_settled_prepare() -%}
    {%- if is_incremental() and rfv_settled_plan().from_as_of is none -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#-
    The columns of two sets of per-wallet sums (rfv_wallet_day_sums, or the kept state) added up, `earlier`
    holding only days before those of `later` (relation aliases; a wallet may be missing from either).
-#}
{% macro rfv_combined_sums(earlier, later) -%}
    {%- set windows = var('rfv_windows_days') -%}
    coalesce({{ earlier }}.chain_id, {{ later }}.chain_id) as chain_id,
    coalesce({{ earlier }}.wallet, {{ later }}.wallet) as wallet,
    {%- for column in ['first_seen_day', 'first_seen_at', 'first_buy_at', 'first_buy_day'] %}
    coalesce({{ earlier }}.{{ column }}, {{ later }}.{{ column }}) as {{ column }},
    {%- endfor %}
    {%- for column in ['last_seen_at', 'last_buy_at', 'last_buy_day'] %}
    coalesce({{ later }}.{{ column }}, {{ earlier }}.{{ column }}) as {{ column }},
    {%- endfor %}
    case
        when {{ earlier }}.first_buy_day is not null then {{ earlier }}.first_buy_day_spend_wei
        else {{ later }}.first_buy_day_spend_wei
    end as first_buy_day_spend_wei,
    {%- set summed = ['buy_days'] -%}
    {%- for measure in ['buys', 'spend_wei', 'sells', 'proceeds_wei', 'mints', 'priced_mints', 'mint_spend_wei'] -%}
        {%- do summed.append(measure ~ '_total') -%}
    {%- endfor -%}
    {%- for window_days in windows -%}
        {%- do summed.extend(['buys_' ~ window_days ~ 'd', 'spend_wei_' ~ window_days ~ 'd']) -%}
    {%- endfor %}
    {%- for column in summed %}
    coalesce({{ earlier }}.{{ column }}, 0) + coalesce({{ later }}.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#-
    Per (chain_id, wallet) of `days` (int_wallet_days_summarized rows), the sums and extremes of the days
    in [first_day, last_day) (first_day none: no lower bound; last_day a 'YYYY-MM-DD' exclusive bound) and,
    for each window of d days, the change of its sums as of `as_of`: the days in that range on or after
    as_of - d + 1, minus (when `left_from_as_of` is given: advancing a state kept as of that date up to
    left_before) the days in [left_from_as_of - d + 1, as_of - d + 1) before left_before, which left it.
    Rows: every wallet with such a day. first_buy_day_spend_wei: the spend of its first buy day in range.
-#}
{% macro rfv_wallet_day_sums(days, first_day, last_day, as_of, left_from_as_of=none, left_before=none) -%}
    {%- set windows = var('rfv_windows_days') -%}
    {%- set datetime = modules.datetime -%}
    {%- set as_of_day = datetime.date.fromisoformat(as_of) -%}
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
            min(case when is_added then day end) as first_seen_day,
            min(case when is_added then first_activity_at end) as first_seen_at,
            max(case when is_added then last_activity_at end) as last_seen_at,
            min(case when is_added then first_buy_at end) as first_buy_at,
            max(case when is_added then last_buy_at end) as last_buy_at,
            min(case when is_added and buys > 0 then day end) as first_buy_day,
            max(case when is_added and buys > 0 then day end) as last_buy_day,
            sum(case when is_added and buys > 0 then 1 else 0 end) as buy_days,
            {%- for measure in ['buys', 'spend_wei', 'sells', 'proceeds_wei', 'mints', 'priced_mints', 'mint_spend_wei'] %}
            sum(case when is_added then {{ measure }} else 0 end) as {{ measure }}_total,
            {%- endfor %}
            {%- for window_days in windows %}
            {%- set window_start = as_of_day - datetime.timedelta(days=window_days | int - 1) %}
            {%- set outer_loop = loop %}
            {%- for measure in ['buys', 'spend_wei'] %}
            sum(
                case
                    when is_added and day >= cast('{{ window_start.isoformat() }}' as date) then {{ measure }}
                    {%- if left_from_as_of is not none %}
                    {%- set left_from = datetime.date.fromisoformat(left_from_as_of) - datetime.timedelta(days=window_days | int - 1) %}
                    when
                        not is_added
                        and day >= cast('{{ left_from.isoformat() }}' as date)
                        and day < cast('{{ window_start.isoformat() }}' as date)
                        then -{{ measure }}
                    {%- endif %}
                    else 0
                end
            ) as {{ measure }}_{{ window_days }}d{{ ',' if not (loop.last and outer_loop.last) }}
            {%- endfor %}
            {%- endfor %}
        from picked_days
        group by
            chain_id,
            wallet

    )

    select
        sums.*,
        first_buy.spend_wei as first_buy_day_spend_wei
    from sums
    left join picked_days as first_buy
        on
            sums.chain_id = first_buy.chain_id
            and sums.wallet = first_buy.wallet
            and sums.first_buy_day = first_buy.day
            and first_buy.is_added
{%- endmacro %}

{#-
    The wallet feature model: one definition of every feature a rule cohort or the ML step reads, computed
    "as of a cutoff" from events STRICTLY BEFORE the cutoff (the cutoff is a date; events before its
    00:00 UTC count). int_wallet_features_as_of calls it with the cutoff as_of + 1 day (everything up to the
    end of as_of); ml_training_snapshots with a series of cutoffs. Features are as of the end of the last
    included day, `reference_date` = cutoff - 1 day:

    - windows: `<measure>_<d>d` covers the d UTC days before the cutoff, [cutoff - d days, cutoff), i.e. the d
      days ending with reference_date; d from the var rfv_windows_days (default 30, 90, 365).
    - days_since_*: whole UTC days from the event's day to reference_date (an event on reference_date: 0).
    - gas features: the wallet's transactions in the gas_window_days (var, default 90) days before the
      cutoff, in blocks with a base fee (see segments_gas_features).

    DuckDB-specific spots: `double` and the median (segments_median).
-#}

{#- The RFV windows in days, sorted and without duplicates (var rfv_windows_days). -#}
{% macro segments_windows() -%}
    {%- set windows = [] -%}
    {%- for value in var('rfv_windows_days', [30, 90, 365]) -%}
        {%- if (value | int) <= 0 or (value | int | string) != (value | string) -%}
            {{- exceptions.raise_compiler_error('var rfv_windows_days must list positive whole days, got ' ~ value) -}}
        {%- endif -%}
        {%- if (value | int) not in windows -%}
            {%- do windows.append(value | int) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(windows | sort) -}}
{%- endmacro %}


{#- Days of transactions the gas features look at, before the cutoff (var gas_window_days, default 90). -#}
{% macro segments_gas_window_days() -%}
    {%- set days = var('gas_window_days', 90) -%}
    {%- if (days | int) <= 0 -%}
        {{- exceptions.raise_compiler_error('var gas_window_days must be a positive number of days, got ' ~ days) -}}
    {%- endif -%}
    {{- return(days | int) -}}
{%- endmacro %}


{#- Every feature column, in output order (timestamps included). -#}
{% macro segments_feature_columns() -%}
    {%- set windows = segments_windows() -%}
    {%- set columns = ['first_activity_at', 'last_activity_at', 'last_buy_at',
        'days_since_first_activity', 'days_since_last_activity', 'days_since_last_buy', 'active_days_total'] -%}
    {%- for d in windows %}{% do columns.append('active_days_' ~ d ~ 'd') %}{% endfor -%}
    {%- do columns.extend(['transactions_total', 'gas_paid_total_wei', 'buys_total']) -%}
    {%- for d in windows %}{% do columns.append('buys_' ~ d ~ 'd') %}{% endfor -%}
    {%- do columns.append('spend_total_wei') -%}
    {%- for d in windows %}{% do columns.append('spend_' ~ d ~ 'd_wei') %}{% endfor -%}
    {%- do columns.append('sells_total') -%}
    {%- for d in windows %}{% do columns.append('sells_' ~ d ~ 'd') %}{% endfor -%}
    {%- do columns.extend(['sell_volume_total_wei', 'mints_total', 'tokens_held', 'collections_held',
        'gas_transactions', 'median_priority_fee_gwei', 'median_fee_to_base_ratio',
        'median_base_fee_percentile', 'cheapest_hours_share', 'tip_percentile']) -%}
    {{- return(columns) -}}
{%- endmacro %}


{#- The features a rule condition may name as `field` (numbers only: the timestamps are left out). -#}
{% macro segments_rule_fields() -%}
    {%- set fields = [] -%}
    {%- for column in segments_feature_columns() -%}
        {%- if not column.endswith('_at') %}{% do fields.append(column) %}{% endif -%}
    {%- endfor -%}
    {{- return(fields) -}}
{%- endmacro %}


{#- The median of a numeric expression (pass a double: percentile_cont keeps a decimal's scale). -#}
{% macro segments_median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}


{#-
    Mid-rank percentile of `value` within `partition_by` (a list of columns):
    (rows with a lower value + half the rows with the same value) / rows, in (0, 1). A single row gives 0.5;
    equal values share one percentile. NULL values are not ranked (they get NULL).
-#}
{% macro segments_percentile_rank(value, partition_by) -%}
    {#- The three windows share one partitioning and order, so the database sorts the rows once (the
        rows with the same value are the current row's peers; the non-NULL values are the partition). -#}
    {%- set window = 'partition by ' ~ partition_by | join(', ') ~ ', ' ~ value ~ ' is null order by ' ~ value -%}
    case when {{ value }} is not null then
        cast(
            (rank() over ({{ window }}) - 1)
            + 0.5 * count(*) over ({{ window }} range between current row and current row)
            as double
        ) / count({{ value }}) over ({{ window }} rows between unbounded preceding and unbounded following)
    end
{%- endmacro %}


{#-
    Gas features per (chain_id, wallet) from the CTE `transactions` (int_wallet_transactions_ranked columns):
    the wallet's transactions in the gas_window_days before the cutoff, in blocks with a base fee, reverted
    ones included (their gas was paid). `cutoff_at` and `window_start_at` are SQL timestamp expressions.
    - gas_transactions: how many;
    - median_priority_fee_gwei: median tip, gwei per gas (effective price - base fee);
    - median_fee_to_base_ratio: median of effective gas price / the block's base fee;
    - median_base_fee_percentile: median of the base fee's percentile within its UTC day
      (int_block_base_fees_ranked);
    - cheapest_hours_share: share of those transactions sent in one of their day's cheapest quartile of hours.
    Medians of an even count are the mean of the two middle values.
-#}
{% macro segments_gas_features(transactions, cutoff_at, window_start_at) -%}
    select
        {{ transactions }}.chain_id,
        {{ transactions }}.wallet,
        count(*) as gas_transactions,
        {{ segments_median(transactions ~ '.priority_fee_gwei') }} as median_priority_fee_gwei,
        {{ segments_median(transactions ~ '.fee_to_base_ratio') }} as median_fee_to_base_ratio,
        {{ segments_median(transactions ~ '.base_fee_percentile') }} as median_base_fee_percentile,
        avg(case when {{ transactions }}.is_cheapest_quartile_hour then 1.0 else 0.0 end) as cheapest_hours_share
    from {{ transactions }}
    where
        {{ transactions }}.block_timestamp < {{ cutoff_at }}
        and {{ transactions }}.block_timestamp >= {{ window_start_at }}
        and {{ transactions }}.base_fee_percentile is not null
    group by
        {{ transactions }}.chain_id,
        {{ transactions }}.wallet
{%- endmacro %}


{#- The tables segments_wallet_features reads, each with its day column: (model name, column). Keep in step
    with it: ml_training_snapshots fingerprints these days to tell whether a rebuilt day changed a cutoff. -#}
{% macro segments_feature_inputs() -%}
    {{- return([
        ('int_wallet_event_days_summed', 'day'),
        ('int_wallet_token_days_netted', 'day'),
        ('int_wallet_transactions_ranked', 'block_date'),
    ]) -}}
{%- endmacro %}


{#-
    Every feature (segments_feature_columns) per (chain_id, wallet) as of ONE cutoff (`cutoff`, a
    'YYYY-MM-DD' string), from events strictly before the cutoff's 00:00 UTC. Renders one query (with its
    own CTEs) to place inside a CTE of the calling model; it refs the tables it reads, so unit tests of the
    caller give rows for int_wallet_event_days_summed, int_wallet_token_days_netted and
    int_wallet_transactions_ranked.

    Wallets: every address of the population (no code, not the zero address) with an event day before the
    cutoff. Activity, trades, mints and transactions: sums and extremes of its days before the cutoff
    (int_wallet_event_days_summed); a window of d days keeps the days on or after cutoff - d. Holdings: the
    tokens whose units summed over the days before the cutoff are positive (int_wallet_token_days_netted),
    or, for the cutoff as_of + 1 day, `collections_held`: int_wallet_collections_held, those same tokens
    per collection as of the end of as_of (kept incrementally, so a night does not re-add every token-day),
    or `holding_spans` (ml_snapshot_holding_spans: each pair's positive balance spans, made once for many
    cutoffs): the same tokens, those with a span covering the cutoff. For the cutoff as_of + 1 day too, `settled` (int_wallet_event_days_settled): the activity sums of the days before
    its boundary kept from night to night, to which the days from the boundary on are added
    (macros/settled_sums.sql); used only when it was built for this as_of.
    Gas: segments_gas_features over the gas window, or, for the cutoff as_of + 1 day, `gas`
    (int_wallet_gas_as_of: the same features, computed once a night for this and wallet_gas_sensitivity).

    One cutoff per query on purpose: the query holds one row per wallet, so its memory does not grow with the
    number of cutoffs; ml_training_snapshots runs one such query per cutoff.
-#}
{% macro segments_wallet_features(cutoff, collections_held=none, settled=none, gas=none, holding_spans=none) -%}
    {%- set windows = segments_windows() -%}
    {%- set cutoff_date = "cast('" ~ cutoff ~ "' as date)" -%}
    {%- set cutoff_at = "cast('" ~ cutoff ~ " 00:00:00' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- set reference_date = "cast(" ~ dbt.dateadd('day', -1, cutoff_date) ~ " as date)" -%}
    {%- set boundary = settled_boundary(settled) if settled is not none else none -%}
    with
    {%- if boundary %}

    kept_activity as (

        select * from {{ settled }}

    ),

    recent_activity as (

        {{ settled_day_sums(
            ref('int_wallet_event_days_summed'), settled_spec('int_wallet_event_days_summed'), boundary, cutoff,
            (modules.datetime.date.fromisoformat(cutoff) - modules.datetime.timedelta(days=1)).isoformat()
        ) }}

    ),

    activity_features as (

        {{ settled_joined(settled_spec('int_wallet_event_days_summed'), 'kept_activity', 'recent_activity') }}

    ),
    {%- else %}

    event_days as (

        select *
        from {{ ref('int_wallet_event_days_summed') }}
        where day < {{ cutoff_date }}

    ),

    activity_features as (

        select
            chain_id,
            wallet,
            min(first_activity_at) as first_activity_at,
            max(last_activity_at) as last_activity_at,
            max(last_buy_at) as last_buy_at,
            count(*) as active_days_total,
            {%- for d in windows %}
            sum(case when day >= cast({{ dbt.dateadd('day', -d, cutoff_date) }} as date) then 1 else 0 end)
                as active_days_{{ d }}d,
            {%- endfor %}
            sum(transactions) as transactions_total,
            sum(gas_paid_wei) as gas_paid_total_wei,
            {%- for measure, suffix in [('buys', ''), ('spend_wei', '_wei'), ('sells', '')] %}
            {%- set name = measure.replace('_wei', '') %}
            sum({{ measure }}) as {{ name }}_total{{ suffix }},
            {%- for d in windows %}
            sum(case when day >= cast({{ dbt.dateadd('day', -d, cutoff_date) }} as date) then {{ measure }} else 0 end)
                as {{ name }}_{{ d }}d{{ suffix }},
            {%- endfor %}
            {%- endfor %}
            sum(sell_volume_wei) as sell_volume_total_wei,
            sum(mints) as mints_total
        from event_days
        group by
            chain_id,
            wallet

    ),
    {%- endif %}

    {%- if collections_held is not none %}

    holding_features as (

        select
            chain_id,
            wallet,
            sum(tokens_held) as tokens_held,
            count(*) as collections_held
        from {{ collections_held }}
        group by
            chain_id,
            wallet

    ),
    {%- else %}

    -- one row per token the wallet holds at the cutoff
    token_balances as (
        {%- if holding_spans is not none %}

        select
            chain_id,
            wallet,
            collection_address
        from {{ holding_spans }}
        where
            from_day < {{ cutoff_date }}
            and (until_day is null or until_day >= {{ cutoff_date }})
        {%- else %}

        select
            chain_id,
            wallet,
            collection_address
        from {{ ref('int_wallet_token_days_netted') }}
        where day < {{ cutoff_date }}
        group by
            chain_id,
            wallet,
            collection_address,
            token_id
        having sum(amount_delta) > 0
        {%- endif %}

    ),

    holding_features as (

        select
            chain_id,
            wallet,
            count(*) as tokens_held,
            count(distinct collection_address) as collections_held
        from token_balances
        group by
            chain_id,
            wallet

    ),
    {%- endif %}
    {%- if gas is not none %}

    gas_features as (

        select
            chain_id,
            wallet,
            gas_transactions,
            median_priority_fee_gwei,
            median_fee_to_base_ratio,
            median_base_fee_percentile,
            cheapest_hours_share
        from {{ gas }}

    ),
    {%- else %}

    transactions as (

        select
            chain_id,
            wallet,
            block_timestamp,
            priority_fee_gwei,
            fee_to_base_ratio,
            base_fee_percentile,
            is_cheapest_quartile_hour
        from {{ ref('int_wallet_transactions_ranked') }}

    ),

    gas_features as (

        {{ segments_gas_features(
            'transactions',
            cutoff_at,
            dbt.dateadd('day', -segments_gas_window_days(), cutoff_at)
        ) }}

    ),
    {%- endif %}

    joined as (

        select
            activity_features.*,
            coalesce(holding_features.tokens_held, 0) as tokens_held,
            coalesce(holding_features.collections_held, 0) as collections_held,
            coalesce(gas_features.gas_transactions, 0) as gas_transactions,
            gas_features.median_priority_fee_gwei,
            gas_features.median_fee_to_base_ratio,
            gas_features.median_base_fee_percentile,
            gas_features.cheapest_hours_share
        from activity_features
        left join holding_features
            on
                activity_features.chain_id = holding_features.chain_id
                and activity_features.wallet = holding_features.wallet
        left join gas_features
            on
                activity_features.chain_id = gas_features.chain_id
                and activity_features.wallet = gas_features.wallet

    ),

    -- The tip percentile ranks the population's wallets only. Ranked apart on three narrow columns and
    -- joined back: the window's sort no longer carries every feature column (one night's
    -- int_wallet_features_as_of: the window 1.9 s -> 0.4 s, 5.1 -> 4.2 CPU-s with the join); every ML
    -- snapshot cutoff runs the same query (not measured there).
    tip_ranks as (

        select
            chain_id,
            wallet,
            {{ segments_percentile_rank('median_priority_fee_gwei', ['chain_id']) }} as tip_percentile
        from joined
        where median_priority_fee_gwei is not null

    ),

    -- recency counts to the last day included
    derived as (

        select
            joined.*,
            {{ dbt.datediff('cast(first_activity_at as date)', reference_date, 'day') }}
                as days_since_first_activity,
            {{ dbt.datediff('cast(last_activity_at as date)', reference_date, 'day') }}
                as days_since_last_activity,
            {{ dbt.datediff('cast(last_buy_at as date)', reference_date, 'day') }}
                as days_since_last_buy,
            tip_ranks.tip_percentile
        from joined
        left join tip_ranks
            on
                joined.chain_id = tip_ranks.chain_id
                and joined.wallet = tip_ranks.wallet

    )

    select
        chain_id,
        wallet,
        {%- for column in segments_feature_columns() %}
        {{ segments_feature_cast(column) }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from derived
{%- endmacro %}


{#- A feature column cast to its type: counts bigint, wei exact decimal(38, 0), timestamps and ratios as
    computed. -#}
{% macro segments_feature_cast(column) -%}
    {%- if column.endswith('_wei') -%}
        cast({{ column }} as {{ wei_type() }})
    {%- elif column.endswith('_at') -%}
        {{ column }}
    {%- elif column.startswith('median_') or column in ('cheapest_hours_share', 'tip_percentile') -%}
        cast({{ column }} as double)
    {%- else -%}
        cast({{ column }} as {{ dbt.type_bigint() }})
    {%- endif -%}
{%- endmacro %}

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
    {%- set partition = partition_by | join(', ') -%}
    case when {{ value }} is not null then
        cast(
            (rank() over (partition by {{ partition }}, {{ value }} is null order by {{ value }}) - 1)
            + 0.5 * count(*) over (partition by {{ partition }}, {{ value }})
            as double
        ) / count({{ value }}) over (partition by {{ partition }})
    end
{%- endmacro %}


{#-
    The bounds of each cutoff in the CTE or relation `cutoffs` (column cutoff_date): cutoff_at (its
    00:00 UTC, exclusive), reference_date (the last day included), the first day of every window, and
    the start of the gas window.
-#}
{% macro segments_cutoff_bounds(cutoffs) -%}
    select
        cutoff_date,
        cast(cutoff_date as {{ dbt.type_timestamp() }}) as cutoff_at,
        cast({{ dbt.dateadd('day', -1, 'cutoff_date') }} as date) as reference_date,
        {%- for d in segments_windows() %}
        cast({{ dbt.dateadd('day', -d, 'cutoff_date') }} as date) as window_{{ d }}d_start_date,
        {%- endfor %}
        cast({{ dbt.dateadd('day', -segments_gas_window_days(), 'cutoff_date') }} as {{ dbt.type_timestamp() }})
            as gas_window_start_at
    from {{ cutoffs }}
{%- endmacro %}


{#-
    Gas features per (cutoff_date, chain_id, wallet) from the CTE `transactions` (int_wallet_transactions_ranked
    columns) and the CTE `bounds` (segments_cutoff_bounds): the wallet's transactions in
    [gas_window_start_at, cutoff_at) in blocks with a base fee, reverted ones included (their gas was paid).
    - gas_transactions: how many;
    - median_priority_fee_gwei: median tip, gwei per gas (effective price - base fee);
    - median_fee_to_base_ratio: median of effective gas price / the block's base fee;
    - median_base_fee_percentile: median of the base fee's percentile within its UTC day
      (int_block_base_fees_ranked);
    - cheapest_hours_share: share of those transactions sent in one of their day's cheapest quartile of hours.
    Medians of an even count are the mean of the two middle values.
-#}
{% macro segments_gas_features(transactions, bounds) -%}
    select
        {{ bounds }}.cutoff_date,
        {{ transactions }}.chain_id,
        {{ transactions }}.wallet,
        count(*) as gas_transactions,
        {{ segments_median(transactions ~ '.priority_fee_gwei') }} as median_priority_fee_gwei,
        {{ segments_median(transactions ~ '.fee_to_base_ratio') }} as median_fee_to_base_ratio,
        {{ segments_median(transactions ~ '.base_fee_percentile') }} as median_base_fee_percentile,
        avg(case when {{ transactions }}.is_cheapest_quartile_hour then 1.0 else 0.0 end) as cheapest_hours_share
    from {{ transactions }}
    inner join {{ bounds }}
        on
            {{ transactions }}.block_timestamp < {{ bounds }}.cutoff_at
            and {{ transactions }}.block_timestamp >= {{ bounds }}.gas_window_start_at
    where {{ transactions }}.base_fee_percentile is not null
    group by
        {{ bounds }}.cutoff_date,
        {{ transactions }}.chain_id,
        {{ transactions }}.wallet
{%- endmacro %}


{#-
    Every feature (segments_feature_columns) per (cutoff_date, chain_id, wallet), for each cutoff_date of the
    CTE or relation `cutoffs`, from events strictly before the cutoff. Renders one query (with its own CTEs)
    to place inside a CTE of the calling model; it refs the intermediate models it reads, so unit tests of
    the caller give rows for int_wallet_trades, int_wallet_token_movements, int_wallet_transactions_ranked
    and stg_raw__addresses.

    Wallets: every address with an event before the cutoff (a transaction sent, an NFT movement either
    way, a trade either side), except addresses that hold code and the zero address.
    Events: trades (int_wallet_trades: buys = role buyer, spend = the price in wei, NULL-priced currencies
    count 0), NFT movements (mints, holdings: units of a token held = the running sum of its movements;
    tokens_held counts tokens with a positive balance), transactions (counts and gas paid, reverted
    included). Activity = any of them; active days = distinct UTC days with one.

    How: events are summed per wallet and UTC day, running totals are taken day by day, and each cutoff
    (and each window start) looks up the wallet's last running total before it; a window's count is the
    total at the cutoff minus the total at the window's start. Token balances likewise hold from one change
    to the next. The cost grows with wallet-days and output rows, not with events times cutoffs.
-#}
{% macro segments_wallet_features(cutoffs) -%}
    {%- set windows = segments_windows() -%}
    with

    bounds as (

        {{ segments_cutoff_bounds(cutoffs) }}

    ),

    contracts as (

        select
            chain_id,
            address
        from {{ ref('stg_raw__addresses') }}
        where is_contract

    ),

    trades as (

        select
            chain_id,
            wallet,
            role,
            block_timestamp,
            block_date,
            price_wei
        from {{ ref('int_wallet_trades') }}

    ),

    movements as (

        select
            chain_id,
            wallet,
            movement_kind,
            block_timestamp,
            block_date,
            collection_address,
            token_id,
            amount_delta
        from {{ ref('int_wallet_token_movements') }}

    ),

    transactions as (

        select
            chain_id,
            wallet,
            block_timestamp,
            block_date,
            gas_paid_wei,
            priority_fee_gwei,
            fee_to_base_ratio,
            base_fee_percentile,
            is_cheapest_quartile_hour
        from {{ ref('int_wallet_transactions_ranked') }}

    ),

    -- Every event, one row per wallet and UTC day with the day's measures. The features are sums and
    -- extremes of these days before a cutoff; a cutoff is a midnight, so a day lies wholly before it or
    -- not at all (block_date < cutoff_date is block_timestamp < cutoff_at).
    daily_events as (

        select
            chain_id,
            wallet,
            block_date,
            block_timestamp as activity_at,
            case when role = 'buyer' then 1 else 0 end as buys,
            case when role = 'buyer' then coalesce(price_wei, 0) else 0 end as spend_wei,
            case when role = 'seller' then 1 else 0 end as sells,
            case when role = 'seller' then coalesce(price_wei, 0) else 0 end as sell_volume_wei,
            case when role = 'buyer' then block_timestamp end as buy_at,
            0 as mints,
            0 as transactions,
            0 as gas_paid_wei
        from trades
        union all
        select
            chain_id,
            wallet,
            block_date,
            block_timestamp,
            0, 0, 0, 0, null,
            case when movement_kind = 'mint' then 1 else 0 end,
            0, 0
        from movements
        union all
        select
            chain_id,
            wallet,
            block_date,
            block_timestamp,
            0, 0, 0, 0, null, 0,
            1,
            gas_paid_wei
        from transactions

    ),

    -- the population: addresses without code other than the zero address
    wallet_days as (

        select
            daily_events.chain_id,
            daily_events.wallet,
            daily_events.block_date,
            min(daily_events.activity_at) as first_at,
            max(daily_events.activity_at) as last_at,
            sum(daily_events.buys) as buys,
            sum(daily_events.spend_wei) as spend_wei,
            sum(daily_events.sells) as sells,
            sum(daily_events.sell_volume_wei) as sell_volume_wei,
            max(daily_events.buy_at) as last_buy_at,
            sum(daily_events.mints) as mints,
            sum(daily_events.transactions) as transactions,
            sum(daily_events.gas_paid_wei) as gas_paid_wei
        from daily_events
        where
            daily_events.wallet <> '{{ var("zero_address") }}'
            and not exists (
                select 1
                from contracts
                where
                    contracts.chain_id = daily_events.chain_id
                    and contracts.address = daily_events.wallet
            )
        group by
            daily_events.chain_id,
            daily_events.wallet,
            daily_events.block_date

    ),

    -- Running totals per wallet, day by day, each valid from the day after its day up to its next active
    -- day: what a wallet had done before any date is one row, found by a range join. This keeps the work
    -- in proportion to wallet-days plus output rows, not to events times cutoffs.
    wallet_days_cumulated as (

        select
            chain_id,
            wallet,
            block_date,
            {{ dbt.dateadd('day', 1, 'block_date') }} as valid_from,
            lead(block_date) over (partition by chain_id, wallet order by block_date) as next_active_date,
            min(first_at) over (partition by chain_id, wallet order by block_date rows unbounded preceding)
                as first_activity_at,
            last_at as last_activity_at,
            max(last_buy_at) over (partition by chain_id, wallet order by block_date rows unbounded preceding)
                as last_buy_at,
            count(*) over (partition by chain_id, wallet order by block_date rows unbounded preceding)
                as active_days,
            {%- for measure in ['buys', 'spend_wei', 'sells', 'sell_volume_wei', 'mints', 'transactions', 'gas_paid_wei'] %}
            sum({{ measure }}) over (partition by chain_id, wallet order by block_date rows unbounded preceding)
                as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from wallet_days

    ),

    -- The dates totals are looked up at: each cutoff, and the start of each of its windows (a window's
    -- count is the total at the cutoff minus the total at the window's start).
    points as (

        select
            cutoff_date,
            0 as window_days,
            cutoff_date as point_date
        from bounds
        {%- for d in windows %}
        union all
        select
            cutoff_date,
            {{ d }} as window_days,
            window_{{ d }}d_start_date as point_date
        from bounds
        {%- endfor %}

    ),

    -- A wallet with a day before a window's start has one before the cutoff too: every wallet here is in
    -- the population of its cutoff (an event before it).
    totals_at_points as (

        select
            points.cutoff_date,
            points.window_days,
            wallet_days_cumulated.*
        from wallet_days_cumulated
        inner join points
            on
                wallet_days_cumulated.block_date < points.point_date
                and (
                    wallet_days_cumulated.next_active_date is null
                    or wallet_days_cumulated.next_active_date >= points.point_date
                )

    ),

    activity_features as (

        select
            cutoff_date,
            chain_id,
            wallet,
            {%- for measure in ['active_days', 'buys', 'spend_wei', 'sells', 'sell_volume_wei', 'mints', 'transactions', 'gas_paid_wei'] %}
            sum(case when window_days = 0 then {{ measure }} else 0 end) as {{ measure }}_total,
            {%- if measure in ('active_days', 'buys', 'spend_wei', 'sells') %}
            {%- for d in windows %}
            sum(case when window_days = 0 then {{ measure }} when window_days = {{ d }} then -{{ measure }} else 0 end)
                as {{ measure }}_{{ d }}d,
            {%- endfor %}
            {%- endif %}
            {%- endfor %}
            max(case when window_days = 0 then first_activity_at end) as first_activity_at,
            max(case when window_days = 0 then last_activity_at end) as last_activity_at,
            max(case when window_days = 0 then last_buy_at end) as last_buy_at
        from totals_at_points
        group by
            cutoff_date,
            chain_id,
            wallet

    ),

    -- Each token's balance per wallet, valid from the day after a change up to the next change; the
    -- positive ones at a cutoff are what the wallet holds then.
    token_days as (

        select
            chain_id,
            wallet,
            collection_address,
            token_id,
            block_date,
            sum(amount_delta) as amount_delta
        from movements
        group by
            chain_id,
            wallet,
            collection_address,
            token_id,
            block_date

    ),

    token_balances as (

        select
            chain_id,
            wallet,
            collection_address,
            token_id,
            block_date,
            lead(block_date) over (
                partition by chain_id, wallet, collection_address, token_id order by block_date
            ) as next_change_date,
            sum(amount_delta) over (
                partition by chain_id, wallet, collection_address, token_id
                order by block_date rows unbounded preceding
            ) as balance
        from token_days

    ),

    movement_features as (

        select
            bounds.cutoff_date,
            token_balances.chain_id,
            token_balances.wallet,
            count(*) as tokens_held,
            count(distinct token_balances.collection_address) as collections_held
        from token_balances
        inner join bounds
            on
                token_balances.block_date < bounds.cutoff_date
                and (token_balances.next_change_date is null or token_balances.next_change_date >= bounds.cutoff_date)
        where token_balances.balance > 0
        group by
            bounds.cutoff_date,
            token_balances.chain_id,
            token_balances.wallet

    ),

    gas_features as (

        {{ segments_gas_features('transactions', 'bounds') }}

    ),

    -- the tip percentile ranks the wallets of the population only (no contracts)
    gas_ranked as (

        select
            gas_features.*,
            {{ segments_percentile_rank('gas_features.median_priority_fee_gwei', ['gas_features.cutoff_date', 'gas_features.chain_id']) }}
                as tip_percentile
        from gas_features
        inner join activity_features
            on
                gas_features.cutoff_date = activity_features.cutoff_date
                and gas_features.chain_id = activity_features.chain_id
                and gas_features.wallet = activity_features.wallet

    ),

    joined as (

        select
            activity_features.cutoff_date,
            activity_features.chain_id,
            activity_features.wallet,
            activity_features.first_activity_at,
            activity_features.last_activity_at,
            activity_features.last_buy_at,
            {{ dbt.datediff('cast(activity_features.first_activity_at as date)', 'bounds.reference_date', 'day') }}
                as days_since_first_activity,
            {{ dbt.datediff('cast(activity_features.last_activity_at as date)', 'bounds.reference_date', 'day') }}
                as days_since_last_activity,
            {{ dbt.datediff('cast(activity_features.last_buy_at as date)', 'bounds.reference_date', 'day') }}
                as days_since_last_buy,
            activity_features.active_days_total,
            {%- for d in windows %}
            activity_features.active_days_{{ d }}d,
            {%- endfor %}
            activity_features.transactions_total,
            activity_features.gas_paid_wei_total as gas_paid_total_wei,
            activity_features.buys_total,
            {%- for d in windows %}
            activity_features.buys_{{ d }}d,
            {%- endfor %}
            activity_features.spend_wei_total as spend_total_wei,
            {%- for d in windows %}
            activity_features.spend_wei_{{ d }}d as spend_{{ d }}d_wei,
            {%- endfor %}
            activity_features.sells_total,
            {%- for d in windows %}
            activity_features.sells_{{ d }}d,
            {%- endfor %}
            activity_features.sell_volume_wei_total as sell_volume_total_wei,
            activity_features.mints_total,
            coalesce(movement_features.tokens_held, 0) as tokens_held,
            coalesce(movement_features.collections_held, 0) as collections_held,
            coalesce(gas_ranked.gas_transactions, 0) as gas_transactions,
            gas_ranked.median_priority_fee_gwei,
            gas_ranked.median_fee_to_base_ratio,
            gas_ranked.median_base_fee_percentile,
            gas_ranked.cheapest_hours_share,
            gas_ranked.tip_percentile
        from activity_features
        inner join bounds
            on activity_features.cutoff_date = bounds.cutoff_date
        left join movement_features
            on
                activity_features.cutoff_date = movement_features.cutoff_date
                and activity_features.chain_id = movement_features.chain_id
                and activity_features.wallet = movement_features.wallet
        left join gas_ranked
            on
                activity_features.cutoff_date = gas_ranked.cutoff_date
                and activity_features.chain_id = gas_ranked.chain_id
                and activity_features.wallet = gas_ranked.wallet

    )

    select
        cutoff_date,
        chain_id,
        wallet,
        {%- for column in segments_feature_columns() %}
        {{ segments_feature_cast(column) }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from joined
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

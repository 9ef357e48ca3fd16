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
    00:00 UTC, exclusive), reference_date (the last day included), the start of every window as a date
    and a timestamp, and the start of the gas window.
-#}
{% macro segments_cutoff_bounds(cutoffs) -%}
    select
        cutoff_date,
        cast(cutoff_date as {{ dbt.type_timestamp() }}) as cutoff_at,
        cast({{ dbt.dateadd('day', -1, 'cutoff_date') }} as date) as reference_date,
        {%- for d in segments_windows() %}
        cast({{ dbt.dateadd('day', -d, 'cutoff_date') }} as date) as window_{{ d }}d_start_date,
        cast({{ dbt.dateadd('day', -d, 'cutoff_date') }} as {{ dbt.type_timestamp() }}) as window_{{ d }}d_start_at,
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

    activity_events as (

        select chain_id, wallet, block_timestamp, block_date from trades
        union all
        select chain_id, wallet, block_timestamp, block_date from movements
        union all
        select chain_id, wallet, block_timestamp, block_date from transactions

    ),

    activity_days as (

        select
            chain_id,
            wallet,
            block_date,
            min(block_timestamp) as first_at,
            max(block_timestamp) as last_at
        from activity_events
        group by
            chain_id,
            wallet,
            block_date

    ),

    -- the population: wallets with an event before the cutoff (a cutoff is a midnight, so a day lies
    -- wholly before it or not at all: block_date < cutoff_date is block_timestamp < cutoff_at)
    activity_features as (

        select
            bounds.cutoff_date,
            activity_days.chain_id,
            activity_days.wallet,
            min(activity_days.first_at) as first_activity_at,
            max(activity_days.last_at) as last_activity_at,
            count(*) as active_days_total
            {%- for d in windows %},
            sum(case when activity_days.block_date >= bounds.window_{{ d }}d_start_date then 1 else 0 end)
                as active_days_{{ d }}d
            {%- endfor %}
        from activity_days
        inner join bounds
            on activity_days.block_date < bounds.cutoff_date
        where
            activity_days.wallet <> '{{ var("zero_address") }}'
            and not exists (
                select 1
                from contracts
                where
                    contracts.chain_id = activity_days.chain_id
                    and contracts.address = activity_days.wallet
            )
        group by
            bounds.cutoff_date,
            activity_days.chain_id,
            activity_days.wallet

    ),

    trade_features as (

        select
            bounds.cutoff_date,
            trades.chain_id,
            trades.wallet,
            sum(case when trades.role = 'buyer' then 1 else 0 end) as buys_total,
            {%- for d in windows %}
            sum(
                case when trades.role = 'buyer' and trades.block_timestamp >= bounds.window_{{ d }}d_start_at
                    then 1 else 0 end
            ) as buys_{{ d }}d,
            {%- endfor %}
            sum(case when trades.role = 'buyer' then coalesce(trades.price_wei, 0) else 0 end) as spend_total_wei,
            {%- for d in windows %}
            sum(
                case when trades.role = 'buyer' and trades.block_timestamp >= bounds.window_{{ d }}d_start_at
                    then coalesce(trades.price_wei, 0) else 0 end
            ) as spend_{{ d }}d_wei,
            {%- endfor %}
            sum(case when trades.role = 'seller' then 1 else 0 end) as sells_total,
            {%- for d in windows %}
            sum(
                case when trades.role = 'seller' and trades.block_timestamp >= bounds.window_{{ d }}d_start_at
                    then 1 else 0 end
            ) as sells_{{ d }}d,
            {%- endfor %}
            sum(case when trades.role = 'seller' then coalesce(trades.price_wei, 0) else 0 end)
                as sell_volume_total_wei,
            max(case when trades.role = 'buyer' then trades.block_timestamp end) as last_buy_at
        from trades
        inner join bounds
            on trades.block_timestamp < bounds.cutoff_at
        group by
            bounds.cutoff_date,
            trades.chain_id,
            trades.wallet

    ),

    token_balances as (

        select
            bounds.cutoff_date,
            movements.chain_id,
            movements.wallet,
            movements.collection_address,
            movements.token_id,
            sum(movements.amount_delta) as balance,
            sum(case when movements.movement_kind = 'mint' then 1 else 0 end) as mints
        from movements
        inner join bounds
            on movements.block_timestamp < bounds.cutoff_at
        group by
            bounds.cutoff_date,
            movements.chain_id,
            movements.wallet,
            movements.collection_address,
            movements.token_id

    ),

    movement_features as (

        select
            cutoff_date,
            chain_id,
            wallet,
            sum(mints) as mints_total,
            sum(case when balance > 0 then 1 else 0 end) as tokens_held,
            count(distinct case when balance > 0 then collection_address end) as collections_held
        from token_balances
        group by
            cutoff_date,
            chain_id,
            wallet

    ),

    transaction_features as (

        select
            bounds.cutoff_date,
            transactions.chain_id,
            transactions.wallet,
            count(*) as transactions_total,
            sum(transactions.gas_paid_wei) as gas_paid_total_wei
        from transactions
        inner join bounds
            on transactions.block_timestamp < bounds.cutoff_at
        group by
            bounds.cutoff_date,
            transactions.chain_id,
            transactions.wallet

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
            trade_features.last_buy_at,
            {{ dbt.datediff('cast(activity_features.first_activity_at as date)', 'bounds.reference_date', 'day') }}
                as days_since_first_activity,
            {{ dbt.datediff('cast(activity_features.last_activity_at as date)', 'bounds.reference_date', 'day') }}
                as days_since_last_activity,
            {{ dbt.datediff('cast(trade_features.last_buy_at as date)', 'bounds.reference_date', 'day') }}
                as days_since_last_buy,
            activity_features.active_days_total,
            {%- for d in windows %}
            activity_features.active_days_{{ d }}d,
            {%- endfor %}
            coalesce(transaction_features.transactions_total, 0) as transactions_total,
            coalesce(transaction_features.gas_paid_total_wei, 0) as gas_paid_total_wei,
            coalesce(trade_features.buys_total, 0) as buys_total,
            {%- for d in windows %}
            coalesce(trade_features.buys_{{ d }}d, 0) as buys_{{ d }}d,
            {%- endfor %}
            coalesce(trade_features.spend_total_wei, 0) as spend_total_wei,
            {%- for d in windows %}
            coalesce(trade_features.spend_{{ d }}d_wei, 0) as spend_{{ d }}d_wei,
            {%- endfor %}
            coalesce(trade_features.sells_total, 0) as sells_total,
            {%- for d in windows %}
            coalesce(trade_features.sells_{{ d }}d, 0) as sells_{{ d }}d,
            {%- endfor %}
            coalesce(trade_features.sell_volume_total_wei, 0) as sell_volume_total_wei,
            coalesce(movement_features.mints_total, 0) as mints_total,
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
        left join trade_features
            on
                activity_features.cutoff_date = trade_features.cutoff_date
                and activity_features.chain_id = trade_features.chain_id
                and activity_features.wallet = trade_features.wallet
        left join movement_features
            on
                activity_features.cutoff_date = movement_features.cutoff_date
                and activity_features.chain_id = movement_features.chain_id
                and activity_features.wallet = movement_features.wallet
        left join transaction_features
            on
                activity_features.cutoff_date = transaction_features.cutoff_date
                and activity_features.chain_id = transaction_features.chain_id
                and activity_features.wallet = transaction_features.wallet
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

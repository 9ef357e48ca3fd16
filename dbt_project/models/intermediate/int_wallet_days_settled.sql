{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet'],
        on_schema_change='fail',
        pre_hook="{{ settled_prepare('int_wallet_days_summarized') }}",
        post_hook="{{ settled_record() }}",
    )
}}

-- One row per wallet with a wallet-day before settled_before = as_of - lookback_days: the sums and extremes
-- of its days before that boundary (int_wallet_days_summarized), and for each RFV window the part of the
-- window before it. wallet_rfv adds the days from the boundary to as_of. A night advances the rows of the
-- wallets whose days became final or left a window, instead of re-adding every wallet-day of the history
-- (macros/settled_sums.sql; what is summed: settled_spec).

{{ settled_model('int_wallet_days_summarized') }}

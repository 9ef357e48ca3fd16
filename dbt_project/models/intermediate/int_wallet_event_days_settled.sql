{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet'],
        on_schema_change='fail',
        pre_hook="{{ settled_prepare('int_wallet_event_days_summed') }}",
        post_hook="{{ settled_record() }}",
    )
}}

-- One row per wallet of the feature population with a wallet-day before settled_before = as_of -
-- lookback_days: the activity, trade, mint and transaction sums and extremes of its days before that
-- boundary (int_wallet_event_days_summed), and for each window the part of the window before it.
-- int_wallet_features_as_of adds the days from the boundary to as_of. Kept from night to night like
-- int_wallet_days_settled (macros/settled_sums.sql; what is summed: settled_spec).
-- The table under that view, whose rebuilt days decide whether the kept sums can advance:
-- depends_on: {{ ref('int_wallet_days_summarized') }}

{{ settled_model('int_wallet_event_days_summed') }}

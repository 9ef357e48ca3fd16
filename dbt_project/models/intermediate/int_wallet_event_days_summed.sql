{{ config(materialized='view') }}

-- One row per wallet and UTC day with an event the wallet feature model counts (macros/segments_features.sql):
-- its trades either side, its NFT movements (mints counted) and the transactions it sent (reverted ones
-- included: their gas was paid). Only the feature population: addresses without code, never the zero
-- address. Features as of a cutoff are sums and extremes of the days before it: a cutoff is a midnight, so
-- a day lies wholly before it or not at all, and a snapshot reads wallet-days instead of events.
--
-- A view of int_wallet_days_summarized, which sums the same trades, movements and transactions for
-- wallet_rfv (one aggregation of those events instead of two): its days without such an event (the wallet
-- only received ETH) are left out, and the day's first and last activity are those of the events, not of
-- ETH received.

select
    chain_id,
    wallet,
    day,
    first_event_at as first_activity_at,
    last_event_at as last_activity_at,
    last_buy_at,
    buys,
    spend_wei,
    sells,
    sell_volume_wei,
    mints,
    transactions,
    gas_paid_wei
from {{ ref('int_wallet_days_summarized') }}
where first_event_at is not null

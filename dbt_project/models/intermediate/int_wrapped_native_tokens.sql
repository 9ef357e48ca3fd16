{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'token_address'],
        on_schema_change='fail',
        pre_hook="{{ wrapped_tokens_forget_later_days() }}",
    )
}}

-- Contracts that behave as WETH9: they emit Deposit(address indexed dst, uint256 wad) (one indexed topic,
-- one data word). A sale paid in such a token is valued 1:1 in wei, like a sale in the native currency.
-- Detected from the chain's own logs, so it works for any chain and for the devnet, whose WETH address
-- depends on the seed. A token must be wrapped (a Deposit) before anyone can pay with it, so the first sale
-- in a wrapped token is never classified before its first Deposit is seen.
--
-- Incremental, because logs are the largest raw table: a run scans only the days it rebuilds
-- (macros/incremental_window.sql) and merges them with the contracts already known: a contract once seen
-- wrapping stays known, and the merge keeps its first deposit block. Only a run for a day earlier than
-- the newest deposit stored (an analyst rerunning a past date) forgets the contracts seen after it and
-- reads every day up to it again, as a full refresh would.

{%- set last_day = as_of_date() %}
{%- set first_day = none %}
{%- if is_incremental() and not incremental_target_is_ahead('last_deposit_date') %}
{%- set first_day = incremental_window_start('last_deposit_date') %}
{%- endif %}

with

deposit_logs as (

    select
        chain_id,
        contract_address,
        block_number,
        block_date
    from {{ ref('stg_raw__logs') }}
    where
        topic0 = '{{ var("wrapped_native_deposit_topic") }}'
        and topic1 is not null
        and topic2 is null
        and {{ dbt.length('data') }} = 66
        and {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

detected as (

    select
        chain_id,
        contract_address as token_address,
        min(block_number) as first_deposit_block,
        max(block_date) as last_deposit_date
    from deposit_logs
    group by
        chain_id,
        contract_address

),

{% if is_incremental() %}
known as (

    select
        chain_id,
        token_address,
        first_deposit_block,
        last_deposit_date
    from {{ this }}

),
{% endif %}

merged as (

    select
        chain_id,
        token_address,
        min(first_deposit_block) as first_deposit_block,
        max(last_deposit_date) as last_deposit_date
    from (
        select * from detected
        {% if is_incremental() %}
        union all
        select * from known
        {% endif %}
    ) as detected_and_known
    group by
        chain_id,
        token_address

)

select * from merged

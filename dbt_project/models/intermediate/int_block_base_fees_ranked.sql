-- One row per block with a base fee: where that base fee stands among the blocks of the same chain and the
-- same UTC day, and whether the block's clock hour is one of the day's cheapest quarter of hours.
--
-- "The period" a base fee is compared with is its UTC day: the base fee drifts over weeks and moves with
-- market regimes, so comparing a block with its own day keeps only what a wallet controls, the moment of
-- the day it transacts. A day depends only on its own blocks, so a cutoff at midnight never sees later
-- blocks through this model (ml_training_snapshots relies on it).
--
-- base_fee_percentile: the mid-rank percentile (cheaper blocks + half the blocks with the same base fee)
--   / blocks of the day, in (0, 1); a day of one block gives 0.5, ties share one value.
-- is_cheapest_quartile_hour: the day's clock hours that hold blocks are ranked by their median base fee
--   (ties share a rank); an hour of rank r among n hours is in the cheapest quartile when 4 * (r - 1) < n,
--   i.e. r <= ceil(n / 4): 6 of 24 hours, 1 of 1 to 4 hours.

with

blocks as (

    select
        chain_id,
        block_number,
        block_timestamp,
        block_date,
        {{ dbt.date_trunc('hour', 'block_timestamp') }} as block_hour,
        base_fee_per_gas_wei
    from {{ ref('stg_raw__blocks') }}
    where base_fee_per_gas_wei is not null

),

ranked_in_day as (

    select
        blocks.*,
        {{ segments_percentile_rank('base_fee_per_gas_wei', ['chain_id', 'block_date']) }} as base_fee_percentile,
        count(*) over (partition by chain_id, block_date) as blocks_in_day
    from blocks

),

hours as (

    select
        chain_id,
        block_date,
        block_hour,
        -- a double before the median: percentile_cont keeps a decimal's scale and would round it
        {{ segments_median('cast(base_fee_per_gas_wei as double)') }} as hour_median_base_fee_wei
    from blocks
    group by
        chain_id,
        block_date,
        block_hour

),

hours_ranked as (

    select
        hours.*,
        rank() over (partition by chain_id, block_date order by hour_median_base_fee_wei) as hour_fee_rank,
        count(*) over (partition by chain_id, block_date) as hours_in_day
    from hours

),

final as (

    select
        ranked_in_day.chain_id,
        ranked_in_day.block_number,
        ranked_in_day.block_timestamp,
        ranked_in_day.block_date,
        ranked_in_day.block_hour,
        ranked_in_day.base_fee_per_gas_wei,
        ranked_in_day.blocks_in_day,
        ranked_in_day.base_fee_percentile,
        hours_ranked.hour_median_base_fee_wei,
        hours_ranked.hour_fee_rank,
        hours_ranked.hours_in_day,
        4 * (hours_ranked.hour_fee_rank - 1) < hours_ranked.hours_in_day as is_cheapest_quartile_hour
    from ranked_in_day
    inner join hours_ranked
        on
            ranked_in_day.chain_id = hours_ranked.chain_id
            and ranked_in_day.block_date = hours_ranked.block_date
            and ranked_in_day.block_hour = hours_ranked.block_hour

)

select * from final

-- One row per side of a sale: the buyer's row and the seller's row. A wallet's purchases are its 'buyer'
-- rows, its sales its 'seller' rows. The marketplace takes the fee and the royalty out of the price, so the
-- seller bears them (seller_proceeds = price - fee - royalty); the buyer pays the price.
--
-- A view, like the other intermediate steps: doubling the sales costs a reader less than storing the
-- doubled rows (a table of them took 12 s of the benchmark's 480 s full build to write); readers' filters
-- on block_timestamp reach int_nft_sales_deduplicated, stored by day.

with

sales as (

    select * from {{ ref('int_nft_sales_deduplicated') }}

),

roles as (

    select 'buyer' as role
    union all
    select 'seller' as role

),

both_sides as (

    select
        roles.role,
        case when roles.role = 'buyer' then sales.buyer_address else sales.seller_address end as wallet,
        case when roles.role = 'buyer' then sales.seller_address else sales.buyer_address end
            as counterparty_address,
        sales.*
    from sales
    cross join roles

),

final as (

    select
        chain_id,
        wallet,
        role,
        counterparty_address,
        block_number,
        block_timestamp,
        block_date,
        transaction_hash,
        log_index,
        data_source,
        marketplace_address,
        collection_address,
        token_id,
        amount,
        currency_address,
        currency_kind,
        price,
        fee,
        royalty,
        seller_proceeds,
        price_wei,
        fee_wei,
        royalty_wei,
        seller_proceeds_wei
    from both_sides

)

select * from final

with

source as (

    select * from {{ source('raw', 'nft_sales') }}

),

renamed as (

    select
        chain_id,
        block_number,
        block_timestamp,
        cast(block_timestamp as date) as block_date,
        transaction_hash,
        log_index,
        source as data_source,
        marketplace_address,
        collection_address,
        token_id,
        {{ uint256_to_numeric('amount') }} as amount,
        amount as amount_text,
        seller_address,
        buyer_address,
        currency_address,
        currency_symbol,
        {{ uint256_to_numeric('price') }} as price,
        price as price_text,
        price_double,
        {{ uint256_to_numeric('fee') }} as fee,
        fee as fee_text,
        fee_double,
        {{ uint256_to_numeric('royalty') }} as royalty,
        royalty as royalty_text,
        royalty_double,
        token_standard

    from source

)

select * from renamed

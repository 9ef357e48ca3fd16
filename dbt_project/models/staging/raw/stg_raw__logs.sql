with

source as (

    select * from {{ source('raw', 'logs') }}

),

renamed as (

    select
        chain_id,
        block_number,
        block_hash,
        block_timestamp,
        cast(block_timestamp as date) as block_date,
        transaction_hash,
        transaction_index,
        log_index,
        address as contract_address,
        topic0,
        topic1,
        topic2,
        topic3,
        data

    from source

)

select * from renamed

with

source as (

    select * from {{ source('raw', 'blocks') }}

),

renamed as (

    select
        chain_id,
        block_number,
        block_hash,
        parent_hash,
        {{ adapter.quote('timestamp') }} as block_timestamp,
        cast({{ adapter.quote('timestamp') }} as date) as block_date,
        miner as miner_address,
        gas_limit,
        gas_used,
        cast(base_fee_per_gas as {{ wei_type() }}) as base_fee_per_gas_wei,
        transaction_count,
        size as size_bytes,
        extra_data

    from source

)

select * from renamed

with

source as (

    select * from {{ source('raw', 'token_transfers') }}

),

renamed as (

    select
        chain_id,
        block_number,
        block_timestamp,
        cast(block_timestamp as date) as block_date,
        transaction_hash,
        log_index,
        batch_index,
        token_standard,
        contract_address,
        operator_address,
        from_address,
        to_address,
        token_id,
        {{ uint256_to_numeric('amount') }} as amount,
        amount as amount_text,
        amount_double,
        from_address = '{{ var("zero_address") }}' as is_mint,
        to_address = '{{ var("zero_address") }}' as is_burn

    from source

)

select * from renamed

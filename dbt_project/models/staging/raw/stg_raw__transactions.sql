with

source as (

    select * from {{ source('raw', 'transactions') }}

),

renamed as (

    select
        chain_id,
        transaction_hash,
        block_number,
        block_hash,
        block_timestamp,
        cast(block_timestamp as date) as block_date,
        transaction_index,
        nonce,
        from_address,
        to_address,
        cast(value as {{ wei_type() }}) as value_wei,
        input as input_data,
        transaction_type,
        gas_limit,
        gas_used,
        cumulative_gas_used,
        cast(gas_price as {{ wei_type() }}) as gas_price_wei,
        cast(max_fee_per_gas as {{ wei_type() }}) as max_fee_per_gas_wei,
        cast(max_priority_fee_per_gas as {{ wei_type() }}) as max_priority_fee_per_gas_wei,
        cast(effective_gas_price as {{ wei_type() }}) as effective_gas_price_wei,
        -- what the sender paid for gas, exact: charged whether the transaction succeeds or reverts
        cast(gas_used as {{ wei_type() }})
        * cast(effective_gas_price as {{ wei_type() }}) as gas_fee_wei,
        contract_address as created_contract_address,
        success as is_success

    from source

)

select * from renamed

with

source as (

    select * from {{ source('raw', 'addresses') }}

),

renamed as (

    select
        chain_id,
        address,
        has_code as is_contract,
        checked_at_block

    from source

)

select * from renamed

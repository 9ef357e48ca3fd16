with

source as (

    select * from {{ source('raw', 'extract_checkpoints') }}

),

renamed as (

    select
        chain_id,
        last_block,
        last_block_hash,
        updated_at

    from source

)

select * from renamed

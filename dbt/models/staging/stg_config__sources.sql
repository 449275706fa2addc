with source as (
    select * from {{ source('config', 'sources') }}
),

renamed as (
    select
        network,
        source,
        kind,
        chain,
        chain_id,
        address,
        start_block,
        token,
        answer_decimals
    from source
)

select * from renamed

with source as (
    select * from {{ source('config', 'source_tokens') }}
),

renamed as (
    select
        network,
        source,
        chain_id,
        token
    from source
)

select * from renamed

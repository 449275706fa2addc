with source as (
    select * from {{ source('config', 'networks') }}
),

renamed as (
    select
        network,
        display_name,
        devnet,
        description,
        chains
    from source
)

select * from renamed

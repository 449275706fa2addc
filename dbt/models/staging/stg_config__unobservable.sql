with source as (
    select * from {{ source('config', 'unobservable') }}
),

renamed as (
    select
        network,
        label,
        reason
    from source
)

select * from renamed

with source as (
    select * from {{ source('config', 'network_measures') }}
),

renamed as (
    select
        network,
        onchain_measure,
        offchain,
        differences,
        why_they_differ
    from source
)

select * from renamed

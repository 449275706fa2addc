with source as (
    select * from {{ source('audit', 'lake_files') }}
),

renamed as (
    select
        path,
        sha256,
        dataset,
        network,
        chain_id,
        start_block,
        end_block,
        row_count,
        size_bytes,
        lake_root
    from source
)

select * from renamed

with source as (
    select * from {{ source('lake', 'tao_events') }}
),

renamed as (
    select
        {{ lake_event_columns() }},
        extrinsic_index,
        event_index,
        spec_version,
        pallet,
        event_name,
        netuid,
        account,
        {{ amount_columns('amount') }},
        {{ amount_columns('tip') }},
        {{ amount_columns('min_lock') }},
        lake_file
    from source
)

select * from renamed

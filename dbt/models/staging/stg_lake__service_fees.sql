with source as (
    select * from {{ source('raw', 'service_fees') }}
),

renamed as (
    select
        {{ lake_event_columns() }},
        developer,
        nonce,
        {{ amount_columns('amount') }},
        lake_file
    from source
)

select * from renamed

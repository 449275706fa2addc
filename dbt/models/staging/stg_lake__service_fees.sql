with source as (
    select * from {{ source('lake', 'service_fees') }}
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

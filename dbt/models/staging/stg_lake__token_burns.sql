with source as (
    select * from {{ source('lake', 'token_burns') }}
),

renamed as (
    select
        {{ lake_event_columns() }},
        from_address,
        to_address,
        {{ amount_columns('amount') }},
        lake_file
    from source
)

select * from renamed

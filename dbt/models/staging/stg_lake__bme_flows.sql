-- Akash node v2.0.0+: AKT into the BME module account (akt_burned) and out of it
-- (akt_reminted); their difference is the net AKT burn (docs/readers.md).
with source as (
    select * from {{ source('lake', 'bme_flows') }}
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

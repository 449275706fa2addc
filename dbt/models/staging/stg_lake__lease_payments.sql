with source as (
    select * from {{ source('lake', 'lease_payments') }}
),

renamed as (
    select
        {{ lake_event_columns() }},
        lease_id,
        tenant,
        provider,
        {{ exact_amount('price_per_block') }} as price_per_block_raw,
        {{ amount_columns('amount') }},
        {{ amount_columns('take_amount') }},
        lake_file
    from source
)

select * from renamed

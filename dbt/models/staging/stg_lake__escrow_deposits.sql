-- Akash: transfers into the escrow module account (who funded whose escrow account); the
-- reader classifies refunds to depositors with them (docs/readers.md). Not revenue.
with source as (
    select * from {{ source('lake', 'escrow_deposits') }}
),

renamed as (
    select
        {{ lake_event_columns() }},
        owner,
        escrow_account,
        depositor,
        {{ amount_columns('amount') }},
        lake_file
    from source
)

select * from renamed

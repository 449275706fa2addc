with source as (
    select * from {{ source('config', 'user_prices') }}
),

renamed as (
    select
        price_date,
        token,
        price_usd,
        source_file,
        line
    from source
)

select * from renamed

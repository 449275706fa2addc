with source as (
    select * from {{ source('config', 'tokens') }}
),

renamed as (
    select
        token,
        symbol,
        decimals,
        chain,
        chain_id,
        address,
        stablecoin,
        coingecko_id
    from source
)

select * from renamed

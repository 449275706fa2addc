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
        coingecko_id,
        usd_peg_from_block
    from source
)

select * from renamed

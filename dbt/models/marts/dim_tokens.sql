with tokens as (
    select * from {{ ref('stg_config__tokens') }}
),

feeds as (
    select token, string_agg(network || '/' || source, ',' order by network, source) as price_feeds
    from {{ ref('stg_config__sources') }}
    where kind = 'price_feed'
    group by token
)

select
    tokens.token,
    tokens.symbol,
    tokens.decimals,
    tokens.chain,
    tokens.chain_id,
    tokens.address,
    tokens.stablecoin,
    tokens.coingecko_id,
    feeds.price_feeds
from tokens
left join feeds on tokens.token = feeds.token
order by tokens.token

select
    prices.token,
    tokens.symbol as token_symbol,
    prices.price_date,
    prices.price_usd,
    prices.price_source,
    case
        when prices.price_source = 'user_csv' then 'csv'
        when prices.price_source in ('stablecoin', 'peg') then 'peg'
        when prices.price_source like 'onchain%' then 'feed'
    end as price_origin,
    prices.price_feed,
    prices.price_feed_block_number,
    prices.price_age_days,
    prices.price_file
from {{ ref('int_token_prices_daily') }} as prices
inner join {{ ref('stg_config__tokens') }} as tokens on prices.token = tokens.token
order by prices.token, prices.price_date

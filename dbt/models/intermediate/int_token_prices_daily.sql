-- One USD price per configured token and UTC day, from the first day of any event or price to
-- the last. Precedence (first that applies):
--   1. user_csv              the user's CSV has a price for that token and day
--   2. stablecoin            the config marks the token stablecoin: 1 USD
--   2b. peg                  the config pegs the token at 1 USD from a block of its chain
--                            (usd_peg_from_block): from the day of the first lake block at or
--                            after it (the token's rows only exist from then on)
--   3. onchain_feed          the last feed update of that day (by block time, block, log)
--   4. onchain_feed_carried  the last earlier update, at most var price_max_staleness_days old
--   5. missing               no price: price_usd NULL, never zero
with tokens as (
    select * from {{ ref('stg_config__tokens') }}
),

-- The day a peg starts: the first block of the token's chain in the lake at or after its
-- peg block (lake blocks are chunk boundaries and blocks holding rows).
pegs as (
    select
        tokens.token,
        min(cast({{ utc_time('blocks.block_timestamp') }} as date)) as peg_date
    from tokens
    inner join {{ source('lake', 'blocks') }} as blocks
        on blocks.chain_id = tokens.chain_id
        and blocks.block_number >= tokens.usd_peg_from_block
    where tokens.usd_peg_from_block is not null
    group by tokens.token
),

feeds as (
    select network, source, answer_decimals
    from {{ ref('stg_config__sources') }}
    where kind = 'price_feed'
),

updates as (
    select
        prices.token,
        cast(prices.block_time as date) as price_date,
        prices.network,
        prices.source,
        prices.block_number,
        prices.log_index,
        prices.block_timestamp,
        {{ to_token_amount('prices.answer_raw', 'feeds.answer_decimals') }} as price_usd
    from {{ ref('stg_lake__token_prices') }} as prices
    inner join feeds
        on prices.network = feeds.network and prices.source = feeds.source
    -- a zero or negative answer is a broken feed, not a price
    where prices.answer_raw > 0
),

onchain_daily as (
    select *
    from updates
    qualify row_number() over (
        partition by token, price_date
        order by block_timestamp desc, network desc, source desc, block_number desc,
            log_index desc
    ) = 1
),

user_prices as (
    select * from {{ ref('stg_config__user_prices') }}
),

days as (
    select cast(block_time as date) as d from {{ ref('int_amounts_unpivoted') }}
    union all
    select price_date from updates
    union all
    select price_date from user_prices
),

bounds as (
    select min(d) as first_day, max(d) as last_day from days
),

spine as (
    select
        tokens.token,
        tokens.stablecoin,
        cast(unnest(generate_series(
            cast(bounds.first_day as timestamp), cast(bounds.last_day as timestamp),
            interval 1 day)) as date) as price_date
    from tokens
    cross join bounds
    where bounds.first_day is not null
),

with_feed as (
    select
        spine.token,
        spine.stablecoin,
        spine.price_date,
        coalesce(spine.price_date >= pegs.peg_date, false) as pegged,
        onchain_daily.price_usd as feed_price_usd,
        onchain_daily.price_date as feed_price_date,
        onchain_daily.network || '/' || onchain_daily.source as feed,
        onchain_daily.block_number as feed_block_number
    from spine
    left join pegs on spine.token = pegs.token
    asof left join onchain_daily
        on spine.token = onchain_daily.token
        and spine.price_date >= onchain_daily.price_date
),

resolved as (
    select
        with_feed.token,
        with_feed.price_date,
        case
            when user_prices.price_usd is not null then 'user_csv'
            when with_feed.stablecoin then 'stablecoin'
            when with_feed.pegged then 'peg'
            when with_feed.feed_price_date = with_feed.price_date then 'onchain_feed'
            when with_feed.price_date - with_feed.feed_price_date
                <= {{ var('price_max_staleness_days') }} then 'onchain_feed_carried'
            else 'missing'
        end as price_source,
        with_feed.feed_price_usd,
        with_feed.feed_price_date,
        with_feed.feed,
        with_feed.feed_block_number,
        user_prices.price_usd as user_price_usd,
        user_prices.source_file as user_price_file
    from with_feed
    left join user_prices
        on with_feed.token = user_prices.token and with_feed.price_date = user_prices.price_date
)

select
    token,
    price_date,
    cast(case price_source
        when 'user_csv' then user_price_usd
        when 'stablecoin' then 1
        when 'peg' then 1
        when 'onchain_feed' then feed_price_usd
        when 'onchain_feed_carried' then feed_price_usd
    end as decimal(38, 18)) as price_usd,
    price_source,
    case when price_source like 'onchain%' then feed end as price_feed,
    case when price_source like 'onchain%' then feed_block_number end as price_feed_block_number,
    case when price_source like 'onchain%' then price_date - feed_price_date end as price_age_days,
    case when price_source = 'user_csv' then user_price_file end as price_file
from resolved

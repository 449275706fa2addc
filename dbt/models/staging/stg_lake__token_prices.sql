with source as (
    select * from {{ source('lake', 'token_prices') }}
),

renamed as (
    select
        network,
        chain_id,
        source,
        token,
        address as feed_address,
        block_number,
        block_hash,
        block_timestamp,
        {{ utc_time('block_timestamp') }} as block_time,
        transaction_hash,
        log_index,
        {{ exact_amount('answer') }} as answer_raw,
        {{ amount_overflow('answer') }} as answer_overflow,
        {{ exact_amount('round_id') }} as round_id,
        updated_at,
        lake_file
    from source
)

select * from renamed

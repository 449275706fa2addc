with source as (
    select * from {{ source('raw', 'service_fees') }}
),

renamed as (
    select
        network,
        chain_id,
        source,
        token,
        address as contract_address,
        event,
        block_number,
        block_hash,
        block_timestamp,
        {{ utc_time('block_timestamp') }} as block_time,
        transaction_hash,
        transaction_index,
        log_index,
        developer,
        nonce,
        {{ exact_amount('amount') }} as amount_raw,
        amount_str,
        {{ amount_overflow('amount') }} as amount_overflow,
        lake_file
    from source
)

select * from renamed

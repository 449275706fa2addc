with source as (
    select * from {{ source('raw', 'lease_payments') }}
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
        lease_id,
        tenant,
        provider,
        {{ exact_amount('price_per_block') }} as price_per_block_raw,
        {{ exact_amount('amount') }} as amount_raw,
        amount_str,
        {{ amount_overflow('amount') }} as amount_overflow,
        {{ exact_amount('take_amount') }} as take_amount_raw,
        take_amount_str,
        {{ amount_overflow('take_amount') }} as take_amount_overflow,
        lake_file
    from source
)

select * from renamed

with source as (
    select * from {{ source('config', 'revenue_rules') }}
),

renamed as (
    select
        rule_id,
        network,
        source,
        chain_id,
        dataset,
        event,
        field,
        label,
        share_numerator,
        share_denominator,
        share_text,
        split_numerator,
        split_denominator,
        remainder_to,
        token,
        note,
        spec_from,
        spec_to
    from source
)

select * from renamed

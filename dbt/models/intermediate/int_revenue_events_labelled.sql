-- Applies the config's revenue rules: each matching (event, field) gets one row per label with
-- amount_raw = event amount x share_numerator / share_denominator, rounded toward zero to a
-- whole base unit per event (HUGEINT `//` truncates toward zero, so a deposit and an equal
-- withdrawal with shares +s and -s cancel exactly). The dropped fraction of a base unit is
-- share_remainder / share_denominator and is kept for inspection.
with amounts as (
    select * from {{ ref('int_amounts_unpivoted') }}
),

rules as (
    select * from {{ ref('stg_config__revenue_rules') }}
),

labelled as (
    select
        amounts.network,
        amounts.chain_id,
        amounts.source,
        amounts.dataset,
        amounts.event,
        amounts.field,
        rules.rule_id,
        rules.label,
        amounts.token,
        amounts.block_number,
        amounts.block_hash,
        amounts.block_time,
        amounts.transaction_hash,
        amounts.transaction_index,
        amounts.log_index,
        amounts.amount_raw as event_amount_raw,
        rules.share_numerator,
        rules.share_denominator,
        (amounts.amount_raw * rules.share_numerator) // rules.share_denominator as amount_raw,
        (amounts.amount_raw * rules.share_numerator) % rules.share_denominator as share_remainder,
        amounts.amount_overflow,
        amounts.lake_file
    from amounts
    inner join rules
        on amounts.network = rules.network
        and amounts.source = rules.source
        and amounts.chain_id = rules.chain_id
        and amounts.event = rules.event
        and amounts.field = rules.field
        -- Substrate rules cover a range of runtime spec versions; other rows have none.
        and coalesce(amounts.spec_version, 0) >= coalesce(rules.spec_from, 0)
        and (rules.spec_to is null or coalesce(amounts.spec_version, 0) <= rules.spec_to)
)

select * from labelled

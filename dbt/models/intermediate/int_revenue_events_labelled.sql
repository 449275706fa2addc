-- Applies the config's revenue rules: each matching (event, field) gets one row per label of
-- the rule, in exact base units, so that every base unit of fees lands in a label:
--   * truncated_raw = event amount x share_numerator / share_denominator, truncated toward
--     zero (HUGEINT `//`); share_remainder (the `%`) keeps what truncation dropped;
--   * the rule's split labels (supply_side_revenue, protocol_revenue, holders_revenue) divide
--     split_total_raw = event amount x split share (their shares' sum), truncated toward zero;
--     the base units their truncated parts leave over go to the rule's remainder_to label
--     (remainder_raw); every other row's remainder_raw is 0;
--   * amount_raw = truncated_raw + remainder_raw.
-- The configuration makes the fees share equal the split share when every label is observable
-- (depinrev.config), so per event fees = supply_side + protocol + holders exactly. Truncation
-- toward zero is odd (trunc(-x) = -trunc(x)), so a deposit and an equal withdrawal with shares
-- +s and -s give opposite amounts, remainders included, and cancel exactly.
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
        (amounts.amount_raw * rules.share_numerator) // rules.share_denominator as truncated_raw,
        (amounts.amount_raw * rules.share_numerator) % rules.share_denominator as share_remainder,
        (amounts.amount_raw * rules.split_numerator) // rules.split_denominator
            as split_total_raw,
        rules.remainder_to,
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
),

-- Each rule's split shares (every label but fees: supply_side_revenue, protocol_revenue,
-- holders_revenue) as columns of one row, so that a row computes its own event's leftover
-- base units from its own amount: no window over the labels of each event, which held every
-- labelled row of the lake at once (gigabytes on a 10M-event build).
rule_splits as (
    select
        rule_id,
        {% for l in ['supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
        any_value(share_numerator) filter (where label = '{{ l }}') as {{ l }}_numerator,
        any_value(share_denominator) filter (where label = '{{ l }}') as {{ l }}_denominator,
        {% endfor %}
        count(*) filter (where label not in (
            'fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'
        )) as other_labels
    from rules
    group by rule_id
),

allocated as (
    select
        labelled.*,
        case when labelled.label = labelled.remainder_to then
            labelled.split_total_raw
            {% for l in ['supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
            - coalesce((labelled.event_amount_raw * rule_splits.{{ l }}_numerator)
                // rule_splits.{{ l }}_denominator, 0)
            {% endfor %}
            -- a label outside the four would be left out of the sum: make it fail loudly
            + case when rule_splits.other_labels > 0 then null else 0 end
        else 0 end as remainder_raw
    from labelled
    inner join rule_splits on labelled.rule_id = rule_splits.rule_id
)

select
    network,
    chain_id,
    source,
    dataset,
    event,
    field,
    rule_id,
    label,
    token,
    block_number,
    block_hash,
    block_time,
    transaction_hash,
    transaction_index,
    log_index,
    event_amount_raw,
    share_numerator,
    share_denominator,
    truncated_raw + remainder_raw as amount_raw,
    share_remainder,
    remainder_to,
    remainder_raw,
    amount_overflow,
    lake_file
from allocated

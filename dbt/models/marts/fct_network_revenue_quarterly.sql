-- One row per network, UTC quarter and revenue token; tokens are those the network's revenue
-- rules' sources can carry (config.source_tokens). A quarter appears when it has revenue
-- events, or, without any, when the audit found it complete (ended, final, indexed from its first block to its last: an audited zero)
-- or failed / errored (a failure stays visible). Quarters the chain has not finished, or that
-- the network's indexed history only begins inside, would show zeros that are not figures:
-- they are left out (audit.quarter_audits still lists them). Audit columns come from
-- audit.quarter_audits ('not_audited' when the build ran without the chain audit). A figure the
-- network declares unobservable is NULL (never an audited 0), with unobservable_figures and
-- unobservable_reason.
{% set labels = ['fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
-- the days' figures (int_revenue_daily_totals): an event has one day and one quarter, so the
-- days' sums and event counts add up to the quarter's
with days as (
    select * from {{ ref('int_revenue_daily_totals') }}
),

audits as (
    select * from {{ ref('stg_audit__quarter_audits') }}
),

-- The tokens a network's rules can yield: each rule's source's tokens (an Akash escrow source
-- pays out in several denoms, each row carrying its own token), plus any token an event
-- actually carries, so revenue is never dropped from the table for want of a spine row.
network_tokens as (
    select distinct rules.network, st.token
    from {{ ref('stg_config__revenue_rules') }} as rules
    inner join {{ ref('stg_config__source_tokens') }} as st
        on rules.network = st.network and rules.source = st.source
    union
    select distinct network, token from days
),

network_quarters as (
    select network, quarter from audits
    where quarter_completeness = 'complete' or audit_status in ('fail', 'error')
    union
    select distinct network, quarter from days
),

spine as (
    select network_quarters.network, network_quarters.quarter, network_tokens.token
    from network_quarters
    inner join network_tokens on network_quarters.network = network_tokens.network
),

totals as (
    select
        network,
        quarter,
        token,
        {% for l in labels %}
        sum({{ l }}_raw) as {{ l }}_raw,
        sum({{ l }}_usd_priced) as {{ l }}_usd_priced,
        {% endfor %}
        cast(sum(event_count) as bigint) as event_count,
        cast(sum(labelled_row_count) as bigint) as labelled_row_count,
        cast(sum(unpriced_row_count) as bigint) as unpriced_row_count,
        min(first_block) as first_event_block,
        max(last_block) as last_event_block
    from days
    group by network, quarter, token
),

joined as (
    select
        spine.network,
        spine.quarter,
        spine.token,
        tokens.symbol as token_symbol,
        tokens.decimals,
        {% for l in labels %}
        coalesce(totals.{{ l }}_raw, 0) as {{ l }}_raw,
        coalesce(totals.{{ l }}_usd_priced, 0) as {{ l }}_usd_priced,
        {% endfor %}
        coalesce(totals.event_count, 0) as event_count,
        coalesce(totals.labelled_row_count, 0) as labelled_row_count,
        coalesce(totals.unpriced_row_count, 0) as unpriced_row_count,
        totals.first_event_block,
        totals.last_event_block,
        audits.block_ranges,
        coalesce(audits.coverage_status, 'not_audited') as coverage_status,
        coalesce(audits.reconciliation_status, 'not_audited') as reconciliation_status,
        coalesce(audits.audit_status, 'not_audited') as audit_status,
        coalesce(audits.quarter_completeness, 'not_audited') as quarter_completeness,
        audits.issues as audit_issues,
        coalesce(unobservable.fees_unobservable, false) as fees_unobservable,
        coalesce(unobservable.supply_side_revenue_unobservable, false) as supply_side_revenue_unobservable,
        coalesce(unobservable.revenue_unobservable, false) as revenue_unobservable,
        coalesce(unobservable.protocol_revenue_unobservable, false) as protocol_revenue_unobservable,
        coalesce(unobservable.holders_revenue_unobservable, false) as holders_revenue_unobservable,
        unobservable.unobservable_figures,
        unobservable.unobservable_reason
    from spine
    inner join {{ ref('stg_config__tokens') }} as tokens on spine.token = tokens.token
    left join totals
        on spine.network = totals.network
        and spine.quarter = totals.quarter
        and spine.token = totals.token
    left join audits on spine.network = audits.network and spine.quarter = audits.quarter
    left join {{ ref('int_network_unobservable') }} as unobservable
        on spine.network = unobservable.network
)

select
    network,
    quarter,
    token,
    token_symbol,
    decimals,
    {{ revenue_figure_columns(labels) }}
    event_count,
    labelled_row_count,
    unpriced_row_count,
    first_event_block,
    last_event_block,
    block_ranges,
    coverage_status,
    reconciliation_status,
    audit_status,
    quarter_completeness,
    audit_issues
from joined
order by network, quarter, token

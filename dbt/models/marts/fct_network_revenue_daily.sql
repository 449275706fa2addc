-- Labelled amounts summed per network, UTC day and token (days with revenue events only).
-- USD figures are NULL when any contributing row has no price (unpriced_row_count > 0): a
-- partial USD sum would look complete.
{% set labels = ['fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
with events as (
    select * from {{ ref('fct_revenue_events') }}
),

daily as (
    select
        network,
        block_date as revenue_date,
        any_value(quarter) as quarter,
        token,
        any_value(token_symbol) as token_symbol,
        any_value(decimals) as decimals,
        {% for l in labels %}
        coalesce(sum(amount_raw) filter (where label = '{{ l }}'), 0) as {{ l }}_raw,
        coalesce(sum(usd_value) filter (where label = '{{ l }}'), 0) as {{ l }}_usd_priced,
        {% endfor %}
        count(distinct (chain_id, transaction_hash, log_index)) as event_count,
        count(*) as labelled_row_count,
        count(*) filter (where price_usd is null) as unpriced_row_count,
        min(block_number) as first_block,
        max(block_number) as last_block
    from events
    group by network, block_date, token
)

select
    network,
    revenue_date,
    quarter,
    token,
    token_symbol,
    decimals,
    fees_raw,
    supply_side_revenue_raw,
    fees_raw - supply_side_revenue_raw as revenue_raw,
    protocol_revenue_raw,
    holders_revenue_raw,
    {% for l in labels %}
    {{ to_token_amount(l ~ '_raw', 'decimals') }} as {{ l }},
    {% if l == 'supply_side_revenue' %}
    {{ to_token_amount('fees_raw - supply_side_revenue_raw', 'decimals') }} as revenue,
    {% endif %}
    {% endfor %}
    {% for l in labels %}
    case when unpriced_row_count = 0 then {{ l }}_usd_priced end as {{ l }}_usd,
    {% if l == 'supply_side_revenue' %}
    case when unpriced_row_count = 0
        then fees_usd_priced - supply_side_revenue_usd_priced end as revenue_usd,
    {% endif %}
    {% endfor %}
    event_count,
    labelled_row_count,
    unpriced_row_count,
    first_block,
    last_block
from daily
order by network, revenue_date, token

-- Labelled amounts per network, UTC day and token, summed from the events
-- (int_revenue_per_event): the figures of fct_network_revenue_daily before its unobservable and
-- unpriced rules, and what fct_network_revenue_quarterly adds up by quarter (an event has one
-- day and one quarter, so the days' sums and event counts add up to the quarter's). A table:
-- a few rows a network and day, read by both marts, while the one pass over the labelled rows
-- that makes it is the build's heaviest statement after fct_revenue_events.
{{ config(materialized='table') }}
{% set labels = ['fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
select
    network,
    block_date as revenue_date,
    any_value(quarter) as quarter,
    token,
    any_value(token_symbol) as token_symbol,
    any_value(decimals) as decimals,
    {% for l in labels %}
    coalesce(sum({{ l }}_raw), 0) as {{ l }}_raw,
    coalesce(sum({{ l }}_usd_priced), 0) as {{ l }}_usd_priced,
    {% endfor %}
    count(*) as event_count,
    cast(sum(labelled_row_count) as bigint) as labelled_row_count,
    cast(sum(unpriced_row_count) as bigint) as unpriced_row_count,
    min(block_number) as first_block,
    max(block_number) as last_block
from {{ ref('int_revenue_per_event') }}
group by network, block_date, token

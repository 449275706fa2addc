-- One row per revenue event and token: its labelled amounts summed, the grain both revenue marts
-- add up (fct_network_revenue_daily by day, fct_network_revenue_quarterly by quarter; an event
-- has one block, so one day and one quarter). A table, so the marts share one pass over the
-- labelled rows (158M on a Bittensor year) instead of each grouping them again.
--
-- An event is (chain_id, block_number, transaction_hash, log_index): a block-level event of a
-- Cosmos or Substrate chain has its phase ('end_block', 'initialization', ...) as its
-- transaction_hash and its position in the block as log_index, so the same pair recurs in
-- every block that has such an event; the block number tells them apart.
{{ config(materialized='table') }}
{% set labels = ['fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
select
    network,
    chain_id,
    block_number,
    transaction_hash,
    log_index,
    token,
    any_value(block_date) as block_date,
    any_value(quarter) as quarter,
    any_value(token_symbol) as token_symbol,
    any_value(decimals) as decimals,
    {% for l in labels %}
    sum(amount_raw) filter (where label = '{{ l }}') as {{ l }}_raw,
    sum(usd_value) filter (where label = '{{ l }}') as {{ l }}_usd_priced,
    {% endfor %}
    count(*) as labelled_row_count,
    count(*) filter (where price_usd is null) as unpriced_row_count
from {{ ref('fct_revenue_events') }}
group by network, chain_id, block_number, transaction_hash, log_index, token

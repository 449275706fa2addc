-- One row per revenue event and token: its labelled amounts summed, the grain the revenue marts
-- add up (int_revenue_daily_totals by day, and from those days the quarters: an event has one
-- block, so one day and one quarter). A view: only int_revenue_daily_totals reads it, in one
-- pass over the labelled rows (158M on a Bittensor year; as a table it took 109 s to write).
--
-- An event is (chain_id, block_number, transaction_hash, log_index): a block-level event of a
-- Cosmos or Substrate chain has its phase ('end_block', 'initialization', ...) as its
-- transaction_hash and its position in the block as log_index, so the same pair recurs in
-- every block that has such an event; the block number tells them apart.
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

-- Labelled amounts summed per network, UTC day and token (days with revenue events only).
-- USD figures are NULL when any contributing row has no price (unpriced_row_count > 0): a
-- partial USD sum would look complete. A figure the network declares unobservable (config
-- `unobservable`, int_network_unobservable) is NULL, with unobservable_figures and
-- unobservable_reason saying which and why.
{% set labels = ['fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
with daily as (
    select * from {{ ref('int_revenue_daily_totals') }}
),

unobservable as (
    select * from {{ ref('int_network_unobservable') }}
),

flagged as (
    select
        daily.*,
        coalesce(unobservable.fees_unobservable, false) as fees_unobservable,
        coalesce(unobservable.supply_side_revenue_unobservable, false) as supply_side_revenue_unobservable,
        coalesce(unobservable.revenue_unobservable, false) as revenue_unobservable,
        coalesce(unobservable.protocol_revenue_unobservable, false) as protocol_revenue_unobservable,
        coalesce(unobservable.holders_revenue_unobservable, false) as holders_revenue_unobservable,
        unobservable.unobservable_figures,
        unobservable.unobservable_reason
    from daily
    left join unobservable on daily.network = unobservable.network
)

select
    network,
    revenue_date,
    quarter,
    token,
    token_symbol,
    decimals,
    {{ revenue_figure_columns(labels) }}
    event_count,
    labelled_row_count,
    unpriced_row_count,
    first_block,
    last_block
from flagged
order by network, revenue_date, token

-- Every reported figure beside the on-chain figure of the same network, period and unit.
--   quarter / month / year / range: the period's indexed figure (comparison 'same_period');
--   annualized as of a date: the last complete quarter before it x 4 ('last_quarter_x4') and
--   the four quarters before it summed ('trailing_four_quarters').
-- The on-chain figure is the label named by the figure's compare_with, summed over the daily
-- mart: in USD (NULL if any contributing row is unpriced) or in the tokens whose symbol is the
-- unit. Its audit status is the worst of the quarters the window touches. why_they_differ comes
-- from the network's declared measure (config `measure`), never from prose in SQL.
{% set labels = ['fees', 'supply_side_revenue', 'revenue', 'protocol_revenue', 'holders_revenue'] %}
with figures as (
    select
        *,
        -- the figure's key (unique in stg_reported__figures)
        concat_ws('|', network, metric, period, unit, basis, source) as fig
    from {{ ref('stg_reported__figures') }}
),

networks as (
    select * from {{ ref('dim_networks') }}
),

measures as (
    select * from {{ ref('stg_config__network_measures') }}
),

daily as (
    select * from {{ ref('fct_network_revenue_daily') }}
),

audits as (
    select * from {{ ref('stg_audit__quarter_audits') }}
),

-- Labels a network declares not observable on chain (config `unobservable`); revenue is
-- derived (fees - supply_side_revenue) and unobservable when either is.
unobservable as (
    select network, label, reason from {{ ref('stg_config__unobservable') }}
    union all
    select network, 'revenue', string_agg(reason, '; ' order by label)
    from {{ ref('stg_config__unobservable') }}
    where label in ('fees', 'supply_side_revenue')
    group by network
),

windows as (
    select
        figures.*,
        'same_period' as comparison,
        period_start as window_start,
        period_end as window_end,
        1 as multiplier
    from figures where period_kind <> 'annualized'
    union all
    select
        figures.*,
        'last_quarter_x4',
        cast(date_trunc('quarter', period_end) - interval 3 month as date),
        cast(date_trunc('quarter', period_end) - interval 1 day as date),
        4
    from figures where period_kind = 'annualized'
    union all
    select
        figures.*,
        'trailing_four_quarters',
        cast(date_trunc('quarter', period_end) - interval 12 month as date),
        cast(date_trunc('quarter', period_end) - interval 1 day as date),
        1
    from figures where period_kind = 'annualized'
),

sums as (
    select
        w.fig, w.comparison,
        case any_value(w.compare_with)
            {% for l in labels %}
            when '{{ l }}' then
                case when any_value(w.unit) = 'USD' then sum(d.{{ l }}_usd) else sum(d.{{ l }}) end
            {% endfor %}
        end as window_total,
        coalesce(sum(d.unpriced_row_count), 0) as unpriced_rows,
        count(d.revenue_date) as days_with_events
    from windows as w
    left join daily as d
        on d.network = w.network
        and d.revenue_date between w.window_start and w.window_end
        and (w.unit = 'USD' or d.token_symbol = w.unit)
    group by w.fig, w.comparison
),

window_quarters as (
    select
        w.fig, w.network, w.comparison,
        format('{}Q{}', year(q.qs), quarter(q.qs)) as quarter
    from windows as w,
        lateral (
            select unnest(range(
                cast(date_trunc('quarter', w.window_start) as timestamp),
                cast(w.window_end as timestamp) + interval 1 day,
                interval 3 month)) as qs
        ) as q
),

window_audit as (
    select
        wq.fig, wq.comparison,
        string_agg(wq.quarter || ':' || coalesce(a.audit_status, 'not_indexed'), ', '
            order by wq.quarter) as onchain_quarters,
        case
            when bool_or(a.audit_status = 'fail') then 'fail'
            when bool_or(a.audit_status = 'error') then 'error'
            when bool_or(a.audit_status is null) then 'not_indexed'
            when bool_or(a.audit_status = 'incomplete') then 'incomplete'
            when bool_or(a.audit_status <> 'pass') then 'not_audited'
            else 'pass'
        end as window_status
    from window_quarters as wq
    left join audits as a on a.network = wq.network and a.quarter = wq.quarter
    group by wq.fig, wq.comparison
),

-- Figures of the same network, metric, unit and basis that lie inside a longer one: the
-- quarters of a year, the months of a quarter or of a range. Do they add up?
parts as (
    select
        whole.fig,
        any_value(part.period_kind) as part_kind,
        count(*) as parts_reported,
        sum(part.reported_value) as parts_sum
    from figures as whole
    inner join figures as part
        on part.network = whole.network and part.metric = whole.metric
        and part.unit = whole.unit and part.basis = whole.basis
        and part.period_start >= whole.period_start and part.period_end <= whole.period_end
        and part.period_kind = case whole.period_kind
            when 'year' then 'quarter' when 'quarter' then 'month' when 'range' then 'month' end
    group by whole.fig
),

joined as (
    select
        w.network,
        coalesce(n.devnet, w.basis = 'simulated') as simulated,
        w.period_kind,
        w.period,
        w.period_start,
        w.period_end,
        w.comparison,
        w.window_start,
        w.window_end,
        w.multiplier,
        w.metric,
        w.compare_with,
        w.basis,
        w.unit,
        w.reported_value,
        case
            when n.network is null then 'network_not_configured'
            else wa.window_status
        end as onchain_audit_status,
        wa.onchain_quarters,
        s.window_total,
        s.unpriced_rows,
        s.days_with_events,
        p.part_kind,
        p.parts_reported,
        p.parts_sum,
        case p.part_kind
            when 'quarter' then 4
            else datediff('month', w.period_start, w.period_end) + 1
        end as parts_expected,
        m.onchain_measure,
        m.why_they_differ as measure_reasons,
        u.reason as unobservable_reason,
        w.source,
        w.source_date,
        w.notes,
        w.origin
    from windows as w
    left join networks as n on n.network = w.network
    left join measures as m on m.network = w.network
    left join sums as s on s.fig = w.fig and s.comparison = w.comparison
    left join window_audit as wa on wa.fig = w.fig and wa.comparison = w.comparison
    left join parts as p on p.fig = w.fig
    left join unobservable as u on u.network = w.network and u.label = w.compare_with
),

valued as (
    select
        *,
        case
            when onchain_audit_status in ('network_not_configured', 'not_indexed') then null
            when unobservable_reason is not null then null  -- never 0 for what no chain shows
            when unit = 'USD' and unpriced_rows > 0 then null
            else cast(coalesce(window_total, 0) * multiplier as decimal(38, 6))
        end as onchain_value
    from joined
)

select
    network,
    simulated,
    period_kind,
    period,
    period_start,
    period_end,
    comparison,
    window_start,
    window_end,
    metric,
    compare_with,
    basis,
    unit,
    reported_value,
    onchain_value,
    reported_value - onchain_value as gap,
    case when reported_value <> 0
        then cast(round((reported_value - onchain_value) / reported_value, 6) as decimal(38, 6))
    end as gap_ratio,
    onchain_audit_status,
    case when onchain_audit_status <> 'network_not_configured' then onchain_quarters
    end as onchain_quarters,
    days_with_events,
    unpriced_rows,
    parts_reported,
    parts_sum,
    case
        when parts_reported is null then null
        when parts_reported = parts_expected and parts_sum = reported_value
            then format('agrees with its {} {}s', parts_reported, part_kind)
        when parts_reported = parts_expected
            then format('disagrees: its {} {}s sum to {}, not {}', parts_reported, part_kind,
                parts_sum, reported_value)
        else format('its {} reported {}s sum to {}; the other {} imply {}', parts_reported,
            part_kind, parts_sum, parts_expected - parts_reported, reported_value - parts_sum)
    end as consistency,
    unobservable_reason as onchain_unobservable_reason,
    onchain_measure,
    concat_ws(chr(10),
        case when onchain_audit_status = 'network_not_configured'
            then 'the network is not configured: no on-chain figure' end,
        case when onchain_audit_status = 'not_indexed'
            then 'the chain is not indexed over the whole window' end,
        case when unobservable_reason is not null
            then compare_with || ' is not observable on chain: ' || unobservable_reason end,
        case when comparison = 'last_quarter_x4'
            then 'an annualized figure, compared with the last complete quarter x 4' end,
        case when comparison = 'trailing_four_quarters'
            then 'an annualized figure, compared with the four quarters before it' end,
        measure_reasons
    ) as why_they_differ,
    source,
    source_date,
    notes,
    origin
from valued
order by simulated, network, period_start, metric, basis, source, comparison

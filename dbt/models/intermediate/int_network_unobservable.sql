-- One row per configured network: which revenue figures it declares not observable on chain
-- (config `unobservable`) and why. revenue = fees - supply_side_revenue is unobservable when
-- either term is. The marts show an unobservable figure as NULL with these columns, never 0.
{% set labels = ['fees', 'supply_side_revenue', 'protocol_revenue', 'holders_revenue'] %}
with networks as (
    select network from {{ ref('stg_config__networks') }}
),

declared as (
    select * from {{ ref('stg_config__unobservable') }}
),

flags as (
    select
        networks.network,
        {% for l in labels %}
        coalesce(bool_or(declared.label = '{{ l }}'), false) as {{ l }}_unobservable,
        {% endfor %}
        string_agg(declared.label || ': ' || declared.reason, '; ' order by
            case declared.label
                {% for l in labels %}when '{{ l }}' then {{ loop.index }} {% endfor %}
            end) as unobservable_reason
    from networks
    left join declared on networks.network = declared.network
    group by networks.network
)

select
    network,
    fees_unobservable,
    supply_side_revenue_unobservable,
    fees_unobservable or supply_side_revenue_unobservable as revenue_unobservable,
    protocol_revenue_unobservable,
    holders_revenue_unobservable,
    nullif(concat_ws(',',
        case when fees_unobservable then 'fees' end,
        case when supply_side_revenue_unobservable then 'supply_side_revenue' end,
        case when fees_unobservable or supply_side_revenue_unobservable then 'revenue' end,
        case when protocol_revenue_unobservable then 'protocol_revenue' end,
        case when holders_revenue_unobservable then 'holders_revenue' end
    ), '') as unobservable_figures,
    unobservable_reason
from flags

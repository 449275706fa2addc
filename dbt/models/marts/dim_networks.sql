with networks as (
    select * from {{ ref('stg_config__networks') }}
),

sources as (
    select network, count(*) as source_count,
        string_agg(distinct token, ',' order by token) as tokens
    from {{ ref('stg_config__sources') }}
    group by network
),

rules as (
    select network, count(distinct rule_id) as revenue_rule_count
    from {{ ref('stg_config__revenue_rules') }}
    group by network
)

select
    networks.network,
    networks.display_name,
    networks.devnet,
    networks.description,
    networks.chains,
    coalesce(sources.source_count, 0) as source_count,
    sources.tokens,
    coalesce(rules.revenue_rule_count, 0) as revenue_rule_count
from networks
left join sources on networks.network = sources.network
left join rules on networks.network = rules.network
order by networks.network

-- Every labelled revenue row carries a token its source can produce (config.source_tokens):
-- the source's token, or for an akash_escrow source a token with a denom on its chain. A row
-- whose token is outside that set would be attributed to a token the configuration does not
-- expect for the source; it fails here instead of being summed silently.
select events.network, events.source, events.token, count(*) as rows_with_token
from {{ ref('fct_revenue_events') }} as events
left join {{ ref('stg_config__source_tokens') }} as st
    on events.network = st.network
    and events.source = st.source
    and events.token = st.token
where st.token is null
group by all

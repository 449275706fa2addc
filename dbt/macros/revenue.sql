{#- The figures of a revenue mart row, from its summed *_raw and *_usd_priced columns:
    raw amounts per label with revenue = fees - supply_side_revenue, token amounts, and USD
    (NULL unless every contributing row was priced). Shared by the daily and quarterly marts
    so both state the same figures in the same column order. -#}
{% macro revenue_figure_columns(labels) -%}
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
{%- endmacro %}

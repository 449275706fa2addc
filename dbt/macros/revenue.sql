{#- The figures of a revenue mart row, from its summed *_raw and *_usd_priced columns and the
    network's int_network_unobservable flags: raw amounts per label with revenue = fees -
    supply_side_revenue, token amounts, and USD (NULL unless every contributing row was priced).
    A figure the network declares unobservable is NULL (revenue too when fees or
    supply_side_revenue is), never 0; unobservable_figures and unobservable_reason say which
    and why. Shared by the daily and quarterly marts so both state the same figures in the same
    column order. -#}
{% macro revenue_figure_columns(labels) -%}
    {% for l in labels %}
    case when not {{ l }}_unobservable then {{ l }}_raw end as {{ l }}_raw,
    {% if l == 'supply_side_revenue' %}
    case when not revenue_unobservable
        then fees_raw - supply_side_revenue_raw end as revenue_raw,
    {% endif %}
    {% endfor %}
    {% for l in labels %}
    case when not {{ l }}_unobservable
        then {{ to_token_amount(l ~ '_raw', 'decimals') }} end as {{ l }},
    {% if l == 'supply_side_revenue' %}
    case when not revenue_unobservable
        then {{ to_token_amount('fees_raw - supply_side_revenue_raw', 'decimals') }} end
        as revenue,
    {% endif %}
    {% endfor %}
    {% for l in labels %}
    case when unpriced_row_count = 0 and not {{ l }}_unobservable
        then {{ l }}_usd_priced end as {{ l }}_usd,
    {% if l == 'supply_side_revenue' %}
    case when unpriced_row_count = 0 and not revenue_unobservable
        then fees_usd_priced - supply_side_revenue_usd_priced end as revenue_usd,
    {% endif %}
    {% endfor %}
    unobservable_figures,
    unobservable_reason,
{%- endmacro %}

{#- Per event amount and rule of a labelled events model: the fees row equals the sum of the
    split rows (supply_side_revenue, protocol_revenue, holders_revenue) exactly, i.e. every
    base unit of fees landed in one label. Asserted for rules with a fees row on networks that
    declare no split label unobservable (then the shares are checked to add up at config load);
    a rule without fees (fees unobservable) has nothing to compare. -#}
{% test split_adds_up(model, event_columns, unobservable) %}
select
    {{ event_columns | join(', ') }},
    sum(amount_raw) filter (where label = 'fees') as fees_raw,
    sum(amount_raw) filter (where label <> 'fees') as split_raw
from {{ model }}
where network not in (select network from {{ unobservable }} where label <> 'fees')
group by {{ event_columns | join(', ') }}
having count(*) filter (where label = 'fees') > 0
    and sum(amount_raw) filter (where label = 'fees')
        is distinct from coalesce(sum(amount_raw) filter (where label <> 'fees'), 0)
{% endtest %}

{#- Per event amount and rule of a labelled events model: the fees row equals the sum of the
    split rows (supply_side_revenue, protocol_revenue, holders_revenue) exactly, i.e. every
    base unit of fees landed in one label. Asserted for rules with a fees row on networks that
    declare no split label unobservable (then the shares are checked to add up at config load);
    a rule without fees (fees unobservable) has nothing to compare.

    In two passes, so that it runs within the profile's memory limit on any size (one group-by
    over the key strings ran out of memory at 1GB on the 158M labelled rows of a Bittensor
    year, bench/tao.py): the sums per 64-bit hash of the key (one fixed-width column, which
    DuckDB spills as it needs), then, for the hashes that do not add up, the sums per real key,
    which name the failing events exactly. Sums are additive, so two keys sharing a hash could
    only hide a failure if their errors cancelled to the base unit. -#}
{% test split_adds_up(model, event_columns, unobservable) %}
{%- set cols = event_columns | join(', ') %}
with labelled as (
    select hash({{ cols }}) as key_hash, {{ cols }}, label, amount_raw
    from {{ model }}
    where network not in (select network from {{ unobservable }} where label <> 'fees')
),

failing as (
    select key_hash
    from labelled
    group by key_hash
    having count(*) filter (where label = 'fees') > 0
        and sum(amount_raw) filter (where label = 'fees')
            is distinct from coalesce(sum(amount_raw) filter (where label <> 'fees'), 0)
)

select
    {{ cols }},
    sum(amount_raw) filter (where label = 'fees') as fees_raw,
    sum(amount_raw) filter (where label <> 'fees') as split_raw
from labelled
where key_hash in (select key_hash from failing)
group by {{ cols }}
having count(*) filter (where label = 'fees') > 0
    and sum(amount_raw) filter (where label = 'fees')
        is distinct from coalesce(sum(amount_raw) filter (where label <> 'fees'), 0)
{% endtest %}

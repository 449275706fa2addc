{#- The combination of columns is a key: no two rows share it (NULLs are caught by not_null).

    In two passes, so that it runs within the profile's memory limit on any size: first the
    64-bit hashes of the keys that occur more than once (a group-by on one fixed-width column,
    which DuckDB spills to disk as it needs), then the real keys among those rows only. A
    hash collision between different keys passes the first step and is dropped by the second,
    so the result is exactly the duplicated keys. (One group-by over the key columns, strings
    included, ran out of memory at 1GB on the 86.7M rows of a Bittensor year: bench/tao.py.) -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set cols = combination_of_columns | join(', ') %}
with keyed as (
    select hash({{ cols }}) as key_hash, {{ cols }}
    from {{ model }}
),

repeated as (
    select key_hash from keyed group by key_hash having count(*) > 1
)

select {{ cols }}, count(*) as n_rows
from keyed
where key_hash in (select key_hash from repeated)
group by {{ cols }}
having count(*) > 1
{% endtest %}

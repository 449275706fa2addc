{#- A money identity on a mart row: `total` = the sum of `parts`, exactly, asserted wherever
    every term is known (a figure a network declares unobservable is NULL and skips the row;
    null_exactly_when_unobservable makes sure a NULL is nothing else). A label row lost or
    counted twice between labels breaks it. -#}
{% test sums_to(model, total, parts) %}
select *
from {{ model }}
where {{ total }} is not null
    {%- for p in parts %} and {{ p }} is not null{% endfor %}
    and {{ total }} <> ({{ parts | join(' + ') }})
{% endtest %}

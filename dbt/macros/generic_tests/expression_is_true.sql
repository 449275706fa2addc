{#- Every row satisfies the expression (e.g. a money identity); rows where it is false or NULL
    fail, so a NULL figure cannot pass an identity by accident. Optional `where` filter. -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}

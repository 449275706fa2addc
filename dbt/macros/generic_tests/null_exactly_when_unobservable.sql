{#- A revenue figure is NULL exactly when its network declares it unobservable (the row's
    comma-separated `unobservable_figures` names it) or when `or_when` holds (e.g. an unpriced
    row for a USD figure): never a NULL for a known figure, never a value (or 0) for an unknown
    one. -#}
{% test null_exactly_when_unobservable(model, column_name, figure, or_when=none) %}
select *
from {{ model }}
where ({{ column_name }} is null) <> (
    coalesce(list_contains(string_split(unobservable_figures, ','), '{{ figure }}'), false)
    {%- if or_when %} or coalesce(({{ or_when }}), false){% endif %}
)
{% endtest %}

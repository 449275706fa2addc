{#- Exact on-chain amounts. The lake stores a uint256/int256 as decimal128(38,0) (NULL when it
    does not fit) and always as a decimal string `<col>_str`; we read the string so that no value
    is lost, into HUGEINT (|x| < 1.7e38). A value beyond HUGEINT stays NULL here and is flagged
    by amount_overflow(), which a dbt test and the audit turn into a failure. -#}
{% macro exact_amount(col) -%}
    coalesce(try_cast({{ col }}_str as hugeint), try_cast({{ col }} as hugeint))
{%- endmacro %}

{% macro amount_overflow(col) -%}
    ({{ col }}_str is not null and try_cast({{ col }}_str as hugeint) is null)
{%- endmacro %}

{#- raw / 10^decimals as DECIMAL(38,18), exactly: the decimal point is placed in the digit
    string (a division would go through DOUBLE in DuckDB). decimals above 18 would be rounded,
    so dim_tokens tests decimals <= 18. -#}
{% macro to_token_amount(raw, decimals) -%}
    cast(
        case when {{ raw }} < 0 then '-' else '' end
        || cast(abs({{ raw }}) // cast('1' || repeat('0', {{ decimals }}) as hugeint) as varchar)
        || '.'
        || lpad(
            cast(abs({{ raw }}) % cast('1' || repeat('0', {{ decimals }}) as hugeint) as varchar),
            {{ decimals }}, '0')
        as decimal(38, 18))
{%- endmacro %}

{#- USD value of a token amount: both sides cut to 12 decimals (DECIMAL(38,18) x DECIMAL(38,18)
    would need scale 36 and overflow), the product rounded half-up to 6 decimals. -#}
{% macro usd_value(token_amount, price_usd) -%}
    cast(cast({{ token_amount }} as decimal(38, 12)) * cast({{ price_usd }} as decimal(38, 12))
         as decimal(38, 6))
{%- endmacro %}

{% macro utc_time(unix_seconds) -%}
    make_timestamp(cast({{ unix_seconds }} as bigint) * 1000000)
{%- endmacro %}

{% macro quarter_label(ts) -%}
    (cast(year({{ ts }}) as varchar) || 'Q' || cast(quarter({{ ts }}) as varchar))
{%- endmacro %}

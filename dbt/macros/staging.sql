{#- The columns every lake event dataset shares, as the staging models name them: where the
    event sits on chain (network, chain, block, transaction, log) and which source emitted it. -#}
{% macro lake_event_columns() -%}
        network,
        chain_id,
        source,
        token,
        address as contract_address,
        event,
        block_number,
        block_hash,
        block_timestamp,
        {{ utc_time('block_timestamp') }} as block_time,
        transaction_hash,
        transaction_index,
        log_index
{%- endmacro %}

{#- An exact amount as staging exposes it: raw integer, the lake's decimal string, and the
    overflow flag (see amounts.sql). -#}
{% macro amount_columns(col) -%}
        {{ exact_amount(col) }} as {{ col }}_raw,
        {{ col }}_str,
        {{ amount_overflow(col) }} as {{ col }}_overflow
{%- endmacro %}

{#- fct_revenue_events is built per lake file (its partition). Before an incremental run this
    pre-hook deletes every partition that is stale: its file is gone from the lake or its
    SHA-256 changed (re-indexed after a reorg, rewritten, tampered with), or the daily price of
    one of its rows changed (a new price log, a new user CSV), so the model re-inserts exactly
    those files. Changes of the config or of the models themselves are not partitions: the
    build runs with --full-refresh then (warehouse/build.py, inputs_fingerprint). -#}
{% macro delete_stale_revenue_partitions() -%}
{%- if is_incremental() -%}
delete from {{ this }}
where lake_file in (
    select distinct events.lake_file
    from {{ this }} as events
    left join {{ ref('stg_audit__lake_files') }} as files
        on files.path = events.lake_file
    left join {{ ref('int_token_prices_daily') }} as prices
        on prices.token = events.token and prices.price_date = events.block_date
    where files.sha256 is distinct from events.lake_file_sha256
        or prices.price_usd is distinct from events.price_usd
        or coalesce(prices.price_source, 'missing') is distinct from events.price_source
)
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

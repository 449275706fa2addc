-- Incremental by lake file: a run inserts the rows of the files not in the table yet, after
-- the pre-hook has deleted the stale ones (see macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_revenue_partitions() }}"
) }}

with labelled as (
    select * from {{ ref('int_revenue_events_labelled') }}
    {% if is_incremental() %}
    where lake_file not in (select distinct lake_file from {{ this }})
    {% endif %}
),

files as (
    select path, sha256 from {{ ref('stg_audit__lake_files') }}
),

tokens as (
    select * from {{ ref('stg_config__tokens') }}
),

prices as (
    select * from {{ ref('int_token_prices_daily') }}
),

enriched as (
    select
        labelled.network,
        labelled.chain_id,
        labelled.source,
        labelled.dataset,
        labelled.event,
        labelled.field as amount_field,
        labelled.rule_id,
        labelled.label,
        labelled.block_number,
        labelled.block_hash,
        labelled.block_time,
        cast(labelled.block_time as date) as block_date,
        {{ quarter_label('labelled.block_time') }} as quarter,
        labelled.transaction_hash,
        labelled.transaction_index,
        labelled.log_index,
        labelled.token,
        tokens.symbol as token_symbol,
        tokens.decimals,
        labelled.event_amount_raw,
        labelled.share_numerator,
        labelled.share_denominator,
        labelled.amount_raw,
        labelled.share_remainder,
        labelled.remainder_to,
        labelled.remainder_raw,
        {{ to_token_amount('labelled.amount_raw', 'tokens.decimals') }} as token_amount,
        prices.price_usd,
        coalesce(prices.price_source, 'missing') as price_source,
        labelled.amount_overflow,
        labelled.lake_file,
        files.sha256 as lake_file_sha256
    from labelled
    -- Left joins: a row is never dropped here; one without its file's hash or a configured
    -- token fails the not_null tests of lake_file_sha256, token_symbol and decimals instead.
    left join files on labelled.lake_file = files.path
    left join tokens on labelled.token = tokens.token
    left join prices
        on labelled.token = prices.token
        and cast(labelled.block_time as date) = prices.price_date
)

-- No ORDER BY: sorting every row of a full refresh held them all in memory, and the rows an
-- incremental run appends land after the others anyway; readers order what they read.
select
    *,
    {{ usd_value('token_amount', 'price_usd') }} as usd_value
from enriched

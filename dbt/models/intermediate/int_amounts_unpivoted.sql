-- Every amount a revenue rule can point at, one row per (on-chain event, amount field).
-- The field list mirrors depinrev.config.KIND_EVENTS; lease_closed carries no amount.
{% set common %}
        network, chain_id, source, token, event, block_number, block_hash, block_time,
        transaction_hash, transaction_index, log_index, lake_file
{% endset %}

with burns as (
    select {{ common }}, 'token_burns' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow
    from {{ ref('stg_lake__token_burns') }}
),

mints as (
    select {{ common }}, 'token_mints' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow
    from {{ ref('stg_lake__token_mints') }}
),

service_fees as (
    select {{ common }}, 'service_fees' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow
    from {{ ref('stg_lake__service_fees') }}
),

lease_amounts as (
    select {{ common }}, 'lease_payments' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow
    from {{ ref('stg_lake__lease_payments') }}
    where amount_str is not null
),

bme as (
    select {{ common }}, 'bme_flows' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow
    from {{ ref('stg_lake__bme_flows') }}
),

deposits as (
    select {{ common }}, 'escrow_deposits' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow
    from {{ ref('stg_lake__escrow_deposits') }}
),

lease_takes as (
    select {{ common }}, 'lease_payments' as dataset, 'take_amount' as field,
        take_amount_raw as amount_raw, take_amount_str as amount_str,
        take_amount_overflow as amount_overflow
    from {{ ref('stg_lake__lease_payments') }}
    where take_amount_str is not null
),

-- Bittensor: the amount of every revenue event (the tip stays in the lake, inside
-- actual_fee), and a subnet lock's NetworkMinLockCost (field min_lock: the part of the lock
-- that seeds the new subnet's pool); spec_version lets a rule cover a range of runtimes.
tao_amounts as (
    select {{ common }}, 'tao_events' as dataset, 'amount' as field,
        amount_raw, amount_str, amount_overflow, spec_version
    from {{ ref('stg_lake__tao_events') }}
    union all
    select {{ common }}, 'tao_events' as dataset, 'min_lock' as field,
        min_lock_raw as amount_raw, min_lock_str as amount_str,
        min_lock_overflow as amount_overflow, spec_version
    from {{ ref('stg_lake__tao_events') }}
    where min_lock_str is not null
)

select * from burns
union all
select * from mints
union all
select * from service_fees
union all
select * from lease_amounts
union all
select * from lease_takes
union all
select * from bme
union all
select * from deposits
union all by name
select * from tao_amounts

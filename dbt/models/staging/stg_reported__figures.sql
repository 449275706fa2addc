-- Reported figures: the seed's public figures and the rows of --reported-csv files (the devnet
-- simulator's), typed. Values are exact decimals; a period is [period_start, period_end], both
-- inclusive; an annualized figure is as of period_end.
with seed as (
    select
        network, period_kind, period,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        metric, compare_with, value, unit, basis, source,
        cast(nullif(source_date, '') as date) as source_date,
        notes,
        'seed' as origin
    from {{ ref('reported_figures') }}
),

extra as (
    select
        network, period_kind, period, period_start, period_end, metric, compare_with, value,
        unit, basis, source, source_date, notes,
        file as origin
    from {{ source('config', 'reported_figures') }}
),

unioned as (
    select * from seed
    union all
    select * from extra
),

renamed as (
    select
        network,
        period_kind,
        period,
        period_start,
        period_end,
        metric,
        compare_with,
        cast(value as decimal(38, 6)) as reported_value,
        unit,
        basis,
        source,
        source_date,
        notes,
        origin
    from unioned
)

select * from renamed

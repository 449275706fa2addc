with source as (
    select * from {{ source('audit', 'quarter_audits') }}
),

renamed as (
    select
        network,
        quarter,
        block_ranges,
        coverage_status,
        reconciliation_status,
        audit_status,
        quarter_completeness,
        issue_count,
        issues
    from source
)

select * from renamed

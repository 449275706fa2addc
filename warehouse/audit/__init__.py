"""The chain audit: quarter boundaries, block coverage, reconciliation against chain state."""

from warehouse.audit.run import AuditResult, run_audit

__all__ = ["AuditResult", "run_audit"]

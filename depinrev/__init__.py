"""depinrev."""

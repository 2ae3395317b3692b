"""points selectors, one module per area (see design.md §2)."""

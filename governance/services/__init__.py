"""Every write of the spine, one module per area. Import from the submodule that owns the action."""

"""Forms of the sessions app, one module per area (booking, masseur)."""

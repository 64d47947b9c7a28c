"""Pages of booking, one module per area; each defines its own `urlpatterns`."""

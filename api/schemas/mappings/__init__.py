"""Models of the mapping routes (api/routers/mappings/), one module per resource."""

"""API routes, one module per area; each route parses its input and makes one store call."""

"""The REST API (FastAPI) over the services (issue 6)."""

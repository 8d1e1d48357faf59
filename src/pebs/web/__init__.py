"""Server-rendered HTML pages (Jinja2) over the services (issue 6)."""

"""One router per resource, mounted under ``/api/v1`` by :func:`pebs.api.create_app`."""

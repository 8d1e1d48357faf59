"""What the REST API (:mod:`pebs.api`) and the pages (:mod:`pebs.web`) share, so that neither
imports the other: the running app's state (:mod:`.state`), the dependencies that read it
(:mod:`.deps`), the session cookie (:mod:`.session_cookie`), the one table of error statuses
(:mod:`.status`) and the URL space of the API (:mod:`.paths`).

:mod:`pebs.server` composes the two sides into the site that ``pebs serve`` runs.
"""

"""The REST API (django-ninja) at ``/api/v1``: token auth, one error shape.

Each app contributes a router (``apps/<app>/api.py``); every operation
declares its access rule with :func:`svidok.api.access.rule`, and the
authorization-matrix test checks each of them.
"""

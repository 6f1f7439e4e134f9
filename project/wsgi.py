"""WSGI entry point (Django views only; the Kuzzle API over WSGI is served by the DRF views)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()

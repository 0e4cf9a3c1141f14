"""WSGI entry point (gunicorn/uwsgi: ``muster.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve with a weak field key (``muster genkey`` makes one).
from muster.orgs.checks import refuse_weak_field_key  # noqa: E402  (needs the apps loaded above)

refuse_weak_field_key()

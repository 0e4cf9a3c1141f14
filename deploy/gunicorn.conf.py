"""gunicorn settings for Muster (``gunicorn -c deploy/gunicorn.conf.py muster.wsgi:application``).

Every value can be overridden from the environment (``MUSTER_BIND``, ``MUSTER_WEB_WORKERS``,
``MUSTER_WEB_THREADS``, ``MUSTER_WEB_TIMEOUT``). The client address for the throttle and the audit log
is taken by Muster itself from X-Forwarded-For, only from the proxies in ``MUSTER_TRUSTED_PROXIES``.
"""

import multiprocessing
import os

bind = os.environ.get("MUSTER_BIND", "127.0.0.1:8000")
# Requests wait on the database most of the time: a few processes, each with a few threads.
workers = int(os.environ.get("MUSTER_WEB_WORKERS", str(min(8, multiprocessing.cpu_count() * 2 + 1))))
worker_class = "gthread"
threads = int(os.environ.get("MUSTER_WEB_THREADS", "4"))
timeout = int(os.environ.get("MUSTER_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), so a slow leak never grows unbounded.
max_requests = 5000
max_requests_jitter = 500
# Imports parse .xlsx files in a child process; the request body limit is Django's.
limit_request_line = 8190
accesslog = os.environ.get("MUSTER_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("MUSTER_LOG_LEVEL", "info").lower()
# Load the app once in the master: a misconfiguration (weak field key, bad proxy list) stops the start.
preload_app = True

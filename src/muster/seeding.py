"""Default reference data (measure catalog, meeting requirements, point rules) kept present after migrate.

Each app seeds its defaults in a data migration. The same idempotent function also runs on Django's
``post_migrate`` signal, so a database that was flushed (``muster flush``, or a transactional test case)
gets its defaults back; existing rows are never changed.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def keep_defaults(config: AppConfig, migration: str) -> None:
    """Run ``<app>.migrations.<migration>.seed`` after every migrate/flush of ``config``'s database."""

    def ensure(sender: AppConfig, apps: Any = None, using: str = "default", **kwargs: Any) -> None:
        from django.apps import apps as global_apps
        from django.db import connections

        module = importlib.import_module(f"{config.name}.migrations.{migration}")
        module.seed(apps or global_apps, connections[using].schema_editor)

    post_migrate.connect(ensure, sender=config, weak=False, dispatch_uid=f"muster-defaults-{config.label}")

"""Append-only rows, the one mechanism behind the ledgers (DESIGN: Ledgers): rows are never updated or
deleted, through a model instance or a queryset; a fix is a new row that refers to the old one."""

from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model._meta.label} is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model._meta.label} is append-only")


class AppendOnlyModel(models.Model):
    """Rows are written once. A fix is a new row that refers to the old one."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError(f"{self._meta.label} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self._meta.label} is append-only")

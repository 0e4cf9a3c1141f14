"""An upload kept after a passing dry run, so that "confirm import" imports the same bytes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HeldUpload(models.Model):
    """A checked file, for its uploader only, until ``expires_at``. ``data`` holds its bytes sealed with
    the field key (AES-GCM, ``tabular.uploads``; ``size`` and ``sha256`` are the plain file's). Once
    taken (``taken_at``) or expired its bytes are blanked; rows a day past their expiry are removed
    (``tabular.uploads.upload_purge``)."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    importer = models.CharField(_("importer"), max_length=40)
    filename = models.CharField(_("file name"), max_length=255)
    data = models.BinaryField(_("content (sealed)"))
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("kept at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    taken_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("kept upload")
        verbose_name_plural = _("kept uploads")

    def __str__(self) -> str:
        return f"{self.importer}: {self.filename}"

"""Error pages that say what was wrong: a query-string value a page cannot use is answered 400 with its
message (``common.BadQuery``); every other bad request gets Django's plain page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

from muster.web.views.common import BadQuery


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, BadQuery):
        # raised by a view, so the request has passed every middleware (the page's layout needs them)
        return render(request, "400.html", {"message": str(exception)}, status=400)
    return defaults.bad_request(request, exception)

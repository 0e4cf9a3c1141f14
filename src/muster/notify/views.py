from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from muster.notify.models import Notification
from muster.notify.services import notification_read


@login_required
def index(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.filter(recipient_id=request.user.pk).order_by("-created_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notify/index.html", {"page": page})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    n = Notification.objects.filter(recipient_id=request.user.pk, pk=pk).first()
    if n is None:
        raise Http404
    notification_read(actor=request.user, notification=n)
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("notify:index")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_read(actor=request.user)
    return redirect("notify:index")

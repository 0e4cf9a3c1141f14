from django.urls import path

from muster.mobilize.views import batches, checkin, home, ledger, requests, shifts

app_name = "mobilize"
urlpatterns = [
    path("", home.index, name="index"),
    # requests
    path("requests/", requests.request_index, name="requests"),
    path("requests/new/", requests.request_create, name="request_create"),
    path("requests/<int:pk>/edit/", requests.request_edit, name="request_edit"),
    # batches
    path("batches/", batches.deployment_index, name="batches"),
    path("batches/new/", batches.deployment_create, name="batch_create"),
    path("batches/<int:pk>/", batches.deployment_detail, name="batch_detail"),
    path("batches/<int:pk>/measures/", batches.deployment_measure, name="batch_measure"),
    path("batches/<int:pk>/rollcall/", checkin.batch_rollcall, name="batch_rollcall"),
    path("batches/<int:pk>/rollcall.xlsx", checkin.batch_rollcall_export, name="batch_rollcall_export"),
    path("batches/<int:pk>/edit/", batches.deployment_edit, name="batch_edit"),
    path("batches/<int:pk>/cancel/", batches.deployment_cancel, name="batch_cancel"),
    path("batches/<int:pk>/members/", batches.deployment_members, name="batch_members"),
    path("batches/<int:pk>/members/search/", batches.deployment_member_search, name="batch_member_search"),
    path("batches/<int:pk>/members/add/", batches.deployment_member_add, name="batch_member_add"),
    path("batches/<int:pk>/members/team/", batches.deployment_member_team, name="batch_member_team"),
    path("batches/<int:pk>/members/paste/", batches.deployment_member_paste, name="batch_member_paste"),
    path(
        "batches/<int:pk>/members/<int:person_pk>/remove/",
        batches.deployment_member_remove,
        name="batch_member_remove",
    ),
    path("batches/<int:pk>/members.xlsx", batches.deployment_export, name="batch_export"),
    path("batches/<int:pk>/print/", batches.deployment_print, name="batch_print"),
    # posts and shifts
    path("posts/", shifts.post_index, name="posts"),
    path("posts/new/", shifts.post_create, name="post_create"),
    path("posts/<int:pk>/", shifts.post_detail, name="post_detail"),
    path("batches/<int:pk>/shifts/new/", shifts.shift_create, {"owner": "batch"}, name="batch_shift_create"),
    path(
        "batches/<int:pk>/shifts/template/",
        shifts.shift_template,
        {"owner": "batch"},
        name="batch_shift_template",
    ),
    path("posts/<int:pk>/shifts/new/", shifts.shift_create, {"owner": "post"}, name="post_shift_create"),
    path(
        "posts/<int:pk>/shifts/template/",
        shifts.shift_template,
        {"owner": "post"},
        name="post_shift_template",
    ),
    path("shifts/<int:pk>/", shifts.shift_detail, name="shift_detail"),
    path("shifts/<int:pk>/qr.svg", shifts.shift_qr, name="shift_qr"),
    path("shifts/<int:pk>/assign/", shifts.shift_assign, name="shift_assign"),
    path("shifts/<int:pk>/unassign/<int:person_pk>/", shifts.shift_unassign, name="shift_unassign"),
    path("shifts/<int:pk>/rollcall/", checkin.shift_rollcall, name="shift_rollcall"),
    path("shifts/<int:pk>/fix/<int:assignment_pk>/", checkin.checkin_fix, name="checkin_fix"),
    # the mobile check-in page (the QR code's target)
    path("c/<str:token>/", checkin.checkin, name="checkin"),
    # approvals and the ledger
    path("approvals/", ledger.approvals, name="approvals"),
    path("approvals/unflagged/", ledger.approve_unflagged, name="approve_unflagged"),
    path("entries/<int:pk>/approve/", ledger.entry_decide, {"decision": "approve"}, name="entry_approve"),
    path("entries/<int:pk>/reject/", ledger.entry_decide, {"decision": "reject"}, name="entry_reject"),
    path("entries/<int:pk>/evidence/", ledger.entry_evidence, name="entry_evidence"),
    # my service
    path("me/", ledger.my_service, name="my_service"),
    path("me/offline.json", checkin.offline_data, name="offline_data"),
    path("me/entries/<int:pk>/correct/", ledger.correction_request, name="correction_request"),
    path("me/report/", ledger.self_report, name="self_report"),
    path("me/calendar/", ledger.feed_rotate, name="feed_rotate"),
    path("ical/<str:token>.ics", ledger.ical_feed, name="ical_feed"),
]

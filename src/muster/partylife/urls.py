from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseGone
from django.urls import path
from django.views.generic import RedirectView

from muster.partylife.views import compliance, index, meetings, pipeline, posts, talks


class _Moved(RedirectView):
    """Moved for good: a GET gets a 301; any other method a 308, so an old form's POST stays a POST with its
    body (a browser turns a POST answered with 301 into a GET and drops the form)."""

    permanent = True
    query_string = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        url = self.get_redirect_url(*args, **kwargs)
        if url is None:
            return HttpResponseGone()
        moved = HttpResponse(status=308)
        moved["Location"] = url
        return moved


def _moved(pattern_name: str) -> Any:
    """A permanent redirect to the page's new address (keeping the query string)."""
    return _Moved.as_view(pattern_name=pattern_name)


app_name = "partylife"
urlpatterns = [
    path("", index.index, name="index"),
    # meetings and their review
    path("meetings/", meetings.meeting_index, name="meetings"),
    path("meetings/new/", meetings.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", meetings.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/attendance/", meetings.meeting_attendance, name="meeting_attendance"),
    path("meetings/<int:pk>/attach/", meetings.meeting_attach, name="meeting_attach"),
    path("meetings/<int:pk>/submit/", meetings.meeting_submit, name="meeting_submit"),
    path(
        "meetings/<int:pk>/approve/", meetings.meeting_review, {"decision": "approve"}, name="meeting_approve"
    ),
    path("meetings/<int:pk>/return/", meetings.meeting_review, {"decision": "return"}, name="meeting_return"),
    path("meetings/<int:pk>/correction/", meetings.meeting_correction, name="meeting_correction"),
    path("review/", meetings.review_queue, name="review_queue"),
    # compliance
    path("compliance/", compliance.dashboard, name="compliance"),
    path("compliance/freeze/", compliance.freeze, name="compliance_freeze"),
    path("compliance/calendar/", compliance.calendar, name="compliance_calendar"),
    path("compliance/inactivity/", compliance.inactivity, name="inactivity"),
    path("compliance/exemptions/new/", compliance.exemption_create, name="exemption_create"),
    path("compliance/exemptions/<int:pk>/revoke/", compliance.exemption_revoke, name="exemption_revoke"),
    # talks
    path("talks/", talks.talk_index, name="talks"),
    path("talks/new/", talks.talk_create, name="talk_create"),
    path("talks/matrix/", talks.talk_matrix, name="talk_matrix"),
    # membership pipeline
    path("pipeline/", pipeline.pipeline_index, name="pipeline"),
    path("pipeline/new/", pipeline.case_create, name="case_create"),
    path("pipeline/<int:pk>/", pipeline.case_detail, name="case_detail"),
    path("pipeline/<int:pk>/talk/", pipeline.case_talk, name="case_talk"),
    # posts and contact points
    path("posts/", posts.post_index, name="posts"),
    path("posts/new/", posts.post_create, name="post_create"),
    path("contact-points/new/", posts.contact_point_create, name="contact_point_create"),
    path("contact-points/<int:pk>/", posts.contact_point_detail, name="contact_point_detail"),
    # awards and commendations moved to the honors app (/honors/awards/); old links and bookmarks redirect
    path("honors/", _moved("honors:awards"), name="honors"),
    path("honors/new/", _moved("honors:award_create"), name="honor_create"),
    path("honors/<int:pk>/", _moved("honors:award_detail"), name="honor_detail"),
    path("honors/<int:pk>/evidence/", _moved("honors:award_evidence"), name="honor_evidence"),
]

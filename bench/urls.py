"""URLconf of the benchmarks: ``GET /bare/now``, a bare DRF ``APIView`` returning the same
envelope as a dict, then the project's URLs (so ``/_now`` is ``KuzzleAPIView``)."""

from __future__ import annotations

import uuid

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.envelope import now_envelope


class BareNow(APIView):
    def get(self, request: Request) -> Response:
        return Response(now_envelope(str(uuid.uuid4())))


urlpatterns = [
    path("bare/now", BareNow.as_view()),
    path("", include("project.urls")),
]

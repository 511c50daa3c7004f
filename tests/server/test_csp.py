"""The Content-Security-Policy header, built once per configuration (server/csp.py): the
same header Django's own middleware writes, whatever the configuration, the view's
override or the request's nonce."""

from collections.abc import Callable
from unittest import mock

from django.http import HttpRequest, HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangosMiddleware
from django.test import RequestFactory, override_settings
from django.utils.csp import CSP, build_policy
from django.views.decorators.csp import csp_override, csp_report_only_override

from messagecenter.server import csp
from messagecenter.server.csp import ContentSecurityPolicyMiddleware

ENFORCE = {"default-src": [CSP.SELF], "img-src": {"data:", CSP.SELF}, "object-src": [CSP.NONE]}
REPORT_ONLY = {"default-src": [CSP.SELF], "report-uri": "/csp-reports/"}
WITH_NONCE = {"default-src": [CSP.SELF], "script-src": [CSP.SELF, CSP.NONCE]}


def answers(view: Callable[[HttpRequest], HttpResponse]) -> tuple[HttpResponse, HttpResponse]:
    """The view's answer through ours and through Django's middleware."""
    ours = ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/"))
    djangos = DjangosMiddleware(view)(RequestFactory().get("/"))
    return ours, djangos


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


def headers(response: HttpResponse) -> dict[str, str | None]:
    return {
        name: response.get(name)
        for name in ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
    }


@override_settings(SECURE_CSP=ENFORCE, SECURE_CSP_REPORT_ONLY=REPORT_ONLY)
def test_the_headers_are_djangos_for_the_settings() -> None:
    ours, djangos = answers(plain)

    assert headers(ours) == headers(djangos)
    assert ours["Content-Security-Policy"] == build_policy(ENFORCE)
    assert ours["Content-Security-Policy-Report-Only"] == build_policy(REPORT_ONLY)


def test_each_configuration_has_its_own_header() -> None:
    with override_settings(SECURE_CSP=ENFORCE):
        first, _ = answers(plain)
    with override_settings(SECURE_CSP=REPORT_ONLY):
        second, _ = answers(plain)

    assert first["Content-Security-Policy"] == build_policy(ENFORCE)
    assert second["Content-Security-Policy"] == build_policy(REPORT_ONLY)


@override_settings(SECURE_CSP=ENFORCE, SECURE_CSP_REPORT_ONLY=REPORT_ONLY)
def test_a_views_own_configuration_or_none_is_respected() -> None:
    overridden = csp_override({"default-src": [CSP.NONE]})(plain)
    switched_off = csp_override({})(plain)
    report_only_off = csp_report_only_override({})(plain)

    for view in (overridden, switched_off, report_only_off):
        ours, djangos = answers(view)
        assert headers(ours) == headers(djangos), view
    assert answers(overridden)[0]["Content-Security-Policy"] == "default-src 'none'"
    assert "Content-Security-Policy" not in answers(switched_off)[0]


@override_settings(SECURE_CSP=ENFORCE)
def test_a_header_the_view_set_stays() -> None:
    def own(request: HttpRequest) -> HttpResponse:
        response = HttpResponse()
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert answers(own)[0]["Content-Security-Policy"] == "default-src 'none'"


@override_settings(SECURE_CSP=WITH_NONCE)
def test_a_used_nonce_is_the_requests_own_and_an_unused_one_is_left_out() -> None:
    seen: list[str] = []

    def printing_the_nonce(request: HttpRequest) -> HttpResponse:
        seen.append(str(request._csp_nonce))  # type: ignore[attr-defined]
        return HttpResponse()

    middleware = ContentSecurityPolicyMiddleware(printing_the_nonce)
    first = middleware(RequestFactory().get("/"))
    second = middleware(RequestFactory().get("/"))
    unused = ContentSecurityPolicyMiddleware(plain)(RequestFactory().get("/"))

    assert seen[0] != seen[1]
    assert first["Content-Security-Policy"] == build_policy(WITH_NONCE, seen[0])
    assert second["Content-Security-Policy"] == build_policy(WITH_NONCE, seen[1])
    assert unused["Content-Security-Policy"] == "default-src 'self'; script-src 'self'"


@override_settings(SECURE_CSP=ENFORCE, SECURE_CSP_REPORT_ONLY=REPORT_ONLY)
def test_a_configurations_header_is_built_once() -> None:
    middleware = ContentSecurityPolicyMiddleware(plain)
    middleware(RequestFactory().get("/"))  # the settings' headers built here, or before

    with mock.patch.object(csp, "build_policy", wraps=build_policy) as building:
        for _ in range(3):
            response = middleware(RequestFactory().get("/"))

    assert building.call_count == 0
    assert response["Content-Security-Policy"] == build_policy(ENFORCE)


def test_configurations_made_for_each_answer_do_not_pile_up() -> None:
    for number in range(csp._MOST_KEPT * 2):
        configuration = {"default-src": [CSP.SELF, f"https://{number}.example.com"]}
        response = csp_override(configuration)(plain)
        answer = ContentSecurityPolicyMiddleware(response)(RequestFactory().get("/"))
        assert answer["Content-Security-Policy"] == build_policy(configuration)

    assert len(csp._built) <= csp._MOST_KEPT

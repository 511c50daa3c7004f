"""Django's Content-Security-Policy middleware, with each policy's header written once.

Django builds the header from SECURE_CSP on every answer — sorting, joining, checking each
directive for a nonce: about fifty calls a request, the same string each time, on every
API call and page (docs/benchmarks.md, "The policy and no-store headers written once").
Here a configuration's header is built on its first answer and kept with the
configuration, and built anew only when the request's nonce was used (a template that
printed it: the policy must then name that request's own nonce).

A configuration is a dict of settings or of a view's `csp_override`; it is kept by
identity, with the dict itself held so its id cannot be reused by another. A dict changed
in place after its first answer would keep its old header: settings and decorators give a
new one instead (override_settings replaces the setting)."""

from collections.abc import Collection, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import csp
from django.utils.csp import CSP, LazyNonce, build_policy

# id(configuration) -> (configuration, its header without a nonce).
_built: dict[int, tuple[object, str]] = {}
# Settings and decorators make a handful; a view that made a new dict for each answer
# would otherwise fill memory (beyond this its headers are built each time, as Django does).
_MOST_KEPT = 64


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        nonce = csp.get_nonce(request)
        for header, setting, attribute in (
            (CSP.HEADER_ENFORCE, "SECURE_CSP", "_csp_config"),
            (CSP.HEADER_REPORT_ONLY, "SECURE_CSP_REPORT_ONLY", "_csp_ro_config"),
        ):
            config = getattr(response, attribute, None)
            if config is None and not hasattr(response, attribute):
                config = getattr(settings, setting)
            # As Django's: no configuration, no header; a header the view set stays.
            if config and header not in response:
                response.headers[str(header)] = _policy(config, nonce)
        return response


def _policy(config: Mapping[str, Collection[str] | str], nonce: LazyNonce | None) -> str:
    # A LazyNonce is false until something read it.
    if nonce:
        return build_policy(config, nonce)
    kept = _built.get(id(config))
    if kept is not None and kept[0] is config:
        return kept[1]
    policy = build_policy(config)
    if len(_built) < _MOST_KEPT:
        _built[id(config)] = (config, policy)
    return policy

"""HTTP: call a web API or fetch a page (httpx, imported only when the node runs).

Failures are told apart by kind so retry rules and catch blocks can match them: ``network``
(the server could not be reached), ``timeout`` (no answer in time), ``http`` (the server
answered with a status of 400 or more), ``bad_input`` (a wrong URL or body).
"""

from __future__ import annotations

import json

from botloom.runner.sdk import NodeError, NodeTimeoutError, Output, Param, Secret, node

CATEGORY = "Web"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_FIXES = {
    400: "the server refused the request as malformed: check the body and the query parameters",
    401: "the request was not authenticated: check the token or credentials",
    403: "the account is not allowed to do this: check its permissions",
    404: "check the URL (and the ids in it)",
    405: "the server does not accept this method here: check 'method'",
    408: "the server gave up waiting: retry later",
    409: "the request conflicts with the current state on the server (often: it already exists)",
    415: "the server expects another body type: check 'body_type' and the Content-Type header",
    422: "the server could not accept the data: read the response body for which field is wrong",
    429: "too many requests: slow down, or wrap the node in a Retry scope with a longer delay",
}


def _query(query: dict) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, (dict, list)):
                item = json.dumps(item, ensure_ascii=False)
            pairs.append((str(key), str(item)))
    return pairs


def _body(body_type: str, body) -> dict:
    if body is None:
        return {}
    if body_type == "json":
        if isinstance(body, str) and body.strip()[:1] in ("{", "["):
            try:  # JSON typed into the body field: send it as written, not as one JSON string
                body = json.loads(body)
            except ValueError as exc:
                raise NodeError(f"the body looks like JSON but is not valid: {exc}", kind="bad_input",
                                fix="fix the JSON, or choose body_type text to send it as is") from None
        try:
            return {"content": json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8"),
                    "headers": {"Content-Type": "application/json"}}
        except (TypeError, ValueError) as exc:
            raise NodeError(f"the body cannot be sent as JSON: {exc}", kind="bad_input",
                            fix="give plain values: text, numbers, true/false, lists and objects") from None
    if body_type == "form":
        if not isinstance(body, dict):
            raise NodeError(f"a form body must be an object of fields, got {type(body).__name__}", kind="bad_input",
                            fix='give an object such as {"user": "ada", "page": 2}, or choose body_type json/text')
        fields: dict[str, list[str]] = {}
        for key, value in _query(body):
            fields.setdefault(key, []).append(value)
        return {"data": fields}
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return {"content": text.encode("utf-8"), "headers": {"Content-Type": "text/plain; charset=utf-8"}}


def _parse_json(response, ctx):
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (ctype == "application/json" or ctype.endswith("+json") or ctype == "text/json"):
        return None
    if not response.content.strip():
        return None
    try:
        return json.loads(response.text, parse_constant=lambda name: None)
    except ValueError as exc:
        ctx.log(f"the response says it is JSON ({ctype}) but cannot be parsed: {exc}; 'json' is null", "warning")
        return None


def _safe_method(params: dict) -> bool:
    """GET, HEAD, OPTIONS, PUT and DELETE may be sent again after a crash (HTTP defines them as
    idempotent); POST and PATCH may not."""
    return str(params.get("method", "")).upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


@node("http.request", title="HTTP request", category=CATEGORY, icon="globe", side_effects=True, idempotent=_safe_method,
      params=[Param("method", "string", default="GET", choices=METHODS),
              Param("url", "string", required=True, placeholder="https://api.example.com/orders"),
              Param("query", "object", default={}, description="Query parameters, e.g. {\"page\": 2}; a list repeats "
                                                               "the parameter."),
              Param("headers", "object", default={}, description="Extra request headers."),
              Param("body_type", "string", default="json", choices=("json", "form", "text"),
                    show_if={"method": ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
                    description="json: the body as JSON; form: an object sent as an HTML form; text: as is."),
              Param("body", "any", multiline=True, show_if={"method": ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
                    description="What to send (nothing when empty)."),
              Param("bearer_token", "secret", advanced=True,
                    description="Name of a secret sent as 'Authorization: Bearer ...'."),
              Param("timeout", "number", default=30, minimum=0.1, description="Seconds to wait for the server."),
              Param("raise_for_status", "boolean", default=True,
                    description="Fail (kind 'http') when the status is 400 or more; off: give the status as output."),
              Param("follow_redirects", "boolean", default=True, advanced=True),
              Param("verify_tls", "boolean", default=True, advanced=True,
                    description="Check the server's certificate (turn off only for test servers).")],
      outputs=[Output("status", "integer", "The HTTP status code, e.g. 200."),
               Output("ok", "boolean", "Whether the status is below 400."),
               Output("headers", "object", "Response headers (names in lower case)."),
               Output("text", "string", "The response body as text."),
               Output("json", "any", "The parsed body when the response is JSON, otherwise null."),
               Output("url", "string", "The final URL, after redirects.")],
      aliases=("api", "rest", "web request", "fetch", "get url", "post"))
def request(ctx, method, url, query, headers, body_type, body, bearer_token, timeout, raise_for_status,
            follow_redirects, verify_tls):
    """Sends an HTTP request and gives the status, headers and body of the response."""
    httpx = ctx.require("httpx", "pip install httpx")
    method = (method or "GET").upper()
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        raise NodeError(f"'{url}' is not a web address", kind="bad_input",
                        fix="write the full URL, starting with https:// or http://")
    send = {"headers": {}}
    if method not in ("GET", "HEAD"):
        send = _body(body_type or "json", body) or send
    elif body is not None:
        ctx.log(f"a {method} request sends no body; 'body' is ignored", "warning")
    request_headers = {**send.pop("headers", {}), **{str(k): str(v) for k, v in (headers or {}).items()}}
    if isinstance(bearer_token, Secret):
        request_headers["Authorization"] = f"Bearer {bearer_token.reveal()}"
    what = f"{method} {url}"
    try:
        with httpx.Client(timeout=timeout, follow_redirects=follow_redirects, verify=verify_tls) as client:
            response = client.request(method, url, params=_query(query), headers=request_headers, **send)
    except httpx.TimeoutException as exc:
        raise NodeTimeoutError(f"{what}: no answer within {timeout:g} s ({type(exc).__name__})",
                               details={"url": url},
                               fix="check that the server is up, or raise 'timeout'; a Retry scope can try again"
                               ) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise NodeError(f"'{url}' is not a valid URL: {exc}", kind="bad_input",
                        fix="check the address (scheme, host name, port)") from None
    except httpx.TooManyRedirects:
        raise NodeError(f"{what}: too many redirects", kind="http", details={"url": url},
                        fix="the server redirects in a loop: check the URL, or turn follow_redirects off") from None
    except httpx.TransportError as exc:
        raise NodeError(f"{what}: could not reach the server ({type(exc).__name__}: {exc or 'no details'})",
                        kind="network", details={"url": url},
                        fix="check the address, the network connection, proxy and firewall; a Retry scope "
                            "with on: [network] can try again") from None
    status = response.status_code
    ctx.log(f"{what} -> {status} {response.reason_phrase} in {response.elapsed.total_seconds() * 1000:.0f} ms")
    if status >= 400 and raise_for_status:
        fix = _FIXES.get(status) or ("the server failed: retry later or contact its owner" if status >= 500
                                     else "read the response body for the reason")
        raise NodeError(f"{what} returned {status} {response.reason_phrase}", kind="http",
                        details={"status": status, "url": str(response.url), "body": response.text[:1000]},
                        fix=fix + "; or turn 'raise_for_status' off to handle the status in the bot")
    return {
        "status": status,
        "ok": status < 400,
        "headers": {k.lower(): ", ".join(response.headers.get_list(k)) for k in response.headers.keys()},
        "text": response.text,
        "json": _parse_json(response, ctx),
        "url": str(response.url),
    }

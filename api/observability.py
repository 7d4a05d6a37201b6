"""Access logs, request ids and Prometheus metrics, from one ASGI middleware.

Labels are route *templates* (``/products/{product_id}``), never raw paths, so a client cannot
grow the label set: an unmatched path is ``<unmatched>``, and a method outside HTTP's standard ones
(h11 passes any token a client sends) is ``other``. Search stages come from the
``timings_ms`` of the search responses (the Searcher's own per-stage clock).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = logging.getLogger("prodsearch.access")
REQUEST_ID_HEADER = "X-Request-ID"
TIMINGS_SCOPE_KEY = "prodsearch.timings_ms"  # a search route leaves its stage timings here (api.public.public_json)
UNMATCHED = "<unmatched>"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
OTHER_METHOD = "other"
DISCONNECTED = "499"  # the client went away before a response started (nginx's convention)
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_STAGE_NAME = re.compile(r"^[a-z_]{1,32}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """One registry per app (tests build many apps in one process), with the process's own metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter("prodsearch_http_requests", "HTTP requests by method, route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("prodsearch_http_request_duration_seconds",
                                 "Time to the end of the response, by method, route template and status",
                                 ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_progress = Gauge("prodsearch_http_requests_in_progress", "Requests being served now",
                                 registry=self.registry)
        self.stages = Histogram("prodsearch_search_stage_seconds",
                                "Time per search stage (the timings_ms of search responses)",
                                ["stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.reloads = Counter("prodsearch_index_reloads", "Index reloads by result (ok, failed, busy)",
                               ["result"], registry=self.registry)
        self.products = Gauge("prodsearch_index_products", "Products in the served index", registry=self.registry)
        self.loaded_at = Gauge("prodsearch_index_loaded_timestamp_seconds", "When the served index was loaded",
                               registry=self.registry)
        # each label set's metrics, looked up once: `labels()` validates and locks at every call (~1/3 of a
        # request's cost in this middleware, with 14 stages per search)
        self._request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._stage_children: dict[str, Any] = {}

    def watch_index(self, state: Any) -> None:
        """Read the served index's gauges from ``state`` at each scrape (they change on reload)."""
        def products() -> float:
            searcher = getattr(state, "searcher", None)
            return float(searcher.index.n_products) if searcher is not None else 0.0

        def loaded_at() -> float:
            info = getattr(getattr(state, "reloader", None), "info", None)
            return float(info.loaded_unix) if info is not None else 0.0

        self.products.set_function(products)
        self.loaded_at.set_function(loaded_at)

    def count_request(self, method: str, route: str, status: str, seconds: float) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (self.requests.labels(*key), self.latency.labels(*key))
        children[0].inc()
        children[1].observe(seconds)

    def observe_stages(self, timings_ms: Any) -> None:
        if not isinstance(timings_ms, dict):
            return
        for stage, ms in timings_ms.items():
            if not (isinstance(ms, (int, float)) and ms >= 0):
                continue
            child = self._stage_children.get(stage) if isinstance(stage, str) else None
            if child is None:
                if not (isinstance(stage, str) and _STAGE_NAME.match(stage)):
                    continue
                child = self._stage_children[stage] = self.stages.labels(stage)
            child.observe(ms / 1000)


_CONVERTER = re.compile(r":[a-z]+}")


def route_template(scope: Scope) -> str:
    """The matched route's path template, or `UNMATCHED`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    # "/products/{product_id:path}" -> "/products/{product_id}": the converter is routing detail, not a label
    return _CONVERTER.sub("}", path) if isinstance(path, str) else UNMATCHED


def method_label(scope: Scope) -> str:
    """The request's method if it is a standard one, else `OTHER_METHOD`: every distinct label is a series
    kept for the process's life, so 5,000 invented methods would be 5,000 of them."""
    method = scope.get("method", "")
    return method if method in KNOWN_METHODS else OTHER_METHOD


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-ID when it is short and plain, else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


def answers_search(scope: Scope) -> bool:
    """Whether the matched route answers a `SearchResponse` (which carries ``timings_ms``)."""
    from search.types import SearchResponse

    model = getattr(scope.get("route"), "response_model", None)
    return isinstance(model, type) and issubclass(model, SearchResponse)


class ObservabilityMiddleware:
    """Counts, times and logs every HTTP request; adds ``X-Request-ID`` to every response."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = request_id_of(scope)
        status: int | None = None
        body: list[bytes] | None = None  # a copy of a search response, for its timings_ms

        async def send_with_id(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                if (status == 200 and TIMINGS_SCOPE_KEY not in scope  # else the route left its timings there
                        and headers.get("content-type", "").startswith("application/json") and answers_search(scope)):
                    body = []
            elif message["type"] == "http.response.body" and body is not None:
                body.append(message.get("body", b""))
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            raise
        finally:
            self.metrics.in_progress.dec()
            self._record(scope, status, time.perf_counter() - start, request_id, body)

    def _record(self, scope: Scope, status: int | None, seconds: float, request_id: str,
                body: list[bytes] | None) -> None:
        route = route_template(scope)
        method = method_label(scope)
        status_label = str(status) if status is not None else DISCONNECTED
        self.metrics.count_request(method, route, status_label, seconds)
        if status == 200 and TIMINGS_SCOPE_KEY in scope:
            self.metrics.observe_stages(scope[TIMINGS_SCOPE_KEY])
        elif body:
            with contextlib.suppress(ValueError, AttributeError):  # not a search's JSON object: nothing to time
                self.metrics.observe_stages(json.loads(b"".join(body)).get("timings_ms"))
        ms = round(seconds * 1000, 2)
        ACCESS_LOGGER.info("%s %s %s %.1f ms id=%s", method, route, status_label, ms, request_id,
                           extra={"access": {"method": method, "route": route, "status": status or int(DISCONNECTED),
                                             "ms": ms, "request_id": request_id}})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plus an access record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                                "level": record.levelname, "logger": record.name}
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            line.update(access)
        else:
            line["msg"] = record.getMessage()
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log_format: str, level: int = logging.INFO, access_log: bool = True) -> None:
    """Every log line (the access log, the app's, uvicorn's) through one root handler in ``log_format``;
    ``access_log=False`` silences the per-request lines (`prodsearch serve --no-access-log`)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT, "%H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    ACCESS_LOGGER.setLevel(logging.INFO if access_log else logging.WARNING)

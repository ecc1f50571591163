"""Prometheus metrics of the reference server (``GET /metrics``, text format 0.0.4, via ``prometheus-client``).

Every app has its own `CollectorRegistry` (several servers in one process -- tests, the tray app -- never share
or clash), so nothing is registered in prometheus-client's global default registry.

    snaplark_http_requests_total{method,route,status}     requests answered, by route *template*
                                                          (``/api/v1/videos/{session_id}/status``; ``<unmatched>``
                                                          for a path no route has, so scanners add no series)
    snaplark_http_request_duration_seconds{route}         histogram: request arrival to the answer's last byte
    snaplark_http_request_bytes_total{route}              request body bytes received
    snaplark_http_response_bytes_total{route}             answer body bytes sent
    snaplark_http_requests_in_progress                    gauge
    snaplark_api_errors_total{code,status}                error answers by their JSON ``error`` code
    snaplark_upload_sessions_open                         gauge: open video sessions (the database, at scrape time)
    snaplark_parts_stored_total / snaplark_part_bytes_stored_total   video parts made durable in storage
    snaplark_storage_operation_seconds{backend,operation,outcome}    histogram: each storage call (store_part,
                                                          complete, put_object ...), outcome ok|error

Requests the connection guard refuses before they reach the app (408 head/body timeouts, 431) are not counted
here (connection_guard.py logs them, rate-limited).

Whether ``/metrics`` needs a token is the config's ``metrics_public`` (default false: any valid user token, e.g.
a ``prometheus`` user's, as ``authorization: {credentials_file: ...}`` in the scrape config).

Threading: prometheus-client metrics are thread-safe; `InstrumentedStorage` is called from worker threads like
the backend it wraps; `OpenSessionsCollector.collect` runs in the thread that renders ``/metrics``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .db import Database

log = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPE_LATEST", "InstrumentedStorage", "ServerMetrics", "UNMATCHED_ROUTE"]

UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# storage calls the wrapper times; the other attributes (spool_dir, public_url, iter_range ...) pass through
TIMED_STORAGE_OPERATIONS = ("start_upload", "store_part", "list_parts", "complete", "abort", "put_object",
                            "delete_object", "discard_parts")


class OpenSessionsCollector:
    """``snaplark_upload_sessions_open``, counted in the database when scraped (exact across restarts and expiry,
    which a gauge moved by init/finalize would not be)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def describe(self) -> list:
        return [GaugeMetricFamily("snaplark_upload_sessions_open", "Open video upload sessions")]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("snaplark_upload_sessions_open", "Open video upload sessions")
        try:
            row = self._db.query_one("SELECT COUNT(*) AS n FROM sessions WHERE state = 'open'")
        except Exception as exc:  # a broken database must not break the scrape of everything else
            log.warning("metrics: cannot count open sessions: %s", exc)
            return
        family.add_metric([], row["n"])
        yield family


class ServerMetrics:
    """The metrics of one app, in their own registry."""

    def __init__(self, db: Database | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("snaplark_http_requests", "HTTP requests answered",
                                ("method", "route", "status"), registry=r)
        self.duration = Histogram("snaplark_http_request_duration_seconds",
                                  "Request arrival to the last byte of its answer", ("route",),
                                  buckets=LATENCY_BUCKETS, registry=r)
        self.bytes_in = Counter("snaplark_http_request_bytes", "Request body bytes received", ("route",), registry=r)
        self.bytes_out = Counter("snaplark_http_response_bytes", "Answer body bytes sent", ("route",), registry=r)
        self.in_progress = Gauge("snaplark_http_requests_in_progress", "Requests being served", registry=r)
        self.errors = Counter("snaplark_api_errors", "Error answers by their JSON error code", ("code", "status"),
                              registry=r)
        self.parts_stored = Counter("snaplark_parts_stored", "Video parts made durable in storage", registry=r)
        self.part_bytes_stored = Counter("snaplark_part_bytes_stored", "Bytes of video parts made durable", registry=r)
        self.storage_latency = Histogram("snaplark_storage_operation_seconds", "Storage backend calls",
                                         ("backend", "operation", "outcome"), buckets=LATENCY_BUCKETS, registry=r)
        if db is not None:
            r.register(OpenSessionsCollector(db))

    def observe_request(self, method: str, route: str, status: int, seconds: float, bytes_in: int,
                        bytes_out: int, error_code: str | None) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(route).observe(seconds)
        if bytes_in:
            self.bytes_in.labels(route).inc(bytes_in)
        if bytes_out:
            self.bytes_out.labels(route).inc(bytes_out)
        if error_code is not None:
            self.errors.labels(error_code, str(status)).inc()

    def render(self) -> bytes:
        """The text exposition (blocking: the open-sessions count queries the database)."""
        return generate_latest(self.registry)


class InstrumentedStorage:
    """A storage backend (storage/base.py) whose calls are timed into ``snaplark_storage_operation_seconds`` and
    whose stored parts are counted; everything else is the wrapped backend's."""

    def __init__(self, backend: Any, metrics: ServerMetrics) -> None:
        self._backend = backend
        self._metrics = metrics
        self._name = getattr(backend, "name", type(backend).__name__)

    @property
    def backend(self) -> Any:
        return self._backend

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._backend, name)
        if name not in TIMED_STORAGE_OPERATIONS:
            return attr
        histogram = self._metrics.storage_latency

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            outcome = "error"
            try:
                result = attr(*args, **kwargs)
                outcome = "ok"
                return result
            finally:
                histogram.labels(self._name, name, outcome).observe(time.perf_counter() - t0)

        return timed

    def store_part(self, session_id: str, key: str, upload_id: str | None, index: int, spooled: Any) -> str | None:
        size = spooled.size
        t0 = time.perf_counter()
        outcome = "error"
        try:
            etag = self._backend.store_part(session_id, key, upload_id, index, spooled)
            outcome = "ok"
        finally:
            self._metrics.storage_latency.labels(self._name, "store_part", outcome).observe(time.perf_counter() - t0)
        self._metrics.parts_stored.inc()
        self._metrics.part_bytes_stored.inc(size)
        return etag

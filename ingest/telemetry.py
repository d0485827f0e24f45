"""Traces and metrics: an OpenTelemetry span per stage (answer: retrieve, rank, compose, generate, verify;
ingest: one per file, embed, store) and Prometheus metrics served at `/metrics` (docs/deploy.md).

Spans cost nothing until a tracer provider is set: `setup_tracing()` sends them with OTLP/HTTP to
`otlp_endpoint` (or the standard OTEL_EXPORTER_OTLP_ENDPOINT) when one is configured.
"""
from __future__ import annotations

import functools
import os
import time
from contextlib import contextmanager

from opentelemetry import trace
from prometheus_client import Counter, Gauge, Histogram

tracer = trace.get_tracer("hoidap")

REQUESTS = Counter("hoidap_requests", "HTTP requests served", ["method", "route", "status"])
REQUEST_SECONDS = Histogram("hoidap_request_seconds", "HTTP request latency", ["method", "route"],
                            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
STAGE_SECONDS = Histogram("hoidap_stage_seconds", "time in one stage of answering or ingesting", ["stage"],
                          buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
INGEST_FILES = Counter("hoidap_ingest_files", "files ingested", ["result"])
INGEST_CHUNKS = Counter("hoidap_ingest_chunks", "chunks stored by ingest")
INGEST_QUEUE = Gauge("hoidap_ingest_queue", "background ingest jobs (uploads, re-index) waiting or running here")


@contextmanager
def span(stage: str, **attributes):
    """A span named `hoidap.<stage>` and the stage's time in hoidap_stage_seconds."""
    t0 = time.perf_counter()
    with tracer.start_as_current_span(f"hoidap.{stage}", attributes=attributes) as s:
        try:
            yield s
        finally:
            STAGE_SECONDS.labels(stage).observe(time.perf_counter() - t0)


def traced(stage: str):
    """Decorate a function so each call is one `stage` span."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*a, **kw):
            with span(stage):
                return fn(*a, **kw)

        return run

    return wrap


_configured: str | None = None


def setup_tracing(endpoint: str | None = None, service: str = "hoidap") -> str | None:
    """Export spans with OTLP/HTTP to `endpoint` (http://HOST:4318) or OTEL_EXPORTER_OTLP_ENDPOINT; nothing
    is set up when neither is given.  Returns the traces URL used."""
    global _configured
    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint or _configured:
        return _configured
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    url = endpoint.rstrip("/") + ("" if endpoint.rstrip("/").endswith("/v1/traces") else "/v1/traces")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url), schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    _configured = url
    return url


def instrument(app) -> None:
    """Count and time every HTTP request of a FastAPI app (by route template, not by path: bounded labels) and
    serve the Prometheus text format at GET /metrics."""
    from fastapi import Request, Response
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    @app.middleware("http")
    async def measure(request: Request, call_next):
        t0 = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "other")
            REQUESTS.labels(request.method, route, str(status)).inc()
            REQUEST_SECONDS.labels(request.method, route).observe(time.perf_counter() - t0)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

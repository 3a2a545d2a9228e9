"""Prometheus metrics and request ids for every RPC, in one interceptor.

Metrics (on the HTTP endpoint of `metrics_listen`):
  registry_rpc_requests_total{method, code}       RPCs by method and status code
  registry_rpc_duration_seconds{method}           latency histogram
  registry_records_ingested_total{institution}    records applied from accepted batches
  registry_batches_refused_total{reason}          refused publications by error kind
  registry_publication_warnings_total{institution}  records applied with a warning (the
                                                  volume settings in "warn" mode)
  registry_last_sync_timestamp_seconds{institution}  last accepted batch (time() minus it is
                                                  the time since the last successful sync)
  registry_worker_replacements_total{worker}      record-check and query workers that ended or
                                                  were stuck and were replaced (the registry's
                                                  own process does their work meanwhile)
"""

from __future__ import annotations

import contextvars
import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any, cast

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, select

from registry_core.logs import REQUEST_ID_HEADER, request_id
from registry_server.rpc import Behaviour, Context, Continuation, Handler
from registry_server.sql import table
from registry_server.tables import Checkpoint

# Set by the servicers when they refuse a call, read by the interceptor for the metrics.
refusal: contextvars.ContextVar[str] = contextvars.ContextVar("refusal", default="")


class LastSyncCollector(Collector):
    """Reads each institution's checkpoint time at scrape time (shared by every registry
    process on the database, so any of them reports the truth)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("registry_last_sync_timestamp_seconds",
                                   "When the institution's last batch was accepted (Unix time)",
                                   labels=["institution"])
        c = table(Checkpoint)
        with self.engine.connect() as connection:
            for institution, updated in connection.execute(select(c.c.institution_id,
                                                                  c.c.updated_at)):
                if updated.tzinfo is None:  # SQLite keeps no zone; the registry writes UTC
                    updated = updated.replace(tzinfo=dt.UTC)
                family.add_metric([institution], updated.timestamp())
        yield family


class Metrics:
    """The registry's metrics, in a registry of their own (one per server)."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.rpcs = Counter("registry_rpc_requests", "RPCs by method and status code",
                            ["method", "code"], registry=self.registry)
        self.latency = Histogram("registry_rpc_duration_seconds", "RPC latency",
                                 ["method"], registry=self.registry,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5,
                                          5, 10))
        self.ingested = Counter("registry_records_ingested", "Records applied from batches",
                                ["institution"], registry=self.registry)
        self.warned = Counter("registry_publication_warnings", "Records applied with a "
                              "warning, by publisher", ["institution"], registry=self.registry)
        self.refused = Counter("registry_batches_refused", "Publications refused, by reason",
                               ["reason"], registry=self.registry)
        self.replaced = Counter("registry_worker_replacements", "Worker processes that ended "
                                "or were stuck and were replaced, by kind", ["worker"],
                                registry=self.registry)
        self.registry.register(LastSyncCollector(engine))


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    """Gives every call a request id (the client's x-request-id, or a new one) and records
    its method, status code and latency.

    Each method's measured handler is built once, on its first call, and kept: the handlers
    behind it (the authorisation interceptor's and the servicer's) are the same for every
    call of a method, and building closures and handler tuples on every call cost the
    event loop more than the measuring itself. Only methods that exist are kept."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._handlers: dict[str, Handler] = {}
        self._counted: dict[tuple[str, str], Any] = {}  # labels() takes a lock and builds a key

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = self._handlers.get(details.method)
        if handler is None:
            handler = await continuation(details)
            if handler is not None and handler.unary_unary:
                handler = self._handlers[details.method] = self._measured(details.method,
                                                                          handler)
        return handler  # streaming calls (reflection, health Watch) are not measured

    def _measured(self, method: str, handler: Handler) -> Handler:
        inner = cast(Behaviour, handler.unary_unary)
        metrics = self.metrics
        latency = metrics.latency.labels(method)
        counted = self._counted

        async def measured(request: Any, context: Context) -> Any:
            given = ""
            for key, value in context.invocation_metadata() or ():
                if key == REQUEST_ID_HEADER:
                    given = str(value)[:64]
            # A log correlation id, not a secret: the process's own random generator (seeded
            # from the OS) instead of uuid4, whose read of os.urandom releases the global
            # lock on every call.
            request_id.set(given or f"{random.getrandbits(128):032x}")
            refusal.set("")
            start = time.perf_counter()
            code = grpc.StatusCode.UNKNOWN
            try:
                response = await inner(request, context)
                code = context.code() or grpc.StatusCode.OK
                return response
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                name = code.name if isinstance(code, grpc.StatusCode) else str(code)
                series = counted.get((method, name))
                if series is None:
                    series = counted[(method, name)] = metrics.rpcs.labels(method, name)
                series.inc()
                latency.observe(time.perf_counter() - start)
                if method.endswith("/Publish") and name != "OK":
                    metrics.refused.labels(refusal.get() or name).inc()

        return grpc.unary_unary_rpc_method_handler(
            measured, handler.request_deserializer, handler.response_serializer)

"""Metrics, request ids and the access log of every RPC, in one interceptor; the metrics
read at scrape time are in registry_server.scrape. docs/operations.md lists every metric and
every kind of log line.

Counted as calls happen (on the HTTP endpoint of `metrics_listen`):
  registry_rpc_requests_total{method, code}       RPCs by method and status code
  registry_rpc_duration_seconds{method}           latency histogram
  registry_records_ingested_total{institution}    records applied from accepted batches
  registry_batches_refused_total{reason}          refused publications by error kind
  registry_publication_warnings_total{institution}  records applied with a warning (the
                                                  volume settings in "warn" mode)
  registry_worker_replacements_total{worker}      record-check and query workers that ended or
                                                  were stuck and were replaced (the registry's
                                                  own process does their work meanwhile)
  registry_database_up                            1 while the health probe reaches the
                                                  database, else 0
  registry_query_queue_depth{lane}, registry_query_wait_seconds{lane}
                                                  questions waiting to be answered, and how
                                                  long they waited (set by the query scheduler)
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Callable
from typing import Any, cast

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import Engine

from registry_core.logs import REQUEST_ID_HEADER, request_id
from registry_server.identity import caller
from registry_server.rpc import Behaviour, Context, Continuation, Handler
from registry_server.scrape import CertificateCollector, DatabaseCollector, WorkerCollector
from registry_server.workers import WorkerPool

# Set by the servicers when they refuse a call, read by the interceptor for the metrics.
refusal: contextvars.ContextVar[str] = contextvars.ContextVar("refusal", default="")
access_log = logging.getLogger("registry_server.access")
refusals_log = logging.getLogger("registry_server.refusals")
PUBLISH = "/registry.v1.PublicationService/Publish"


class Metrics:
    """The registry's metrics, in a registry of their own (one per server)."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.rpcs = Counter(
            "registry_rpc_requests",
            "RPCs by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "registry_rpc_duration_seconds",
            "RPC latency",
            ["method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.ingested = Counter(
            "registry_records_ingested",
            "Records applied from batches",
            ["institution"],
            registry=self.registry,
        )
        self.warned = Counter(
            "registry_publication_warnings",
            "Records applied with a warning, by publisher",
            ["institution"],
            registry=self.registry,
        )
        self.refused = Counter(
            "registry_batches_refused",
            "Publications refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.replaced = Counter(
            "registry_worker_replacements",
            "Worker processes that ended or were stuck and were replaced, by kind",
            ["worker"],
            registry=self.registry,
        )
        self.database_up = Gauge(
            "registry_database_up",
            "1 while the health probe reaches the database, else 0",
            registry=self.registry,
        )
        # For the query scheduler (registry_server.queries) to keep: how many questions wait
        # in each lane now, and how long each waited before its answering started.
        self.query_queue_depth = Gauge(
            "registry_query_queue_depth",
            "Questions waiting to be answered, by lane",
            ["lane"],
            registry=self.registry,
        )
        self.query_wait_seconds = Histogram(
            "registry_query_wait_seconds",
            "How long a question waited before its answering started, by lane",
            ["lane"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.registry.register(DatabaseCollector(engine))

    def watch(
        self, certificates: Callable[[], dict[str, bytes]] | None, pools: list[WorkerPool]
    ) -> None:
        """Report the expiry of the certificates in use (certificates() gives them, name →
        PEM) and the liveness of pools; each pool's replacements are counted."""
        if certificates is not None:
            self.registry.register(CertificateCollector(certificates))
        for pool in pools:
            pool.on_replacing = self.replaced.labels(pool.WHAT).inc
        self.registry.register(WorkerCollector(pools))


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    """Gives every call a request id (the client's x-request-id, or a new one), records its
    method, status code and latency, and writes its access line (and, for a refused
    publication, a line with the refusal's kind and message).

    Each method's measured handler is built once, on its first call, and kept: the handlers
    behind it (the authorisation interceptor's and the servicer's) are the same for every
    call of a method, and building closures and handler tuples on every call cost the
    event loop more than the measuring itself. Only methods that exist are kept."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._handlers: dict[str, Handler] = {}
        self._counted: dict[tuple[str, str], Any] = {}  # labels() takes a lock and builds a key

    async def intercept_service(
        self,
        continuation: Continuation,
        details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = self._handlers.get(details.method)
        if handler is None:
            handler = await continuation(details)
            if handler is not None and handler.unary_unary:
                handler = self._handlers[details.method] = self._measured(details.method, handler)
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
                seconds = time.perf_counter() - start
                name = code.name if isinstance(code, grpc.StatusCode) else str(code)
                series = counted.get((method, name))
                if series is None:
                    series = counted[(method, name)] = metrics.rpcs.labels(method, name)
                series.inc()
                latency.observe(seconds)
                refused = method == PUBLISH and name != "OK"
                if refused:
                    metrics.refused.labels(refusal.get() or name).inc()
                if access_log.isEnabledFor(logging.INFO) or refused:
                    log_call(method, name, seconds, context, refused)

        return grpc.unary_unary_rpc_method_handler(
            measured, handler.request_deserializer, handler.response_serializer
        )


def log_call(method: str, code: str, seconds: float, context: Context, refused: bool) -> None:
    """The call's access line; for a refused publication, also why it was refused. (The
    request id is the call's, from its context.)"""
    who = caller.get(None)
    fields = {
        "method": method,
        "code": code,
        "duration_ms": round(seconds * 1000, 2),
        "caller": str(who) if who else "",
        "peer": context.peer(),
    }
    access_log.info(
        "%s %s %s in %.1f ms",
        fields["caller"] or fields["peer"],
        method,
        code,
        fields["duration_ms"],
        extra=fields,
    )
    if refused:
        reason = refusal.get() or code
        detail = context.details() or ""
        refusals_log.warning(
            "publication refused (%s): %s", reason, detail, extra={**fields, "reason": reason}
        )

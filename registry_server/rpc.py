"""Names for gRPC's server-side types as the registry uses them.

grpc.aio's servicer context and method handlers are generic in their stubs (types-grpcio)
but not at run time, so the aliases are strings: written once here, not in every signature.
A handler's behaviour is typed for grpc's synchronous server; on grpc.aio it takes an aio
context and is a coroutine function (or, streaming, an async generator): `Behaviour`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import grpc

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]"
Behaviour: TypeAlias = "Callable[[Any, Context], Any]"

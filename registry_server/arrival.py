"""A section that calls enter one at a time, in the order they arrived.

Publications are applied one at a time, and in the order they arrived: an agent keeps three
batches in flight, and a batch that overtook the one ahead of it is refused for the gap and
must be sent again. Each publication first does work of its own off the event loop (looking
up its keys, verifying its signature), which can finish in any order; a plain lock would
then let a later batch in first. Each call takes its place on arrival, before any await, and
waits for the call before it to leave the section (or to give up) before it enters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Place:
    """One call's place in the queue: the call before it, and its own leaving."""

    def __init__(self, before: asyncio.Future[None] | None, mine: asyncio.Future[None]) -> None:
        self._before, self._mine = before, mine

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for the calls that arrived earlier, then hold the section."""
        try:
            if self._before is not None:
                await asyncio.shield(self._before)
            yield
        finally:
            self.leave()

    def leave(self) -> None:
        """Give up the place (after the turn, or without taking it: a refused call); the
        next call still waits for every earlier one."""
        if self._mine.done():
            return
        if self._before is None or self._before.done():
            self._mine.set_result(None)
        else:
            self._before.add_done_callback(self._after_before)

    def _after_before(self, _: asyncio.Future[None]) -> None:
        if not self._mine.done():
            self._mine.set_result(None)


class ArrivalOrder:
    def __init__(self) -> None:
        self._last: asyncio.Future[None] | None = None

    def join(self) -> Place:
        """A place behind every call that joined before; call on arrival, before any await."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        place = Place(self._last, mine)
        self._last = mine
        return place

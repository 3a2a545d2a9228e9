"""Publications enter the applying section in the order they arrived, whatever order their
own preparations (key look-up, signature verification, off the event loop) finish in."""

from __future__ import annotations

import asyncio

from registry_server.arrival import ArrivalOrder


async def test_calls_enter_in_arrival_order_when_their_preparations_finish_reversed() -> None:
    order, entered = ArrivalOrder(), []

    async def call(name: str, preparing: float) -> None:
        place = order.join()
        try:
            await asyncio.sleep(preparing)  # the later the arrival, the sooner it is ready
            async with place.turn():
                entered.append(name)
                await asyncio.sleep(0)
        finally:
            place.leave()

    await asyncio.gather(call("first", 0.03), call("second", 0.02), call("third", 0.0))
    assert entered == ["first", "second", "third"]


async def test_a_call_that_gives_up_lets_the_next_in_only_after_the_earlier_ones() -> None:
    order, entered = ArrivalOrder(), []
    first, refused, third = order.join(), order.join(), order.join()
    refused.leave()  # refused before its turn (a bad signature)

    async def enter(name: str, place: object, after: float) -> None:
        await asyncio.sleep(after)
        async with place.turn():  # type: ignore[attr-defined]
            entered.append(name)

    await asyncio.gather(enter("third", third, 0.0), enter("first", first, 0.02))
    assert entered == ["first", "third"]


async def test_a_cancelled_call_does_not_block_those_after_it() -> None:
    order, entered = ArrivalOrder(), []
    first, second = order.join(), order.join()

    async def waits_forever() -> None:
        async with first.turn():
            await asyncio.sleep(3600)

    blocked = asyncio.ensure_future(waits_forever())
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(second.turn().__aenter__())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    blocked.cancel()
    await asyncio.wait_for(waiting, 1)
    entered.append("second")
    assert entered == ["second"]

"""asyncio helpers of the scheduler: a cheap limiter, collect-hook answers, error picking."""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from typing import Any

__all__ = ["Limiter", "cancel_all", "first_error", "gather_answers"]


async def gather_answers(answers: list[Any]) -> list[Any]:
    """Every implementation's answer to a collect hook, awaited and flattened one level."""
    out: list[Any] = []
    for answer in answers:
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            continue
        if isinstance(answer, list):
            out.extend(answer)
        else:
            out.append(answer)
    return out


class Limiter:
    """A counting semaphore whose uncontended acquire needs no ``await``.

    ``asyncio.Semaphore.acquire`` is a coroutine even when a slot is free;
    this one takes a free slot synchronously (``acquire_nowait``) and queues
    only when all slots are taken. ``release`` hands the slot to the oldest
    waiter still waiting, so waiters are served first come, first served.
    """

    __slots__ = ("free", "waiters")

    def __init__(self, slots: int) -> None:
        self.free = slots
        self.waiters: deque[asyncio.Future[None]] = deque()

    def acquire_nowait(self) -> bool:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        return False

    async def acquire(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just before the cancel
            raise

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the waiter
                return
        self.free += 1


def first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]


async def cancel_all(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)

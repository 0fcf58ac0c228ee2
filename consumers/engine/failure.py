"""A member's first fatal error: any of its tasks reports it, its owner awaits it (`KeyOrderedConsumer.failed`).

A member whose poll, commit, batch or key task died still heartbeats and would hold its partitions forever; its
owner stops it instead (the worker process exits with `MemberFailed` and is restarted).
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("ticket_enricher.ordered")


class Failure:
    def __init__(self) -> None:
        self._error: asyncio.Future[BaseException] | None = None

    def arm(self) -> None:
        """At start, inside the running loop."""
        self._error = asyncio.get_running_loop().create_future()

    def report(self, error: BaseException, where: str) -> None:
        log.error("%s failed; this member can no longer make progress", where, exc_info=error)
        if self._error is not None and not self._error.done():
            self._error.set_result(error)

    def watch(self, task: asyncio.Task[None]) -> None:
        """A done callback: reports the error a background task died of."""
        if not task.cancelled() and (error := task.exception()) is not None:
            self.report(error, task.get_name())

    @property
    def error(self) -> BaseException | None:
        return self._error.result() if self._error is not None and self._error.done() else None

    async def wait(self) -> BaseException:
        assert self._error is not None, "start() first"
        return await asyncio.shield(self._error)

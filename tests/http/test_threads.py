"""The worker threads of a request's blocking work: the caller's context, its errors, and a
cancelled request that still waits for its use case to end."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from pebs.http.threads import in_thread

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("WHO", default="nobody")


def test_the_function_runs_in_another_thread_with_the_callers_context() -> None:
    def where(greeting: str) -> tuple[str, int]:
        return f"{greeting}, {WHO.get()}", threading.get_ident()

    async def main() -> tuple[str, int]:
        WHO.set("data manager")
        return await in_thread(where, "hello")

    said, thread = asyncio.run(main())
    assert said == "hello, data manager"
    assert thread != threading.get_ident()


def test_an_error_reaches_the_caller() -> None:
    def refuse(field: str) -> None:
        raise ValueError(f"{field}: not allowed")

    with pytest.raises(ValueError, match="site: not allowed"):
        asyncio.run(in_thread(refuse, field="site"))


def test_a_cancelled_request_waits_until_its_function_has_returned() -> None:
    started, release, ended = threading.Event(), threading.Event(), threading.Event()

    def use_case() -> None:
        started.set()
        release.wait(10)
        ended.set()

    async def main() -> bool:
        task = asyncio.create_task(in_thread(use_case))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        task.cancel()
        await asyncio.sleep(0.05)
        waiting = not task.done()  # cancelled, but its use case is still running
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        return waiting

    assert asyncio.run(main())
    assert ended.is_set()

"""UiDispatcher: callables posted from other threads run on the Tk thread, in order; stop() from any thread."""

from __future__ import annotations

import threading

import pytest

from tray.ui.dispatcher import UiDispatcher

pytestmark = pytest.mark.e2e


def test_posts_from_many_threads_run_on_the_tk_thread_in_order(tk_root):
    disp = UiDispatcher(tk_root, interval_ms=5)
    tk_thread = threading.get_ident()
    seen: list[tuple[int, int, int]] = []
    n_threads, per_thread = 4, 150

    def producer(k: int) -> None:
        for i in range(per_thread):
            disp.post(lambda k=k, i=i: seen.append((k, i, threading.get_ident())))

    def boom() -> None:
        raise RuntimeError("one bad callable")

    disp.post(boom)  # must not stop the loop
    threads = [threading.Thread(target=producer, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()

    def finisher() -> None:
        for t in threads:
            t.join(10)
        disp.post(disp.stop)  # FIFO: runs after every producer's callables

    stopper = threading.Thread(target=finisher)
    stopper.start()
    killer = threading.Timer(15, disp.stop)  # bound: the loop ends even if something goes wrong
    killer.start()
    try:
        disp.run()
    finally:
        killer.cancel()
        stopper.join(10)
    assert len(seen) == n_threads * per_thread
    assert {tid for _, _, tid in seen} == {tk_thread}
    for k in range(n_threads):
        assert [i for kk, i, _ in seen if kk == k] == list(range(per_thread))  # FIFO per producer
    assert disp.stopped
    assert disp.post(lambda: None) is False  # after stop: dropped


def test_stop_from_another_thread_ends_run(tk_root):
    disp = UiDispatcher(tk_root)
    ran = []
    disp.post(lambda: ran.append(disp.on_ui_thread()))
    t = threading.Timer(0.2, disp.stop)
    t.start()
    guard = threading.Timer(10, disp.stop)
    guard.start()
    try:
        disp.run()
    finally:
        guard.cancel()
        t.join(5)
    assert ran == [True]
    other: list[bool] = []
    probe = threading.Thread(target=lambda: other.append(disp.on_ui_thread()))
    probe.start()
    probe.join(5)
    assert other == [False] and disp.on_ui_thread()


def test_post_rejects_non_callables(tk_root):
    with pytest.raises(TypeError):
        UiDispatcher(tk_root).post("not callable")  # type: ignore[arg-type]

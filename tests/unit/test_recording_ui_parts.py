"""Recording UI pieces that need no display: where the control bar and the border go, what counts as a
full-screen recording, and the notification hold (issue 12 #3, #5, #6)."""

from __future__ import annotations

import threading

import pytest

from tray_platform.base import Monitor, Region
from tray.ui.notification_hold import NotificationHold
from tray.ui.recording_border import border_rects
from tray.ui.recording_control import covers_a_monitor, find_room_outside

SCREEN = Region(0, 0, 1920, 1080)


def overlaps(a: Region, b: Region) -> bool:
    return a.left < b.right and b.left < a.right and a.top < b.bottom and b.top < a.bottom


def test_no_room_outside_a_full_screen_region():
    assert find_room_outside(SCREEN, SCREEN, 260, 33) is None
    assert find_room_outside(Region(0, 0, 1920, 1060), SCREEN, 260, 33) is None  # 20 px left: too little
    assert find_room_outside(Region(0, 0, 1920, 1040), SCREEN, 260, 33) == (0, 1044)


@pytest.mark.parametrize("region", [Region(100, 100, 400, 300), Region(0, 0, 1000, 1080), Region(1800, 0, 120, 1080),
                                    Region(300, 1000, 500, 80)])
def test_the_bar_never_overlaps_the_region_or_its_border(region):
    x, y = find_room_outside(region, SCREEN, 260, 33)
    bar = Region(x, y, 260, 33)
    assert not overlaps(bar, region)
    assert not any(overlaps(bar, side) for side in border_rects(region, SCREEN))
    assert SCREEN.left <= x and x + 260 <= SCREEN.right and SCREEN.top <= y and y + 33 <= SCREEN.bottom


def test_border_is_just_outside_the_region():
    region = Region(100, 200, 400, 300)
    top, bottom, left, right = border_rects(region, SCREEN, 3)
    assert top == Region(97, 197, 406, 3) and bottom == Region(97, 500, 406, 3)
    assert left == Region(97, 200, 3, 300) and right == Region(500, 200, 3, 300)
    assert not any(overlaps(side, region) for side in (top, bottom, left, right))


def test_border_sides_off_the_screen_are_left_out():
    assert border_rects(SCREEN, SCREEN) == []
    sides = border_rects(Region(0, 0, 800, 600), SCREEN, 3)
    assert sides == [Region(0, 600, 803, 3), Region(800, 0, 3, 600)]  # below and right only


def test_full_screen_means_a_whole_monitor_is_recorded():
    left, right = Monitor(0, Region(0, 0, 1920, 1080), primary=True), Monitor(1, Region(1920, 0, 1280, 1024))
    assert covers_a_monitor(Region(0, 0, 1920, 1080), [left, right])
    assert covers_a_monitor(Region(1900, 0, 1300, 1024), [left, right])
    assert not covers_a_monitor(Region(10, 10, 1900, 1060), [left, right])
    assert not covers_a_monitor(Region(0, 0, 1920, 1080), [])


def test_hold_passes_through_when_not_held():
    hold = NotificationHold()
    assert hold.offer("k", lambda: None) is False
    assert hold.release() == []


def test_hold_keeps_the_newest_per_key_and_every_message_in_arrival_order():
    hold = NotificationHold()
    hold.hold()
    shown = []
    assert hold.offer((1, "UploadProgress"), lambda: shown.append("p1 10%"))
    assert hold.offer(None, lambda: shown.append("error A"))
    assert hold.offer((1, "UploadProgress"), lambda: shown.append("p1 50%"))
    assert hold.offer((1, "StateChanged"), lambda: shown.append("s1 completed"))
    assert hold.offer(None, lambda: shown.append("error B"))
    for show in hold.release():
        show()
    assert shown == ["error A", "p1 50%", "s1 completed", "error B"]
    assert not hold.held and hold.offer(None, lambda: None) is False


def test_hold_bounds_the_messages_it_keeps():
    hold = NotificationHold(limit=3)
    hold.hold()
    shown = []
    for i in range(5):
        hold.offer(None, lambda i=i: shown.append(i))
    for show in hold.release():
        show()
    assert shown == [2, 3, 4]


def test_hold_offers_from_many_threads():
    hold = NotificationHold(limit=1000)
    hold.hold()
    threads = [threading.Thread(target=lambda n=n: [hold.offer((n, i % 3), lambda: None) for i in range(100)])
               for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(hold.release()) == 8 * 3

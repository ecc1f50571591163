"""``snaplark title LINK "text"`` (issue 15) against the real reference server and the strict seed-only server:
the page and its og:title show the title, "" removes it, a refused title prints the server's reason (exit 2),
someone else's link is named as not yours, and a seed-only server is said not to have titles."""

from __future__ import annotations

import requests

from tray.cli import main

from tests.integration.server.test_share_pages import parse
from tests.server_kinds import server_each_kind  # noqa: F401 - the `server` fixture, of each kind

from .test_delete_records_in_journal import upload_shot


def test_snaplark_title(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    link = upload_shot(server, tmp_path)
    capsys.readouterr()
    rc = main(["title", link, "Checkout bug, step 3", "--server", server.api_url])
    out, err = capsys.readouterr()
    if server.kind == "seed":
        assert rc == 1 and "this server cannot set titles" in err
        return
    assert rc == 0, err
    assert out.strip() == f"{link} is now titled 'Checkout bug, step 3'"
    assert parse(requests.get(link, timeout=30).text).meta["og:title"] == "Checkout bug, step 3"

    assert main(["title", link, "two\nlines", "--server", server.api_url]) == 2
    err = capsys.readouterr().err
    assert "snaplark title: the server refused the title: title: character 4 is a control character" in err
    assert parse(requests.get(link, timeout=30).text).meta["og:title"] == "Checkout bug, step 3"  # unchanged

    assert main(["title", link, "", "--server", server.api_url]) == 0
    assert "removed the title" in capsys.readouterr().out
    assert parse(requests.get(link, timeout=30).text).meta["og:title"].startswith("Screenshot ")

    monkeypatch.setenv("SNAPLARK_TOKEN", "not-the-owner")
    assert main(["title", link, "mine", "--server", server.api_url]) == 1
    assert "not logged in" in capsys.readouterr().err  # an unknown token: 401

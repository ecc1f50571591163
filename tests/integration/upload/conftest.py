import pytest

from tray.upload.journal import UploadJournal


@pytest.fixture
def journal(tmp_path):
    j = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    yield j
    j.close()

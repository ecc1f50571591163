"""``snaplark <command>`` handlers, one module per command.

Each module ``tray/commands/<name>.py`` exposes ``configure(parser: argparse.ArgumentParser) -> None`` (adds the
command's own arguments) and ``run(args: argparse.Namespace) -> int`` (the exit status). ``args`` always carries
the global flags: ``verbose`` (bool) and ``config`` (``Path | None``, pass it to ``tray.config.load_config``).
:mod:`tray.cli` imports only the module of the command being run.
"""

# name -> one-line help (shown by `snaplark --help` without importing any command module). Append-only.
COMMANDS: dict[str, str] = {
    "shot": "take a screenshot (region or full screen) and upload it",
    "record": "record the screen to WebM while uploading it",
    "upload": "upload a file (screenshot or recording)",
    "status": "show pending and running uploads",
    "history": "list past uploads and their links",
    "login": "store an API token for a server in the OS keyring",
    "logout": "remove the stored API token",
    "config": "show or change settings (path, show, get KEY, set KEY VALUE)",
    "autostart": "start Snaplark at login (enable, disable, status)",
    "server": "check what a server supports (server check [--server URL])",
    "devices": "list audio inputs (microphones) and output monitors for recordings",
    "ocr": "print the text in a region of the screen (read locally, never uploaded)",
    "send": "tell the running tray app to capture, record, stop or quit (for keys bound in the compositor)",
    "delete": "delete an upload on the server: its links answer 410 Gone (delete LINK)",
    "trim": "cut an uploaded video on the server; the same links serve it (trim LINK --start S --end S)",
    "title": "set the title an upload's page and previews show (title LINK \"text\"; \"\" removes it)",
    "gif": "save a recording (or --start/--end of it, at most 60 s) as an animated GIF (gif RECORDING [--upload])",
}

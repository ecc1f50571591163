"""Snaplark Tray: screenshots and screen recordings, uploaded durably to a Snaplark-compatible server."""

__version__ = "0.1.0"

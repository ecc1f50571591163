"""Snaplark reference server: the seed upload API plus durable extensions."""

__version__ = "0.1.0"

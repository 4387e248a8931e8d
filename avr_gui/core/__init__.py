"""Headless core of AVR Studio. Nothing under this package may import Qt."""

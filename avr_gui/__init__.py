"""AVR Studio: Alignable Video Retrieval for people who edit, coach and study video."""

from avr_gui._version import __version__

__all__ = ["__version__"]

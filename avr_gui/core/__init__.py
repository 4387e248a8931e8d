"""Headless core of AVR Studio. Nothing under this package may import Qt.

Importing the core has no side effects: OpenCV's log settings are made where OpenCV is
imported (:func:`avr_gui.core.video._cv2.import_cv2`), settings are read on request
(:mod:`avr_gui.core.config`).
"""

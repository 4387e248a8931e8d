"""The window's panels: library, query, matches, alignment, first run and notices.

Each panel shows what it is given and emits requests; none calls the library or the
workspace model itself (the main window connects them).
"""

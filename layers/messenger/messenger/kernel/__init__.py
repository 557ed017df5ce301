"""The shared vocabulary every context speaks: domain errors, time, text fields, cursors.

Pure code: no I/O, no configuration, and no import of anything of ours outside `kernel`.
"""

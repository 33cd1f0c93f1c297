"""The pure call-flow interpreter.

Rule: nothing in this package performs I/O or reads the clock. It never imports Flask,
twilio, SQLAlchemy, vosk or pydub; the current time and every service are passed in.
"""

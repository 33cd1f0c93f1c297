"""Benchmarks run by ``make bench``; not part of the ``ivr`` package nor of the tests."""

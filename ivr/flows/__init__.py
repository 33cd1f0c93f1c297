"""Call flows: YAML → located tree → typed models → validation → registry.

Each step is its own module: ``yamlio`` reads YAML keeping line numbers, ``nodes`` and
``model`` are the typed schema, ``reader`` builds models from a file, ``validate`` checks a flow
as a whole, ``registry`` holds the working set and reloads it when files change.
"""

"""Compile stage: ``sources/`` → ``charts/`` and ``values/`` (catalog, params, render, schema, build)."""

"""`werkmatch bench`: figures side by side with the alternatives a municipality could build instead.

The harness generates a data set with `werkmatch seed`, then measures the engine live (both directions), the
same query as one SQL statement per candidate in PostgreSQL, a per-pair Python loop against the batch engine,
the nightly batch end to end on SQLite and PostgreSQL, and the batch on a Dask ``LocalCluster``. Every part
that cannot run (PostgreSQL down, a command missing) is reported as not measured, with the reason: never a
number that was not measured. :mod:`service.bench.loadtest` drives `werkmatch serve` with locust.
"""

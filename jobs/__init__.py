"""Batch jobs: each reads committed partitions, runs a pure transform, and commits one partition.

Every module exposes ``add_arguments(parser)``, ``run_args(args)`` (what the CLI calls),
``run(runtime, ...)`` (what the DAG calls) and ``main(argv)`` (``spark-submit jobs/<job>.py``).
"""

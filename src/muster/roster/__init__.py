"""Rostering: the pure engine (:mod:`muster.roster.engine`), the public benchmark's reader, writer and
evaluator (:mod:`muster.roster.benchmark_io`) and the ``muster roster`` command."""

"""``hal bench``: throughput of the backends and of NEST and Brian2 on the same networks (docs/benchmarks.md)."""

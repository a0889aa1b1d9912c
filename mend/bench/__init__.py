"""The benchmark's bare baselines (bench/README.md): mounted only with MEND_BENCH=1, on a local server."""

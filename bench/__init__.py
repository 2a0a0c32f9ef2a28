"""`make bench`: PDF micro-benchmarks, the end-to-end signing pipeline, and the raw ceiling of its infrastructure."""

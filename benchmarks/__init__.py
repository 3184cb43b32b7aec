"""agy-lsp benchmarks (issue 5). Run with `python -m benchmarks` (`make bench`)."""

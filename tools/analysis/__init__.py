"""What a reader of the results runs: `make compare`, `make bench`, `make chaos` and the invariants it checks."""

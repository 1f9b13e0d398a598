"""Multi-process reliability tests of the store: lost updates, crash safety, contention."""

"""The sync engine: claimer, workers, reporter, transfers, the error policy."""

"""The `spendtray` command line."""

"""The `bankpulse` command line."""

"""Live servers on 127.0.0.1 that provider tests start and stop themselves."""

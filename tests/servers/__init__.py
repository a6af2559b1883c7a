"""Real servers (started as subprocesses) that the test suites run against."""

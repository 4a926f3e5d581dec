"""Task suites, episode generation, metrics, baselines, the runner and its reports."""

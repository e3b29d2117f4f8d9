# The benchmark is a script run by hand (see bench.py), not a test suite: it takes minutes to hours.
collect_ignore_glob = ["*.py"]

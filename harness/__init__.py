"""Real components the tests and benchmarks start: our server, redis-server, coturn, nginx
and gunicorn on free loopback ports (servers.py), Chromium with fake cameras (browsers.py)."""

"""What the app and the stream job tell the people who run them: structured logs with a
request id (logs.py), Prometheus metrics (metrics.py) and the middleware that records
each request in both (middleware.py)."""

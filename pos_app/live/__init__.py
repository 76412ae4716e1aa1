"""Live figures pushed to open pages: one watcher per app process asks MySQL a cheap
question a few times a second and wakes every open event stream when the answer changes
(`watcher.py`); the pages then fetch their partials again (`routes.py`)."""

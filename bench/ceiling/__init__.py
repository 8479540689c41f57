"""The ceilings pager's ingest is compared with: the least a Flask app under gunicorn can do
(`bare`), and the least an app that stores each webhook can do (`sqlite_insert`)."""

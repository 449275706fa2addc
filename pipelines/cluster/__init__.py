"""The same pipelines on a Dagster deployment of several processes: PostgreSQL storage, Celery
workers on Redis, the webserver and the daemon (`depinrev cluster up`, docs/scaling.md)."""

"""Record-keeping: the on-disk spool of a session, redaction, and logging spools to MLflow.

`spool`, `gitinfo` and `redact` are pure (stdlib only). `logger`, `store` and `sync` import mlflow inside the
functions that need it, so importing this package never loads mlflow.
"""

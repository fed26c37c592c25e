"""Reading logged sessions back out of the MLflow store: queries, export, and the MLflow UI server.

Pure: no textual import here or in any submodule; mlflow is imported inside the functions that need it.
"""

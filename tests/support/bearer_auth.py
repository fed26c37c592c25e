"""A test server's authorization function: bearer tokens beside basic auth.

`mlflow server --app-name basic-auth` calls the `authorization_function` its auth config names on every
request. A team that issues tokens plugs its own check in there; this one stands in for it: a token listed in
the JSON file `$CLAUDE_TUI_TEST_TOKENS` (token -> username) acts as that user, anything else goes to MLflow's
own basic-auth check. Used by `tests.support.team_server`, imported by the server process only.
"""

from __future__ import annotations

import json
import os
from typing import Any


def authenticate_request() -> Any:
    """`Authorization: Bearer <token>` for a known token, else MLflow's basic auth."""
    from flask import request
    from mlflow.server.auth import authenticate_request_basic_auth, make_basic_auth_response
    from werkzeug.datastructures import Authorization

    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[len("bearer ") :].strip()
        with open(os.environ["CLAUDE_TUI_TEST_TOKENS"], encoding="utf-8") as handle:
            username = json.load(handle).get(token)
        if not username:
            return make_basic_auth_response()
        return Authorization("basic", {"username": username, "password": ""})
    return authenticate_request_basic_auth()

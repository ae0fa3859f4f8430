"""Gunicorn settings for the query service (services.query.wsgi:app).

Worker class gthread: a Server-Sent Events stream (/v1/stories/{id}/events, /v1/events)
holds one thread for its whole life, not a whole worker; plain requests take the other
threads. Each worker lets at most STORYLINE_SSE_MAX_CLIENTS streams in (503 with
Retry-After beyond), which defaults to its threads minus a reserve, so streams can never take
every thread and starve the JSON endpoints. gthread's own heartbeat runs in the worker's main
loop, so long streams do not trip `timeout`. One replica holds WEB_CONCURRENCY x
STORYLINE_SSE_MAX_CLIENTS streams: 2 x 100 = 200 by default, the load at which `make bench-sse`
found delivery p99 under 1 s in every run on the shared 2-core test machine (README, "Live
updates"); raise STORYLINE_QUERY_THREADS (or the limit) where a bench run on the target says so.
"""

import os
import runpy

# gunicorn loads this file by path, so the shared settings are loaded by path too.
globals().update(
    {
        k: v
        for k, v in runpy.run_path(os.path.join(os.path.dirname(__file__), "common.py")).items()
        if not k.startswith("__")
    }
)

wsgi_app = "services.query.wsgi:app"
bind = bind_from_env(8002)  # noqa: F821 - defined by common.py
logconfig_dict = json_logging("query")  # noqa: F821

worker_class = "gthread"
threads = int(os.environ.get("STORYLINE_QUERY_THREADS", "116"))
_RESERVED_FOR_REQUESTS = 16
# given to the workers' environment (their Settings read it), unless the deployment set it
sse_max_clients = int(os.environ.get("STORYLINE_SSE_MAX_CLIENTS", max(1, threads - _RESERVED_FOR_REQUESTS)))
raw_env = [f"STORYLINE_SSE_MAX_CLIENTS={sse_max_clients}"]
worker_connections = max(1000, threads * 2)  # open sockets per worker, idle keep-alive ones included

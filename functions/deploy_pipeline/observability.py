"""One Logger and Metrics for every handler (Powertools), configured from the environment.

The execution name is the correlation id of every log line, so one deployment's lines across
fourteen Lambdas can be found with one query.

No Powertools Tracer, on purpose: the functions and the state machine keep X-Ray active tracing
(template.yaml), which records every invocation in the execution's trace. What the Tracer's X-Ray
SDK added was a subsegment per AWS call, at a price every function paid: inside Lambda it imported
and patched psycopg2, requests and sqlite3, a handler's import went from ~105 to ~400 ms (with
boto3: ~250 to ~420 ms), and its botocore dependency doubled the bundle (27 to 53 MiB); see
benchmarks/cold_start.py and benchmarks/bundle_size.py.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

# Most phases publish no metric on most invocations; Powertools warns about each such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")

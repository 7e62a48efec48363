"""One Logger, Tracer and Metrics for every handler (Powertools), configured from the environment.

The execution name is the correlation id of every log line, so one deployment's lines across
fourteen Lambdas can be found with one query.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# Most phases publish no metric on most invocations; Powertools warns about each such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")

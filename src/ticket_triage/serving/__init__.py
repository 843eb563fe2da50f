"""The HTTP service: the FastAPI app, its settings, schemas, metrics and logs, the dashboard, and
the same app on AWS Lambda.

``settings.py`` (``TRIAGE_*`` variables), ``schemas.py`` (request and response bodies),
``service.py`` (the loaded pipeline and prediction log of one process), ``api.py`` (the app
factory and its error handling), ``routes.py`` (the JSON endpoints), ``guard.py`` (size, content
type and timing, before any parsing), ``dashboard.py`` (``GET /dashboard``), ``metrics.py``
(Prometheus and CloudWatch EMF), ``logs.py`` (JSON log lines), ``aws_lambda.py`` (the handler).

The rule of this layer: it builds on the inference core, the production loop (prediction log,
feedback, monitoring) and the page helpers, and never imports training: scikit-learn, scipy and
pandas are not in the Lambda package.
"""

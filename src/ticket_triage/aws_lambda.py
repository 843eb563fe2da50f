"""Entry point of the AWS Lambda function: ``ticket_triage.aws_lambda.handler``.

The handler lives in :mod:`ticket_triage.serving.aws_lambda`; this stable path is what the SAM
template (``deploy/template.yaml``) and existing deployments name. Importing it is Lambda's init
phase: the model loads here, once.
"""

from ticket_triage.serving.aws_lambda import handler, is_warmup, make_handler

__all__ = ["handler", "is_warmup", "make_handler"]

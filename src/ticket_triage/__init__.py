"""ticket-triage: route support tickets by urgency and topic with small, calibrated linear heads.

The package is a folder per concern, each with one dependency rule (``docs/architecture.md``)::

    core/        the inference core: text -> features -> heads -> decision -> route
                 (numpy and mmh3 only; what Lambda and Spark executors import)
    training/    fitting, threshold tuning, evaluation and its report (scikit-learn, pandas)
    serving/     the FastAPI app, its settings and metrics, the dashboard, the Lambda handler
    production/  the prediction log, feedback, monitoring, re-tuning (SQLAlchemy)
    render/      HTML and figure helpers shared by every page
    sample/      the synthetic sample tickets
    cli/         ``triage``

Start with :class:`ticket_triage.core.pipeline.Pipeline` (a model and its routing rules) or
:class:`ticket_triage.core.model.TriageModel`. ``ticket_triage.api.create_app`` and
``ticket_triage.aws_lambda.handler`` are the stable entry points of the service.
"""

# The one place the version is written (pyproject.toml reads it). A literal, not
# importlib.metadata: that lookup costs ~30 ms of every Lambda cold start.
__version__ = "0.2.0"

__all__ = ["__version__"]

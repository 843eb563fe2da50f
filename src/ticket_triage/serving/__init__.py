"""The HTTP service and its AWS Lambda handler; never imports training."""

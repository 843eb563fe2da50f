"""The production loop: prediction log, feedback, monitoring and re-tuning."""

"""The Workflow Builder step "Create B2C Service task" (``functions.create_b2c_task`` in
manifest.yaml): a feature on the create flow, as ``/task`` is.

``inputs`` (pure: the step's inputs read as ``/task`` reads the same fields), ``step`` (a run
as Slack starts it: checked, journaled, started), ``finish`` (the run ended in Slack with
``functions.completeSuccess`` / ``completeError``, and the task message posted where the step
says), ``store`` (each run's workflow token until it is finished), ``messages`` (the words of
a run that made no task).
"""

"""Use cases: they join the domain rules, the models and the host's hooks.

A service receives a :class:`~.context.Context` (session, hooks, caller, today) and never reads
Flask's globals, so the scheduler and the CLI call the same code as the REST API.
"""

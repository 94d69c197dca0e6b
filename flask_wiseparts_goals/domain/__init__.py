"""Flask-free domain rules: periods, categories and metrics, distribution, figures, recurrence.

Nothing here imports Flask, SQLAlchemy or the hooks: every function takes plain values.
"""

"""Users, tokens and rights: who calls, and what they may run.

``rights`` (roles and profiles), ``tokens`` (JWTs) and ``ratelimit`` know nothing of Django;
``store`` and ``signals`` hold the ORM side; ``guard`` is what the funnel calls.
"""

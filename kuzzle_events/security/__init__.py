"""Users, tokens and rights: who calls, and what they may run.

``rights`` (roles and profiles), ``tokens`` (JWTs), ``ratelimit`` and ``queries`` know nothing of
Django; ``store`` and ``signals`` hold the ORM side of authentication; ``accounts`` (users) and
``roles`` (roles and profiles) are the services of the ``security`` controller; ``guard`` is what
the funnel calls.
"""

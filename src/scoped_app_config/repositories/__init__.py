"""One repository per entity, each a facade over its db_source (all SQL lives in db_source.py).

`wiring.py` builds them over one session factory (`base.db_source.create_session_factory`).
"""

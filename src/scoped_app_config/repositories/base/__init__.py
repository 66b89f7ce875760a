"""Pieces shared by the three repositories: sessions, search SQL, integrity mapping, resilience."""

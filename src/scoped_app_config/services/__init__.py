"""Services: authorization, the write gate, limits, merge orchestration and cache read-around."""

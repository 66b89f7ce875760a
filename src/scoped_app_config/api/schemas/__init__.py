"""Pydantic v2 wire models of the plugin's HTTP API (WIRE.md §4), split by entity.

Import from the entity modules (`common`, `app_config`, `fragments`, `definitions`,
`allow_list`, `search`); request models end in `Input`, response models in `Node`/`Payload`.
"""

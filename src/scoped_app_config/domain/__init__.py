"""Framework-free domain types: ids, scopes, frozen entity data and the error tree."""

"""Plugin loading: manifest validation, entry-point discovery and the registrar."""

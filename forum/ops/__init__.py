"""Operations: backup and restore, health checks."""

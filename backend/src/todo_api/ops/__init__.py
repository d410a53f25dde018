"""Operations: metrics, logs and the served process."""

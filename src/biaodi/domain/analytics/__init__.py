"""Operations analytics: the pure rules (investor tiers, exact rates)."""

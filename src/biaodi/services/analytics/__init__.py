"""Operations analytics: metrics over the book, computed set-based in SQL that SQLite and
PostgreSQL both run, each defined once (docstring and docs/ANALYTICS.md). It may read every
other capability's tables; nothing imports it but the edges."""

"""Demo data from public sources (organisations, bases) and fictional demo people."""

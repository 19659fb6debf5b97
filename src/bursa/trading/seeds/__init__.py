"""Seed files: the currencies and markets an exchange starts with (see ``service``)."""

from bursa.trading.seeds.service import (
    CREATED,
    DEMO_SEEDS,
    UNCHANGED,
    UPDATED,
    Outcome,
    Problem,
    SeedError,
    Seeds,
    apply_seeds,
    parse_seeds,
    read_seed_file,
    seed_file,
)

__all__ = [
    "CREATED",
    "DEMO_SEEDS",
    "UNCHANGED",
    "UPDATED",
    "Outcome",
    "Problem",
    "SeedError",
    "Seeds",
    "apply_seeds",
    "parse_seeds",
    "read_seed_file",
    "seed_file",
]

"""Bots (Arke's job): liquidity, market making and arbitrage against any OpenDAX-dialect
exchange, Bursa first, through the same public API third parties use."""

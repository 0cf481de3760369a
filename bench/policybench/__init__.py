"""Policy read check benchmark: Kyodo vs Cedar, Casbin and a plain dominance check."""

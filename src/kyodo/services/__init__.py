"""Use cases: each authorises through kyodo.policy, writes through the stores, and audits."""

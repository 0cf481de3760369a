"""CoT load benchmark: N TCP clients against Kyodo, its peers and a null relay."""

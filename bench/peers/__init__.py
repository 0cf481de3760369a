"""The servers a bench measures: Kyodo, its peers and the floors, each started on loopback."""

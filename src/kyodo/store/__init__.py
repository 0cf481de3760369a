"""Storage: the SQLAlchemy implementation of the services' store Protocols, and its migrations."""

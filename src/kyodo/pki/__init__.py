"""Certificates for CoT over TLS, by concern.

`names` (usernames, hosts, fingerprints: all the services need), `issuing` (CA, server and
client certificates), `files` (PEM files, keys at mode 0600), `packages` (TAK data packages and
PKCS#12 files) and `tls_context` (the listeners' server-side TLS contexts).
Everything works on `cryptography` objects and bytes except `files`. Validation failures raise
`InvalidInput`, missing files `NotFound`, existing outputs `Conflict`.
"""

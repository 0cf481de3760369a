"""The leak hunt: stateful property tests that drive the real services and check, after every
step, that nothing leaked.

- `world.py` — the shared pieces: label and person strategies (USA/JPN schemes, nations USA, JPN,
  AUS, compartments SI, TK and 特定秘密 (SDS)), a database wrapper that makes the next write
  fail after it stored its labels (a rolled-back transaction), the flags of the known bugs.
- `test_services_machine.py` — a `RuleBasedStateMachine` over a real `ServiceContext` (a SQLite
  file copied from one migrated template per example; a smaller run on PostgreSQL): people,
  roles, nets, members, posts, replies, edits, deletions, clearance changes, rollbacks, live
  connections on the `LiveHub`, records exports, tracks. Every response and every live frame is
  checked against `kyodo.policy.may_read` (the oracle, never the code under test), and after
  every step the stored messages are read back raw: nothing lost, no label lowered, replies
  dominate what they answer, a label id maps to the label it was stored with, every refusal
  audited.
- `test_http_machine.py` — the same read invariants over the HTTP API (the real app in process).

Runs: `pytest tests/leakhunt` (bounded for CI: `KYODO_LEAKHUNT_EXAMPLES`, default 100, and
`KYODO_LEAKHUNT_STEPS`, default 30); `make leakhunt` runs it long. Every check is on; each is
named after the leak it found (`world.KNOWN_BUGS`), and `KYODO_LEAKHUNT_SKIP=name,...` turns named
ones off while a regression is looked at. `test_found_leaks.py` keeps each leak's shrunk
example as a regression test.
"""

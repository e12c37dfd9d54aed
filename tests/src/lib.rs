//! Integration tests for cflog live in `tests/tests/`; fixtures in `tests/fixtures/`.

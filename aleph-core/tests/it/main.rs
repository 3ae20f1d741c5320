//! Integration tests of aleph-core.

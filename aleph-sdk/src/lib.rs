//! Async client for the Aleph.im network (built out in its own issue).
pub use aleph_core as core;

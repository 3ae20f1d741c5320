//! The Aleph.im node: CCN and CRN roles (built out in its own issue).
pub use aleph_core as core;

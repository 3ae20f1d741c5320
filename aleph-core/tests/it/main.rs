//! Integration tests of aleph-core: one binary, one module per area.

mod python_sdk;
mod roundtrip;
mod sign;
mod vectors;
mod vm_auth;
mod vm_auth_python;

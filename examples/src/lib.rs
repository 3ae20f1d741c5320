//! Examples of the Aleph workspace; see the files beside this crate.

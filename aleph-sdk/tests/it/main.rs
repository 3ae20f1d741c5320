//! Integration tests of aleph-sdk: every public call against an in-process aleph-node on an
//! ephemeral port. One binary, one module per API area.

mod common;

mod accounts;
mod aggregates;
mod authorizations;
mod messages;
mod posts;
mod prices;
mod storage;
mod watch;

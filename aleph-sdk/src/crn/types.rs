//! What a CRN answers: the shapes of `aleph_core::api::crn`, which the node's CRN role serves.

pub use aleph_core::api::{
    AllocationNotification, CrnExecution, CrnLogEntry, ExecutionNetworking, ExecutionTimes,
};

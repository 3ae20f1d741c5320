//! The two ways a compute resource node (CRN, the reference is aleph-vm) authenticates control
//! requests, as pure code: the CRN verifies with it and the SDK signs with it.
//!
//! - **Owner operations** (stop, reboot, logs, … of a VM): two headers. `X-SignedPubKey` is an
//!   ephemeral P-256 public key (a JWK) with an address, an expiry and a chain, signed by the
//!   owner's wallet (EIP-191 for Ethereum and every EVM wallet, ed25519 for Solana).
//!   `X-SignedOperation` is `{time, method, path, domain}` signed by that ephemeral key (ES256,
//!   raw `r‖s`). Verify with [`verify_signed_operation`] (or [`verify_websocket_auth`] for the
//!   first frame of a log stream); sign with an [`OperationSigner`].
//! - **Scheduler requests** (`POST /control/allocations` and the other scheduler-only routes):
//!   `Authorization: Aleph-EIP191-V1 sig=0x…,payload=<hex JSON {body_sha256, iat, method,
//!   path}>`, signed with EIP-191 by an authorized scheduler key. Verify with a
//!   [`SchedulerPolicy`] and reject exact replays with a [`ReplayGuard`]; sign with
//!   [`sign_scheduler_request`].
//!
//! Times are passed in by the caller (`now`), so nothing here reads a clock.
//!
//! ```
//! use aleph_core::chain::ethereum::EthereumSigner;
//! use aleph_core::vm_auth::{verify_signed_operation, OperationSigner};
//! use aleph_core::Signer;
//! use chrono::{TimeZone, Utc};
//!
//! let wallet = EthereumSigner::from_hex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")?;
//! let now = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
//! let signer = OperationSigner::new(&wallet, "crn.example.org", now)?;
//! let path = "/control/machine/cafe/stop";
//! let headers = signer.headers("POST", "crn.example.org", path, now);
//!
//! let sender = verify_signed_operation(
//!     &headers.signed_pubkey, &headers.signed_operation, "POST", "crn.example.org", path, now,
//! )?;
//! assert_eq!(sender.address, wallet.address());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod iso_time;
mod jwk;
mod owner;
mod owner_signer;
mod replay;
mod scheduler;

pub use jwk::EphemeralKey;
pub use owner::{
    verify_signed_operation, verify_websocket_auth, AuthenticatedSender, VmAuthError, OPERATION_METHODS,
    OPERATION_TIME_TOLERANCE_SECS, SIGNED_OPERATION_HEADER, SIGNED_PUBKEY_HEADER,
};
pub use owner_signer::{OperationHeaders, OperationSigner, EPHEMERAL_KEY_VALIDITY_SECS};
pub use replay::ReplayGuard;
pub use scheduler::{
    scheduler_payload, sign_scheduler_request, SchedulerAuth, SchedulerAuthError, SchedulerPolicy,
    SchedulerRequest, DEFAULT_SCHEDULER_SIGNERS, MAX_SIGNED_BODY_BYTES, SCHEDULER_AUTH_SCHEME,
    SCHEDULER_MAX_AGE_SECS,
};

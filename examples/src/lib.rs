//! What the examples share: the node they talk to and the key that signs; see the example files
//! beside this crate.

use aleph_sdk::core::Chain;
use aleph_sdk::{AccountError, AnySigner};

/// The first funded dev account of a local `aleph-node` (never holds real funds).
pub const LOCAL_DEV_KEY: &str = "0xac00000000000000000000000000000000000000000000000000000000000000";

/// The node: `--node URL` among `args`, else `ALEPH_CCN` (or its alias `ALEPH_NODE_URL`), else a
/// local node (`http://127.0.0.1:4024`).
pub fn node_url(args: &[String]) -> String {
    args.windows(2)
        .find(|w| w[0] == "--node")
        .map(|w| w[1].clone())
        .or_else(aleph_sdk::node_from_env)
        .unwrap_or_else(|| aleph_sdk::LOCAL_NODE_URL.to_owned())
}

/// `args` without `--node URL`: the example's own arguments.
pub fn positional(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if a == "--node" {
            rest.next();
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// The key: `ALEPH_PRIVATE_KEY` (hex, ETH), else [`LOCAL_DEV_KEY`].
pub fn signer() -> Result<AnySigner, AccountError> {
    let key = std::env::var("ALEPH_PRIVATE_KEY").unwrap_or_else(|_| LOCAL_DEV_KEY.to_owned());
    AnySigner::from_hex(Chain::Eth, &key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_flag_wins_and_is_left_out_of_the_positionals() {
        let args: Vec<String> = ["a.bin", "--node", "http://n:1", "b"].map(String::from).to_vec();
        assert_eq!(node_url(&args), "http://n:1");
        assert_eq!(positional(&args), ["a.bin", "b"]);
    }
}

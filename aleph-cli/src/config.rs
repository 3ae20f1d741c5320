//! The configuration directory: `$ALEPH_CONFIG_HOME`, else `<platform config dir>/aleph`.
//!
//! ```text
//! config.toml        default CCN and account, CCN profiles, account entries
//! accounts/NAME.json an encrypted key (Ethereum keystore v3: scrypt + AES-128-CTR)
//! accounts/NAME.key  a plaintext key (hex), only with `account create/import --plaintext`
//! ```
//!
//! Every chain's secret is 32 bytes (an EVM key, an ed25519 seed, a Tezos secret of the curve
//! recorded in the entry), so one keystore format holds them all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::error::usage;

/// Built-in CCN profiles, always available.
pub(crate) const BUILTIN_CCNS: &[(&str, &str)] =
    &[("mainnet", aleph_sdk::DEFAULT_API_URL), ("local", aleph_sdk::LOCAL_NODE_URL)];

/// `config.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ConfigFile {
    /// The profile (or URL) used when `--ccn` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_ccn: Option<String>,
    /// The account used when `--account` and `--private-key` are absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_account: Option<String>,
    /// CCN profiles by name.
    pub(crate) ccn: BTreeMap<String, CcnProfile>,
    /// Accounts by name.
    pub(crate) accounts: BTreeMap<String, AccountEntry>,
}

/// A named node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CcnProfile {
    pub(crate) url: String,
}

/// A stored account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountEntry {
    /// The chain label it signs for.
    pub(crate) chain: String,
    /// Its address.
    pub(crate) address: String,
    /// The key file, relative to the configuration directory.
    pub(crate) file: String,
    /// Whether the key file is encrypted.
    pub(crate) encrypted: bool,
    /// Tezos only: `ed25519`, `secp256k1` or `p256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) curve: Option<String>,
}

/// The configuration directory and its `config.toml`.
#[derive(Debug, Clone)]
pub(crate) struct ConfigStore {
    pub(crate) dir: PathBuf,
    pub(crate) file: ConfigFile,
}

impl ConfigStore {
    /// The directory in use.
    pub(crate) fn locate() -> anyhow::Result<PathBuf> {
        if let Some(dir) = std::env::var_os("ALEPH_CONFIG_HOME").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        dirs::config_dir()
            .map(|d| d.join("aleph"))
            .ok_or_else(|| usage("no configuration directory on this platform: set ALEPH_CONFIG_HOME"))
    }

    /// Reads `config.toml` (absent: empty).
    pub(crate) fn load() -> anyhow::Result<Self> {
        let dir = Self::locate()?;
        let path = dir.join("config.toml");
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| usage(format!("{} is not a valid configuration: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(ConfigStore { dir, file })
    }

    /// Writes `config.toml` atomically.
    pub(crate) fn save(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let text = toml::to_string_pretty(&self.file).context("serializing the configuration")?;
        let path = self.dir.join("config.toml");
        let tmp = self.dir.join("config.toml.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The accounts directory (created on demand, private to the user).
    pub(crate) fn accounts_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = self.dir.join("accounts");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        restrict(&dir, 0o700)?;
        Ok(dir)
    }

    /// The URL of a CCN given as a URL or a profile name.
    pub(crate) fn resolve_ccn(&self, name_or_url: &str) -> anyhow::Result<String> {
        if name_or_url.contains("://") {
            return Ok(name_or_url.to_owned());
        }
        if let Some(p) = self.file.ccn.get(name_or_url) {
            return Ok(p.url.clone());
        }
        if let Some((_, url)) = BUILTIN_CCNS.iter().find(|(n, _)| *n == name_or_url) {
            return Ok((*url).to_owned());
        }
        Err(usage(format!(
            "no CCN profile named {name_or_url:?} (see `aleph config ccn list`, or pass a URL)"
        )))
    }

    /// Every profile, built-in ones first unless overridden.
    pub(crate) fn ccn_profiles(&self) -> Vec<(String, String, bool)> {
        let mut out: Vec<(String, String, bool)> = BUILTIN_CCNS
            .iter()
            .filter(|(n, _)| !self.file.ccn.contains_key(*n))
            .map(|(n, u)| ((*n).to_owned(), (*u).to_owned(), true))
            .collect();
        out.extend(self.file.ccn.iter().map(|(n, p)| (n.clone(), p.url.clone(), false)));
        out
    }
}

/// Sets Unix permissions (no-op elsewhere); a failure is an error.
pub(crate) fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("restricting {} to mode {mode:o}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Checks an account or profile name: letters, digits, `-`, `_`, `.` (no path tricks).
pub(crate) fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(usage(format!("invalid name {name:?}: use letters, digits, '-', '_' or '.'")))
    }
}

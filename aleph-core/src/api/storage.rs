//! Storage: upload answers, file metadata, files by message or ref, the base64 form peers
//! fetch, pin counts and upload limits.

use serde::{Deserialize, Serialize};

/// The answer of an upload (`storage/add_file`, `storage/add_json`, `ipfs/add_file`,
/// `ipfs/add_json`, `ipfs/add_car`): `name` only for IPFS files, `size` for IPFS files and CARs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    /// `success`.
    #[serde(default)]
    pub status: Option<String>,
    /// The stored content's hash (sha256 or CID).
    pub hash: String,
    /// IPFS uploads: the file name (`file` when the upload gave none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IPFS uploads: the size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl UploadResponse {
    /// A successful upload of `hash`.
    pub fn success(hash: impl Into<String>) -> Self {
        UploadResponse { status: Some("success".into()), hash: hash.into(), name: None, size: None }
    }
}

/// `GET /api/v0/storage/metadata/{hash}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileMetadata {
    /// The file hash.
    pub file_hash: String,
    /// `file` or `dir`.
    #[serde(default, rename = "type")]
    pub file_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Where to download it.
    #[serde(default)]
    pub download_url: Option<String>,
}

/// `GET /api/v0/storage/by-message-hash/{hash}` and `by-ref/…`: the file a STORE names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileRef {
    /// The ref (the STORE's `ref`, else its item hash).
    #[serde(rename = "ref")]
    pub reference: String,
    /// The STORE's owner.
    pub owner: String,
    /// The file.
    pub file_hash: String,
    /// Where to download it.
    pub download_url: String,
    /// Its size in bytes (0 when the node does not hold it).
    pub size: i64,
}

/// `GET /api/v0/storage/{hash}`: a file as MIME-style base64, for peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileContent {
    /// `success`.
    pub status: String,
    /// The file hash.
    pub hash: String,
    /// `storage` or `ipfs`.
    pub engine: String,
    /// The bytes, base64 in lines of 76 characters.
    pub content: String,
}

/// The limits of `storage` uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageUploadLimits {
    /// Largest file with a paid STORE message.
    pub max_file_size: u64,
    /// Largest file without one.
    pub max_unauthenticated_upload_file_size: u64,
}

/// The limits of `ipfs` uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IpfsUploadLimits {
    /// Largest file.
    pub max_upload_file_size: u64,
    /// Largest CAR archive.
    pub max_upload_car_size: u64,
    /// Largest file without a STORE message.
    pub max_unauthenticated_upload_file_size: u64,
}

/// `GET /api/v0/storage/limits.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageLimits {
    /// `storage` uploads.
    pub storage: StorageUploadLimits,
    /// `ipfs` uploads.
    pub ipfs: IpfsUploadLimits,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_storage_upload_has_no_name_or_size() {
        let r = UploadResponse::success("h");
        assert_eq!(serde_json::to_value(&r).unwrap(), json!({"status": "success", "hash": "h"}));
        let ipfs = UploadResponse { name: Some("f".into()), size: Some(3), ..r };
        assert_eq!(serde_json::to_value(&ipfs).unwrap()["size"], json!(3));
    }
}

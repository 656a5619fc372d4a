//! SPDX 2 words that ailedger's SPDX writer (`ailedger-export`) and reader
//! (`ailedger-formats`) must agree on: one definition, so an export reads back.

/// The `referenceType` of an `OTHER` external reference giving a package's ailedger kind
/// (the export writes it for every kind but `package`).
pub const KIND_REF: &str = "ailedger-kind";
/// The `referenceType` of an `OTHER` external reference giving one of its aliases (a ref
/// that neither a purl nor the SHA-256 checksum carries).
pub const ALIAS_REF: &str = "ailedger-alias";
/// How a relationship's comment names the ailedger edge kind it stands for.
pub const EDGE_COMMENT: &str = "ailedger edge: ";

/// SPDX 2.3's package purposes (`primaryPackagePurpose`).
pub const PACKAGE_PURPOSES: &[&str] = &[
    "APPLICATION",
    "FRAMEWORK",
    "LIBRARY",
    "CONTAINER",
    "OPERATING_SYSTEM",
    "DEVICE",
    "FIRMWARE",
    "SOURCE",
    "ARCHIVE",
    "FILE",
    "INSTALL",
    "OTHER",
];

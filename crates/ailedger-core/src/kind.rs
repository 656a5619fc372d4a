//! The closed vocabularies of the graph: artifact kinds and edge types.
//!
//! Both are stored as their kebab-case names, so adding a variant never renumbers
//! anything already written.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Error;

macro_rules! names_enum {
    ($(#[$m:meta])* $name:ident, $err:ident, { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// Every variant's wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($s),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s { $($s => Ok($name::$v),)+ _ => Err(Error::$err(s.to_owned())) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

names_enum!(
    /// What an artifact is.
    ArtifactKind, ArtifactKind, {
        Model => "model",
        Dataset => "dataset",
        Package => "package",
        File => "file",
        McpConfig => "mcp-config",
        McpServer => "mcp-server",
        Sbom => "sbom",
        Attestation => "attestation",
        Deployment => "deployment",
        Builder => "builder",
        Source => "source",
        /// A resolved set of packages: a lockfile, a `pip freeze`, a container's packages.
        Environment => "environment",
    }
);

names_enum!(
    /// How a consumer relates to what it consumes. Edges point from consumer to consumed.
    EdgeKind, EdgeKind, {
        DependsOn => "depends-on",
        BuiltFrom => "built-from",
        /// Fine-tuned or otherwise derived from.
        DerivedFrom => "derived-from",
        TrainedOn => "trained-on",
        /// An MCP config uses an MCP server.
        UsesTool => "uses-tool",
        /// An MCP server runs a package or image.
        Runs => "runs",
        Contains => "contains",
        Deploys => "deploys",
        /// A document describes its subject.
        Describes => "describes",
        /// An attestation attests its subject.
        Attests => "attests",
        /// An artifact was built by a builder (SLSA provenance `builder.id`).
        BuiltBy => "built-by",
    }
);

impl ArtifactKind {
    pub fn from_index(i: u8) -> Option<Self> {
        Self::ALL.get(usize::from(i)).copied()
    }
}

impl EdgeKind {
    pub fn from_index(i: u8) -> Option<Self> {
        Self::ALL.get(usize::from(i)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_stable() {
        for (i, k) in ArtifactKind::ALL.iter().enumerate() {
            assert_eq!(k.as_str().parse::<ArtifactKind>().unwrap(), *k);
            assert_eq!(ArtifactKind::from_index(i as u8), Some(*k));
        }
        for (i, k) in EdgeKind::ALL.iter().enumerate() {
            assert_eq!(k.as_str().parse::<EdgeKind>().unwrap(), *k);
            assert_eq!(EdgeKind::from_index(i as u8), Some(*k));
        }
        let err = "consumes".parse::<EdgeKind>().unwrap_err().to_string();
        assert!(
            err.contains("\"consumes\"") && err.contains("depends-on"),
            "{err}"
        );
    }
}

//! Schema versions: which MXC config versions cordon accepts, and what each allows.
//!
//! Two families. 0.6–0.9: any full semantic version `0.M.P` (a pre-release or
//! build label is ignored), as MXC's runners before 1.0 read them. 1.x: MXC 1.0
//! registers exact contract markers, `1.0.0` and `1.1.0-alpha`, and refuses
//! every other spelling (`1.0`, `1.0.1`, `1.1.0`); cordon does the same.

use std::fmt;

use crate::error::{PolicyError, Result};

/// The `major.minor` of a config's `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaVersion {
    pub major: u64,
    pub minor: u64,
}

/// The exact markers of MXC's 1.x contracts, as MXC 1.0.1 registers them.
pub const CONTRACT_MARKERS: &[&str] = &["1.0.0", "1.1.0-alpha"];

impl SchemaVersion {
    pub const OLDEST: SchemaVersion = SchemaVersion { major: 0, minor: 6 };
    pub const NEWEST: SchemaVersion = SchemaVersion { major: 1, minor: 1 };
    /// What an absent `version` means.
    pub const CURRENT: SchemaVersion = SchemaVersion { major: 0, minor: 8 };
    /// Directional network, `runtimeConfig`, `experimental.test`.
    pub const V0_8: SchemaVersion = SchemaVersion { major: 0, minor: 8 };
    /// MXC's generated contracts begin: no legacy network, no `experimental`,
    /// `telemetry` and `wslc` at the top level, `process.inheritDefaultEnv`
    /// (and `process.env` replaces the default environment).
    pub const V0_9: SchemaVersion = SchemaVersion { major: 0, minor: 9 };
    /// The `appContainer`/`macos_sandbox` aliases gone.
    pub const V1_0: SchemaVersion = SchemaVersion { major: 1, minor: 0 };
    /// Sections of the Windows and VM backends (`hyperlight`,
    /// `windowsSandbox`) and the top-level `test` feature.
    pub const V1_1: SchemaVersion = SchemaVersion { major: 1, minor: 1 };

    /// Every version `cordon schema --version` can describe, oldest first.
    pub const ALL: &'static [SchemaVersion] = &[
        SchemaVersion { major: 0, minor: 6 },
        SchemaVersion { major: 0, minor: 7 },
        SchemaVersion { major: 0, minor: 8 },
        SchemaVersion::V0_9,
        SchemaVersion::V1_0,
        SchemaVersion::V1_1,
    ];

    /// The version string a config of this version declares (`0.8.0`,
    /// `1.0.0`, `1.1.0-alpha`).
    pub fn marker(self) -> String {
        match self {
            SchemaVersion::V0_9 => "0.9.0-alpha".to_string(),
            SchemaVersion::V1_1 => "1.1.0-alpha".to_string(),
            v => format!("{}.{}.0", v.major, v.minor),
        }
    }

    /// Parse and range-check a `version` string such as `0.8.0-alpha` or `1.0.0`.
    pub fn parse(raw: &str) -> Result<Self> {
        let accepted = || {
            format!(
                "cordon accepts 0.6.x to 0.9.x (e.g. \"0.8.0\"), {}",
                CONTRACT_MARKERS
                    .iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        };
        let bad = || {
            PolicyError::malformed(format!(
                "version: {raw:?} is not a full semantic version X.Y.Z ({})",
                accepted()
            ))
        };
        let (core, label) = match raw.find(['-', '+']) {
            Some(at) => (&raw[..at], Some(&raw[at + 1..])),
            None => (raw, None),
        };
        if label == Some("") {
            return Err(bad());
        }
        let mut parts = core.split('.');
        let major = parse_number(parts.next()).ok_or_else(bad)?;
        let minor = parse_number(parts.next()).ok_or_else(bad)?;
        parse_number(parts.next()).ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        let version = SchemaVersion { major, minor };
        if version < Self::OLDEST {
            return Err(PolicyError::malformed(format!(
                "version: {raw} is older than supported ({})",
                accepted()
            )));
        }
        if major == 0 && version <= Self::V0_9 {
            return Ok(version);
        }
        if CONTRACT_MARKERS.contains(&raw) {
            return Ok(version);
        }
        if major == Self::NEWEST.major && version <= Self::NEWEST {
            return Err(PolicyError::malformed(format!(
                "version: {raw:?} is not a registered contract version; MXC 1.x versions are \
                 exact markers ({})",
                accepted()
            )));
        }
        Err(PolicyError::malformed(format!(
            "version: {raw} is newer than supported ({})",
            accepted()
        )))
    }

    /// A version whose field set is one of MXC's generated contracts (0.9 on).
    pub fn is_contract(self) -> bool {
        self >= Self::V0_9
    }
}

fn parse_number(part: Option<&str>) -> Option<u64> {
    let part = part?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_supported_range_with_labels() {
        assert_eq!(SchemaVersion::parse("0.6.0-alpha").unwrap().minor, 6);
        assert_eq!(SchemaVersion::parse("0.9.0-dev").unwrap().minor, 9);
        assert_eq!(SchemaVersion::parse("0.7.3+build.1").unwrap().minor, 7);
        assert_eq!(SchemaVersion::parse("1.0.0").unwrap(), SchemaVersion::V1_0);
        assert_eq!(
            SchemaVersion::parse("1.1.0-alpha").unwrap(),
            SchemaVersion::V1_1
        );
    }

    #[test]
    fn contract_versions_are_exact() {
        for inexact in ["1.0.1", "1.0.0-alpha", "1.1.0", "1.1.0-beta", "1.0.0+x"] {
            let err = SchemaVersion::parse(inexact).unwrap_err();
            assert!(
                err.message.contains("registered contract"),
                "{inexact}: {err}"
            );
        }
        for short in ["0.8", "1.0", "1"] {
            let err = SchemaVersion::parse(short).unwrap_err();
            assert!(
                err.message.contains("full semantic version"),
                "{short}: {err}"
            );
        }
    }

    #[test]
    fn rejects_out_of_range_with_direction() {
        let old = SchemaVersion::parse("0.5.0-alpha").unwrap_err();
        assert!(old.message.contains("older than supported"), "{old}");
        for newer in ["0.10.0", "1.2.0", "2.0.0"] {
            let err = SchemaVersion::parse(newer).unwrap_err();
            assert!(err.message.contains("newer than supported"), "{err}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "x", "0", "0.x", "0.8.0.1", "-1.0", "0..8", "0.8.0-"] {
            assert!(SchemaVersion::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn markers_parse_back() {
        for v in SchemaVersion::ALL {
            assert_eq!(SchemaVersion::parse(&v.marker()).unwrap(), *v);
        }
    }
}

//! Schema versions: which MXC config versions cordon accepts, and what each allows.

use std::fmt;

use crate::error::{PolicyError, Result};

/// The `major.minor` of a config's `version` (pre-release and build labels ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaVersion {
    pub major: u64,
    pub minor: u64,
}

impl SchemaVersion {
    pub const OLDEST: SchemaVersion = SchemaVersion { major: 0, minor: 6 };
    pub const NEWEST: SchemaVersion = SchemaVersion { major: 0, minor: 9 };
    /// What an absent `version` means.
    pub const CURRENT: SchemaVersion = SchemaVersion { major: 0, minor: 8 };
    /// Directional network, `runtimeConfig`, `experimental.test`.
    pub const V0_8: SchemaVersion = SchemaVersion { major: 0, minor: 8 };

    /// Parse and range-check a `version` string such as `0.8.0-alpha`.
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = || {
            PolicyError::malformed(format!(
                "version: {raw:?} is not a semantic version (expected e.g. \"0.8.0\")"
            ))
        };
        let core = raw.split(['-', '+']).next().unwrap_or("");
        let mut parts = core.split('.');
        let major = parse_number(parts.next()).ok_or_else(bad)?;
        let minor = parse_number(parts.next()).ok_or_else(bad)?;
        if let Some(patch) = parts.next() {
            parse_number(Some(patch)).ok_or_else(bad)?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        let version = SchemaVersion { major, minor };
        if version < Self::OLDEST {
            return Err(PolicyError::malformed(format!(
                "version: {raw} is older than supported (cordon accepts {} to {})",
                Self::OLDEST,
                Self::NEWEST
            )));
        }
        if version > Self::NEWEST {
            return Err(PolicyError::malformed(format!(
                "version: {raw} is newer than supported (cordon accepts {} to {})",
                Self::OLDEST,
                Self::NEWEST
            )));
        }
        Ok(version)
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
        assert_eq!(SchemaVersion::parse("0.8").unwrap().minor, 8);
        assert_eq!(SchemaVersion::parse("0.7.3+build.1").unwrap().minor, 7);
    }

    #[test]
    fn rejects_out_of_range_with_direction() {
        let old = SchemaVersion::parse("0.5.0-alpha").unwrap_err();
        assert!(old.message.contains("older than supported"), "{old}");
        for newer in ["0.10.0", "1.0.0", "1.1.0-alpha"] {
            let err = SchemaVersion::parse(newer).unwrap_err();
            assert!(err.message.contains("newer than supported"), "{err}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "x", "0", "0.x", "0.8.0.1", "-1.0", "0..8"] {
            assert!(SchemaVersion::parse(bad).is_err(), "{bad} accepted");
        }
    }
}

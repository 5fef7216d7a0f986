//! Which backend a sandbox runs on: the names, as users, records and ids
//! spell them. A leaf; what each backend can do and how one is chosen is
//! the seam (`seam.rs`).

use serde::{Deserialize, Serialize};

/// A way of building a sandbox on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Namespaces, mounts, Landlock, seccomp and capabilities set up by
    /// cordon itself.
    Native,
    /// The same layout realised by the `bwrap` program.
    Bubblewrap,
    /// Landlock and seccomp alone, where namespaces are unusable.
    LandlockOnly,
}

impl Backend {
    /// Every backend, in no particular order (see `seam::chain` for the order
    /// a containment tries them in).
    pub const ALL: [Backend; 3] = [Backend::Native, Backend::Bubblewrap, Backend::LandlockOnly];

    /// The name in `--debug`, audit records, `probe` and sandbox ids.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Native => "native",
            Backend::Bubblewrap => "bubblewrap",
            Backend::LandlockOnly => "landlock-only",
        }
    }

    /// The backend called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_match_serde() {
        for b in Backend::ALL {
            assert_eq!(Backend::from_name(b.name()), Some(b));
            assert_eq!(
                serde_json::to_value(b).unwrap(),
                serde_json::Value::from(b.name())
            );
        }
        assert_eq!(Backend::from_name("lxc"), None);
    }
}

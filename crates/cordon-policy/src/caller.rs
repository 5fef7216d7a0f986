//! The identity a plan is resolved for.

/// Who asked: grants are checked against this identity (delegation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
}

impl Caller {
    /// The identity of this process.
    pub fn current() -> Self {
        // SAFETY: geteuid cannot fail and touches no memory.
        let uid = unsafe { libc::geteuid() };
        // SAFETY: as geteuid.
        let gid = unsafe { libc::getegid() };
        Caller { uid, gid }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

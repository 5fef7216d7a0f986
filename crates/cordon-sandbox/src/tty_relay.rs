//! Keeping the caller's terminal out of a long-lived sandbox.
//!
//! `cordon exec ID -- CMD` hands the command its caller's stdin, stdout and
//! stderr. When one of them is a terminal, a daemon the command leaves behind
//! would keep it after `exec` returns and read what the user types at their
//! own prompt (a sudo password) or write into their session. So a terminal
//! is never passed: the command gets a pipe instead, which this process
//! relays to and from the terminal while the command runs. When the command
//! has ended, what it wrote is drained and the pipes are closed: whatever
//! still holds the sandbox's ends then talks to nothing.
//!
//! (`--pty` gives the command a terminal of the sandbox instead; one-shot
//! runs kill every process of the sandbox when the command ends.)

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::sys;

/// One standard descriptor replaced by a pipe.
struct Relayed {
    /// 0, 1 or 2: the caller's descriptor (a terminal).
    caller: RawFd,
    /// This process's end of the pipe.
    ours: OwnedFd,
    open: bool,
}

/// The descriptors to pass to the sandbox for stdin, stdout and stderr, and
/// the relays for those that were terminals.
pub struct TtyRelay {
    relayed: Vec<Relayed>,
    /// The sandbox's ends, kept open until they have been sent.
    theirs: Vec<OwnedFd>,
    passed: [RawFd; 3],
}

fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: reading the flags of a descriptor we own.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: setting them back with O_NONBLOCK.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
}

impl TtyRelay {
    /// Replace each of this process's standard descriptors that is a
    /// terminal by a pipe.
    pub fn new() -> std::io::Result<Self> {
        let mut relay = TtyRelay {
            relayed: Vec::new(),
            theirs: Vec::new(),
            passed: [0, 1, 2],
        };
        for fd in 0..3 {
            if !is_terminal(fd) {
                continue;
            }
            let (read, write) = sys::pipe()?;
            let (ours, theirs) = if fd == 0 {
                (write, read)
            } else {
                (read, write)
            };
            relay.passed[fd.unsigned_abs() as usize] = theirs.as_raw_fd();
            relay.theirs.push(theirs);
            if fd != 0 {
                set_nonblocking(ours.as_raw_fd());
            }
            relay.relayed.push(Relayed {
                caller: fd,
                ours,
                open: true,
            });
        }
        Ok(relay)
    }

    /// The descriptors to pass as the command's stdin, stdout and stderr.
    pub fn passed(&self) -> [RawFd; 3] {
        self.passed
    }

    /// Whether any descriptor is relayed.
    pub fn active(&self) -> bool {
        !self.relayed.is_empty()
    }

    /// The descriptors were sent: this process keeps only its own ends.
    pub fn sent(&mut self) {
        self.theirs.clear();
    }

    /// Relay until `done` becomes readable (the command's status arrived),
    /// then drain what the command wrote and close every pipe.
    pub fn run_until(mut self, done: RawFd) {
        let mut buf = [0u8; 16384];
        loop {
            let mut fds: Vec<libc::pollfd> = vec![libc::pollfd {
                fd: done,
                events: libc::POLLIN,
                revents: 0,
            }];
            for r in &self.relayed {
                let fd = match (r.open, r.caller) {
                    (false, _) => -1,
                    (true, 0) => 0,
                    (true, _) => r.ours.as_raw_fd(),
                };
                fds.push(libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            // SAFETY: a valid pollfd array of its length.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                continue;
            }
            for (i, r) in self.relayed.iter_mut().enumerate() {
                if fds[i + 1].revents == 0 || !r.open {
                    continue;
                }
                let (from, to) = match r.caller {
                    0 => (0, r.ours.as_raw_fd()),
                    fd => (r.ours.as_raw_fd(), fd),
                };
                // SAFETY: reading into a valid buffer.
                let got = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
                match got {
                    n if n > 0 => sys::write_all(to, &buf[..n.unsigned_abs()]),
                    n if n < 0
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) => {
                    }
                    // End of input: the command's stdin pipe is closed.
                    _ => r.open = false,
                }
            }
            if fds[0].revents != 0 {
                break;
            }
        }
        // The command has ended: what it wrote before is in the pipes now.
        // Take that (reads stop at the first empty read; a daemon writing on
        // does not hold this up), then close.
        for r in self.relayed.iter().filter(|r| r.caller != 0 && r.open) {
            loop {
                // SAFETY: reading into a valid buffer from a non-blocking pipe.
                let got =
                    unsafe { libc::read(r.ours.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if got <= 0 {
                    break;
                }
                sys::write_all(r.caller, &buf[..got.unsigned_abs()]);
            }
        }
    }
}

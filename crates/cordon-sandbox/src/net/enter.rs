//! Work done by the supervisor inside a sandbox's network namespace.
//!
//! The sandbox's user namespace belongs to the caller, so a child of the
//! supervisor may join it (and the network namespace it owns) with full
//! capabilities there and nowhere else. Each operation forks such a child:
//! `setns(2)` into a user namespace needs a single-threaded process, and the
//! supervisor has threads.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{SockaddrLike, SockaddrStorage};

/// The user and network namespaces of one sandbox.
pub struct Namespaces {
    pub user: OwnedFd,
    pub net: OwnedFd,
}

impl Namespaces {
    /// The network namespace of a process the caller may inspect (bubblewrap's
    /// sandbox init) and the user namespace that owns it.
    pub fn of_process_network(pid: libc::pid_t) -> std::io::Result<Namespaces> {
        let net: OwnedFd = std::fs::File::open(format!("/proc/{pid}/ns/net"))?.into();
        // _IO(0xb7, 0x1) of linux/nsfs.h.
        const NS_GET_USERNS: libc::c_ulong = 0xb701;
        // SAFETY: NS_GET_USERNS takes no argument and returns a new descriptor.
        let user = unsafe { libc::ioctl(net.as_raw_fd(), NS_GET_USERNS as _) };
        if user < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor; we own it.
        let user = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(user) };
        Ok(Namespaces { user, net })
    }

    /// Receive the two descriptors the native init sends ("U" then "N").
    pub fn receive(channel: RawFd) -> std::io::Result<Namespaces> {
        let take = |tag: u8| -> std::io::Result<OwnedFd> {
            let mut buf = [0u8; 1];
            match crate::sys::recv_fd(channel, &mut buf)? {
                (1, Some(fd)) if buf[0] == tag => Ok(fd),
                _ => Err(std::io::Error::other(
                    "the sandbox init did not hand over its namespaces",
                )),
            }
        };
        let user = take(b'U')?;
        let net = take(b'N')?;
        Ok(Namespaces { user, net })
    }

    /// Both descriptors again, for another owner (the filtering proxy).
    pub fn try_clone(&self) -> std::io::Result<Namespaces> {
        Ok(Namespaces {
            user: self.user.try_clone()?,
            net: self.net.try_clone()?,
        })
    }

    /// A TCP connection to `addr` made from inside the sandbox's namespace:
    /// `127.0.0.1` there is the sandbox's own loopback, never the host's.
    pub fn connect(&self, addr: std::net::SocketAddr) -> Result<std::net::TcpStream, String> {
        let fd = self.socket_in(addr, false)?;
        let (_, storage) = sockaddr(addr);
        // SAFETY: connect(2) on a socket we own, a sockaddr of the length given.
        if unsafe { libc::connect(fd.as_raw_fd(), storage.as_ptr(), storage.len()) } != 0 {
            return Err(format!(
                "connecting to {addr} in the sandbox: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(std::net::TcpStream::from(fd))
    }

    /// A TCP socket listening on `addr` inside the sandbox's namespace.
    pub fn listen(&self, addr: std::net::SocketAddr) -> Result<OwnedFd, String> {
        self.socket_in(addr, true)
    }

    /// A TCP socket made inside the sandbox's namespace: listening on
    /// `addr`, or (`listening` false) unbound, of `addr`'s family.
    fn socket_in(&self, addr: std::net::SocketAddr, listening: bool) -> Result<OwnedFd, String> {
        self.made_inside(&format!("a socket for {addr}"), &|| {
            // bwrap may not have brought the loopback up yet; up is idempotent.
            crate::sys::loopback_up().and_then(|()| tcp_socket_raw(addr, listening))
        })
    }

    /// A netfilter netlink socket of the sandbox's namespace, to write its
    /// packet rules or read their counters with (this process owns the
    /// sandbox's user namespace, so it may; making the socket needs to be
    /// inside). With `allow_ping`, the caller's group may also open ICMP
    /// echo sockets in the namespace (`net.ipv4.ping_group_range`, a
    /// per-namespace setting), set by the same child.
    pub fn netfilter_socket(&self, allow_ping: bool) -> Result<OwnedFd, String> {
        self.made_inside("a netfilter socket", &|| {
            if allow_ping {
                allow_ping_here()?;
            }
            super::nfnl::socket()
        })
    }

    /// A descriptor `make` opens in a child that joined the namespaces
    /// (raw system calls only, see [`Namespaces::fork_entered`]), passed back.
    fn made_inside(
        &self,
        what: &str,
        make: &dyn Fn() -> std::io::Result<RawFd>,
    ) -> Result<OwnedFd, String> {
        let (parent, child) =
            std::os::unix::net::UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        let child_end = child.as_raw_fd();
        let pid = self
            .fork_entered(&|entered| match entered.and_then(|()| make()) {
                Ok(fd) => match crate::sys::send_fd(child_end, fd, b"L") {
                    Ok(()) => 0,
                    Err(_) => 2,
                },
                Err(e) => {
                    let msg = e.raw_os_error().unwrap_or(0).to_ne_bytes();
                    // SAFETY: writing a local buffer to our socket.
                    unsafe { libc::write(child_end, msg.as_ptr().cast(), msg.len()) };
                    1
                }
            })
            .map_err(|e| format!("fork: {e}"))?;
        drop(child);
        let mut buf = [0u8; 4];
        let got = crate::sys::recv_fd(parent.as_raw_fd(), &mut buf);
        reap(pid);
        match got {
            Ok((_, Some(fd))) => Ok(fd),
            Ok((4, None)) => Err(format!(
                "{what} in the sandbox: {}",
                std::io::Error::from_raw_os_error(i32::from_ne_bytes(buf))
            )),
            _ => Err(format!("{what} in the sandbox failed")),
        }
    }

    /// Fork a child that joins the namespaces and runs `body` (told whether
    /// joining worked), then exits with the code it returns. The supervisor
    /// may have threads (a terminal relay, the proxy), and the allocator's
    /// lock may be held by one of them at the fork (musl's has no after-fork
    /// hook): `body` may only make raw system calls, and it is borrowed, not
    /// owned, so that nothing it captured is freed in the child.
    fn fork_entered(
        &self,
        body: &dyn Fn(std::io::Result<()>) -> i32,
    ) -> std::io::Result<libc::pid_t> {
        let (user, net) = (self.user.as_raw_fd(), self.net.as_raw_fd());
        // SAFETY: the child only runs `body`, raw system calls, and exits.
        match unsafe { libc::fork() } {
            -1 => Err(std::io::Error::last_os_error()),
            0 => {
                let code = body(enter(user, net));
                // SAFETY: leave the forked child without running destructors.
                unsafe { libc::_exit(code) }
            }
            pid => Ok(pid),
        }
    }
}

/// Wait for a child of [`Namespaces::fork_entered`]; whether it exited 0.
fn reap(pid: libc::pid_t) -> bool {
    exit_code(pid) == Some(0)
}

/// Wait for a child of [`Namespaces::fork_entered`]; its exit code.
fn exit_code(pid: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    // SAFETY: reaping a child this process forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

/// IPv6 settings for interfaces created later in the namespace: no router
/// advertisements, no address autoconfiguration, no duplicate address
/// detection (the uplink's link has two ends, both cordon's choosing).
const STATIC_IPV6: [&std::ffi::CStr; 3] = [
    c"/proc/sys/net/ipv6/conf/default/accept_ra",
    c"/proc/sys/net/ipv6/conf/default/autoconf",
    c"/proc/sys/net/ipv6/conf/default/accept_dad",
];

impl Namespaces {
    /// Make interfaces created from now on take only the IPv6 addresses and
    /// routes cordon gives them (no router advertisements, autoconfiguration or
    /// duplicate address detection). Whether the namespace
    /// has IPv6 at all (not on a kernel booted with `ipv6.disable=1`).
    pub fn static_ipv6_only(&self) -> Result<bool, String> {
        let child = self.fork_entered(&|entered| {
            if entered.is_err() {
                return 1;
            }
            for path in STATIC_IPV6 {
                // /proc/sys/net shows the namespace of the process reading it.
                // SAFETY: open(2) of a NUL-terminated literal path.
                let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
                if fd < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
                    return 3;
                }
                // SAFETY: writing one byte of a literal to our descriptor.
                if fd < 0 || unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) } != 1 {
                    return 2;
                }
                // SAFETY: closing the descriptor opened above.
                unsafe { libc::close(fd) };
            }
            0
        });
        match child.map(exit_code) {
            Ok(Some(0)) => Ok(true),
            Ok(Some(3)) => Ok(false),
            Ok(_) => Err(
                "network: turning off IPv6 autoconfiguration in the sandbox's namespace failed"
                    .into(),
            ),
            Err(e) => Err(format!("network: fork: {e}")),
        }
    }

    /// Fork a helper that waits in the namespace (up to `timeout`) until it
    /// routes IPv4 to the outside — the uplink has configured its interface
    /// — and then gives that interface `ipv6`. It runs while the caller goes
    /// on (installing the rules); [`UplinkWait::finish`] collects it.
    pub fn await_uplink(
        &self,
        ipv6: Option<&Ipv6Setup>,
        timeout: std::time::Duration,
    ) -> Result<UplinkWait, String> {
        // A documentation address: connect(2) on a datagram socket only
        // looks the route up; nothing is sent.
        let probe = sockaddr("198.51.100.1:9".parse().expect("literal"));
        let limit_us = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        // Borrowed by the child: it must not free the parent's allocation.
        let probe = &probe;
        let pid = self
            .fork_entered(&|entered| {
                if entered.is_err() {
                    return 2;
                }
                let mut waited = 0u64;
                while !routed(probe.0, &probe.1) {
                    if waited >= limit_us {
                        return 1;
                    }
                    let pause = libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 200_000,
                    };
                    // SAFETY: nanosleep with a valid timespec.
                    unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
                    waited += 200;
                }
                let Some(v6) = ipv6 else { return 0 };
                // SAFETY: if_nametoindex(3) with a NUL-terminated name.
                let index = unsafe { libc::if_nametoindex(v6.interface.as_ptr()) };
                if index == 0 {
                    return 3;
                }
                if crate::sys::add_ipv6_address(index, v6.address).is_err() {
                    return 3;
                }
                if crate::sys::add_ipv6_default_route(index, v6.gateway).is_err() {
                    return 4;
                }
                0
            })
            .map_err(|e| format!("network: fork: {e}"))?;
        Ok(UplinkWait { pid })
    }
}

/// The sandbox's IPv6 side of its uplink.
pub struct Ipv6Setup {
    pub interface: &'static std::ffi::CStr,
    /// The sandbox's address (a /128).
    pub address: [u8; 16],
    /// The uplink's link-local router address.
    pub gateway: [u8; 16],
}

/// The helper of [`Namespaces::await_uplink`], still running.
pub struct UplinkWait {
    pid: libc::pid_t,
}

impl UplinkWait {
    /// Wait for the helper: `Ok(true)` once the interface is configured,
    /// `Ok(false)` if no route appeared in time (the uplink is slow or
    /// failed: the caller asks it), an error if IPv6 could not be set up.
    pub fn finish(self) -> Result<bool, String> {
        match exit_code(self.pid) {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            Some(3) => Err("network: giving the sandbox its IPv6 address failed".into()),
            Some(4) => Err("network: giving the sandbox its IPv6 default route failed".into()),
            _ => Err("network: entering the sandbox's namespaces failed".into()),
        }
    }
}

/// Whether a datagram socket can be connected to `addr` (a route exists).
fn routed(family: libc::c_int, addr: &SockaddrStorage) -> bool {
    // SAFETY: a plain socket call; the descriptor is closed below.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return false;
    }
    // SAFETY: a socket this function owns, a sockaddr of the given length.
    let ok = unsafe { libc::connect(fd, addr.as_ptr(), addr.len()) } == 0;
    // SAFETY: closing the socket this function opened.
    unsafe { libc::close(fd) };
    ok
}

/// Let the caller's group open ICMP echo sockets in the network namespace
/// this process is in. Raw system calls only (it runs in a forked child).
fn allow_ping_here() -> std::io::Result<()> {
    // The caller's group as the namespace just joined names it: getgid()
    // answers in the current user namespace. (Reading an id map instead
    // races with bwrap, which may have moved its init into a nested
    // namespace.)
    let mut line = [0u8; 32];
    // SAFETY: getgid cannot fail and touches no memory.
    let len = ping_range_line(unsafe { libc::getgid() }, &mut line);
    // /proc/sys/net shows the namespace of the process reading it.
    // SAFETY: open(2) of a NUL-terminated literal path.
    let fd = unsafe {
        libc::open(
            c"/proc/sys/net/ipv4/ping_group_range".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: writing `len` bytes of a local buffer to our descriptor.
    let written = unsafe { libc::write(fd, line.as_ptr().cast(), len) };
    let result = if written < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    result
}

/// "G G" for `ping_group_range`, formatted into `buf` without allocating (it
/// runs in a forked child); returns its length.
fn ping_range_line(gid: libc::gid_t, buf: &mut [u8; 32]) -> usize {
    use std::io::Write;
    let mut rest = &mut buf[..];
    // Two u32s and a space always fit in 32 bytes.
    let _ = write!(rest, "{gid} {gid}");
    32 - rest.len()
}

/// Join the user namespace, then the network namespace it owns.
fn enter(user: RawFd, net: RawFd) -> std::io::Result<()> {
    // SAFETY: setns(2) on descriptors of namespace files.
    if unsafe { libc::setns(user, libc::CLONE_NEWUSER) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::setns(net, libc::CLONE_NEWNET) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn tcp_socket_raw(addr: std::net::SocketAddr, listening: bool) -> std::io::Result<RawFd> {
    let (family, storage) = sockaddr(addr);
    // SAFETY: a plain socket call; the descriptor is returned or closed.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if !listening {
        return Ok(fd);
    }
    // SAFETY: binding our socket to a sockaddr buffer of the length given.
    let bound = unsafe { libc::bind(fd, storage.as_ptr(), storage.len()) } == 0;
    // SAFETY: listening on our bound socket.
    if !bound || unsafe { libc::listen(fd, 128) } != 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: closing the socket this function opened (it ran in a child
        // about to exit; closing it is still tidier).
        unsafe { libc::close(fd) };
        return Err(e);
    }
    Ok(fd)
}

/// A socket address in the kernel's layout, with its family.
fn sockaddr(addr: std::net::SocketAddr) -> (libc::c_int, SockaddrStorage) {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    (family, SockaddrStorage::from(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_range_lines() {
        for (gid, want) in [
            (0, "0 0"),
            (7, "7 7"),
            (1001, "1001 1001"),
            (u32::MAX, "4294967295 4294967295"),
        ] {
            let mut buf = [0u8; 32];
            let len = ping_range_line(gid, &mut buf);
            assert_eq!(std::str::from_utf8(&buf[..len]).unwrap(), want);
        }
    }
}

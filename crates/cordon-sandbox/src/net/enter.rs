//! Work done by the supervisor inside a sandbox's network namespace.
//!
//! The sandbox's user namespace belongs to the caller, so a child of the
//! supervisor may join it (and the network namespace it owns) with full
//! capabilities there and nowhere else. Each operation forks such a child:
//! `setns(2)` into a user namespace needs a single-threaded process, and the
//! supervisor has threads.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

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
        const NS_GET_USERNS: libc::c_ulong = 0xb701; // _IO(0xb7, 0x1)
                                                     // SAFETY: NS_GET_USERNS takes no argument and returns a new descriptor.
        let user = unsafe { libc::ioctl(net.as_raw_fd(), NS_GET_USERNS) };
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

    /// Run `program` inside the namespaces with CAP_NET_ADMIN there (and only
    /// there); `stdin` is written to it. Returns stdout, or stderr as the error.
    /// With `ping_gid`, that group may also open ICMP echo sockets in the
    /// namespace (`net.ipv4.ping_group_range`, a per-namespace setting).
    pub fn run_net_admin(
        &self,
        program: &str,
        args: &[&str],
        stdin: &str,
        ping_gid: Option<u32>,
    ) -> Result<String, String> {
        let ping_range = ping_gid.map(|g| format!("{g} {g}").into_bytes());
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        let (user, net) = (self.user.as_raw_fd(), self.net.as_raw_fd());
        // SAFETY: the closure runs in the forked child before exec and only
        // makes raw system calls (async-signal-safe).
        unsafe {
            cmd.pre_exec(move || {
                enter(user, net)?;
                if let Some(range) = &ping_range {
                    // /proc/sys/net shows the namespace of the process reading it.
                    let fd = libc::open(
                        c"/proc/sys/net/ipv4/ping_group_range".as_ptr(),
                        libc::O_WRONLY | libc::O_CLOEXEC,
                    );
                    if fd < 0 || libc::write(fd, range.as_ptr().cast(), range.len()) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
                keep_net_admin_across_exec()
            })
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting {program}: {e}"))?;
        if let Some(mut input) = child.stdin.take() {
            use std::io::Write;
            input
                .write_all(stdin.as_bytes())
                .map_err(|e| format!("writing to {program}: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for {program}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{program} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A TCP socket listening on `addr` inside the sandbox's namespace.
    pub fn listen(&self, addr: std::net::SocketAddr) -> Result<OwnedFd, String> {
        let (parent, child) =
            std::os::unix::net::UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        let (user, net) = (self.user.as_raw_fd(), self.net.as_raw_fd());
        // SAFETY: the child only makes raw system calls and exits.
        match unsafe { libc::fork() } {
            -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
            0 => {
                // bwrap may not have brought the loopback up yet; up is idempotent.
                let code = match enter(user, net)
                    .and_then(|()| crate::sys::loopback_up())
                    .and_then(|()| listen_raw(addr))
                {
                    Ok(fd) => match crate::sys::send_fd(child.as_raw_fd(), fd, b"L") {
                        Ok(()) => 0,
                        Err(_) => 2,
                    },
                    Err(e) => {
                        let msg = e.raw_os_error().unwrap_or(0).to_ne_bytes();
                        // SAFETY: writing a local buffer to our socket.
                        unsafe { libc::write(child.as_raw_fd(), msg.as_ptr().cast(), msg.len()) };
                        1
                    }
                };
                // SAFETY: leave the forked child without running destructors.
                unsafe { libc::_exit(code) }
            }
            pid => {
                drop(child);
                let mut buf = [0u8; 4];
                let got = crate::sys::recv_fd(parent.as_raw_fd(), &mut buf);
                let mut status = 0;
                // SAFETY: reaping the child we just forked.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                match got {
                    Ok((_, Some(fd))) => Ok(fd),
                    Ok((4, None)) => Err(format!(
                        "listening on {addr} in the sandbox: {}",
                        std::io::Error::from_raw_os_error(i32::from_ne_bytes(buf))
                    )),
                    _ => Err(format!("listening on {addr} in the sandbox failed")),
                }
            }
        }
    }
}

impl Namespaces {
    /// Wait (up to `timeout`) until the namespace routes each family asked
    /// for to the outside: the uplink has configured its interface.
    pub fn wait_for_routes(&self, ipv4: bool, ipv6: bool, timeout: std::time::Duration) -> bool {
        let (user, net) = (self.user.as_raw_fd(), self.net.as_raw_fd());
        let probes: [std::net::SocketAddr; 2] = [
            // Documentation addresses: connect(2) on a datagram socket only
            // looks the route up; nothing is sent.
            "198.51.100.1:9".parse().expect("literal"),
            "[2001:db8::1]:9".parse().expect("literal"),
        ];
        let prepared: Vec<_> = probes
            .iter()
            .filter(|a| if a.is_ipv4() { ipv4 } else { ipv6 })
            .map(|a| sockaddr(*a))
            .collect();
        if prepared.is_empty() {
            return false;
        }
        let limit_us = timeout.as_micros() as u64;
        // SAFETY: the child only makes raw system calls and exits.
        match unsafe { libc::fork() } {
            -1 => false,
            0 => {
                let mut code = 1;
                if enter(user, net).is_ok() {
                    let mut waited = 0u64;
                    while waited < limit_us {
                        if prepared
                            .iter()
                            .all(|(family, addr, len)| routed(*family, addr, *len))
                        {
                            code = 0;
                            break;
                        }
                        let pause = libc::timespec {
                            tv_sec: 0,
                            tv_nsec: 200_000,
                        };
                        // SAFETY: nanosleep with a valid timespec.
                        unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
                        waited += 200;
                    }
                }
                // SAFETY: leave the forked child without running destructors.
                unsafe { libc::_exit(code) }
            }
            pid => {
                let mut status = 0;
                // SAFETY: reaping the child we just forked.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
            }
        }
    }
}

/// Whether a datagram socket can be connected to `addr` (a route exists).
fn routed(family: libc::c_int, addr: &libc::sockaddr_storage, len: libc::socklen_t) -> bool {
    // SAFETY: a socket this function owns, a sockaddr of the given length.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return false;
        }
        let ok = libc::connect(fd, (addr as *const libc::sockaddr_storage).cast(), len) == 0;
        libc::close(fd);
        ok
    }
}

/// From linux/capability.h (the libc crate does not carry capability numbers).
const CAP_NET_ADMIN: u32 = 12;

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

/// After `setns` into the user namespace this process holds every capability
/// there; an exec by a non-root uid would lose them. Make CAP_NET_ADMIN
/// ambient so the program keeps exactly that one.
fn keep_net_admin_across_exec() -> std::io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let mut data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capget/capset with a v3 header and a two-element data array.
    unsafe {
        if libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        data[0].inheritable |= 1 << CAP_NET_ADMIN;
        if libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    crate::sys::prctl_ambient_raise(CAP_NET_ADMIN as libc::c_ulong)
}

fn listen_raw(addr: std::net::SocketAddr) -> std::io::Result<RawFd> {
    let (family, storage, len) = sockaddr(addr);
    // SAFETY: plain socket calls on a descriptor this function owns, with a
    // sockaddr buffer of the length given.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) != 0
            || libc::listen(fd, 128) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(fd)
    }
}

/// A socket address in the kernel's layout.
fn sockaddr(addr: std::net::SocketAddr) -> (libc::c_int, libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        std::net::SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            (
                libc::AF_INET,
                storage,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        std::net::SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            (
                libc::AF_INET6,
                storage,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

//! Attempts to get out: regain privileges, rebuild the mount view, reach the
//! kernel's wider attack surface, inject into the terminal. Each attempt runs
//! inside the sandbox and must fail; each test also checks that the harmless
//! neighbour of the attack still works, so a broken sandbox cannot pass by
//! failing everything.

mod common;

use common::*;
use serde_json::json;

/// Run a Python snippet inside the sandbox.
fn python(who: Identity, code: &str) -> Run {
    run_config(
        who,
        &json!({"process": {"commandLine": format!("python3 -c '{}'", code.replace('\'', "'\\''"))}}),
    )
}

/// Python: call a raw syscall and print `name=errno-name` (or `name=ok`).
const SYSCALL_PRELUDE: &str = r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    e = ctypes.get_errno()
    print(f"{name}=" + ("ok" if r >= 0 else errno.errorcode.get(e, str(e))))
"#;

#[test]
fn nested_namespaces_and_mounts_are_refused() {
    for who in identities() {
        let run = run_config(
            who,
            &json!({"process": {"commandLine":
                "unshare -Ur true 2>/dev/null && echo userns=ok || echo userns=fail; \
                 unshare -m true 2>/dev/null && echo mntns=ok || echo mntns=fail; \
                 unshare -n true 2>/dev/null && echo netns=ok || echo netns=fail; \
                 mount -t tmpfs none /tmp 2>/dev/null && echo mount=ok || echo mount=fail; \
                 (true) && echo subshell=ok"}}),
        );
        assert_eq!(run.code, 0, "{run}");
        run.expect(&[
            "userns=fail",
            "mntns=fail",
            "netns=fail",
            "mount=fail",
            "subshell=ok",
        ]);
    }
}

#[test]
fn kernel_attack_surface_syscalls_fail_with_eperm() {
    let code = format!(
        "{SYSCALL_PRELUDE}
call('bpf', 321, 0, 0, 0)
call('perf_event_open', 298, 0, 0, -1, -1, 0)
call('userfaultfd', 323, 0)
call('io_uring_setup', 425, 1, 0)
call('keyctl', 250, 0, 0, 0)
call('add_key', 248, 0, 0, 0, 0, 0)
call('open_by_handle_at', 304, 0, 0, 0)
call('init_module', 175, 0, 0, 0)
call('kexec_load', 246, 0, 0, 0, 0)
call('reboot', 169, 0xfee1dead, 672274793, 0x1234567, 0)
call('settimeofday', 164, 0, 0)
call('clone_newuser', 56, 0x10000000 | 17, 0, 0, 0, 0)
call('clone3', 435, 0, 0)
call('x32_getpid', 0x40000000 + 39)
call('getpid', 39)
"
    );
    for who in identities() {
        let run = python(who, &code);
        assert_eq!(run.code, 0, "{run}");
        run.expect(&[
            "bpf=EPERM",
            "perf_event_open=EPERM",
            "userfaultfd=EPERM",
            "io_uring_setup=EPERM",
            "keyctl=EPERM",
            "add_key=EPERM",
            "open_by_handle_at=EPERM",
            "init_module=EPERM",
            "kexec_load=EPERM",
            "reboot=EPERM",
            "settimeofday=EPERM",
            "clone_newuser=EPERM",
            "clone3=ENOSYS",
            "x32_getpid=EPERM",
            "getpid=ok",
        ]);
    }
}

#[test]
fn setuid_binaries_grant_nothing() {
    for who in identities() {
        // su and passwd are setuid root on Debian; with no_new_privs they run unprivileged.
        let run = run_config(
            who,
            &json!({"process": {"commandLine":
                "ls -l /usr/bin/passwd | cut -c1-10; \
                 if su -c true root </dev/null >/dev/null 2>&1; then echo su=ok; else echo su=fail; fi; \
                 id -u"}}),
        );
        assert!(
            run.stdout.contains("-rwsr-xr-x"),
            "fixture: passwd is setuid\n{run}"
        );
        run.expect(&["su=fail"]);
    }
}

#[test]
fn proc_paths_do_not_lead_to_the_host() {
    for who in identities() {
        let run = run_config(
            who,
            &json!({"process": {"commandLine":
                "ls /proc/1/root/root >/dev/null 2>&1 && echo root_via_proc=ok || echo root_via_proc=fail; \
                 cat /proc/1/root/etc/shadow >/dev/null 2>&1 && echo shadow_via_proc=ok || echo shadow_via_proc=fail; \
                 ls /proc/1/cwd/ >/dev/null 2>&1; \
                 echo c > /proc/sysrq-trigger 2>/dev/null && echo sysrq=ok || echo sysrq=fail; \
                 echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo sysctl=ok || echo sysctl=fail; \
                 cat /proc/kcore >/dev/null 2>&1 && echo kcore=ok || echo kcore=fail; \
                 ls /sys >/dev/null 2>&1 && echo sys=ok || echo sys=fail; \
                 ls /dev/kvm /dev/mem /dev/sda /dev/vda 2>/dev/null | wc -l | sed s/^/devices=/"}}),
        );
        assert_eq!(run.code, 0, "{run}");
        run.expect(&[
            "root_via_proc=fail",
            "shadow_via_proc=fail",
            "sysrq=fail",
            "sysctl=fail",
            "kcore=fail",
            "sys=fail",
            "devices=0",
        ]);
    }
}

#[test]
fn dot_dot_and_symlinks_inside_a_writable_path_stay_inside() {
    for who in identities() {
        let fx = Fixture::new(who);
        let rw = fx.dir("rw");
        fx.file("outside.txt", "OUTSIDE");
        let run = run_config(
            who,
            &json!({
                "process": {"commandLine": format!(
                    "cd {rw}; cat ../outside.txt 2>/dev/null && echo dotdot=ok || echo dotdot=fail; \
                     ln -s {root}/outside.txt link; cat link 2>/dev/null && echo symlink=ok || echo symlink=fail; \
                     ln -s / rootlink; ls rootlink/root >/dev/null 2>&1 && echo rootlink=ok || echo rootlink=fail; \
                     ln {root}/outside.txt hard 2>/dev/null && echo hardlink=ok || echo hardlink=fail",
                    root = fx.root.display())},
                "filesystem": {"readwritePaths": [rw]}
            }),
        );
        assert_eq!(run.code, 0, "{run}");
        run.expect(&[
            "dotdot=fail",
            "symlink=fail",
            "rootlink=fail",
            "hardlink=fail",
        ]);
    }
}

#[test]
fn terminal_injection_is_blocked() {
    // `script` gives cordon a real terminal as stdin; TIOCSTI on it must fail.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("the `script` program (bsdutils) is required for this test");
    }
    for who in identities() {
        let bin = if who.user == User::Caller {
            cordon_bin()
        } else {
            shared_bin()
        };
        let inner = format!(
            "{bin} run -- python3 -c 'import fcntl, termios; fcntl.ioctl(0, termios.TIOCSTI, b\"x\"); print(\"inject=ok\")' || echo inject=fail; \
             {bin} run -- python3 -c 'import fcntl, termios, struct; fcntl.ioctl(0, termios.TIOCGWINSZ, bytes(8)); print(\"winsz=ok\")'"
        );
        let mut cmd = as_user(who, "script");
        let out = cmd
            .args(["-qec", &inner, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("inject=fail"), "{who:?}: {text}");
        assert!(!text.contains("inject=ok"), "{who:?}: {text}");
        assert!(
            text.contains("winsz=ok"),
            "{who:?}: the terminal itself works: {text}"
        );
    }
}

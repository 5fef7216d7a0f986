//! The one seam between a plan and the backends: what each backend is
//! available for and does, and the one fallback chain per containment.
//! Adding a backend means a module of its own, a variant of [`Backend`] and
//! its arms here; nothing else chooses a backend.

use cordon_policy::plan::{Containment, Plan};

use crate::backend::Backend;
use crate::context::{self, LongLived};
use crate::error::SandboxError;
use crate::outcome::{Outcome, RunOptions};
use crate::{bubblewrap, host, landlock_only, native};

/// The backends a containment may use, strongest first: a run tries them in
/// this order and falls back only when one is unavailable, never when it
/// fails. `process`: native namespaces, else bubblewrap (only a setuid bwrap
/// can work where cordon's own namespaces cannot), else Landlock-only.
/// `native`: namespaces, else Landlock-only. `bubblewrap`: bwrap or an error.
/// `allowed` (the operator's ceiling, see `cordon_policy::ceiling`) removes
/// backends from the chain; a chain left empty is an error naming both.
pub fn chain(
    containment: &Containment,
    allowed: Option<&[String]>,
) -> Result<Vec<Backend>, SandboxError> {
    let full = full_chain(containment)?;
    let Some(allowed) = allowed else {
        return Ok(full.to_vec());
    };
    let kept: Vec<Backend> = full
        .iter()
        .copied()
        .filter(|b| allowed.iter().any(|a| a == b.name()))
        .collect();
    if kept.is_empty() {
        return Err(SandboxError::unavailable(format!(
            "containment {:?} runs on {}, and the operator's ceiling allows only backends {}",
            containment.name(),
            full.iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(" or "),
            allowed.join(", ")
        )));
    }
    Ok(kept)
}

fn full_chain(containment: &Containment) -> Result<&'static [Backend], SandboxError> {
    match containment {
        Containment::Process => Ok(&[Backend::Native, Backend::Bubblewrap, Backend::LandlockOnly]),
        Containment::Native => Ok(&[Backend::Native, Backend::LandlockOnly]),
        Containment::Bubblewrap => Ok(&[Backend::Bubblewrap]),
        Containment::Lxc { .. } => Err(SandboxError::unavailable(
            "containment \"lxc\": the lxc backend is not built yet; use \"process\" or \"native\"",
        )),
        Containment::MicroVm => Err(SandboxError::unavailable(
            "containment \"microvm\": no micro-VM backend is available on this host yet; use \
             \"process\" or \"native\"",
        )),
    }
}

impl Backend {
    /// What this backend needs that the host says without starting anything
    /// (sysctls, files, the Landlock ABI): cheap enough for every run.
    pub fn prerequisites(self) -> Result<(), String> {
        self.check(host::userns_sysctls)
    }

    /// Whether this backend can run here, and if not why: its prerequisites,
    /// and for namespaces a real one made and used (LSMs such as AppArmor's
    /// userns restriction only show their verdict then). The one definition,
    /// used by selection (`validate`, `--debug`), run-time fallback and
    /// `probe`; a run's first backend finds out by running instead.
    pub fn availability(self) -> Result<(), String> {
        self.check(host::user_namespaces)
    }

    /// This backend's conditions, with `namespaces` answering whether user
    /// namespaces can be used.
    fn check(self, namespaces: fn() -> Result<(), String>) -> Result<(), String> {
        match self {
            Backend::Native => namespaces(),
            Backend::Bubblewrap => {
                let path = host::bwrap()?;
                if host::bwrap_setuid() {
                    return Ok(());
                }
                namespaces().map_err(|why| {
                    format!(
                        "{} cannot create namespaces here (it is not setuid and {why})",
                        path.display()
                    )
                })
            }
            Backend::LandlockOnly => host::landlock_scoping(),
        }
    }

    /// The error that says this backend cannot run here because of `why`.
    pub fn unavailable(self, why: &str) -> SandboxError {
        SandboxError::unavailable(match self {
            Backend::Native => format!("native backend unavailable: {why}"),
            Backend::Bubblewrap => format!("bubblewrap backend unavailable: {why}"),
            Backend::LandlockOnly => format!("Landlock-only mode unavailable: {why}"),
        })
    }

    /// Whether a long-lived (state-aware) sandbox can run on this backend.
    pub fn long_lived(self) -> bool {
        match self {
            Backend::Native | Backend::Bubblewrap => true,
            Backend::LandlockOnly => false,
        }
    }

    /// Run `plan` to completion on this backend. `Unavailable` means another
    /// backend may be tried; any other error means the run failed.
    pub fn run(self, plan: &Plan, opts: &RunOptions) -> Result<Outcome, SandboxError> {
        match self {
            Backend::Native => native::run(plan, opts),
            Backend::Bubblewrap => bubblewrap::run(plan, opts),
            Backend::LandlockOnly => landlock_only::run(plan, opts),
        }
    }

    /// Start a long-lived sandbox's init on this backend; its pid once ready.
    pub fn start(self, plan: &Plan, start: LongLived<'_>) -> Result<libc::pid_t, SandboxError> {
        match self {
            Backend::Native => native::start_server(plan, start),
            Backend::Bubblewrap => bubblewrap::start_server(plan, start),
            Backend::LandlockOnly => Err(SandboxError::unavailable(
                "state-aware sandboxes need namespaces; Landlock-only mode runs one-shot commands \
                 only",
            )),
        }
    }
}

/// The backend a plan's containment resolves to on this host, without
/// running anything (for `validate`, `--debug` and `probe`): the first of its
/// [`chain`] that is available.
pub fn select(
    containment: &Containment,
    allowed: Option<&[String]>,
) -> Result<Backend, SandboxError> {
    first_of(containment, allowed, Backend::availability)
}

/// The backend a run of this containment will try first: the first of its
/// [`chain`] whose prerequisites hold (nothing is started to find out; the
/// run confirms, and falls back as [`run`] does). For the sandbox id and the
/// audit record written before the run; [`Outcome::backend`] is the one
/// that ran.
pub fn planned(
    containment: &Containment,
    allowed: Option<&[String]>,
) -> Result<Backend, SandboxError> {
    first_of(containment, allowed, Backend::prerequisites)
}

/// The first backend of `containment`'s chain that `check` accepts, or why
/// none did.
fn first_of(
    containment: &Containment,
    allowed: Option<&[String]>,
    check: fn(Backend) -> Result<(), String>,
) -> Result<Backend, SandboxError> {
    let mut reasons = Vec::new();
    for backend in chain(containment, allowed)? {
        match check(backend) {
            Ok(()) => return Ok(backend),
            Err(why) => reasons.push(backend.unavailable(&why)),
        }
    }
    Err(none_available(reasons))
}

/// The backend a state-aware sandbox of this containment runs on: the
/// strongest of its chain (no fallback: a sandbox keeps its backend for life).
pub fn long_lived(
    containment: &Containment,
    allowed: Option<&[String]>,
) -> Result<Backend, SandboxError> {
    chain(containment, allowed)?
        .into_iter()
        .find(|b| b.long_lived())
        .ok_or_else(|| {
            SandboxError::unavailable(format!(
                "containment {:?}: state-aware sandboxes run on the native or bubblewrap backend",
                containment.name()
            ))
        })
}

/// Run a plan to completion on the strongest backend its containment allows
/// here (see [`chain`]). Never runs a command unsandboxed.
pub fn run(plan: &Plan, opts: &RunOptions) -> Result<Outcome, SandboxError> {
    context::check_host_network_scoping(plan)?;
    let chain = chain(&plan.containment, plan.allowed_backends.as_deref())?;
    if opts.pty && !chain.contains(&Backend::Native) {
        return Err(SandboxError::unavailable(
            "--pty is supported on the native backend only so far",
        ));
    }
    let mut reasons = Vec::new();
    for (i, backend) in chain.iter().enumerate() {
        // The first backend finds out by trying, which costs nothing extra;
        // a fallback is checked first (a bwrap that is not setuid cannot
        // work where native namespaces just failed).
        if i > 0 {
            if let Err(why) = backend.availability() {
                reasons.push(backend.unavailable(&why));
                continue;
            }
        }
        match backend.run(plan, opts) {
            Err(e @ SandboxError::Unavailable(_)) => reasons.push(e),
            other => return other,
        }
    }
    Err(none_available(reasons))
}

/// Every backend of a chain was unavailable: one reason, or all of them.
fn none_available(mut reasons: Vec<SandboxError>) -> SandboxError {
    if reasons.len() == 1 {
        return reasons.remove(0);
    }
    let why: Vec<String> = reasons.iter().map(ToString::to_string).collect();
    SandboxError::unavailable(format!(
        "no process sandbox is available: {}",
        why.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chain_is_strongest_first_and_never_empty() {
        assert_eq!(
            chain(&Containment::Process, None).unwrap(),
            &[Backend::Native, Backend::Bubblewrap, Backend::LandlockOnly]
        );
        assert_eq!(
            chain(&Containment::Native, None).unwrap(),
            &[Backend::Native, Backend::LandlockOnly]
        );
        assert_eq!(
            chain(&Containment::Bubblewrap, None).unwrap(),
            &[Backend::Bubblewrap]
        );
        assert!(chain(&Containment::MicroVm, None).is_err());
    }

    #[test]
    fn a_ceiling_removes_backends_and_never_empties_a_chain_silently() {
        let only = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            chain(&Containment::Process, Some(&only(&["bubblewrap"]))).unwrap(),
            [Backend::Bubblewrap]
        );
        assert_eq!(
            chain(&Containment::Native, Some(&only(&["native"]))).unwrap(),
            [Backend::Native]
        );
        let e = chain(&Containment::Bubblewrap, Some(&only(&["native"]))).unwrap_err();
        assert!(e.to_string().contains("allows only backends native"), "{e}");
        assert!(long_lived(&Containment::Process, Some(&only(&["landlock-only"]))).is_err());
    }

    #[test]
    fn long_lived_sandboxes_keep_the_strongest_namespaced_backend() {
        assert_eq!(
            long_lived(&Containment::Process, None).unwrap(),
            Backend::Native
        );
        assert_eq!(
            long_lived(&Containment::Native, None).unwrap(),
            Backend::Native
        );
        assert_eq!(
            long_lived(&Containment::Bubblewrap, None).unwrap(),
            Backend::Bubblewrap
        );
    }
}

//! Process hardening where the OS permits: no core dumps (they would hold secrets), not
//! dumpable by other processes, memory locked so secrets are never swapped. Each step that is not
//! permitted is a warning, not a failure: a development laptop is not an enclave.

/// Applies every hardening step the OS allows; returns warnings for the ones it did not.
pub fn apply() -> Vec<String> {
    let mut warnings = Vec::new();
    if let Err(e) = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0) {
        warnings.push(format!("cannot disable core dumps: {e}"));
    }
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        warnings.push(format!("cannot mark the process non-dumpable: {e}"));
    }
    // Locking future allocations under a finite RLIMIT_MEMLOCK would make them fail once the
    // limit is reached, so lock only when the limit is unlimited.
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK) {
        Ok((soft, _)) if soft == nix::sys::resource::RLIM_INFINITY => {
            use nix::sys::mman::{MlockAllFlags, mlockall};
            if let Err(e) = mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE) {
                warnings.push(format!("cannot lock memory: {e}"));
            }
        }
        Ok((soft, _)) => warnings.push(format!(
            "memory not locked: RLIMIT_MEMLOCK is {soft} bytes, not unlimited"
        )),
        Err(e) => warnings.push(format!("cannot read RLIMIT_MEMLOCK: {e}")),
    }
    warnings
}

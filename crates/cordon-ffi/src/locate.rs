//! Where the cordon binary is: `CORDON_BIN`, else `cordon` beside the
//! library in `$MXC_FFI_DIR`, else the first `cordon` on `PATH`.

use std::path::{Path, PathBuf};

/// The cordon binary to run, or why there is none.
pub fn cordon_binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("CORDON_BIN") {
        let bin = PathBuf::from(bin);
        return if is_executable(&bin) {
            Ok(bin)
        } else {
            Err(format!(
                "CORDON_BIN={} is not an executable file",
                bin.display()
            ))
        };
    }
    let beside = std::env::var_os("MXC_FFI_DIR").map(|d| PathBuf::from(d).join("cordon"));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("cordon"));
    beside
        .into_iter()
        .chain(on_path)
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            "the cordon binary was not found: set CORDON_BIN, or put cordon beside \
             libmxc_ffi.so in MXC_FFI_DIR, or on PATH"
                .to_string()
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

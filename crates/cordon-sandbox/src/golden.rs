//! Golden files for the pure builders (bwrap arguments, Landlock rules, the
//! nft script): the whole output is compared with `golden/NAME` in the
//! crate, so any change to what cordon hands the kernel or bwrap shows in a
//! review. `CORDON_BLESS=1 cargo test -p cordon-sandbox` rewrites them.

use std::path::PathBuf;

/// Compare `actual` with the golden file `name` (or rewrite it when blessing).
pub fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name);
    if std::env::var_os("CORDON_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {}: {e} (run with CORDON_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the golden file at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             whole output:\n{actual}\n(if the change is intended: CORDON_BLESS=1)",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first),
        );
    }
}

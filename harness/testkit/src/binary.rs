//! Finding the binary under test, which is named one way in the lab and another in the reference.
//!
//! A lab's package builds `superd` and its reference `superd-ref`, and both compile the same test
//! files. Cargo tells an integration test where its package's binaries are through
//! `CARGO_BIN_EXE_<name>` at compile time, so the lookup must expand inside the test crate:
//! [`lab_binary!`](crate::lab_binary) is a macro, and [`pick_binary`] the function it expands to.

/// The path of the binary under test: `NAME` when the test is compiled for the lab, `NAME-ref`
/// when it is compiled for the reference. A `&'static str`, fixed at compile time.
///
/// Call it from an integration test (`tests/*.rs`) of a package with a `[[bin]]` of either name.
///
/// # Panics
///
/// When the package builds neither binary; the message names both.
///
/// # Examples
///
/// ```no_run
/// let superd = testkit::lab_binary!("superd");
/// let status = std::process::Command::new(superd).arg("--help").status().expect("superd runs");
/// assert!(status.success(), "superd --help exits with 0");
/// ```
#[macro_export]
macro_rules! lab_binary {
    ($name:literal) => {
        $crate::pick_binary(
            $name,
            ::core::option_env!(::core::concat!("CARGO_BIN_EXE_", $name)),
            ::core::option_env!(::core::concat!("CARGO_BIN_EXE_", $name, "-ref")),
        )
    };
}

/// The lab's binary if the package has it, else the reference's: what [`lab_binary!`](crate::lab_binary)
/// expands to. Not called directly.
///
/// # Panics
///
/// When both are `None`: the test belongs to a package that builds neither `name` nor `name-ref`.
#[doc(hidden)]
#[track_caller]
pub fn pick_binary(name: &str, lab: Option<&'static str>, reference: Option<&'static str>) -> &'static str {
    lab.or(reference).unwrap_or_else(|| {
        panic!(
            "the package under test has neither a `{name}` nor a `{name}-ref` binary \
             (lab_binary! reads CARGO_BIN_EXE_{name} and CARGO_BIN_EXE_{name}-ref, which Cargo sets \
             only for integration tests of the package that builds the binary)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_binary_comes_first() {
        assert_eq!(pick_binary("superd", Some("/lab/superd"), Some("/ref/superd-ref")), "/lab/superd");
    }

    #[test]
    fn the_reference_binary_stands_in_for_a_missing_lab_binary() {
        assert_eq!(pick_binary("superd", None, Some("/ref/superd-ref")), "/ref/superd-ref");
    }

    #[test]
    #[should_panic(expected = "neither a `superd` nor a `superd-ref` binary")]
    fn no_binary_names_both() {
        pick_binary("superd", None, None);
    }

    #[test]
    #[should_panic(expected = "neither a `no-such-tool` nor a `no-such-tool-ref` binary")]
    fn the_macro_names_both_when_neither_exists() {
        crate::lab_binary!("no-such-tool");
    }
}

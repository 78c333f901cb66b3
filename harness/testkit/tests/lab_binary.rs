//! `lab_binary!` in an integration test, where Cargo sets `CARGO_BIN_EXE_<name>`: it finds this
//! package's `serve-site` binary as a lab's test finds the lab's.

#[test]
fn finds_the_binary_of_the_package_under_test() {
    let found = testkit::lab_binary!("serve-site");
    assert_eq!(found, env!("CARGO_BIN_EXE_serve-site"), "the path lab_binary! gives for serve-site");
    assert!(std::path::Path::new(found).is_file(), "{found} is the built binary");
}

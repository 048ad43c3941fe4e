//! The `oximl` binary, run as a user would: conversions in both directions, `info`, exit statuses.

use oximl_core::Persist;
use oximl_core::nn::Sequential;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn oximl(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oximl")).args(args).output().unwrap()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/onnx").join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oximl-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn converts_onnx_to_oximl_and_back_and_describes_both() {
    let onnx = fixture("sklearn_classifier.onnx");
    let (oximl_file, back) = (tmp("clf.oximl"), tmp("clf.onnx"));
    let out = oximl(&[Path::new("convert"), &onnx, &oximl_file]);
    assert!(out.status.success(), "{}", text(&out));
    let out = oximl(&[Path::new("convert"), &oximl_file, &back]);
    assert!(out.status.success(), "{}", text(&out));
    let original = Sequential::load(&onnx).unwrap();
    for converted in [&oximl_file, &back] {
        assert_eq!(Sequential::load(converted).unwrap().get_weights(), original.get_weights());
    }
    let info = oximl(&[Path::new("info"), &oximl_file]);
    let described = text(&info);
    assert!(info.status.success(), "{described}");
    for expected in ["format: oximl version 2", "kind: sequential", "checksum: verified", "parameters: 1210 float32"] {
        assert!(described.contains(expected), "{expected} in {described}");
    }
    let info = oximl(&[Path::new("info"), &back]);
    assert!(text(&info).contains("format: ONNX") && text(&info).contains("parameters: 1210"), "{}", text(&info));
}

#[test]
fn errors_have_unix_exit_statuses_and_name_the_problem() {
    let unsupported = oximl(&[Path::new("info"), &fixture("unsupported_op.onnx")]);
    assert_eq!(unsupported.status.code(), Some(1), "{}", text(&unsupported));
    assert!(text(&unsupported).contains("Sin"), "{}", text(&unsupported));
    let missing = oximl(&[Path::new("info"), Path::new("/no/such/model.oximl")]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    let no_format = oximl(&[Path::new("convert"), &fixture("helper_mlp.onnx"), &tmp("out.bin")]);
    assert_eq!(no_format.status.code(), Some(2), "{}", text(&no_format));
    assert!(text(&no_format).contains("--to"));
    let usage = oximl(&[Path::new("frobnicate")]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn converts_keras_files_to_oximl_and_onnx_and_describes_them() {
    let keras = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/keras");
    for ext in ["keras", "h5"] {
        let input = keras.join(format!("classifier.{ext}"));
        let (oximl_file, onnx) = (tmp(&format!("k-{ext}.oximl")), tmp(&format!("k-{ext}.onnx")));
        for out in [&oximl_file, &onnx] {
            let run = oximl(&[Path::new("convert"), &input, out]);
            assert!(run.status.success(), "{}", text(&run));
        }
        let original = Sequential::load(&input).unwrap();
        for converted in [&oximl_file, &onnx] {
            assert_eq!(Sequential::load(converted).unwrap().get_weights(), original.get_weights());
        }
        let info = oximl(&[Path::new("info"), &input]);
        let described = text(&info);
        assert!(info.status.success(), "{described}");
        for expected in ["format: Keras", "parameters: 195 float32", "categorical_crossentropy", "accuracy"] {
            assert!(described.contains(expected), "{expected} in {described}");
        }
    }
    let unsupported = oximl(&[Path::new("info"), &keras.join("unsupported.keras")]);
    assert_eq!(unsupported.status.code(), Some(1));
    assert!(text(&unsupported).contains("BatchNormalization"), "{}", text(&unsupported));
}

#[test]
fn help_reads_like_a_manual() {
    let help = oximl(&[Path::new("convert"), Path::new("--help")]);
    assert!(help.status.success());
    for expected in ["Usage: oximl convert", "--to", "Examples:", "oximl convert model.keras model.oximl"] {
        assert!(text(&help).contains(expected), "{expected} in {}", text(&help));
    }
}

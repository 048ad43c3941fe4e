//! `oximl quantize` and `oximl info` on compressed files, run as a user would.

use oximl_core::Persist;
use oximl_core::compress::PruneConfig;
use oximl_core::nn::Sequential;
use std::path::PathBuf;
use std::process::{Command, Output};

fn oximl(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oximl")).args(args).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oximl-cli-quantize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn quantizes_a_network_file_and_describes_compressed_files() {
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rust_model.oximl");
    let output = tmp("int8.oximl");
    let out = oximl(&["quantize".as_ref(), input.as_os_str(), output.as_os_str()]);
    assert!(out.status.success(), "{}", text(&out));
    let (f32_model, int8) = (Sequential::load(&input).unwrap(), Sequential::load(&output).unwrap());
    assert_eq!(int8.quantization().map(|q| q.reduce_range), Some(false));
    let x = oximl_core::ndarray::Array2::from_elem((3, 4), 0.5f32);
    let (a, b) = (f32_model.predict(x.view()).unwrap(), int8.predict(x.view()).unwrap());
    assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 0.02));
    let described = text(&oximl(&["info".as_ref(), output.as_os_str()]));
    assert!(described.contains("I8") && described.contains("Quantization: {\"mode\":\"int8\""), "{described}");

    let out = oximl(&["quantize".as_ref(), input.as_os_str(), output.as_os_str(), "--mode".as_ref(), "int4".as_ref()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("int4"));
    let out = oximl(&["quantize".as_ref(), output.as_os_str(), tmp("twice.oximl").as_os_str()]);
    assert!(text(&out).contains("quantized model"), "{}", text(&out));

    // A pruned file: sparse on disk, its sparsity reported from the dense weights.
    let mut pruned = f32_model.clone();
    pruned.prune(&PruneConfig::global(0.5)).unwrap();
    let path = tmp("pruned.oximl");
    pruned.save(&path).unwrap();
    let described = text(&oximl(&["info".as_ref(), path.as_os_str()]));
    assert!(
        described.contains("kernel_bits") && described.contains("parameters: 67 float32 (41.8% zero)"),
        "{described}"
    );
}

#[test]
fn prunes_a_network_file_globally_or_per_layer() {
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rust_model.oximl");
    let output = tmp("pruned-cli.oximl");
    let out = oximl(&["prune".as_ref(), input.as_os_str(), output.as_os_str(), "--sparsity".as_ref(), "0.5".as_ref()]);
    assert!(out.status.success(), "{}", text(&out));
    let (model, pruned) = (Sequential::load(&input).unwrap(), Sequential::load(&output).unwrap());
    let mut expected = model.clone();
    expected.prune(&PruneConfig::global(0.5)).unwrap();
    assert_eq!(pruned.get_weights(), expected.get_weights());
    assert!((pruned.sparsity().total - 0.5).abs() < 0.05, "{:?}", pruned.sparsity());

    let args = ["--sparsity", "0.5", "--scope", "layer", "--layers", "0"];
    let out =
        oximl(&[&["prune".as_ref(), input.as_os_str(), output.as_os_str()][..], &args.map(AsRef::as_ref)].concat());
    assert!(out.status.success(), "{}", text(&out));
    let layers = Sequential::load(&output).unwrap().sparsity().layers;
    assert_eq!(layers[0], (0, 0.5), "{layers:?}");

    for (flag, value, named) in [("--sparsity", "1.5", "sparsity"), ("--scope", "everywhere", "everywhere")] {
        let args = [flag, value, "--sparsity", "0.5"];
        let args = if flag == "--sparsity" { &args[..2] } else { &args[..] };
        let args: Vec<&std::ffi::OsStr> = args.iter().map(AsRef::as_ref).collect();
        let out = oximl(&[&["prune".as_ref(), input.as_os_str(), output.as_os_str()][..], &args].concat());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(named), "{}", text(&out));
    }
}
